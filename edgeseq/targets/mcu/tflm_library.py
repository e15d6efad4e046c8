"""libtensorflow-microlite.a for one Cortex-M core and one kernel set, built with TFLM's own
Makefile once and cached with the compiler flags it was built with (a firmware must be
compiled with the same defines: TF_LITE_STATIC_MEMORY changes TfLiteTensor's layout).

Cache: $EDGESEQ_CACHE_DIR, else $XDG_CACHE_HOME/edgeseq, else ~/.cache/edgeseq; under it
tflm/src-<commit>/ (the source tree, tflm_source.py) and tflm/<commit>-<core>-<kernels>/
(the library and flags.json), written last so that an interrupted build is built again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ...atomic import write_json
from ...errors import EdgeseqError
from . import tflm_source
from .cortex_m import Core

MAKEFILE = "tensorflow/lite/micro/tools/make/Makefile"
#: prints a Makefile variable through the shell, as a compile recipe passes it: the words
#: printed are the arguments the compiler gets (the device header define is shell-quoted)
PRINT_RULE = "edgeseq-print-%:\n\t@echo $($*)\n"
BUILD_TIMEOUT_S = 3 * 3600


def cache_dir() -> Path:
    if os.environ.get("EDGESEQ_CACHE_DIR"):
        return Path(os.environ["EDGESEQ_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "edgeseq"


@dataclass(frozen=True)
class Library:
    root: Path  # the tflite-micro tree its headers come from
    archive: Path
    cxxflags: list[str]
    ccflags: list[str]
    includes: list[str]  # -I flags, absolute
    build_seconds: float


def _make_args(core: Core, kernels: str) -> list[str]:
    args = ["-f", MAKEFILE, "TARGET=cortex_m_generic", f"TARGET_ARCH={core.tflm_arch}",
            f"TARGET_TOOLCHAIN_ROOT={Path(shutil.which('arm-none-eabi-gcc')).parent}/", "BUILD_TYPE=release"]
    return args + ([f"OPTIMIZED_KERNEL_DIR={kernels}"] if kernels != "reference" else [])


def _environment() -> dict:
    # The Makefile runs `python3` (generate_cc_arrays.py, for TFLM's own test targets, needs
    # numpy and Pillow) even when it builds the library only: edgeseq's interpreter is that.
    return os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def _flags(root: Path, args: list[str]) -> dict[str, list[str]]:
    rule = root / "edgeseq-print.mk"
    rule.write_text(PRINT_RULE)
    names = ("CXXFLAGS", "CCFLAGS", "INCLUDES", "MICROLITE_LIB_PATH")
    done = subprocess.run(["make", "-s", *args, "-f", str(rule), *(f"edgeseq-print-{n}" for n in names)],
                          cwd=root, capture_output=True, text=True, env=_environment())
    lines = [line for line in done.stdout.splitlines() if "already exists, skipping" not in line]
    if done.returncode != 0 or len(lines) != len(names):
        raise EdgeseqError(f"TFLM's Makefile did not give its flags: {_first_error(done.stdout + done.stderr)}")
    values = dict(zip(names, (line.split() for line in lines), strict=True))
    # -MD writes dependency files: a firmware build wants none
    for key in ("CXXFLAGS", "CCFLAGS"):
        values[key] = [f for f in values[key] if f != "-MD"]
    values["INCLUDES"] = [f"-I{(root / f[2:]).resolve()}" if f.startswith("-I") else f for f in values["INCLUDES"]]
    return values


def _first_error(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip() and "already exists" not in line]
    errors = [line for line in lines if "error" in line.lower() or "***" in line]
    return ((errors or lines or ["no output"])[0])[:300]


def library(core: Core, kernels: str, source: Path | None = None, log=print) -> Library:
    """The cached library for `core` with `kernels`, built now if it is not cached (minutes:
    TFLM's Makefile with as many jobs as there are cores)."""
    cache = cache_dir() / "tflm"
    done_dir = cache / f"{tflm_source.TFLM_COMMIT[:12]}-{core.name}-{kernels}"
    record = done_dir / "flags.json"
    if not record.is_file():
        root = tflm_source.tree(cache, source)
        args = _make_args(core, kernels)
        flags = _flags(root, args)
        log(f"building TFLM {tflm_source.TFLM_COMMIT[:12]} for {core.name} with {kernels} kernels "
            f"(once; minutes) in {root}")
        start = time.monotonic()
        try:
            built = subprocess.run(["make", *args, f"-j{os.cpu_count() or 1}", "microlite"], cwd=root,
                                   capture_output=True, text=True, env=_environment(), timeout=BUILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise EdgeseqError(f"TFLM's library build did not finish in {BUILD_TIMEOUT_S} s") from None
        if built.returncode != 0:
            raise EdgeseqError(f"TFLM's library build failed: {_first_error(built.stdout + built.stderr)}")
        done_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / flags["MICROLITE_LIB_PATH"][0], done_dir / "libtensorflow-microlite.a")
        write_json(record, {"root": str(root), "cxxflags": flags["CXXFLAGS"], "ccflags": flags["CCFLAGS"],
                            "includes": flags["INCLUDES"], "build_seconds": round(time.monotonic() - start, 1),
                            "make": ["make", *args, "microlite"]})
    found = json.loads(record.read_text())
    return Library(Path(found["root"]), done_dir / "libtensorflow-microlite.a", found["cxxflags"], found["ccflags"],
                   found["includes"], found["build_seconds"])
