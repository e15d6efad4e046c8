"""The export pipeline's streaming stage: step models per format, gated on stream parity
against Keras, and the manifest's `streaming` section. A model that cannot stream gets no
step model and a one-line reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import stream_parity
from ..errors import CheckFailed, EdgeseqError
from ..parity import Tolerance
from ..runtimes import open_runner
from . import step_model, to_step

CONVERTERS = {"onnx": to_step.to_onnx, "tflite": to_step.to_tflite}


def references(model, plan: step_model.Plan):
    """Keras's outputs at every step, and the window model's, as numpy functions."""
    every_step = step_model.sequence_reference(model, plan)
    return (lambda x: np.asarray(every_step(x, training=False)),
            lambda x: np.asarray(model(x, training=False)))


def write(arch, model, staging: Path, formats, tolerance: Tolerance, log,
          sequences: int = stream_parity.SEQUENCES) -> tuple[list, dict]:
    """(path, info) of each step artifact written, and the streaming section (with its stream
    parity report). Raises like the window gate when an fp32 step model of an edgeseq
    architecture fails; a user's model whose step model fails is exported without one (its
    window models passed their own gate), the reason in the section."""
    if not hasattr(arch, "keras_model"):
        return _write(arch, model, staging, formats, tolerance, log, sequences)
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
