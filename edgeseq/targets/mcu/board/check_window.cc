// The check firmware for a window model (DIR/mcu/): every window of in.bin through the
// model, the raw output tensor of each to out.bin, the LSTM state reset between windows
// (each window is a new sequence, as in main.cc).
#include <cstring>

#include "check_common.h"

int main() {
  using namespace edgeseq_check;
  Header header;
  const int in = OpenInput(&header);
  tflite::MicroInterpreter* interpreter = Start(ArenaBytes(header));
  TfLiteTensor* input = interpreter->input(0);
  CheckItems(header, input->bytes);
  const int out = semihost_open("out.bin", "wb");
  uint64_t ticks = 0;
  for (uint32_t n = 0; n < header.count; ++n) {
    if (semihost_read(in, input->data.raw, input->bytes) != input->bytes) {
      Say("edgeseq: status=bad_input reason=in.bin ends at window %lu\n", (unsigned long)n);
      return kBadInput;
    }
    Invoke(interpreter, n, &ticks);
    const TfLiteTensor* output = interpreter->output(0);
    semihost_write(out, output->data.raw, output->bytes);
    interpreter->Reset();
  }
  semihost_close(out);
  semihost_close(in);
  return Finish(header.count, ticks);
}
