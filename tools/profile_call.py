"""Where one batch-1 call's time goes, per runtime: the gap between bench's p50 and its roofline.

    .venv/bin/python tools/profile_call.py exported/stacked [--calls 2000]

- TFLite (model.tflite): the runner's four steps timed apart — reset_all_variables (the
  fused LSTM's state), set_tensor, invoke, get_tensor — median µs each. LiteRT's Python API
  has no per-op profiler, so invoke is one figure.
- onnxruntime (model.onnx): onnxruntime's own profiler (SessionOptions.enable_profiling),
  kernel time per op type per call (median event × events per run, µs), and the rest of
  session.run (binding inputs, allocating outputs, the Python call) as the difference to the
  run() median of a second, unprofiled session (the profiler itself slows run() several-fold).

FLOPs per op come from edgeseq.flops, so each kernel's GFLOP/s is beside its time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edgeseq import flops, registry  # noqa: E402
from edgeseq import manifest as manifest_file  # noqa: E402


def _median_us(call, calls: int) -> float:
    for _ in range(20):
        call()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def tflite_split(path: Path, x: np.ndarray, calls: int) -> dict:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=1)
    interpreter.allocate_tensors()
    index_in = interpreter.get_input_details()[0]["index"]
    index_out = interpreter.get_output_details()[0]["index"]
    interpreter.set_tensor(index_in, x)
    steps = {
        "reset_all_variables": interpreter.reset_all_variables,
        "set_tensor": lambda: interpreter.set_tensor(index_in, x),
        "invoke": interpreter.invoke,
        "get_tensor": lambda: interpreter.get_tensor(index_out),
    }
    return {name: _median_us(call, calls) for name, call in steps.items()}


def onnx_kernels(path: Path, x: np.ndarray, calls: int) -> tuple[dict, float]:
    """(op type → kernel µs per run, session.run median µs without the profiler)."""
    import onnxruntime as ort

    def session(profile_dir: str | None):
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        if profile_dir:
            options.enable_profiling = True
            options.profile_file_prefix = str(Path(profile_dir) / "profile")
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    plain = session(None)
    name = plain.get_inputs()[0].name
    run_us = _median_us(lambda: plain.run(None, {name: x}), calls)
    with tempfile.TemporaryDirectory() as scratch:
        profiled = session(scratch)
        _median_us(lambda: profiled.run(None, {name: x}), calls)
        trace = json.loads(Path(profiled.end_profiling()).read_text())
    runs = sum(1 for e in trace if e.get("name") == "model_run")
    durations: dict[str, list[float]] = defaultdict(list)
    for event in trace:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            durations[event["args"]["op_name"]].append(event["dur"])
    # the median event (a shared machine's outliers would own a mean) times events per run
    return {op: statistics.median(d) * len(d) / runs for op, d in durations.items()}, run_us


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    problem = registry.problem_from_manifest(manifest_file.load(args.directory))
    x, _ = problem.generate(1, np.random.default_rng(0))
    x = x.astype(np.float32)

    tfl = args.directory / "model.tflite"
    split = tflite_split(tfl, x, args.calls)
    cost = flops.count(tfl, "tflite")
    print(f"## {args.directory} — TFLite {tfl.name}, batch 1, median µs of {args.calls} calls")
    for step, us in split.items():
        print(f"  {step:20s} {us:8.1f}")
    print(f"  {'sum':20s} {sum(split.values()):8.1f}   invoke: "
          f"{cost.flops / split['invoke'] / 1e3:.2f} GFLOP/s on {cost.flops:,} FLOPs")

    onx = args.directory / "model.onnx"
    kernels, run_us = onnx_kernels(onx, x, args.calls)
    cost = flops.count(onx, "onnx")
    print(f"## onnxruntime {onx.name}: session.run median {run_us:.1f} µs (unprofiled); kernel "
          "time per run (profiler)")
    for op, us in sorted(kernels.items(), key=lambda kv: -kv[1]):
        op_flops = cost.by_op.get(op, {}).get("flops", 0)
        rate = f"{op_flops / us / 1e3:6.2f} GFLOP/s" if op_flops and us else ""
        print(f"  {op:20s} {us:8.1f}  {rate}")
    outside = run_us - sum(kernels.values())
    print(f"  {'kernels':20s} {sum(kernels.values()):8.1f}; " + (
        f"outside kernels {outside:.1f} µs" if outside > 0 else
        "more than the unprofiled run: each profiled node carries the profiler's own ~1 µs "
        "(its resolution), so read the big kernels, not the small ones"))


if __name__ == "__main__":
    main()
