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
    arch: Annotated[str, typer.Argument(
        help="Architecture name (see `edgeseq list`), or a model of your own: a .keras file, a legacy "
             ".h5 file, or a TF SavedModel directory (or its saved_model.pb).")],
    out_dir: Annotated[Optional[Path], typer.Option(
        "--out", help="Artifact directory; default exported/ARCH (exported/STEM for your own model file).")] = None,
    formats: Annotated[Optional[list[str]], typer.Option(
        "--format", help="onnx and/or tflite (repeatable); default both.")] = None,
    quantize: Annotated[Optional[list[str]], typer.Option(
        "--quantize", "-q",
        help="Also write quantized variants (repeatable): none, float16 (TFLite), dynamic "
             "(dynamic-range int8), int8 (full integer / static QDQ), int16x8 (TFLite). A variant "
             "is kept only if its task metric stays within the gate (your own model: fidelity to Keras "
             "on held-out --calibration-file rows, or --labels with --metric).")] = None,
    seed: Annotated[int, typer.Option(help="Training seed, used when there is no model.keras yet.")] = 0,
    calibration_file: Annotated[Optional[Path], typer.Option(
        "--calibration-file", help="Your model's example inputs: an .npy (one input) or an .npz with one "
                                   "array per input name. A quarter of the rows is held out for parity "
                                   "and the quantization gate, the rest calibrates int8. Default: uniform "
                                   "[0,1) floats, or token ids below the Embedding's input_dim; required "
                                   "with --quantize.")] = None,
    labels: Annotated[Optional[Path], typer.Option(
        "--labels", help="Targets of the calibration rows (.npy, or .npz by output name): quantized "
                         "variants are then gated on --metric instead of fidelity to Keras.")] = None,
    metric: Annotated[Optional[str], typer.Option(
        "--metric", help="With --labels: accuracy or mae.")] = None,
    sequence_length: Annotated[Optional[int], typer.Option(
        "--sequence-length", min=1, help="For a model whose time axis is variable (None): the length "
                                         "the TFLite file is fixed at (default: the calibration rows' "
                                         "length). ONNX keeps the axis variable.")] = None,
    custom_objects: Annotated[Optional[Path], typer.Option(
        "--custom-objects", help="A .py module that defines and registers your custom layers; it is "
                                 "imported (its code runs) before loading, so it requires --unsafe.")] = None,
    unsafe: Annotated[bool, typer.Option(
        "--unsafe", help="Load a model file even if it carries Python code (Lambda layers), and allow "
                         "--custom-objects to run its module. Only for files you trust.")] = False,
    as_json: JsonOption = False,
):
    """Convert ARCH to ONNX and TFLite, check parity with Keras, write manifest.json.

    Uses OUT/model.keras when present and trains it first otherwise. A model of your own
    (.keras, .h5, SavedModel; several inputs or outputs and a variable time axis are fine) is
    exported the same way, gated on the fp32 tolerance; its quantized variants are gated on
    --labels/--metric, or else on fidelity to Keras on held-out calibration rows. Artifacts are converted into a new
    generation and replace the previous ones, in one switch, only when parity passes.
    """
    variants = _variants(quantize or [])
    user_options = (calibration_file, labels, metric, sequence_length, custom_objects)
    if arch not in registry.ARCHITECTURES and (Path(arch).suffix in (".keras", ".h5", ".hdf5", ".pb")
                                               or Path(arch).exists() or "/" in arch):
        require_train_extra("export")
        from ..export import user_model  # noqa: PLC0415 - imports Keras

        subject = user_model.load(Path(arch), unsafe=unsafe, calibration=calibration_file,
                                  custom_objects=custom_objects, sequence_length=sequence_length,
                                  labels=labels, metric=metric, quantize=bool(variants))
    else:
        subject = registry.get(arch)
        if any(o is not None for o in user_options) or unsafe:
            raise EdgeseqError("--calibration-file, --labels, --metric, --sequence-length, "
                               "--custom-objects and --unsafe apply to a model of your own, not to "
                               f"the built-in architecture {arch!r}")
        require_train_extra("export")
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
