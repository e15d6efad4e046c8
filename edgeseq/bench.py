"""Latency, throughput, load time, memory and size per runtime: `edgeseq bench DIR`.

Numbers from one run on one machine, side by side: compare ratios, not absolute values
across machines.

Each row (the Keras eager call, `model.predict`, every onnx/tflite artifact of the
manifest, and OpenVINO on the IR or the fp32 model.onnx when the [openvino] extra is here)
is measured in a fresh worker process, `python -m edgeseq.bench JOB`, which prints one JSON
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
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import bench_step
from .errors import EdgeseqError, InputError

KERAS_ROWS = ("keras-call", "keras-predict")
HEAVY = ("tensorflow", "keras", "tf_keras", "tf2onnx")
FLOOR = "floor"
WARMUP = 20
KERAS_WARMUP = 5
INPUT_SEED = 0


def time_calls(call: Callable[[], object], calls: int, warmup: int = 20) -> np.ndarray:
    """Wall time of each of `calls` calls, in seconds, after `warmup` untimed calls."""
    for _ in range(warmup):
        call()
    times = np.empty(calls)
    clock = time.perf_counter
    for i in range(calls):
        start = clock()
        call()
        times[i] = clock() - start
    return times


def latency(times: np.ndarray) -> dict:
    us = times * 1e6
    return {"p50_us": float(np.percentile(us, 50)), "p99_us": float(np.percentile(us, 99)),
            "mean_us": float(us.mean()), "calls": int(len(us))}


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (ru_maxrss: KiB on Linux, bytes on macOS)."""
    import resource  # noqa: PLC0415 - POSIX only

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def heavy_modules() -> list[str]:
    """The TensorFlow-family packages imported into this process."""
    return sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))


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
    from . import flops, registry, roofline  # noqa: PLC0415
    from . import manifest as manifest_file  # noqa: PLC0415
    from .runtimes import DEVICE_RUNTIMES  # noqa: PLC0415

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
            row = _spawn(job)
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
    from . import manifest as manifest_file  # noqa: PLC0415

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
    from .runtimes import DEVICE_RUNTIMES  # noqa: PLC0415

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
        command = [sys.executable, "-m", "edgeseq.export.floor",
                   ",".join(map(str, input_shape)), str(scratch)]
        for rt in buildable:
            command += ["--format", rt]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise EdgeseqError(f"could not build floor models: {_last_line(done.stderr)}")
        from .export.floor import FLOOR_FILES  # noqa: PLC0415 - module imports no TensorFlow

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
    done = subprocess.run([sys.executable, "-m", "edgeseq.bench", json.dumps(job)],
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


# --------------------------------------------------------------------------- the worker


def measure(job: dict) -> dict:
    """One row, in this process: latency, throughput, load time, floor and peak RSS."""
    from . import manifest as manifest_file  # noqa: PLC0415
    from . import registry

    if job["kind"] == "peak":
        from .roofline import measure_peak  # noqa: PLC0415

        return measure_peak()

    directory, path = Path(job["directory"]), Path(job["path"])
    problem = registry.problem_from_manifest(manifest_file.load(directory))
    inputs, _ = problem.generate(job["batch"], np.random.default_rng(INPUT_SEED))
    # a user's model with several inputs draws name → batch; every other model one array
    one = {n: a[:1] for n, a in inputs.items()} if isinstance(inputs, dict) else inputs[:1]
    baseline = peak_rss_mb()
    if job["kind"] == "device":
        call_one, call_batch, floor_call, timings = _device(job, path, one, inputs)
    else:
        call_one, call_batch, floor_call, timings = _keras(job, path, one, inputs,
                                                           problem.input_shape)

    calls, warmup = job["calls"], job["warmup"]
    times = time_calls(call_one, calls, warmup)
    batch_calls = max(3, calls // 20)
    batch_times = time_calls(call_batch, batch_calls, warmup=min(warmup, 3))
    peak = peak_rss_mb()  # before the floor model adds its (small) share
    row = {
        "runtime": job["runtime"], "variant": job["variant"], "file": path.name,
        **latency(times), "warmup": warmup,
        "throughput_per_s": calls / float(times.sum()),
        "batch": job["batch"], "batch_calls": batch_calls, "batch_file": timings.pop("batch_file", None),
        "batch_throughput_per_s": job["batch"] * batch_calls / float(batch_times.sum()),
        **timings,
        "bytes": _bytes(path),
        "peak_rss_mb": peak, "baseline_rss_mb": baseline,
        "floor_p50_us": None, "floor_p99_us": None, "floor_file": None, "floor_source": None,
        "p50_over_floor": None,
    }
    if floor_call is not None:
        call, floor_file, source = floor_call()
        floor = latency(time_calls(call, calls, warmup))
        row |= {"floor_p50_us": floor["p50_us"], "floor_p99_us": floor["p99_us"],
                "floor_file": floor_file, "floor_source": source,
                # the same process's own yardstick: steadier across rows than p50 alone
                "p50_over_floor": row["p50_us"] / floor["p50_us"]}
    row |= {"step_file": None, "step_p50_us": None, "step_p99_us": None, "window_over_step": None,
            "decode_file": None, "decode_p50_us": None}
    if job.get("step"):
        row |= bench_step.measure(job["step"], job["runtime"], one, calls, warmup, time_calls, latency)
        row["window_over_step"] = row["p50_us"] / row["step_p50_us"]
    row["heavy_modules"] = heavy_modules()
    row["pid"] = os.getpid()
    return row


def _bytes(path: Path) -> int:
    """An artifact's size with the files it loads with (the IR's model.bin beside model.xml)."""
    from .runtimes import COMPANIONS  # noqa: PLC0415

    companion = path.with_suffix(COMPANIONS[path.suffix]) if path.suffix in COMPANIONS else None
    return path.stat().st_size + (companion.stat().st_size if companion else 0)


def _device(job: dict, path: Path, one: np.ndarray, inputs: np.ndarray):
    from .runtimes import RUNTIMES, open_runner  # noqa: PLC0415

    start = time.perf_counter()
    importlib.import_module(f"edgeseq.runtimes.{RUNTIMES[job['runtime']][1].split(':')[0]}")
    imported = time.perf_counter()
    runner = open_runner(path, job["runtime"])  # checks the manifest's sha256, then loads
    loaded = time.perf_counter()
    # Feeds bound once, outside the timed calls, as an application would hold them.
    feed_one, feed_batch = runner.bind(_feed(one)), runner.bind(_feed(inputs))
    runner.infer(feed_one)  # the first call allocates; keep it out of load_ms and the timings
    first = time.perf_counter()

    def floor_call():
        floor = open_runner(Path(job["floor"]), job["runtime"], floor_ok=True)
        floor_one = floor.bind({"input": next(iter(_feed(one).values()))})  # the first input's shape
        return (lambda: floor.infer(floor_one)), Path(job["floor"]).name, job.get("floor_source")

    timings = {"import_ms": (imported - start) * 1e3, "load_ms": (loaded - imported) * 1e3,
               "first_call_ms": (first - loaded) * 1e3, "batch_file": path.name}
    batch_runner = runner
    if job.get("batch_path"):
        batch_runner = open_runner(Path(job["batch_path"]), job["runtime"])
        feed_batch = batch_runner.bind({"input": inputs})
        timings["batch_file"] = Path(job["batch_path"]).name
    return (lambda: runner.infer(feed_one)), (lambda: batch_runner.infer(feed_batch)), \
        (floor_call if job.get("floor") else None), timings


def _feed(batch) -> dict:
    """A batch as a feed: runners bind a one-entry feed to their single input by position."""
    return batch if isinstance(batch, dict) else {"input": batch}


def _keras(job: dict, path: Path, one: np.ndarray, inputs: np.ndarray, input_shape):
    start = time.perf_counter()
    import keras  # noqa: PLC0415 - this worker is the only process that pays for it

    from .runtimes import open_runner  # noqa: PLC0415
    from .runtimes.keras_runner import KerasRunner  # noqa: PLC0415

    imported = time.perf_counter()
    runner = open_runner(path, "keras")
    loaded = time.perf_counter()
    predict = job["kind"] == "keras-predict"

    def calls_of(r):
        if predict:
            return (lambda: r.model.predict(one, verbose=0),
                    lambda: r.model.predict(inputs, batch_size=job["batch"], verbose=0))
        return (lambda: r.run(_feed(one))), (lambda: r.run(_feed(inputs)))

    call_one, call_batch = calls_of(runner)
    call_one()
    first = time.perf_counter()

    def floor_call():
        flat = int(np.prod(input_shape))
        model = keras.Sequential([keras.Input(tuple(input_shape)), keras.layers.Reshape((flat,))])
        floor, first = KerasRunner(model=model), next(iter(_feed(one).values()))  # the first input's shape
        call = ((lambda: floor.model.predict(first, verbose=0)) if predict
                else (lambda: floor.run({"input": first})))
        return call, "keras.Sequential([Reshape])", "in memory"

    timings = {"import_ms": (imported - start) * 1e3, "load_ms": (loaded - imported) * 1e3,
               "first_call_ms": (first - loaded) * 1e3}
    return call_one, call_batch, floor_call, timings


def _worker(argv: list[str]) -> int:
    """Run one job; print its row (or an error) as the only thing on stdout."""
    job = json.loads(argv[0])
    stdout = os.dup(1)
    os.dup2(2, 1)  # runtimes that print (TF, LiteRT) go to stderr, not into the JSON
    try:
        result, code = measure(job), 0
    except InputError as exc:
        result, code = {"error": str(exc), "input_error": True}, 2
    except Exception as exc:  # noqa: BLE001 - reported to the parent as one line
        result, code = {"error": f"{type(exc).__name__}: {exc}"}, 1
    sys.stdout.flush()
    os.dup2(stdout, 1)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return code


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
    from .atomic import atomic_path  # noqa: PLC0415

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


if __name__ == "__main__":
    sys.exit(_worker(sys.argv[1:]))
