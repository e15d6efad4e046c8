"""The export pipeline's streaming stage: step models per format, gated on stream parity
against Keras, and the manifest's `streaming` section. A model that cannot stream gets no
step model and a one-line reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...checks import stream_parity
from ...checks.parity import Tolerance, metric_gate
from ...errors import CheckFailed, EdgeseqError
from ...runtimes import open_runner, stored_stream_reference
from ...streaming import step_runner
from . import decoder_model, step_integer, step_model, to_step

CONVERTERS = {"onnx": to_step.to_onnx, "tflite": to_step.to_tflite}
DECODER_CONVERTERS = {"onnx": to_step.decoder_to_onnx, "tflite": to_step.decoder_to_tflite}


def references(model, plan: step_model.Plan) -> dict:
    """Keras's outputs at every step, the window model's, and every step in float64, as
    numpy functions (stream_parity.check's keyword arguments). The sequence models run as
    compiled graphs (predict_on_batch): called eagerly, Keras steps the LSTM loop in Python,
    and the 1,000-step stream took 6.0 s per model against 0.34 s compiled, tracing included,
    for the same outputs bit for bit (vanilla, untrained). Not a model with per-frame layers
    (TimeDistributed over a time axis of any length, cnn_lstm): its graph fails to vectorize
    them ("Graph execution error" at the TimeDistributed's StridedSlice), so it runs eagerly."""
    import keras  # noqa: PLC0415 - the caller has loaded TensorFlow

    eager = any(kind == "frame" for kind, _ in plan.stages)

    def run(keras_model):
        return (lambda x: keras_model(x, training=False)) if eager else keras_model.predict_on_batch

    every_step = run(step_model.sequence_reference(model, plan))
    exact = run(step_model.sequence_reference(model, plan, "float64"))
    as_float64 = (lambda x: x) if plan.dtype != "float32" else (lambda x: x.astype(np.float64))
    if plan.decoder:  # the encoder's vector at every step, decoded: the answer on each prefix
        every_step = _decoded(every_step, run(decoder_model.reference(plan)))
        exact = _decoded(exact, run(decoder_model.reference(plan, "float64")))
    decoder = run(decoder_model.reference(plan)) if plan.decoder else None
    return {"every_step": lambda x: np.asarray(every_step(x)),
            "window": lambda x: np.asarray(model(x, training=False)),
            "exact": lambda x: np.asarray(exact(as_float64(x))),
            "anchored": _along(_compiled_step(step_model.build(keras, plan), plan), plan, decoder)}


def _compiled_step(keras_step, plan: step_model.Plan):
    """The Keras step model as one graph for every batch size: `_along` calls it 1,000 times
    at batch 1 and once at batch 1,000. One step has no time axis to vectorize, so per-frame
    layers compile too. predict_on_batch would trace once per batch size and make TensorFlow
    warn of "excessive retracing" on every export."""
    import tensorflow as tf  # noqa: PLC0415 - loaded with Keras already

    spec = (tf.TensorSpec((None, *plan.frame_shape), tf.as_dtype(plan.dtype)),
            tf.TensorSpec((None, plan.state_size), tf.float32))
    step = tf.function(lambda x, state: keras_step([x, state], training=False), input_signature=spec)
    return lambda args: [t.numpy() for t in step(*args)]


def _along(step, plan: step_model.Plan, decoder):
    """stream_parity's `anchored` reference: Keras's step model run along a (1, T, ...)
    stream from the zero state, the state before every step recorded; then its step from
    each recorded state, in one batched call as the candidates take them."""
    def run(stream):
        steps = stream[0]
        states = np.zeros((len(steps), plan.state_size), np.float32)
        state = states[:1]
        for t in range(len(steps)):
            states[t] = state[0]
            _, state = step([steps[t:t + 1], state])
            state = np.asarray(state)
        outputs, next_states = (np.asarray(a) for a in step([steps, states]))
        if decoder is not None:  # the answer on the prefix, as DecodedStep gives it
            outputs = np.asarray(decoder(outputs))
        return {"states": states, "outputs": outputs, "next_states": next_states}
    return run


def _decoded(encoder, decoder):
    """(batch, T, ...) inputs → the decoder's output on the encoder's vector after each step."""
    def run(x):
        encoded = np.asarray(encoder(x))
        answers = np.asarray(decoder(encoded.reshape(-1, encoded.shape[-1])))
        return answers.reshape(*encoded.shape[:2], *answers.shape[1:])
    return run


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
            if section.get("decoder"):  # not built: its calibration streams the encoder alone
                section.setdefault("rejected", []).append(
                    {"runtime": "tflite", "variant": variant,
                     "reason": "integer step models of an encoder-decoder are not built yet"})
            elif section["streams"] and "tflite" in formats and keras_file:
                written += _integer(arch, model, keras_file, staging, section, variant, log, sequences)
        return written, section
    try:
        return _write(arch, model, staging, formats, tolerance, log, sequences)
    except Exception as exc:  # conversion or rebuild errors of layers edgeseq did not plan for
        for path in (*staging.glob("model.step.*"), *staging.glob("model.decode.*"),
                     *staging.glob(stored_stream_reference.FILE)):
            path.unlink()
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        log(f"{arch.name}: step model failed ({first}); no step model written")
        return [], step_model.refusal(f"does not stream: its step model failed ({first})")


def _write(arch, model, staging: Path, formats, tolerance: Tolerance, log, sequences: int) -> tuple[list, dict]:
    plan = step_model.plan(model)
    if isinstance(plan, str):
        log(f"{arch.name}: {plan}; no step model written")
        return [], step_model.refusal(plan)
    steps, decoders = [], []
    for fmt in formats:
        steps.append(_convert(arch, CONVERTERS[fmt], plan, staging / f"model.step.{fmt}", log))
        if plan.decoder:  # an encoder-decoder: its decoder, run once the input ends
            decoders.append(_convert(arch, DECODER_CONVERTERS[fmt], plan,
                                     staging / f"model.decode.{fmt}", log))
    window_steps = arch.problem.input_shape[0]
    section = step_model.streaming_section(plan, window_steps,
                                           {info["format"]: path.name for path, info in steps})
    if plan.decoder:
        section |= decoder_model.section(plan, window_steps,
                                         {info["format"]: path.name for path, info in decoders})
    written = steps + decoders
    log(f"{arch.name}: stream parity on {sequences} sequences and a "
        f"{stream_parity.LONG_STEPS}-step stream")
    refs = stream_parity.references(arch.problem, sequences=sequences, **references(model, plan))
    report = stream_parity.compare(arch.problem, section, refs, tolerance=tolerance,
                                   candidates=[("fp32", step_runner(path, section)) for path, _ in steps])
    failed = [r for r in report["results"] if not r["passed"]]
    if failed:
        error = EdgeseqError if arch.is_user_model else CheckFailed
        raise error(f"{arch.name}: {failed[0]['runtime']} step model ({failed[0]['artifact']}) "
                    f"streams differently from Keras: {failed[0]['reason']}; previous artifacts "
                    "left in place")
    # Keras's streamed answers for `parity --reference stored` on a device without TensorFlow
    stored = staging / stored_stream_reference.FILE
    written.append((stored, stored_stream_reference.write(stored, refs)))
    return written, section | {"parity": report}


def _convert(arch, converter, plan: step_model.Plan, path: Path, log) -> tuple[Path, dict]:
    log(f"{arch.name}: {path.name}")
    try:
        return path, converter(plan, path)
    except Exception as exc:  # the converters' own errors, first line
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise EdgeseqError(f"{arch.name}: {path.name} conversion failed: {first}") from None


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
