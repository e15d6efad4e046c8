"""model.onnx → OpenVINO IR (model.xml, the graph; model.bin, the weights), for devices that
run OpenVINO and should not pay for its ONNX frontend at every load.

`openvino.save_model` of the ONNX file as OpenVINO reads it, so the IR is the very graph
OpenVINO runs from model.onnx. Weights stay fp32: save_model compresses them to fp16 by
default (`compress_to_fp16=True`). Measured (openvino 2026.4.1, untrained seeded exports,
1000 inputs against Keras, f32 inference hint): fp16 weights halve model.bin (stacked 20.7 →
10.4 KB) but put stacked 5.7e-5 off Keras, over the fp32 gate (atol 1e-5); vanilla 6.5e-6.
Compressed weights would be a quantized variant of their own, gated on the task metric; not
written here.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ...errors import EdgeseqError

EXTRA = "openvino"
WEIGHTS_FORMAT = "openvino-weights"


def available() -> bool:
    import importlib.util  # noqa: PLC0415

    try:
        return importlib.util.find_spec("openvino") is not None
    except (ImportError, ValueError):
        return False


def missing_extra(what: str) -> str:
    return f"{what} needs the [{EXTRA}] extra (openvino is not installed): pip install 'edgeseq[{EXTRA}]'"


def convert(onnx_path: Path, path: Path) -> tuple[dict, Path]:
    """Write `path` (model.xml) and its weights (model.bin) beside it; manifest info and the
    weights' path. Saved in a scratch directory and moved when both files are complete."""
    try:
        import openvino as ov  # noqa: PLC0415
    except ImportError:
        raise EdgeseqError(missing_extra("--format openvino")) from None
    path = Path(path)
    weights = path.with_suffix(".bin")
    with tempfile.TemporaryDirectory(prefix="edgeseq-openvino-", dir=path.parent) as scratch:
        staged = Path(scratch) / path.name
        ov.save_model(ov.Core().read_model(str(onnx_path)), str(staged), compress_to_fp16=False)
        shutil.move(staged.with_suffix(".bin"), weights)
        shutil.move(staged, path)
    info = {"format": "openvino", "variant": "fp32", "weights": weights.name,
            "route": f"openvino {ov.__version__.split('-')[0]} read_model(model.onnx) → "
                     "save_model (fp32 weights, compress_to_fp16=False)"}
    return info, weights
