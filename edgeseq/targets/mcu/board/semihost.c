// Board file, part 2 of 3: Arm semihosting calls (the "Semihosting for AArch32 and AArch64"
// specification's operation numbers), with no C library underneath.
#include "semihost.h"

#include <string.h>

enum {
  SYS_OPEN = 0x01,
  SYS_CLOSE = 0x02,
  SYS_WRITE0 = 0x04,
  SYS_WRITE = 0x05,
  SYS_READ = 0x06,
  SYS_EXIT_EXTENDED = 0x20,
  ADP_STOPPED_APPLICATION_EXIT = 0x20026,
};

static int call(int op, void* args) {
  register int r0 __asm("r0") = op;
  register void* r1 __asm("r1") = args;
  __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

int semihost_open(const char* path, const char* mode) {
  // the specification's mode numbers: "rb" is 1, "wb" is 5
  uint32_t args[3] = {(uint32_t)path, strcmp(mode, "wb") == 0 ? 5u : 1u, (uint32_t)strlen(path)};
  return call(SYS_OPEN, args);
}

size_t semihost_read(int handle, void* buffer, size_t bytes) {
  uint32_t args[3] = {(uint32_t)handle, (uint32_t)buffer, (uint32_t)bytes};
  return bytes - (size_t)call(SYS_READ, args);  // SYS_READ answers the bytes NOT read
}

size_t semihost_write(int handle, const void* buffer, size_t bytes) {
  uint32_t args[3] = {(uint32_t)handle, (uint32_t)buffer, (uint32_t)bytes};
  return bytes - (size_t)call(SYS_WRITE, args);  // likewise: the bytes not written
}

void semihost_close(int handle) {
  uint32_t args[1] = {(uint32_t)handle};
  call(SYS_CLOSE, args);
}

void semihost_write0(const char* text) { call(SYS_WRITE0, (void*)text); }

void semihost_exit(int code) {
  uint32_t args[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
  call(SYS_EXIT_EXTENDED, args);
  for (;;) {
  }
}
