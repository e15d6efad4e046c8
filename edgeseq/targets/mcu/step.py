"""Step models on TFLM: the explicit-state files (`model.step.tflite` and its integer
variants) are what a microcontroller streams with, one time step per Invoke() and the state
carried by the caller. Checked as the export gate checks them (stream_parity: sequences from
the zero state, a 1,000-step stream, an exact reset), with TFLM in a child process.

The reference is Keras's own per-step outputs when Keras is the reference (what the export
gate used). Without TensorFlow (`--reference stored`: the stored outputs hold no per-step
answers) it is LiteRT: the fp32 step model streamed and the fp32 window model, both gated
against Keras at export, so TFLM is held to what passed there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ... import manifest as manifest_file
from ...checks import stream_parity
from ...checks.parity import Tolerance, error_stats, metric_gate
from ...runtimes import open_runner
from . import tflm_worker

#: sequences streamed through LiteRT and TFLM side by side (same file, same inputs): tells a
#: kernel difference from a quantization error
KERNEL_CHECK_SEQUENCES = 20


def artifacts(manifest: dict) -> list[dict]:
    """The export's TFLite step models, fp32 first (the order they are listed in); an
    encoder-decoder's decoder file is not one (it runs once the input ends, see refusal)."""
    streaming = manifest.get("streaming") or {}
    if not streaming.get("streams"):
        return []
    return [a for a in manifest.get("artifacts", [])
            if a.get("format") == "tflite" and a.get("step") and not a.get("decoder")]


def refusal(manifest: dict) -> str | None:
    """Why the step models are not checked on TFLM, or None. An encoder-decoder streams
    through its encoder step model *and* a decoder run on the encoder's vector: the pair, two
    interpreters and two arenas, is not checked or packed for TFLM yet."""
    decoder = (manifest.get("streaming") or {}).get("decoder")
    if decoder:
        return (f"streams as an encoder step model plus a decoder ({', '.join(decoder['artifacts'].values())}) "
                "run once the input ends; edgeseq mcu does not check or pack that pair on TFLM yet")
    return None


def references(directory: Path, manifest: dict, reference) -> dict:
    """stream_parity.check's reference functions (every_step, window, exact) and what they are."""
    if reference.runtime == "keras":
        from ...exporters.step import step_export, step_model  # noqa: PLC0415 - TensorFlow is loaded already

        model = reference.model
        return step_export.references(model, step_model.plan(model)) | {"runtime": "keras"}
    section = manifest["streaming"]
    window_file = next(a["file"] for a in manifest["artifacts"]
                       if a.get("format") == "tflite" and a.get("variant") == "fp32"
                       and manifest_file.is_window_model(a))
    step_runner = open_runner(directory / section["artifacts"]["tflite"])
    window_runner = open_runner(directory / window_file)
    return {"every_step": stream_parity.Streamer(step_runner, section).run,
            "window": window_runner.run_array, "exact": None,
            "runtime": f"tflite ({step_runner.path.name}, {window_file})"}


def _against_litert(path: Path, streamer, section: dict, problem, seed: int) -> float:
    """TFLM against LiteRT on the same file: max abs over streamed sequences."""
    inputs, _ = problem.generate(KERNEL_CHECK_SEQUENCES, np.random.default_rng(seed))
    litert = stream_parity.Streamer(open_runner(path), section).run(inputs)
    return error_stats(litert, streamer.run(inputs))["max_abs"]


def parity(problem, section: dict, path: Path, variant: str, arena_bytes: int, refs: dict,
           sequences: int, seed: int, tolerance: Tolerance) -> dict:
    """One step file's stream parity on TFLM: the fp32 file on the tolerance (as at export),
    an integer one on the task-metric gate; a TFLM crash is a failed result."""
    streamer = tflm_worker.IsolatedTflmStream(path, arena_bytes, section)
    try:
        report = stream_parity.check(problem, section, candidates=[(variant, streamer)],
                                     sequences=sequences, seed=seed, tolerance=tolerance,
                                     every_step=refs["every_step"], window=refs["window"],
                                     exact=refs["exact"])
        result = report["results"][0]
        result["litert_max_abs"] = _against_litert(path, streamer, section, problem, seed)
    except tflm_worker.TflmFailed as exc:
        return {"reference": {"runtime": refs["runtime"]}, "passed": False,
                "results": [{"runtime": "tflm", "variant": variant, "artifact": path.name,
                             "passed": False, "reason": f"TFLM failed: {exc}"}]}
    if variant != "fp32" and result["passed"]:
        reason = metric_gate(problem.metric, report["reference"]["metric"]["value"], result["metric"]["value"])
        if reason:
            result |= {"passed": False, "reason": reason}
    result["gate"] = "tolerance" if variant == "fp32" else "metric"
    report["reference"]["runtime"] = refs["runtime"]
    return report | {"passed": result["passed"]}
