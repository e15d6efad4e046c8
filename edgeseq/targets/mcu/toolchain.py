"""The Arm toolchain and QEMU that `edgeseq mcu --build` runs, found on PATH: one line
naming what to install when any is missing (Debian package names; elsewhere Arm's GNU
toolchain and QEMU)."""

from __future__ import annotations

import shutil
import subprocess

from ...errors import EdgeseqError

PACKAGES = "gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm"
PROGRAMS = ("arm-none-eabi-gcc", "arm-none-eabi-g++", "arm-none-eabi-ar", "arm-none-eabi-size",
            "arm-none-eabi-nm", "qemu-system-arm", "make")


def _missing() -> list[str]:
    missing = [p for p in PROGRAMS if shutil.which(p) is None]
    if "arm-none-eabi-gcc" not in missing:
        # the compiler without newlib cannot link: ask it where libc_nano.a would be
        found = subprocess.run(["arm-none-eabi-gcc", "-print-file-name=libc_nano.a"], capture_output=True,
                               text=True).stdout.strip()
        if found in ("", "libc_nano.a"):
            missing.append("newlib (libc_nano.a)")
    return missing


def require() -> None:
    missing = _missing()
    if missing:
        raise EdgeseqError(f"`edgeseq mcu --build` needs the Arm GNU toolchain, newlib and QEMU "
                           f"({', '.join(missing)} missing): apt-get install -y {PACKAGES}"
                           + (" make" if "make" in missing else ""))
