// The check firmware for a step model (DIR/mcu/step/): in.bin's steps through the model,
// the state carried in this firmware's own buffer from step to step (as main.cc does), set
// to zeros at the start of each sequence of `steps`; every step's raw output to out.bin.
#include <cmath>

#include "check_common.h"

namespace {

// The state between steps, as float values (main.cc's layout): not in the input tensor,
// whose bytes TFLM may reuse during Invoke().
float state[edgeseq::kStateSize];

float Read(const TfLiteTensor* t, int i, bool quantized, float scale, int zero_point) {
  return quantized ? (t->data.int8[i] - zero_point) * scale : t->data.f[i];
}

void Write(TfLiteTensor* t, int i, float x, bool quantized, float scale, int zero_point) {
  if (!quantized) {
    t->data.f[i] = x;
    return;
  }
  const long q = std::lround(x / scale) + zero_point;
  t->data.int8[i] = static_cast<int8_t>(q < -128 ? -128 : (q > 127 ? 127 : q));
}

}  // namespace

int main() {
  using namespace edgeseq_check;
  using namespace edgeseq;
  Header header;
  const int in = OpenInput(&header);
  tflite::MicroInterpreter* interpreter = Start(ArenaBytes(header));
  TfLiteTensor* step = interpreter->input(kStepIndex);
  CheckItems(header, step->bytes);
  const int out = semihost_open("out.bin", "wb");
  uint64_t ticks = 0;
  for (uint32_t n = 0; n < header.count; ++n) {
    if (n % header.steps == 0) {
      for (int i = 0; i < kStateSize; ++i) state[i] = 0.0f;  // a new sequence
    }
    if (semihost_read(in, step->data.raw, step->bytes) != step->bytes) {
      Say("edgeseq: status=bad_input reason=in.bin ends at step %lu\n", (unsigned long)n);
      return kBadInput;
    }
    TfLiteTensor* state_in = interpreter->input(kStateIndex);
    for (int i = 0; i < kStateSize; ++i) Write(state_in, i, state[i], kStateQuantized, kStateScale, kStateZeroPoint);
    Invoke(interpreter, n, &ticks);
    const TfLiteTensor* output = interpreter->output(kOutputIndex);
    semihost_write(out, output->data.raw, output->bytes);
    const TfLiteTensor* next_state = interpreter->output(kNextStateIndex);
    for (int i = 0; i < kStateSize; ++i)
      state[i] = Read(next_state, i, kNextStateQuantized, kNextStateScale, kNextStateZeroPoint);
  }
  semihost_close(out);
  semihost_close(in);
  return Finish(header.count, ticks);
}
