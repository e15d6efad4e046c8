"""Latency, throughput, load time, memory and size per runtime: `edgeseq bench DIR`.

Numbers from one run on one machine, side by side: compare ratios, not absolute values
across machines.

Each row (the Keras eager call, `model.predict`, every onnx/tflite artifact of the
manifest, and OpenVINO on the IR or the fp32 model.onnx when the [openvino] extra is here)
is measured in a fresh worker process, `python -m edgeseq.measure.bench_worker JOB`, which prints one JSON
document. A process that imported TensorFlow keeps its ~500 MB peak, so only one
process per row makes the peak RSS of onnxruntime or LiteRT mean anything. The worker also
times the same runtime on the export's floor model (one Reshape of the same input shape):
what a call costs before the model does any work.

The roofline (roofline.py): each artifact's FLOPs per sample counted from its graph in this
process (flops.py; it reads ONNX files with `onnx`, never TensorFlow), the machine's
single-thread float32 GEMM peak measured by one more worker in the same run, and per row
roofline_us = floor p50 + FLOPs ÷ peak, p50_over_roofline and the GFLOP/s achieved.

This module imports numpy only; the runtimes are imported inside the workers.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from ..errors import EdgeseqError, InputError
from . import bench_step
from .bench_worker import FLOOR, KERAS_WARMUP, WARMUP

KERAS_ROWS = ("keras-call", "keras-predict")


def keras_available() -> bool:
    """TensorFlow and Keras are installed (found, not imported)."""
    try:
        return all(importlib.util.find_spec(name) is not None for name in ("tensorflow", "keras"))
    except (ImportError, ValueError):  # a broken or shadowed install counts as absent
        return False


def machine() -> dict:
    return {"platform": platform.platform(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version()}


# --------------------------------------------------------------------------- the parent


def run(directory: Path, calls: int = 1000, batch: int = 64, keras_calls: int = 100,
        log: Callable[[str], None] = lambda _: None, web: bool = False) -> dict:
    """Bench every runtime on an exported directory, one worker process per row."""
    from .. import manifest as manifest_file  # noqa: PLC0415
    from .. import registry  # noqa: PLC0415
    from ..runtimes import DEVICE_RUNTIMES  # noqa: PLC0415
    from . import flops, roofline

    directory = Path(directory)
    if not directory.exists():
        raise InputError(f"{directory} not found: bench takes an exported directory "
                         "such as exported/vanilla")
    if not directory.is_dir():
        raise InputError(f"{directory} is not a directory: bench takes an exported directory "
                         "such as exported/vanilla")
    if calls < 1 or batch < 1 or keras_calls < 1:
        raise InputError("--calls, --keras-calls and --batch must be at least 1")
    manifest = manifest_file.load(directory)
    problem = registry.problem_from_manifest(manifest)
    artifacts = [a for a in manifest.get("artifacts", []) if a.get("format") in DEVICE_RUNTIMES]
    # A batch-N file (export --batch) is no row of its own: its batch-1 latency would be a
    # padded batch's; it gives its fp32 sibling's row the batch throughput instead. Step
    # models are timed within their window's row (step columns).
    models = [a for a in artifacts if manifest_file.is_window_model(a)]
    if not models:
        raise InputError(f"{directory}/manifest.json lists no onnx or tflite artifact to bench")
    for a in artifacts:  # all checked before any row runs: a bad file fails fast, once
        if not (directory / a["file"]).is_file():
            raise InputError(f"{directory / a['file']} is listed in manifest.json but missing "
                             "(re-export the directory)")
        manifest_file.verify(directory / a["file"], manifest)
    costs = {a["file"]: flops.count(directory / a["file"], a["format"]).to_json() for a in models}
    openvino, openvino_skipped = _openvino_artifact(directory, manifest)
    # The Keras rows run the model model.onnx was converted from: the same arithmetic.
    keras_cost = next((costs[a["file"]] for a in models
                       if a["format"] == "onnx" and a.get("variant", "fp32") == "fp32"), None)

    notes, skipped = [], [openvino_skipped] if openvino_skipped else []
    document = {
        "directory": str(directory), "architecture": manifest["architecture"],
        "input_shape": list(problem.input_shape), "calls": calls, "keras_calls": keras_calls,
        "batch": batch, "warmup": WARMUP, "keras_warmup": KERAS_WARMUP,
        "machine": machine(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "notes": notes, "skipped": skipped, "results": [],
    }
    common = {"directory": str(directory.resolve()), "batch": batch}
    jobs = []
    keras_file = directory / "model.keras"
    if not keras_available():
        skipped.append("keras-call and keras-predict: TensorFlow is not installed "
                       "(pip install 'edgeseq[train]' to bench the Keras reference)")
    elif not keras_file.is_file():
        skipped.append(f"keras-call and keras-predict: no model.keras in {directory}")
    else:
        manifest_file.verify(keras_file, manifest)
        for kind in KERAS_ROWS:
            jobs.append(common | {"kind": kind, "runtime": kind, "variant": "fp32",
                                  "path": str(keras_file.resolve()), "calls": keras_calls,
                                  "warmup": KERAS_WARMUP})
        notes.append(f"Keras rows: {keras_calls} timed calls after {KERAS_WARMUP} warm-up "
                     f"calls (one call takes tens of ms); TensorFlow's default threads.")
    notes.append(f"onnx/tflite/openvino rows: {calls} timed batch-1 calls after {WARMUP} warm-up calls, "
                 "1 thread. TFLite files take batch 1: the runner loops over a batch, except "
                 f"where the export has a batch-N file for batches of {batch} (batch_file in JSON).")
    notes.append("floor: the same runtime on a one-Reshape model of the same input, timed in "
                 "the row's process; p50_over_floor (JSON) compares rows across processes.")
    notes.append(f"per s: samples per second at batch 1 and in batches of {batch}. RSS: peak "
                 "of the row's own process (ru_maxrss); every row ran in a fresh process.")
    notes.append("roofline: floor p50 + FLOPs per sample (counted from the graph; Keras rows use "
                 "model.onnx's) ÷ the single-thread fp32 GEMM peak measured in this run; p50/roof "
                 "1.0 would be the machine's limit. Quantized rows are held to the fp32 peak.")

    log("bench: single-thread float32 GEMM peak")
    peak = document["peak"] = _spawn({"kind": "peak", "runtime": "peak", "variant": "fp32"},
                                     env=os.environ | roofline.ONE_THREAD_ENV)
    with tempfile.TemporaryDirectory(prefix="edgeseq-bench-") as scratch:
        floors = _floors(directory, artifacts, problem.input_shape, Path(scratch), notes, log)
        for a in models:
            runtime = a["format"]
            floor_path, floor_source = floors.get(runtime, (None, None))
            batch_path = manifest_file.batch_file(directory / a["file"], batch)
            jobs.append(common | {
                "batch_path": str(batch_path.resolve()) if batch_path else None,
                "kind": "device", "runtime": runtime, "variant": a.get("variant", "fp32"),
                "path": str((directory / a["file"]).resolve()), "calls": calls, "warmup": WARMUP,
                "floor": str(floor_path.resolve()) if floor_path else None,
                "floor_source": floor_source,
                "step": bench_step.step_job(manifest, directory, runtime, a.get("variant", "fp32"))})
        if openvino is not None:
            # The same arithmetic as model.onnx (the IR is saved from it); floor.onnx through OpenVINO.
            costs[openvino["file"]] = costs[openvino["source"]]
            floor_path, floor_source = floors.get("onnx", (None, None))
            jobs.append(common | {
                "batch_path": None, "kind": "device", "runtime": "openvino", "variant": "fp32",
                "path": str((directory / openvino["file"]).resolve()), "calls": calls, "warmup": WARMUP,
                "floor": str(floor_path.resolve()) if floor_path else None,
                "floor_source": floor_source, "step": None})
            notes.append(f"openvino: {openvino['file']} on OpenVINO's CPU plugin, LATENCY hint, 1 "
                         "inference thread, no CPU pinning, f32 precision, one static-shape compile per batch size; "
                         "its floor is floor.onnx through OpenVINO.")
        for job in jobs:
            log(f"bench: {job['runtime']} {job['variant']} ({Path(job['path']).name})")
            try:
                row = _spawn(job)
            except EdgeseqError as exc:
                if job["runtime"] != "openvino":
                    raise
                # added on edgeseq's own initiative: a model it cannot run is a line, not a failure
                skipped.append(f"openvino (added because the [openvino] extra is installed): {exc}")
                continue
            cost = costs.get(row["file"]) if job["kind"] == "device" else keras_cost
            document["results"].append(row | roofline.annotate(row, cost, peak["gflops_per_s"]))
    if not web:
        return document
    from .targets.web import bench_row  # noqa: PLC0415 - the browser row, skipped with a reason when it cannot run

    log("bench: web fp32 (headless Chromium)")
    row = bench_row.web_row(directory, manifest, problem, calls, batch)
    if isinstance(row, str):
        skipped.append(row)
    else:
        document["results"].append(row | roofline.annotate(row, keras_cost, peak["gflops_per_s"]))
        notes.append(f"web: {row['file']} in headless Chromium (onnxruntime-web wasm, {row['threads']} thread); "
                     f"p50/p99 of per-call means over {row['rounds']} rounds of {row['calls_per_round']} calls "
                     "(performance.now); floor: floor.onnx on a bare onnxruntime-web session in the page; "
                     "RSS not measured.")
    return document


def _openvino_available() -> bool:
    try:
        return importlib.util.find_spec("openvino") is not None
    except (ImportError, ValueError):  # a broken or shadowed install counts as absent
        return False


def _openvino_artifact(directory: Path, manifest: dict) -> tuple[dict | None, str | None]:
    """What the OpenVINO row runs: the IR when the export has one (checked with its weights),
    else the fp32 model.onnx, which OpenVINO reads directly; or no row, and why."""
    from .. import manifest as manifest_file  # noqa: PLC0415

    listed = manifest.get("artifacts", [])
    onnx = next((a for a in listed if a.get("format") == "onnx" and a.get("variant", "fp32") == "fp32"
                 and manifest_file.is_window_model(a)), None)
    ir = next((a for a in listed if a.get("format") == "openvino" and manifest_file.is_window_model(a)), None)
    if onnx is None:
        return None, None
    if not _openvino_available():
        return None, ("openvino: the [openvino] extra is not installed (pip install "
                      "'edgeseq[openvino]' to bench OpenVINO beside onnxruntime and LiteRT)")
    if ir is not None:
        for name in (ir["file"], ir.get("weights", Path(ir["file"]).with_suffix(".bin").name)):
            if not (directory / name).is_file():
                raise InputError(f"{directory / name} is listed in manifest.json but missing "
                                 "(re-export the directory)")
            manifest_file.verify(directory / name, manifest)
    return {"file": (ir or onnx)["file"], "source": onnx["file"]}, None


def _floors(directory: Path, artifacts: list[dict], input_shape, scratch: Path,
            notes: list[str], log) -> dict:
    """runtime → (floor model path, where it came from). Floors are exported beside the
    models; a directory exported before floors existed gets them built for this run, in a
    subprocess so that this process stays free of TensorFlow."""
    from ..runtimes import DEVICE_RUNTIMES  # noqa: PLC0415

    floors = {a["format"]: (directory / a["file"], "manifest")
              for a in artifacts if a.get("variant") == FLOOR}
    missing = [rt for rt in DEVICE_RUNTIMES
               if rt not in floors and any(a["format"] == rt for a in artifacts)]
    if not missing:
        return floors
    buildable = [rt for rt in missing if rt == "onnx" or keras_available()]
    if buildable:
        log(f"bench: {directory} has no {' and '.join(buildable)} floor model "
            "(exported before floors); building one for this run")
        command = [sys.executable, "-m", "edgeseq.exporters.floor",
                   ",".join(map(str, input_shape)), str(scratch)]
        for rt in buildable:
            command += ["--format", rt]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise EdgeseqError(f"could not build floor models: {_last_line(done.stderr)}")
        from ..exporters.floor import FLOOR_FILES  # noqa: PLC0415 - module imports no TensorFlow

        floors |= {rt: (scratch / FLOOR_FILES[rt], "built for this run") for rt in buildable}
        notes.append(f"{' and '.join(buildable)} floor: not in manifest.json (exported before "
                     "floors), built for this run; re-export to publish floor models.")
    for rt in sorted(set(missing) - set(buildable)):
        notes.append(f"{rt} floor: not in manifest.json and TensorFlow is not here to build "
                     "it; re-export the directory to get floor models.")
    return floors


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def _spawn(job: dict, env: dict | None = None) -> dict:
    done = subprocess.run([sys.executable, "-m", "edgeseq.measure.bench_worker", json.dumps(job)],
                          capture_output=True, text=True, env=env)
    label = f"{job['runtime']} {job['variant']}"
    try:
        result = json.loads(done.stdout)
    except ValueError:
        raise EdgeseqError(f"bench worker for {label} failed (exit {done.returncode}): "
                           f"{_last_line(done.stderr)}") from None
    if "error" in result:
        raise (InputError if result.get("input_error") else EdgeseqError)(
            f"bench {label}: {result['error']}")
    return result


def format_us(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}" if value < 1000 else f"{value:,.0f}"


def format_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}" if value < 10 else f"{value:.0f}"


def format_rate(value: float) -> str:
    if value < 1e3:
        return f"{value:.0f}"
    if value < 1e6:
        return f"{value / 1e3:.1f}k" if value < 1e5 else f"{value / 1e3:.0f}k"
    return f"{value / 1e6:.1f}M"


# --------------------------------------------------------------------------- the picture


def plot(document: dict, path: Path) -> None:
    """Bar chart of batch-1 p50 per row (log scale), the runtime's floor and the roofline
    marked on each bar, p50 ÷ roofline written under it."""
    try:
        import matplotlib  # noqa: PLC0415

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        raise EdgeseqError("--plot needs matplotlib: pip install matplotlib") from None
    from ..atomic import atomic_path  # noqa: PLC0415

    rows = document["results"]
    labels = [f"{r['runtime']}\n{r['variant']}" for r in rows]
    p50 = [r["p50_us"] for r in rows]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(rows)), 4.5))
    bars = ax.bar(range(len(rows)), p50, color="tab:blue", label="model p50")
    floors = [(i, r["floor_p50_us"]) for i, r in enumerate(rows) if r["floor_p50_us"]]
    if floors:
        ax.scatter([i for i, _ in floors], [v for _, v in floors], marker="_", s=900,
                   color="tab:red", zorder=3, label="runtime floor p50 (one Reshape)")
    roofs = [(i, r["roofline_us"]) for i, r in enumerate(rows) if r.get("roofline_us")]
    if roofs:
        ax.scatter([i for i, _ in roofs], [v for _, v in roofs], marker="_", s=900,
                   color="tab:green", zorder=4,
                   label=f"roofline: floor + FLOPs ÷ {document['peak']['gflops_per_s']:.0f} GFLOP/s")
    steps = [(i, r["step_p50_us"]) for i, r in enumerate(rows) if r.get("step_p50_us")]
    if steps:
        ax.scatter([i for i, _ in steps], [v for _, v in steps], marker="v", s=60,
                   color="tab:purple", zorder=3, label="step model p50 (one new sample)")
    for bar, value in zip(bars, p50, strict=True):
        ax.annotate(f"{value:,.0f}" if value >= 100 else f"{value:.1f}",
                    (bar.get_x() + bar.get_width() / 2, value), ha="center", va="bottom",
                    fontsize=8, xytext=(0, 2), textcoords="offset points")
    ax.set_yscale("log")
    ax.set_ylim(top=max(p50) * 10)  # room for the labels and the legend above the bars
    labels = [label + (f"\n{r['p50_over_roofline']:.1f}× roof" if r.get("p50_over_roofline") else "")
              for label, r in zip(labels, rows, strict=True)]
    ax.set_xticks(range(len(rows)), labels, fontsize=8)
    ax.set_ylabel("batch-1 latency, µs (log scale)")
    ax.set_title(f"{document['architecture']}: batch-1 p50 latency per runtime "
                 f"({document['machine']['cpus']} CPUs)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, dpi=100, format=Path(path).suffix.lstrip(".") or "png")
    plt.close(fig)


