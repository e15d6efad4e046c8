"""A check firmware run under QEMU: in.bin in a fresh working directory (semihosting opens
files relative to it), the console's `edgeseq:` lines parsed, out.bin read back.

-icount shift=0: every instruction advances QEMU's virtual clock by exactly 1 ns, so the
firmware's SysTick count is an instruction count (calibrated, see calibrate()), the same
on any host and under any load. A firmware that hangs is stopped by the timeout.
"""

from __future__ import annotations

import re
import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ...errors import CheckFailed
from . import flatbuffer
from .firmware import Firmware

MAGIC = 0x31515345
TIMEOUT_S = 300
LINE = re.compile(r"^edgeseq: (.*)$")
#: what each exit code of check_common.h means, for the one-line failure
EXITS = {2: "bad input file", 3: "an op the resolver lacks", 4: "the arena is too small",
         5: "Invoke failed", 6: "schema version", 90: "a fault", 91: "an unexpected interrupt"}


class FirmwareFailed(CheckFailed):
    """The firmware ran and reported a failure, or did not finish; one line."""


def op_name(code: int) -> str:
    """A builtin op's name from its number, by the schema TFLM ships (flatbuffer.py's)."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema  # noqa: PLC0415

    return flatbuffer._names(schema.BuiltinOperator).get(code, f"builtin {code}")


def command(firmware: Firmware) -> list[str]:
    return ["qemu-system-arm", "-M", firmware.core.machine, "-nographic", "-monitor", "none", "-serial", "none",
            "-semihosting-config", "enable=on,target=native", "-icount", "shift=0,align=off,sleep=off",
            "-kernel", str(firmware.elf)]


def input_file(items: np.ndarray, steps: int = 1, arena_bytes: int = 0) -> bytes:
    """in.bin: the header, then each item's raw bytes (items: (count, ...) in the tensor's dtype)."""
    items = np.ascontiguousarray(items)
    item_bytes = items[0].nbytes if len(items) else 0
    return struct.pack("<5I", MAGIC, len(items), arena_bytes, item_bytes, steps) + items.tobytes()


def _fields(text: str) -> dict:
    found = {}
    for part in text.split():
        key, _, value = part.partition("=")
        found[key] = int(value) if value.lstrip("-").isdigit() else value
    return found


def run(firmware: Firmware, data: bytes, timeout: float = TIMEOUT_S) -> tuple[dict, bytes]:
    """(the firmware's report, out.bin's bytes); FirmwareFailed in one line otherwise."""
    with tempfile.TemporaryDirectory(prefix="edgeseq-qemu-") as tmp:
        (Path(tmp) / "in.bin").write_bytes(data)
        try:
            done = subprocess.run(command(firmware), cwd=tmp, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise FirmwareFailed(f"{firmware.elf.name} on {firmware.core.machine} did not finish within "
                                 f"{timeout:.0f} s (QEMU stopped)") from None
        console = done.stdout + done.stderr
        report = {}
        for line in console.splitlines():
            if match := LINE.match(line.strip()):
                report |= _fields(match.group(1))
        out = Path(tmp) / "out.bin"
        output = out.read_bytes() if out.exists() else b""
    if done.returncode != 0 or report.get("status") != "done":
        said = next((line.strip() for line in console.splitlines() if "status=" in line), None)
        if said is None and "Lockup" in console:  # a fault the fault handler could not stack: no stack left
            said = "the core locked up (a fault with no stack left to handle it: a stack overflow?)"
        said = said or next((line.strip() for line in console.splitlines() if line.strip()), "no output")
        meaning = EXITS.get(done.returncode, f"exit code {done.returncode}")
        if "builtin_code" in report:  # the firmware gives the op's number; the schema names it
            said += f" op={op_name(report['builtin_code'])}"
        raise FirmwareFailed(f"firmware on {firmware.core.machine} ({firmware.core.name}, {firmware.kernels}) "
                             f"failed: {meaning}: {said}")
    return report, output
