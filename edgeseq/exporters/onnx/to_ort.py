"""ONNX → ORT format, for onnxruntime's minimal (reduced-operator) builds on mobile and
embedded devices, through onnxruntime's own converter (`python -m
onnxruntime.tools.convert_onnx_models_to_ort`), in a child process: it is a command-line
tool, and its module-level API is not a documented one.

Optimization style Fixed (onnxruntime's guidance for the CPU provider: optimizations baked
in at conversion) for target platform arm, the edge CPU; nothing arm-only is applied to
these fp32 graphs, so the same file is parity-checked on the host. The converter also writes
the operator list a reduced build needs (`--include_ops_by_config`): required_operators.config.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ...errors import EdgeseqError

TOOL = "onnxruntime.tools.convert_onnx_models_to_ort"
STYLE = "Fixed"
TARGET = "arm"
OPERATORS = "required_operators.config"


def convert(onnx_path: Path, path: Path) -> tuple[dict, Path]:
    """Write `path` (model.ort) and required_operators.config beside it; their manifest info."""
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="edgeseq-ort-") as scratch:
        source = Path(scratch) / f"{path.stem}.onnx"
        shutil.copyfile(onnx_path, source)
        done = subprocess.run([sys.executable, "-m", TOOL, str(source), "--output_dir", scratch,
                               "--optimization_style", STYLE, "--target_platform", TARGET],
                              capture_output=True, text=True)
        written = Path(scratch) / f"{path.stem}.ort"
        config = Path(scratch) / f"{path.stem}.{OPERATORS}"
        if done.returncode or not written.is_file() or not config.is_file():
            lines = [ln for ln in (done.stderr + done.stdout).splitlines() if ln.strip()]
            raise EdgeseqError(f"ORT format conversion failed: {(lines or ['no output'])[-1][:300]}")
        shutil.move(written, path)
        # The config's comment names the converter's scratch path: name the shipped file instead.
        operators = path.with_name(OPERATORS)
        operators.write_text(re.sub(r"^# - .*$", f"# - {path.name}", config.read_text(), flags=re.M))
    info = {"format": "ort", "variant": "fp32", "route": f"{TOOL} (optimization style {STYLE}, "
            f"target platform {TARGET}) from model.onnx", "operators_config": OPERATORS}
    return info, operators
