"""`edgeseq export`: convert, gate on parity, publish."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .. import registry
from ..errors import EdgeseqError
from .app import (
    JsonOption,
    command,
    emit_json,
    err,
    out,
    out_dir_for,
    require_train_extra,
)
from .parity_tables import show_parity


@command()
def export(
    arch: Annotated[str, typer.Argument(help="Architecture name (see `edgeseq list`), or a .keras file of your own.")],
    out_dir: Annotated[Optional[Path], typer.Option(
        "--out", help="Artifact directory; default exported/ARCH (exported/<file stem> for a .keras file).")] = None,
    formats: Annotated[Optional[list[str]], typer.Option(
        "--format", help="onnx and/or tflite (repeatable); default both. Also ort: model.ort and "
                         "required_operators.config for onnxruntime's reduced-operator builds (brings onnx).")] = None,
    quantize: Annotated[Optional[list[str]], typer.Option(
        "--quantize", "-q",
        help="Also write quantized variants (repeatable): none, float16 (TFLite), dynamic "
             "(dynamic-range int8), int8 (full integer / static QDQ), int16x8 (TFLite). A variant "
             "is kept only if its task metric stays within the gate.")] = None,
    seed: Annotated[int, typer.Option(help="Training seed, used when there is no model.keras yet.")] = 0,
    calibration_file: Annotated[Optional[Path], typer.Option(
        "--calibration-file", help="A .keras model's parity inputs: a .npy of example inputs "
                                   "(default: uniform [0,1) floats, or token ids below the Embedding's "
                                   "input_dim).")] = None,
    unsafe: Annotated[bool, typer.Option(
        "--unsafe", help="Load a .keras file even if it carries Python code (Lambda layers). "
                         "Only for files you trust.")] = False,
    as_json: JsonOption = False,
):
    """Convert ARCH to ONNX and TFLite, check parity with Keras, write manifest.json.

    Uses OUT/model.keras when present and trains it first otherwise. A .keras file of your own
    is exported the same way, gated on the fp32 tolerance. Artifacts are converted into a new
    generation and replace the previous ones, in one switch, only when parity passes.
    """
    variants = _variants(quantize or [])
    require_train_extra("export")
    if arch.endswith(".keras") or Path(arch).is_file():
        from ..export import user_model  # noqa: PLC0415 - imports Keras

        subject = user_model.load(Path(arch), unsafe=unsafe, calibration=calibration_file)
    else:
        subject = registry.get(arch)
        if calibration_file is not None or unsafe:
            raise EdgeseqError("--calibration-file and --unsafe apply to a .keras file, not to "
                               f"the built-in architecture {arch!r}")
    from ..export.pipeline import FORMATS  # noqa: PLC0415 - imports TF
    from ..export.pipeline import export as run_export

    directory = out_dir_for(subject.name, out_dir)
    # Converters print to stdout (Keras's export() announces its SavedModel): keep stdout
    # for the answer, as the CLI contract says.
    with contextlib.redirect_stdout(sys.stderr):
        document = run_export(subject, directory, formats=tuple(formats or FORMATS),
                              quantize=variants, seed=seed,
                              log=lambda m: err.print(m, highlight=False, markup=False))
    if as_json:
        return emit_json(document)
    show_parity(document["parity"], f"{subject.name}: parity with Keras", document["rejected"])
    out.print(f"wrote {', '.join(a['file'] for a in document['artifacts'])} and manifest.json "
              f"to {directory}")


QUANTIZE = {"none": None, "float16": "float16", "dynamic": "dynamic-int8", "int8": "int8",
            "int16x8": "int16x8"}


def _variants(names: list[str]) -> tuple[str, ...]:
    unknown = [n for n in names if n not in QUANTIZE]
    if unknown:
        raise EdgeseqError(f"unknown quantization {unknown[0]!r}; expected one of {', '.join(QUANTIZE)}")
    return tuple(dict.fromkeys(QUANTIZE[n] for n in names if QUANTIZE[n]))
