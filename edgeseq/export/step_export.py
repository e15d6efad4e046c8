"""The export pipeline's streaming stage: step models per format, gated on stream parity
against Keras, and the manifest's `streaming` section. A model that cannot stream gets no
step model and a one-line reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import stream_parity
from ..errors import CheckFailed, EdgeseqError
from ..parity import Tolerance, metric_gate
from ..runtimes import open_runner
from . import step_int8, step_model, to_step
from .step_int8 import VARIANT

CONVERTERS = {"onnx": to_step.to_onnx, "tflite": to_step.to_tflite}


def references(model, plan: step_model.Plan):
    """Keras's outputs at every step, and the window model's, as numpy functions."""
    every_step = step_model.sequence_reference(model, plan)
    return (lambda x: np.asarray(every_step(x, training=False)),
            lambda x: np.asarray(model(x, training=False)))


def write(arch, model, staging: Path, formats, tolerance: Tolerance, log,
          sequences: int = stream_parity.SEQUENCES, quantize=(), keras_file: Path | None = None
          ) -> tuple[list, dict]:
    """(path, info) of each step artifact written, and the streaming section (with its stream
    parity report). Raises like the window gate when an fp32 step model of an edgeseq
    architecture fails; a user's model whose step model fails is exported without one (its
    window models passed their own gate), the reason in the section."""
    if not hasattr(arch, "keras_model"):
        written, section = _write(arch, model, staging, formats, tolerance, log, sequences)
        if section["streams"] and VARIANT in quantize and "tflite" in formats and keras_file:
            written += _int8(arch, model, keras_file, staging, section, log, sequences)
        return written, section
    try:
        return _write(arch, model, staging, formats, tolerance, log, sequences)
    except Exception as exc:  # conversion or rebuild errors of layers edgeseq did not plan for
        for path in staging.glob("model.step.*"):
            path.unlink()
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        log(f"{arch.name}: step model failed ({first}); no step model written")
        return [], step_model.refusal(f"does not stream: its step model failed ({first})")


def _write(arch, model, staging: Path, formats, tolerance: Tolerance, log, sequences: int) -> tuple[list, dict]:
    plan = step_model.plan(model)
    if isinstance(plan, str):
        log(f"{arch.name}: {plan}; no step model written")
        return [], step_model.refusal(plan)
    written = []
    for fmt in formats:
        path = staging / f"model.step.{fmt}"
        log(f"{arch.name}: step model to {fmt}")
        try:
            info = CONVERTERS[fmt](plan, path)
        except Exception as exc:  # the converters' own errors, first line
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            raise EdgeseqError(f"{arch.name}: {fmt} step conversion failed: {first}") from None
        written.append((path, info))
    section = step_model.streaming_section(plan, arch.problem.input_shape[0],
                                           {info["format"]: path.name for path, info in written})
    log(f"{arch.name}: stream parity on {sequences} sequences and a "
        f"{stream_parity.LONG_STEPS}-step stream")
    every_step, window = references(model, plan)
    report = stream_parity.check(arch.problem, section, every_step, window,
                                 [("fp32", open_runner(path)) for path, _ in written],
                                 sequences=sequences, tolerance=tolerance)
    failed = [r for r in report["results"] if not r["passed"]]
    if failed:
        error = EdgeseqError if hasattr(arch, "keras_model") else CheckFailed
        raise error(f"{arch.name}: {failed[0]['runtime']} step model ({failed[0]['artifact']}) "
                    f"streams differently from Keras: {failed[0]['reason']}; previous artifacts "
                    "left in place")
    return [(path, info) for path, info in written], section | {"parity": report}


def _int8(arch, model, keras_file: Path, staging: Path, section: dict, log, sequences: int) -> list:
    """The int8 TFLite step model if it converts and its streamed task metric passes the
    quantized variants' gate; otherwise nothing, the reason under section["rejected"]."""
    path = staging / f"model.step.{VARIANT}.tflite"
    log(f"{arch.name}: tflite step model {VARIANT}")
    outcome = step_int8.convert_isolated(arch.name, keras_file, path)
    rejected = section.setdefault("rejected", [])
    if not outcome["ok"]:
        log(f"{arch.name}: tflite step {VARIANT} not converted: {outcome['reason']}")
        rejected.append({"runtime": "tflite", "variant": VARIANT, "reason": outcome["reason"]})
        return []
    every_step, window = references(model, step_model.plan(model))
    report = stream_parity.check(arch.problem, section, every_step, window,
                                 [(VARIANT, open_runner(path))], sequences=sequences)
    result = report["results"][0]
    reason = result.get("reason") or metric_gate(arch.problem.metric,
                                                 report["reference"]["metric"]["value"],
                                                 result["metric"]["value"])
    if reason:
        path.unlink()
        log(f"{arch.name}: tflite step {VARIANT} rejected: {reason}")
        rejected.append(result | {"passed": False, "reason": reason})
        return []
    section["parity"]["results"].append(result)
    section.setdefault("variants", {}).setdefault("tflite", {})[VARIANT] = path.name
    return [(path, outcome["info"])]
