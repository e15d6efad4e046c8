// Board file, part 1 of 3: the Cortex-M reset path for a bare-metal TFLM firmware.
// Replace it with your part's startup (its vendor's startup_<part>.c) when you move off the
// QEMU board: what it must do is the same — copy .data, zero .bss, enable the FPU, call
// the C++ constructors, run main().
//
// Two things here exist for measuring, not for the model: the stack is painted so that
// edgeseq_stack_used() can report the deepest use, and SysTick counts wraps so that
// edgeseq_ticks() is a 64-bit counter (under QEMU -icount, ticks measure instructions).

#include <stdint.h>

#include "semihost.h"

extern uint32_t __data_load__, __data_start__, __data_end__;
extern uint32_t __bss_start__, __bss_end__;
extern uint32_t __stack_limit__, __stack_top__;
extern void (*__init_array_start[])(void);
extern void (*__init_array_end[])(void);
extern int main(void);

#define STACK_PAINT 0xA5A5A5A5u
#define SCB_CPACR (*(volatile uint32_t*)0xE000ED88u)
#define SYST_CSR (*(volatile uint32_t*)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t*)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t*)0xE000E018u)
#define SYST_RELOAD 0x00FFFFFFu

static volatile uint32_t systick_wraps;

// What crtbegin.o would define (not linked: -nostartfiles): the handle C++ static objects'
// destructors are registered under. They never run: main() returning ends the program.
void* __dso_handle = 0;

void SysTick_Handler(void) { systick_wraps++; }

uint64_t edgeseq_ticks(void) {
  uint32_t wraps, value;
  do {  // a wrap between the two reads would pair an old count with a new value
    wraps = systick_wraps;
    value = SYST_CVR;
  } while (wraps != systick_wraps);
  return (uint64_t)wraps * (SYST_RELOAD + 1u) + (SYST_RELOAD - value);
}

// SysTick ticks of a loop of exactly 2 * loops instructions (SUBS, BNE): instructions per
// tick on this board, measured rather than taken from its clock's datasheet.
uint64_t edgeseq_calibration_ticks(uint32_t loops) {
  const uint64_t start = edgeseq_ticks();
  __asm volatile("1: subs %0, %0, #1\n bne 1b" : "+r"(loops) : : "cc");
  return edgeseq_ticks() - start;
}

uint32_t edgeseq_stack_used(void) {
  const uint32_t* p = &__stack_limit__;
  while (p < &__stack_top__ && *p == STACK_PAINT) p++;
  return (uint32_t)((const char*)&__stack_top__ - (const char*)p);
}

static void paint_stack(void) {
  uint32_t here;
  // leave the words this function itself sits on
  for (uint32_t* p = &__stack_limit__; p < &here - 16; p++) *p = STACK_PAINT;
}

void Reset_Handler(void) {
  for (uint32_t *src = &__data_load__, *dst = &__data_start__; dst < &__data_end__;) *dst++ = *src++;
  for (uint32_t* dst = &__bss_start__; dst < &__bss_end__;) *dst++ = 0;
#if defined(__ARM_FP)
  SCB_CPACR |= 0xFu << 20;  // CP10, CP11 full access: the hard-float ABI uses the FPU from here on
  __asm volatile("dsb\n isb");
#endif
  paint_stack();
  SYST_RVR = SYST_RELOAD;
  SYST_CVR = 0;
  SYST_CSR = 0x7u;  // processor clock, interrupt on wrap, enabled
  // the C++ constructors (static objects); newlib's __libc_init_array would also want _init
  for (void (**ctor)(void) = __init_array_start; ctor < __init_array_end; ctor++) (*ctor)();
  semihost_exit(main());
}

// No heap: TFLM takes its memory from the arena. A C library call that wants malloc
// (newlib's printf family may) is refused rather than let it grow into the stack.
void* _sbrk(int increment) {
  (void)increment;
  return (void*)-1;
}

static void Fault_Handler(void) {
  semihost_write0("edgeseq: fault (HardFault/MemManage/BusFault/UsageFault)\n");
  semihost_exit(90);
}

static void Default_Handler(void) {
  semihost_write0("edgeseq: unexpected interrupt\n");
  semihost_exit(91);
}

typedef void (*Vector)(void);

__attribute__((section(".vectors"), used)) const Vector vector_table[16 + 32] = {
    (Vector)(&__stack_top__), Reset_Handler, Default_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler, Fault_Handler, 0, 0, 0, 0, Default_Handler, Default_Handler, 0,
    Default_Handler, SysTick_Handler,
    // external interrupts: none enabled; any that fires is reported
    [16 ... 47] = Default_Handler,
};
