"""One row of `edgeseq bench`, measured in a fresh process: `python -m
edgeseq.measure.bench_worker JOB` loads one artifact (or Keras), times batch-1 calls, a batch,
the same runtime's floor model, and reports load times and peak RSS as one JSON line
(bench.py says why one process per row). Numpy only; the runtime is imported inside."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import InputError
from . import bench_step

WARMUP = 20
KERAS_WARMUP = 5
INPUT_SEED = 0
HEAVY = ("tensorflow", "keras", "tf_keras", "tf2onnx")
FLOOR = "floor"


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


# --------------------------------------------------------------------------- the worker


def measure(job: dict) -> dict:
    """One row, in this process: latency, throughput, load time, floor and peak RSS."""
    from .. import manifest as manifest_file  # noqa: PLC0415
    from .. import registry

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
    from ..runtimes import COMPANIONS  # noqa: PLC0415

    companion = path.with_suffix(COMPANIONS[path.suffix]) if path.suffix in COMPANIONS else None
    return path.stat().st_size + (companion.stat().st_size if companion else 0)


def _device(job: dict, path: Path, one: np.ndarray, inputs: np.ndarray):
    from ..runtimes import RUNTIMES, open_runner  # noqa: PLC0415

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

    from ..runtimes import open_runner  # noqa: PLC0415
    from ..runtimes.keras_runner import KerasRunner  # noqa: PLC0415

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


if __name__ == "__main__":
    sys.exit(_worker(sys.argv[1:]))
