"""`edgeseq export`: convert, gate on parity, publish."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..runtimes import DEVICE_RUNTIMES  # named here so that checking --format imports no TF
from . import validate
from .app import JsonOption, command, emit_json, err, out


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
    from .. import api  # noqa: PLC0415

    # Converters print to stdout (Keras's export() announces its SavedModel): keep stdout
    # for the answer, as the CLI contract says.
    with contextlib.redirect_stdout(sys.stderr):
        exported = api.export(arch, out_dir, formats=formats or list(DEVICE_RUNTIMES), quantize=quantize or [],
                              calibration=calibration_file, labels=labels, metric=metric,
                              sequence_length=sequence_length, custom_objects=custom_objects,
                              unsafe=unsafe, optimize=optimize, seed=seed, batch=batch, force=force,
                              log=lambda m: err.print(m, highlight=False, markup=False))
    document, directory = exported.manifest, exported.directory
    if as_json:
        return emit_json(document)
    from .parity_tables import show_parity  # noqa: PLC0415 - rich only when a table is printed

    show_parity(document["parity"], f"{document['architecture']}: parity with Keras", document["rejected"])
    out.print(f"wrote {', '.join(a['file'] for a in document['artifacts'])} and manifest.json "
              f"to {directory}")
