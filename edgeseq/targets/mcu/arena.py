"""The smallest tensor arena a model runs in, by bisection, each try in its own process.

Sizing the arena is where TFLM users lose days (tflite-micro#2474, tensorflow#35070): the
allocator's report (`print_allocations`) leaves out what the interpreter itself keeps in
the arena (vanilla int8: 3,344 bytes reported, about 4.4 KB needed here), so the only
trustworthy number is one that was tried. Tries run in children because a too-small arena
can segfault (tflm_worker.py).

The figure is measured by the host build (x86-64): TFLM's own structures hold pointers,
8 bytes here and 4 on a Cortex-M, so they are smaller on the device; optimized kernels
(CMSIS-NN) may ask for scratch buffers the host's reference kernels do not. The pack adds
a stated margin for both. What is pointer-sized (tensorflow/lite/core/c/common.h and
micro_allocator.h, built with TF_LITE_STATIC_MEMORY as TFLM is): a TfLiteEvalTensor per
tensor (data, dims, type: 24 bytes here, 12 on 32 bits), a NodeAndRegistration per op (six
pointers and an int, plus the registration pointer: 64 → 32) and a persistent TfLiteTensor
per graph input and output (64 → 40), then the allocator's and planner's own objects. From
`print_allocations()` on the host (untrained vanilla int8), that is at least 512 of the
window file's 4,352 bytes (28 tensors, 4 ops, 2 I/O tensors) and 1,276 of the step file's
8,448 (37 tensors, 23 ops, 4 I/O tensors) that a 32-bit build does not need: 12–15 % less,
before the allocator's own objects. The host figure also carries the Python binding's
RecordingMicroAllocator (python/tflite_micro/interpreter_wrapper.cc), which a device does not
use. Measured once in a scratch 32-bit build (g++ -m32, TFLM's reference kernels from source
at 90b983c, flatbuffers v25.9.23, the same try: allocate, invoke, reset, invoke): the
untrained int8 step files need 6,288 bytes (vanilla; host 8,448) and 9,968 (stacked; host
13,120), 24-26 % less; the generated step main.cc, built the same way, streamed the same
outputs as the host TFLM (max abs 5e-7, its printf precision). The window int8 files aborted
in that debug build (a TFLITE_DCHECK in UnidirectionalSequenceLstmPrepare) and were not
measured. So the host minimum is an upper bound for a 32-bit part with reference kernels.
"""

from __future__ import annotations

import re

from ...errors import EdgeseqError
from . import tflm_worker

RESOLUTION = 64  # bytes: the bisection stops when working and failing sizes are this close
FIRST_TRY = 16 * 1024
LIMIT = 64 * 1024 * 1024
ALIGN = 16  # TFLM aligns arena allocations to 16 bytes
DEFAULT_MARGIN = "25%"
MAX_MARGIN_PERCENT = 1000


def smallest(model, fits=tflm_worker.fits) -> dict:
    """{"minimum_bytes": works, "fails_bytes": does not (≤ RESOLUTION below), "tries": n}."""
    tries = 0

    def works(size: int) -> bool:
        nonlocal tries
        tries += 1
        return fits(model, size)

    failing, working = 0, FIRST_TRY
    while not works(working):
        if working >= LIMIT:
            # Not a size problem, most likely: a kernel that refuses the file. Say what TFLM said.
            raise EdgeseqError(f"{model.name}: TFLM does not run it even with a {LIMIT:,}-byte arena: "
                               f"{tflm_worker.failure(model, LIMIT)}")
        failing, working = working, working * 2
    while working - failing > RESOLUTION:
        middle = (failing + working) // 2
        if works(middle):
            working = middle
        else:
            failing = middle
    return {"minimum_bytes": working, "fails_bytes": failing, "resolution_bytes": RESOLUTION,
            "tries": tries}


def parse_margin(margin: str) -> tuple[float, int]:
    """'25%' → (0.25, 0); '1024' → (0, 1024). EdgeseqError for anything else."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(%?)\s*", margin)
    if not match:
        raise EdgeseqError(f"--margin {margin!r}: expected a percentage (25%) or bytes (1024)")
    value = float(match.group(1))
    if value > (MAX_MARGIN_PERCENT if match.group(2) else LIMIT):
        raise EdgeseqError(f"--margin {margin[:20]!r}: at most {MAX_MARGIN_PERCENT}% or {LIMIT:,} bytes")
    return (value / 100, 0) if match.group(2) else (0.0, int(value))


def with_margin(minimum: int, margin: str) -> int:
    """The arena the pack declares: minimum plus margin, rounded up to TFLM's alignment."""
    fraction, extra = parse_margin(margin)
    size = minimum + int(minimum * fraction + 0.999999) + extra
    return -(-size // ALIGN) * ALIGN
