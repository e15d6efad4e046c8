"""The form full-integer TFLite variants (int8, int16x8) convert from when today's form keeps
its recurrences as WHILE loops (a GRU, a SimpleRNN, a masked or no-bias LSTM, a model with no
tf_keras twin), and int16x8 of a fused LSTM, which the converter refuses ("Quantization to
16x8-bit not yet supported", TOOLCHAIN.md).

Why not the WHILE form itself: full-integer conversion calibrates by running the float model
in TFLite's calibrator, and that crashes the converter (SIGSEGV) on a WHILE loop. The cause is
on record as tensorflow/tensorflow#75140 ("Calibrator segfaults trying to log the 'while'
operation", open since TF 2.17): WHILE frees an output tensor that its body passes through
unchanged, after the calibrator has listed it for logging, and the calibrator then reads the
freed tensor (`calibrator.cc`, `tensor.data.f == nullptr`). Measured here with TF 2.21 on every
WHILE route, in every full-integer mode.

The honest way round: the same model with every recurrence unrolled (`unroll=True`, a Keras 3
clone from its own config, the weights copied) at batch 1 and the length TFLite is fixed at.
It has no loop to calibrate; measured on untrained GRU(32), SimpleRNN(32), no-bias LSTM(32)
and Embedding(mask_zero)→LSTM(32) models, int8 converted and agreed with Keras on top-1 for
99–100 % of 200 rows. Each variant's manifest entry names the form it came from
(`route_form`, `why_this_form`) and its parity result records that form's fp32 size beside
its own (`fp32_bytes`; a full-integer file is not held to being smaller, pipeline.py).
SavedModel inputs (a TFSMLayer: nothing to unroll) keep the crash, reported with its cause.
"""

from __future__ import annotations

from pathlib import Path

from .. import route_forms
from ..tflite import to_tflite

FULL_INTEGER = ("int8", "int16x8")
ROUTE = "Keras 3 clone at batch 1, recurrences unrolled → TFLiteConverter"
#: why the variants do not convert from today's form (the manifest says it beside the form)
WHY = ("full-integer calibration of a WHILE loop crashes the converter "
       "(tensorflow/tensorflow#75140), and 16x8 of a fused LSTM is not supported; "
       "converted from the unrolled form instead")


def needed(quantize, tflite_path: Path) -> list[str]:
    """The full-integer variants asked for that today's TFLite form cannot give: all of them
    when it holds loops; int16x8 when it holds fused LSTMs (the converter refuses them:
    "Quantization to 16x8-bit not yet supported", TOOLCHAIN.md)."""
    from ...measure import graph  # noqa: PLC0415

    wanted = [v for v in FULL_INTEGER if v in quantize]
    if not wanted:
        return []
    held = graph.summary(tflite_path, "tflite")
    if held["loop_ops"]:
        return wanted
    return [v for v in wanted if v == "int16x8" and held["recurrent_ops"]]


def unrollable(arch, model, problem) -> str | None:
    """Why the model has no unrolled form, or None when it has one."""
    if getattr(arch, "source_format", "keras") == "saved_model":
        return "a SavedModel's functions are converted as saved: no unrolled form to calibrate"
    steps = route_forms.unrolled_steps(model, getattr(problem, "length", None))
    if not steps:
        return "no recurrent layer edgeseq can unroll (LSTM, GRU, SimpleRNN)"
    if steps > route_forms.MAX_UNROLLED_STEPS:
        return (f"{steps} cell copies (time steps × recurrent layers) exceed "
                f"{route_forms.MAX_UNROLLED_STEPS}: too large unrolled")
    return None


def save(arch, model, problem, directory: Path, scratch_file: Path) -> dict:
    """Write the unrolled twin as a SavedModel in `directory` and its fp32 file (the size a
    quantized variant must beat) to `scratch_file`; the fp32 file's manifest info."""
    clone = route_forms.unrolled_keras(model, every_recurrence=True, length=getattr(problem, "length", None))
    io_specs = getattr(arch, "io_specs", None)
    if io_specs:
        to_tflite.export_named(clone, directory, io_specs, problem)
    else:
        to_tflite.save_at_batch_1(clone, directory)
    return to_tflite.convert(directory, problem, scratch_file, route=ROUTE)


def prepare(arch, model, problem, quantize, today_file: Path, scratch: Path, log) -> dict | None:
    """None when today's form serves the full-integer variants; else the variants it cannot
    give ("variants") with the unrolled form's "dir", "route" and "fp32_bytes", or with
    "why_not" when there is none."""
    from ... import error_text  # noqa: PLC0415

    variants = needed(quantize, today_file)
    if not variants:
        return None
    source = {"variants": variants}
    why = unrollable(arch, model, problem)
    if why is None:
        log(f"{arch.name}: tflite {', '.join(variants)} from an unrolled form ({WHY.split(';')[0]})")
        scratch.mkdir(parents=True, exist_ok=True)
        try:
            save(arch, model, problem, scratch / "saved_model", scratch / "fp32.tflite")
        except Exception as exc:  # the converter's or Keras's own errors, cut around their cause
            why = f"the unrolled form did not convert: {error_text.cause(exc)}"
        else:
            return source | {"dir": scratch / "saved_model", "route": ROUTE,
                             "fp32_bytes": (scratch / "fp32.tflite").stat().st_size}
    log(f"{arch.name}: tflite {', '.join(variants)}: no unrolled form ({why})")
    return source | {"why_not": why}


def crash_reason(reason: str, source: dict | None, variant: str) -> str:
    """A full-integer variant that failed on today's form because it has no unrolled form:
    the known cause of a crash, and why no unrolled form was tried."""
    if not (source and "why_not" in source and variant in source["variants"]):
        return reason
    if "crashed" in reason:
        return f"{reason} (tensorflow/tensorflow#75140: the calibrator crashes on WHILE; {source['why_not']})"
    return f"{reason} (no unrolled form to convert from: {source['why_not']})"
