"""The `web` row of `edgeseq bench`: per-call latency of the export's page in headless
Chromium, timed in the page with performance.now over rounds of many calls (one call is below
the 100 µs resolution performance.now has in a page without cross-origin isolation). Its floor
is floor.onnx on a bare onnxruntime-web session in the same page. When the browser cannot
run here the row is skipped with the reason, as bench skips any runtime it cannot run."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from ...errors import EdgeseqError
from . import browser_missing, pack, runtime_files

ROUNDS = 25


def web_row(directory: Path, manifest: dict, problem, calls: int, batch: int) -> dict | str:
    """The row (bench's keys; RSS is not measured: Chromium's processes are not ours), or the
    reason it was skipped, in one line."""
    reason = browser_missing()
    try:
        dist = None if reason else runtime_files.find()[0]
        window = pack.window_model(manifest)
    except EdgeseqError as exc:
        reason = reason or str(exc)
    if reason:
        return f"web: {reason}"
    from . import check  # noqa: PLC0415
    from .browser import BrowserPage  # noqa: PLC0415

    per_round = max(1, calls // ROUNDS)
    with tempfile.TemporaryDirectory(prefix="edgeseq-web-bench-") as scratch:
        folder, page = pack.write(directory, dist, into=Path(scratch) / "web", with_standalone=False)
        floor = directory / "floor.onnx"
        if floor.is_file():
            shutil.copyfile(floor, folder / floor.name)
        started = time.perf_counter()
        try:
            with BrowserPage(folder) as browser:
                load_ms = (time.perf_counter() - started) * 1e3
                one = check.latency(browser, problem, rounds=ROUNDS, calls=per_round)
                many = check.latency(browser, problem, rounds=3, calls=max(1, per_round // 4), batch=batch)
                step = (check.latency(browser, problem, step=True, rounds=ROUNDS, calls=per_round)
                        if page["streaming"]["streams"] else None)
                low = (check.latency(browser, problem, rounds=ROUNDS, calls=per_round, floor=True)
                       if floor.is_file() else None)
        except EdgeseqError as exc:
            return f"web: {exc}"
    return {
        "runtime": "web", "variant": window.get("variant", "fp32"), "file": window["file"],
        "p50_us": one["p50_us"], "p99_us": one["max_us"], "timing": "p50/p99: of per-call means over rounds",
        "rounds": ROUNDS, "calls_per_round": one["calls_per_round"], "warmup": min(per_round, 50),
        "throughput_per_s": 1e6 / one["p50_us"], "batch": batch, "batch_file": None,
        "batch_throughput_per_s": batch * 1e6 / many["p50_us"],
        "load_ms": load_ms, "bytes": (directory / window["file"]).stat().st_size,
        "peak_rss_mb": None, "baseline_rss_mb": None,
        "floor_p50_us": low["p50_us"] if low else None, "floor_p99_us": low["max_us"] if low else None,
        "floor_file": "floor.onnx" if low else None,
        "floor_source": "onnxruntime-web session in the page" if low else None,
        "p50_over_floor": one["p50_us"] / low["p50_us"] if low else None,
        "step_file": page["streaming"].get("artifact"), "step_p50_us": step["p50_us"] if step else None,
        "step_p99_us": step["max_us"] if step else None,
        "window_over_step": one["p50_us"] / step["p50_us"] if step else None,
        "decode_file": None, "decode_p50_us": None, "heavy_modules": [], "threads": one["threads"],
    }
