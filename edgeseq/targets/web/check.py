"""Parity and latency of an export in the browser: the page's own module (edgeseq.js) run in
headless Chromium on the Keras outputs stored at export, under the gate every other runtime
meets (parity.check for windows, stream_parity.compare for the step model), and per-call
latency timed in the page.

The stored references are the inputs: reference.npz (window) and stream_reference.npz (every
step of stored sequences and one long stream), so no TensorFlow is needed here.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np

from ... import manifest as manifest_file
from ...checks import parity, stream_parity
from ...errors import InputError
from ...runtimes import stored_reference, stored_stream_reference
from .browser import BrowserPage, PageRunner, PageStreamer, encode

BENCH_ROUNDS = 25
BENCH_CALLS = 40
#: a round lasts at least this long: 50× the 100 µs step of performance.now without isolation
MIN_ROUND_MS = 5.0


def stored_window_reference(directory: Path, manifest: dict):
    if manifest_file.entry(manifest, stored_reference.FILE) is None:
        raise InputError(f"{directory} has no stored {stored_reference.FILE} (the Keras outputs the "
                         "browser is checked against): re-export it")
    manifest_file.verify(directory / stored_reference.FILE, manifest)
    return stored_reference.StoredReference(directory / stored_reference.FILE)


def stored_stream(directory: Path, manifest: dict) -> dict | None:
    if manifest_file.entry(manifest, stored_stream_reference.FILE) is None:
        return None
    manifest_file.verify(directory / stored_stream_reference.FILE, manifest)
    return stored_stream_reference.read(directory / stored_stream_reference.FILE)


def window_parity(page: BrowserPage, problem, reference, tolerance: parity.Tolerance,
                  samples: int = 1000, seed: int = 1234) -> dict:
    """The page's window model against `reference` (a Keras runner or the stored outputs)."""
    return parity.check(problem, reference, [("fp32", PageRunner(page))], samples=samples, seed=seed,
                        tolerance=tolerance)


def stream_parity_in_page(page: BrowserPage, problem, manifest: dict, refs: dict,
                          tolerance: parity.Tolerance) -> dict:
    return stream_parity.compare(problem, manifest["streaming"], refs, [("fp32", PageStreamer(page))],
                                 tolerance)


def latency(page: BrowserPage, problem, step: bool = False, rounds: int = BENCH_ROUNDS,
            calls: int = BENCH_CALLS, batch: int = 1, floor: bool = False, bare: bool = False) -> dict:
    """µs per call in the page: `rounds` rounds of `calls` awaited calls on one batch, timed
    with performance.now around each round; p50 and p90 over the rounds. `floor`: floor.onnx
    (one Reshape of the same input) on a bare session, which must be in the page's folder;
    `bare`: the window model on a bare session (without edgeseq.js's predict around it)."""
    x, _ = problem.generate(batch, np.random.default_rng(0))
    if step:
        feed = {page.page_json["streaming"]["inputs"][0]["name"]: x[:, 0]}
    else:
        feed = {page.page_json["inputs"][0]["name"]: x}
    mode = "floor" if floor else "session" if bare else "step" if step else "window"
    found = page.call("([f, r, c, m, ms]) => window.edgeseqCheck.bench(f, r, c, m, ms)",
                      [{k: encode(v) for k, v in feed.items()}, rounds, calls, mode, MIN_ROUND_MS])
    per_call = sorted(found["per_call_us"])
    return {"p50_us": statistics.median(per_call), "p90_us": per_call[int(0.9 * (len(per_call) - 1))],
            "max_us": per_call[-1], "rounds": rounds, "calls_per_round": found["calls_per_round"], "batch": batch,
            "threads": found["threads"], "cross_origin_isolated": found["isolated"]}
