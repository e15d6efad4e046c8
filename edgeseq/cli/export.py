"""`edgeseq export`: convert, gate on parity, publish."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .. import registry
from ..errors import EdgeseqError
from ..runtimes import DEVICE_RUNTIMES  # named here so that checking --format imports no TF
from . import validate
from .app import (
    JsonOption,
    command,
    emit_json,
    err,
    out,
    out_dir_for,
    require_train_extra,
)


@command(interrupted="previous export kept")
def export(
    arch: Annotated[str, typer.Argument(
        help="Architecture name (see `edgeseq list`), or a model of your own: a .keras file, a legacy "
             ".h5 file, or a TF SavedModel directory (or its saved_model.pb).")],
    out_dir: Annotated[Optional[Path], typer.Option(
        "--out", help="Artifact directory; default `exported/ARCH` "
                      "(`exported/<file stem>` for your own model file).")] = None,
    formats: Annotated[Optional[list[str]], typer.Option(
        "--format", help="onnx and/or tflite (repeatable); default both. Also ort: model.ort and "
                         "required_operators.config for onnxruntime's reduced-operator builds (brings onnx); "
                         "openvino: the OpenVINO IR model.xml/model.bin, fp32 (brings onnx; needs the "
                         "[openvino] extra).")] = None,
    quantize: Annotated[Optional[list[str]], typer.Option(
        "--quantize", "-q",
        help="Also write quantized variants (repeatable): none, float16 (TFLite), dynamic "
             "(dynamic-range int8), int8 (full integer / static QDQ), int16x8 (TFLite). A variant "
             "is kept only if its task metric stays within the gate (your own model: fidelity to Keras "
             "on held-out --calibration-file rows, or --labels with --metric).")] = None,
    seed: Annotated[int, typer.Option(min=0, max=validate.SEED_MAX,
                                      help="Training seed, used when there is no model.keras yet.")] = 0,
    batch: Annotated[int, typer.Option(
        min=1, max=validate.MAX_BATCH,
        help="Also write model.bN.tflite, a batch-N TFLite file for batch throughput "
             "(bench, predict --input-file); 1 writes none.")] = 64,
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
        "--sequence-length", min=1, max=validate.MAX_SEQUENCE_LENGTH,
        help="For a model whose time axis is variable (None): the length "
                                         "the TFLite file is fixed at (default: the calibration rows' "
                                         "length). ONNX keeps the axis variable.")] = None,
    custom_objects: Annotated[Optional[Path], typer.Option(
        "--custom-objects", help="A .py module that defines and registers your custom layers; it is "
                                 "imported (its code runs) before loading, so it requires --unsafe.")] = None,
    unsafe: Annotated[bool, typer.Option(
        "--unsafe", help="Load a model file even if it carries Python code (Lambda layers), and allow "
                         "--custom-objects to run its module. Only for files you trust.")] = False,
    optimize: Annotated[str, typer.Option(
        "--optimize", help="Which form of each format to publish as model.onnx / model.tflite: "
                           "latency (default) keeps the fastest at batch 1 of the candidates that pass "
                           "the fp32 parity gate (TFLite: fused LSTM, unrolled, Keras 3 WHILE loops; "
                           "ONNX: native LSTM, unrolled MatMuls; the first listed stays unless another "
                           "is at least 10 % faster), size the smallest, none the first form only "
                           "(no search: the quickest export). Every candidate's "
                           "time, bytes and parity go to the manifest's routes section (`edgeseq info`).")]
        = "latency",
    force: Annotated[bool, typer.Option(
        "--force", help="Replace files in --out that edgeseq did not write, or the model.keras "
                        "of another model there.")] = False,
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
    if optimize not in OPTIMIZE:
        raise EdgeseqError(f"unknown --optimize {optimize!r}; expected one of {', '.join(OPTIMIZE)}")
    chosen = _formats(formats or list(DEVICE_RUNTIMES))
    require_train_extra("export")  # first: on the device install, the one thing to say
    user_options = (calibration_file, labels, metric, sequence_length, custom_objects)
    is_user = arch not in registry.ARCHITECTURES and (Path(arch).suffix in USER_SUFFIXES
                                                      or Path(arch).exists() or "/" in arch)
    user_file = Path(arch) if is_user else None
    if user_file is not None:
        if not (user_file.is_dir() and (user_file / "saved_model.pb").is_file()):
            validate.input_file(user_file, "ARCH", suffixes=USER_SUFFIXES)
        for path, option, suffixes in ((calibration_file, "--calibration-file", (".npy", ".npz")),
                                       (labels, "--labels", (".npy", ".npz")),
                                       (custom_objects, "--custom-objects", (".py",))):
            if path is not None:
                validate.input_file(path, option, suffixes=suffixes)
        saved_model = user_file if user_file.is_dir() else user_file.parent
        name = saved_model.name if user_file.name == "saved_model.pb" or user_file.is_dir() else user_file.stem
    else:
        registry.get(arch)
        if any(o is not None for o in user_options) or unsafe:
            raise EdgeseqError("--calibration-file, --labels, --metric, --sequence-length, "
                               "--custom-objects and --unsafe apply to a model of your own, not to "
                               f"the built-in architecture {arch!r}")
        name = arch
    directory = out_dir_for(name, out_dir)
    # Before Keras is loaded, a model trained or converted: what --out holds that would be lost.
    replace_model = validate.export_target(directory, name, force, user_model=user_file)
    if user_file is not None:
        from ..export import user_model  # noqa: PLC0415 - imports Keras

        subject = user_model.load(user_file, unsafe=unsafe, calibration=calibration_file,
                                  custom_objects=custom_objects, sequence_length=sequence_length,
                                  labels=labels, metric=metric, quantize=bool(variants))
    else:
        subject = registry.get(arch)
    from ..export.pipeline import export as run_export  # noqa: PLC0415 - imports TF

    # Converters print to stdout (Keras's export() announces its SavedModel): keep stdout
    # for the answer, as the CLI contract says.
    with contextlib.redirect_stdout(sys.stderr):
        document = run_export(subject, directory, formats=chosen, quantize=variants, seed=seed,
                              batch=batch, replace_model=replace_model, optimize=optimize,
                              log=lambda m: err.print(m, highlight=False, markup=False))
    if as_json:
        return emit_json(document)
    from .parity_tables import show_parity  # noqa: PLC0415 - rich only when a table is printed

    show_parity(document["parity"], f"{subject.name}: parity with Keras", document["rejected"])
    out.print(f"wrote {', '.join(a['file'] for a in document['artifacts'])} and manifest.json "
              f"to {directory}")


FORMATS = (*DEVICE_RUNTIMES, "ort", "openvino")  # pipeline.FORMATS + OPTIONAL_FORMATS
OPTIMIZE = ("latency", "size", "none")  # routes.OPTIMIZE, named here so that checking it imports no TF
#: a model of the user's: Keras 3, legacy HDF5, or a TF SavedModel (its directory or its .pb)
USER_SUFFIXES = (".keras", ".h5", ".hdf5", ".pb")


def _formats(names: list[str]) -> tuple[str, ...]:
    unknown = [n for n in names if n not in FORMATS]
    if unknown:
        raise EdgeseqError(f"unknown format {unknown[0]!r}; expected one of {', '.join(FORMATS)}")
    if "openvino" in names:
        from ..export import to_openvino  # noqa: PLC0415 - imports neither TF nor openvino

        if not to_openvino.available():
            raise EdgeseqError(to_openvino.missing_extra("--format openvino"))
    return tuple(dict.fromkeys(names))


QUANTIZE = {"none": None, "float16": "float16", "dynamic": "dynamic-int8", "int8": "int8",
            "int16x8": "int16x8"}


def _variants(names: list[str]) -> tuple[str, ...]:
    unknown = [n for n in names if n not in QUANTIZE]
    if unknown:
        raise EdgeseqError(f"unknown quantization {unknown[0]!r}; expected one of {', '.join(QUANTIZE)}")
    return tuple(dict.fromkeys(QUANTIZE[n] for n in names if QUANTIZE[n]))
