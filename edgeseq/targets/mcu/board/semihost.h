// Board file, part 2 of 3: host I/O over Arm semihosting (a BKPT 0xAB the debugger or
// QEMU's -semihosting answers). On a real board without a debugger attached a BKPT halts
// the core: replace these five calls with your UART (write) and your sensor (read).
#ifndef EDGESEQ_SEMIHOST_H_
#define EDGESEQ_SEMIHOST_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// A host file as a handle (-1 when it cannot be opened); mode "rb" or "wb".
int semihost_open(const char* path, const char* mode);
// Bytes moved; short only at the end of the file or on an error.
size_t semihost_read(int handle, void* buffer, size_t bytes);
size_t semihost_write(int handle, const void* buffer, size_t bytes);
void semihost_close(int handle);
// A NUL-terminated line to the host's console (QEMU's stdout).
void semihost_write0(const char* text);
// Ends the program; QEMU exits with `code`.
void semihost_exit(int code) __attribute__((noreturn));

// startup.c: SysTick wraps counted into 64 bits, the deepest stack use so far, and the
// ticks of a known number of instructions.
uint64_t edgeseq_ticks(void);
uint32_t edgeseq_stack_used(void);
uint64_t edgeseq_calibration_ticks(uint32_t loops);

#ifdef __cplusplus
}
#endif

#endif  // EDGESEQ_SEMIHOST_H_
