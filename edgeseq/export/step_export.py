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
from . import step_integer, step_model, to_step

CONVERTERS = {"onnx": to_step.to_onnx, "tflite": to_step.to_tflite}


def references(model, plan: step_model.Plan) -> dict:
    """Keras's outputs at every step, the window model's, and every step in float64, as
    numpy functions (stream_parity.check's keyword arguments)."""
    every_step = step_model.sequence_reference(model, plan)
    exact = step_model.sequence_reference(model, plan, "float64")
    as_float64 = (lambda x: x) if plan.dtype != "float32" else (lambda x: x.astype(np.float64))
    return {"every_step": lambda x: np.asarray(every_step(x, training=False)),
            "window": lambda x: np.asarray(model(x, training=False)),
            "exact": lambda x: np.asarray(exact(as_float64(x), training=False))}


def write(arch, model, staging: Path, formats, tolerance: Tolerance, log,
          sequences: int = stream_parity.SEQUENCES, quantize=(), keras_file: Path | None = None
          ) -> tuple[list, dict]:
    """(path, info) of each step artifact written, and the streaming section (with its stream
    parity report). Raises like the window gate when an fp32 step model of an edgeseq
    architecture fails; a user's model whose step model fails is exported without one (its
    window models passed their own gate), the reason in the section."""
    if not arch.is_user_model:
        written, section = _write(arch, model, staging, formats, tolerance, log, sequences)
        for variant in (v for v in quantize if v in step_integer.VARIANTS):
            if section["streams"] and "tflite" in formats and keras_file:
                written += _integer(arch, model, keras_file, staging, section, variant, log, sequences)
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
    report = stream_parity.check(arch.problem, section,
                                 candidates=[("fp32", open_runner(path)) for path, _ in written],
                                 sequences=sequences, tolerance=tolerance, **references(model, plan))
    failed = [r for r in report["results"] if not r["passed"]]
    if failed:
        error = EdgeseqError if arch.is_user_model else CheckFailed
        raise error(f"{arch.name}: {failed[0]['runtime']} step model ({failed[0]['artifact']}) "
                    f"streams differently from Keras: {failed[0]['reason']}; previous artifacts "
                    "left in place")
    return [(path, info) for path, info in written], section | {"parity": report}


def _integer(arch, model, keras_file: Path, staging: Path, section: dict, variant: str, log,
             sequences: int) -> list:
    """An integer TFLite step model if it converts and its streamed task metric passes the
    quantized variants' gate; otherwise nothing, the reason under section["rejected"]."""
    path = staging / f"model.step.{variant}.tflite"
    log(f"{arch.name}: tflite step model {variant}")
    outcome = step_integer.convert_isolated(arch.name, keras_file, path, variant)
    rejected = section.setdefault("rejected", [])
    if not outcome["ok"]:
        log(f"{arch.name}: tflite step {variant} not converted: {outcome['reason']}")
        rejected.append({"runtime": "tflite", "variant": variant, "reason": outcome["reason"]})
        return []
    report = stream_parity.check(arch.problem, section, candidates=[(variant, open_runner(path))],
                                 sequences=sequences, **references(model, step_model.plan(model)))
    result = report["results"][0]
    fp32_bytes = (staging / section["artifacts"]["tflite"]).stat().st_size
    reason = result.get("reason") or metric_gate(arch.problem.metric,
                                                 report["reference"]["metric"]["value"],
                                                 result["metric"]["value"])
    if not reason and path.stat().st_size >= fp32_bytes:
        reason = f"no smaller than fp32 ({path.stat().st_size:,} vs {fp32_bytes:,} bytes)"
    result["bytes"] = path.stat().st_size
    if reason:
        path.unlink()
        log(f"{arch.name}: tflite step {variant} rejected: {reason}")
        rejected.append(result | {"passed": False, "reason": reason})
        return []
    section["parity"]["results"].append(result)
    section.setdefault("variants", {}).setdefault("tflite", {})[variant] = path.name
    return [(path, outcome["info"])]
