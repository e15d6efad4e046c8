"""The Cortex-M cores `edgeseq mcu --build` compiles for, each with the QEMU board that runs
it (Debian's qemu-system-arm 7.2 has all three) and that board's memory map.

`tflm_arch` is TFLM's TARGET_ARCH for its cortex_m_generic target; `cpu` the compiler's
flags; FLASH and RAM are the board's code and data memories (QEMU's hw/arm/mps2.c and
mps2-tz.c), far larger than a real part's: the firmware's sizes are measured from the ELF,
not bounded by the board.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import InputError

MiB, KiB = 1024 * 1024, 1024


@dataclass(frozen=True)
class Core:
    name: str
    tflm_arch: str
    cpu: tuple[str, ...]
    machine: str
    flash: tuple[int, int]  # origin, length
    ram: tuple[int, int]


CORES = {
    "cortex-m4": Core("cortex-m4", "cortex-m4+fp", ("-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"),
                      "mps2-an386", (0x00000000, 4 * MiB), (0x20000000, 4 * MiB)),
    "cortex-m7": Core("cortex-m7", "cortex-m7+fp", ("-mcpu=cortex-m7", "-mfpu=fpv5-d16", "-mfloat-abi=hard"),
                      "mps2-an500", (0x00000000, 4 * MiB), (0x20000000, 4 * MiB)),
    # AN547: 512 KiB ITCM at 0 (where the core boots) and 512 KiB DTCM
    "cortex-m55": Core("cortex-m55", "cortex-m55", ("-mcpu=cortex-m55", "-mfloat-abi=hard"),
                       "mps3-an547", (0x00000000, 512 * KiB), (0x20000000, 512 * KiB)),
}
#: kernels a firmware is built with: Arm's CMSIS-NN, or TFLM's portable reference kernels
KERNELS = ("cmsis_nn", "reference")


def core(name: str) -> Core:
    if name not in CORES:
        raise InputError(f"--build {name[:40]!r}: expected one of {', '.join(CORES)}")
    return CORES[name]
