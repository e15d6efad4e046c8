// The check firmware's shared half: `edgeseq mcu --build` runs the pack's model on the
// board under QEMU with the export's golden inputs and reads every output back.
//
// Protocol (host files over semihosting, in QEMU's working directory):
//   in.bin:  uint32 words MAGIC, count, arena_bytes (0: the whole arena the firmware
//            reserves), item_bytes, steps (a step model's sequence length; 1 for windows),
//            then `count` raw input tensors (window: one window each; step: one step each)
//   out.bin: the raw output tensors, in the same order
//   console: lines "edgeseq: KEY=VALUE ..."; the exit code says how it ended (Exit below)
#ifndef EDGESEQ_CHECK_COMMON_H_
#define EDGESEQ_CHECK_COMMON_H_

#include <cstdarg>
#include <cstdint>
#include <cstdio>

#include "model_config.h"
#include "model_data.h"
#include "model_ops.h"
#include "semihost.h"
#include "tensorflow/lite/micro/cortex_m_generic/debug_log_callback.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/schema/schema_generated.h"

// The arena the firmware reserves: the pack's, unless the build asks for more (to measure
// the smallest arena on this core when the pack's is not enough).
#ifndef EDGESEQ_ARENA_BYTES
#define EDGESEQ_ARENA_BYTES edgeseq::kTensorArenaSize
#endif

namespace edgeseq_check {

alignas(16) inline uint8_t tensor_arena[EDGESEQ_ARENA_BYTES];

constexpr uint32_t kMagic = 0x31515345;  // "ESQ1"

enum Exit : int {
  kDone = 0,
  kBadInput = 2,        // in.bin missing, short, or sized for another model
  kMissingOp = 3,       // the resolver lacks an op the model uses
  kAllocateFailed = 4,  // AllocateTensors: the arena is too small
  kInvokeFailed = 5,
  kSchema = 6,
};

inline void Say(const char* format, ...) __attribute__((format(printf, 1, 2)));
inline void Say(const char* format, ...) {
  char line[160];
  va_list args;
  va_start(args, format);
  vsnprintf(line, sizeof(line), format, args);
  va_end(args);
  semihost_write0(line);
}

inline void TflmLog(const char* text) {
  semihost_write0("tflm: ");
  semihost_write0(text);
  semihost_write0("\n");
}

// newlib-nano's printf has no %llu: 64-bit counts are written as decimal here.
struct Decimal {
  char text[24];
  explicit Decimal(uint64_t value) {
    char* p = text + sizeof(text) - 1;
    *p = 0;
    do {
      *--p = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    start = p;
  }
  const char* start;
};

struct Header {
  uint32_t magic, count, arena_bytes, item_bytes, steps;
};

inline int OpenInput(Header* header) {
  const int in = semihost_open("in.bin", "rb");
  if (in < 0 || semihost_read(in, header, sizeof(*header)) != sizeof(*header) || header->magic != kMagic ||
      header->steps == 0) {
    Say("edgeseq: status=bad_input reason=in.bin missing or not an edgeseq input file\n");
    semihost_exit(kBadInput);
  }
  return in;
}

// in.bin's items must be the size of the tensor they fill.
inline void CheckItems(const Header& header, size_t tensor_bytes) {
  if (header.item_bytes != tensor_bytes) {
    Say("edgeseq: status=bad_input reason=in.bin items are %lu bytes, the model's input %lu\n",
        (unsigned long)header.item_bytes, (unsigned long)tensor_bytes);
    semihost_exit(kBadInput);
  }
}

// The op AllocateTensors would fail on for want of a kernel (TFLM's own message is stripped
// from a release build): the builtin code of the first of the model's operators the resolver
// cannot find, or -1. A number, not a name: the schema's table of op names would cost 4 KB
// of flash; the host names it (qemu_run.py).
inline int MissingOp(const tflite::Model* model, const tflite::MicroOpResolver& resolver) {
  for (const auto* code : *model->operator_codes()) {
    const auto op = static_cast<tflite::BuiltinOperator>(
        code->deprecated_builtin_code() < tflite::BuiltinOperator_PLACEHOLDER_FOR_GREATER_OP_CODES
            ? code->deprecated_builtin_code()
            : code->builtin_code());
    if (op != tflite::BuiltinOperator_CUSTOM && resolver.FindOp(op) == nullptr) {
      return static_cast<int>(op);
    }
  }
  return -1;
}

// Model, resolver and interpreter on `arena_bytes` of the arena; exits naming the cause
// when the model cannot be allocated.
inline tflite::MicroInterpreter* Start(uint32_t arena_bytes) {
  uint8_t* arena = tensor_arena;
  RegisterDebugLogCallback(TflmLog);
  const tflite::Model* model = tflite::GetModel(g_model_data);
  if (model->version() != TFLITE_SCHEMA_VERSION) {
    Say("edgeseq: status=schema model=%lu tflm=%d\n", (unsigned long)model->version(), TFLITE_SCHEMA_VERSION);
    semihost_exit(kSchema);
  }
  static edgeseq::OpResolver resolver;
  if (edgeseq::RegisterOps(resolver) != kTfLiteOk) {
    Say("edgeseq: status=missing_op reason=RegisterOps failed\n");
    semihost_exit(kMissingOp);
  }
  static tflite::MicroInterpreter interpreter(model, resolver, arena, arena_bytes);
  const TfLiteStatus status = interpreter.AllocateTensors();
  if (status != kTfLiteOk) {
    const int missing = MissingOp(model, resolver);
    if (missing >= 0) {
      Say("edgeseq: status=missing_op AllocateTensors=%d builtin_code=%d\n", status, missing);
      semihost_exit(kMissingOp);
    }
    Say("edgeseq: status=arena_too_small AllocateTensors=%d arena=%lu\n", status, (unsigned long)arena_bytes);
    semihost_exit(kAllocateFailed);
  }
  Say("edgeseq: allocated arena=%lu arena_used=%lu\n", (unsigned long)arena_bytes,
      (unsigned long)interpreter.arena_used_bytes());
  return &interpreter;
}

// in.bin may ask for less of the arena than the firmware reserves: the smallest arena is
// bisected on the core with one ELF.
inline uint32_t ArenaBytes(const Header& header) {
  return header.arena_bytes == 0 || header.arena_bytes > EDGESEQ_ARENA_BYTES ? EDGESEQ_ARENA_BYTES
                                                                            : header.arena_bytes;
}

inline void Invoke(tflite::MicroInterpreter* interpreter, uint32_t item, uint64_t* ticks) {
  const uint64_t start = edgeseq_ticks();
  const TfLiteStatus status = interpreter->Invoke();
  *ticks += edgeseq_ticks() - start;
  if (status != kTfLiteOk) {
    Say("edgeseq: status=invoke_failed Invoke=%d item=%lu\n", status, (unsigned long)item);
    semihost_exit(kInvokeFailed);
  }
}

constexpr uint32_t kCalibrationLoops = 1000000;

inline int Finish(uint32_t items, uint64_t ticks) {
  const Decimal calibration(edgeseq_calibration_ticks(kCalibrationLoops)), counted(ticks);
  Say("edgeseq: calibration_instructions=%lu calibration_ticks=%s\n", (unsigned long)(2 * kCalibrationLoops),
      calibration.start);
  Say("edgeseq: status=done items=%lu ticks=%s stack_used=%lu\n", (unsigned long)items, counted.start,
      (unsigned long)edgeseq_stack_used());
  return kDone;
}

}  // namespace edgeseq_check

#endif  // EDGESEQ_CHECK_COMMON_H_
