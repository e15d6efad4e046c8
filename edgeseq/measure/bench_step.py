"""Step-model rows for `edgeseq bench`: the per-new-sample cost of streaming beside the window.

A step is timed as an application streams: `Stream.step` on one frame, the state fed back
from the previous call (so state copies are in the figure). `window_over_step` = window p50 ÷
step p50 is the speedup per new sample over re-running the whole window. An encoder-decoder's
step is its encoder step alone (the per-character cost; the answer is decoded once the input
ends), and its decoder's call is timed beside it (`decode_p50_us`): an application that wants
an answer after every step pays step + decode.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def step_job(manifest: dict, directory: Path, runtime: str, variant: str) -> str | None:
    """The step artifact a window row of this runtime and variant is compared with."""
    streaming = manifest.get("streaming") or {}
    if not streaming.get("streams"):
        return None
    file = (streaming["artifacts"].get(runtime) if variant == "fp32"
            else streaming.get("variants", {}).get(runtime, {}).get(variant))
    return str((directory / file).resolve()) if file else None


def measure(path: str, runtime: str, window: np.ndarray, calls: int, warmup: int, time_calls, latency) -> dict:
    """step_p50_us / step_p99_us of one streamed step (frames taken from `window`)."""
    from .. import manifest as manifest_file  # noqa: PLC0415
    from ..runtimes import open_runner  # noqa: PLC0415
    from ..streaming import Stream  # noqa: PLC0415

    path = Path(path)
    section = manifest_file.load(path.parent)["streaming"]
    stream = Stream(open_runner(path, runtime), section)
    frames = window[0]  # (T, *frame): cycle through one window's steps
    position = [0]

    def call():
        stream.step(frames[position[0] % len(frames)][np.newaxis])
        position[0] += 1

    measured = latency(time_calls(call, calls, warmup))
    row = {"step_file": path.name, "step_p50_us": measured["p50_us"], "step_p99_us": measured["p99_us"]}
    if section.get("decoder"):
        decoder = open_runner(path.parent / section["decoder"]["artifacts"][runtime], runtime)
        feed = {section["decoder"]["inputs"][0]["name"]: stream.step(frames[0][np.newaxis])}
        decoded = latency(time_calls(lambda: decoder.infer(feed), calls, warmup))
        row |= {"decode_file": decoder.path.name, "decode_p50_us": decoded["p50_us"]}
    return row
