"""Where one batch-1 call's time goes, per runtime and per kernel: the gap between bench's p50
and its roofline, for the forms an export chose.

    PYTHONPATH=. .venv/bin/python tools/profile_ops.py exported/stacked [--rounds 7] [--calls 200]
        [--runtime tflite --runtime onnx --runtime openvino] [--json profile.json]

Per runtime, on model.<format> of DIR and the export's floor model (one Reshape):
- call: the runner's infer() (what bench times) and, inside it, the runtime's own steps
  timed apart — TFLite reset_all_variables / set_tensor / invoke / get_tensor; onnxruntime
  session.run; OpenVINO set_input_tensor + infer() + the output copy — and the floor's infer().
  All of them take turns round by round (ROUNDS × CALLS calls each), so a busy moment on a
  shared machine hits them alike; p50 over all of a step's calls.
- roofline: floor p50 + FLOPs ÷ the single-thread fp32 GEMM peak (bench's peak worker, run
  here), p50 ÷ roofline and the achieved GFLOP/s, as `edgeseq bench` computes them.
- kernels, by op type, µs per call and share of the kernel total, with GFLOP/s where the op
  does arithmetic (FLOPs from edgeseq.measure.flops):
  TFLite and onnxruntime: prefix models (graph_prefixes.py: op k's cost = a call of the first
  k ops minus a call of the first k−1, both p50s of interleaved rounds; prefix 0 is the call
  with no op at all), so small ops keep their true, sub-µs cost — onnxruntime's own profiler
  adds ≈ 2 µs to each node it times. The sum over ops telescopes to the full model's call;
  one op's figure carries a few tenths of a µs of noise (it can come out slightly negative).
  OpenVINO: PERF_COUNT's per-node real_time (µs resolution), median per node, in a loop of its
  own on a second compiled model (PERF_COUNT on): not interleaved, so on a busy machine its µs
  swing (stacked's LSTMSequence 51 and 241 µs in two runs here, against a 59 µs request.infer);
  read its node and exec types (LSTMSequence runs as `ref_any` in f32 and in bf16 alike here —
  whether that is a slow path was not checked; a bidirectional LSTM stays a TensorIterator even
  at a static batch) and shares, not its µs.

Numbers from one run on one machine: compare ratios, not absolute values across machines.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import graph_prefixes  # noqa: E402

from edgeseq import manifest as manifest_file  # noqa: E402
from edgeseq import registry  # noqa: E402
from edgeseq.measure import bench, bench_worker, flops, roofline
from edgeseq.runtimes import open_runner  # noqa: E402

ROUNDS, CALLS, WARMUP = 7, 200, 30
FILES = {"tflite": ("model.tflite", "floor.tflite"), "onnx": ("model.onnx", "floor.onnx"),
         "openvino": ("model.onnx", "floor.onnx")}
FLOP_FORMAT = {"tflite": "tflite", "onnx": "onnx", "openvino": "onnx"}


def interleaved_p50(calls: dict, rounds: int, per_round: int) -> dict[str, float]:
    """name → p50 µs, every call taking its turn in each round."""
    for call in calls.values():
        bench_worker.time_calls(call, 0, warmup=WARMUP)
    times = defaultdict(list)
    for _ in range(rounds):
        for name, call in calls.items():
            times[name].append(bench_worker.time_calls(call, per_round, warmup=0))
    return {name: float(np.percentile(np.concatenate(t), 50) * 1e6) for name, t in times.items()}


# --------------------------------------------------------------------------- the calls


def tflite_calls(runner, feed: dict) -> dict:
    """The runner's infer() split into LiteRT's own steps, on the runner's own interpreter."""
    interpreter = runner.interpreter
    (name, detail), = runner._in
    (_, out), = runner._out
    x = feed[name]
    return {"reset_all_variables": interpreter.reset_all_variables,
            "set_tensor": lambda: interpreter.set_tensor(detail["index"], x),
            "invoke": interpreter.invoke,
            "get_tensor": lambda: interpreter.get_tensor(out["index"])}


def onnx_calls(runner, feed: dict) -> dict:
    session = runner.session
    return {"session.run": lambda: session.run(None, feed)}


def openvino_calls(runner, feed: dict) -> dict:
    import openvino as ov  # noqa: PLC0415

    _, request = runner._request(feed)
    arrays = [feed[spec.name] for spec in runner.inputs]

    def bind():
        for index, array in enumerate(arrays):
            request.set_input_tensor(index, ov.Tensor(array, shared_memory=True))

    return {"set_input_tensor": bind, "request.infer": request.infer,
            "output copy": lambda: request.get_output_tensor(0).data.copy()}


STEPS = {"tflite": tflite_calls, "onnx": onnx_calls, "openvino": openvino_calls}


# --------------------------------------------------------------------------- the kernels


def tflite_prefix_calls(path: Path, x: np.ndarray) -> tuple[list[str], list]:
    from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415

    from edgeseq.quiet_tensorflow import captured_stderr  # noqa: PLC0415

    types, cuts = graph_prefixes.tflite_prefixes(path)
    calls = []
    with captured_stderr():  # LiteRT announces XNNPACK once per interpreter
        for content in cuts:
            interpreter = Interpreter(model_content=content, num_threads=1)
            interpreter.allocate_tensors()
            detail = interpreter.get_input_details()[0]
            interpreter.set_tensor(detail["index"], x.reshape(detail["shape"]).astype(detail["dtype"]))
            calls.append(interpreter.invoke)
    return types, calls


def onnx_prefix_calls(path: Path, x: np.ndarray) -> tuple[list[str], list]:
    import onnxruntime as ort  # noqa: PLC0415

    types, cuts = graph_prefixes.onnx_prefixes(path)
    options = ort.SessionOptions()  # as OnnxRunner opens the model
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.log_severity_level = 3  # each prefix leaves the later nodes' weights unused: a warning each
    calls = []
    for content in cuts:
        session = ort.InferenceSession(content, options, providers=["CPUExecutionProvider"])
        feed = {session.get_inputs()[0].name: x}
        calls.append(lambda s=session, f=feed: s.run(None, f))
    return types, calls


PREFIX_CALLS = {"tflite": tflite_prefix_calls, "onnx": onnx_prefix_calls}


def prefix_kernels(runtime: str, path: Path, x: np.ndarray, rounds: int, per_round: int) -> tuple[dict, dict]:
    """(op type → µs per call, detail) by prefix models (graph_prefixes.py), interleaved."""
    types, calls = PREFIX_CALLS[runtime](path, x)
    p50 = interleaved_p50(dict(enumerate(calls)), rounds, per_round)
    by_type = defaultdict(float)
    for k, op in enumerate(types, start=1):
        by_type[op] += p50[k] - p50[k - 1]
    return dict(by_type), {"ops": len(types), "call_of_no_ops_us": p50[0],
                           "call_of_all_ops_us": p50[len(types)]}


def openvino_kernels(runner, feed: dict, calls: int) -> tuple[dict, dict]:
    """(node type [exec type] → µs per call, {"nodes"}) from PERF_COUNT."""
    import openvino as ov  # noqa: PLC0415

    model = runner.model.clone()
    model.reshape({spec.name: list(feed[spec.name].shape) for spec in runner.inputs})
    compiled = ov.Core().compile_model(model, "CPU", runner._config | {"PERF_COUNT": True})
    request = compiled.create_infer_request()
    by_index = {index: feed[spec.name] for index, spec in enumerate(runner.inputs)}
    node_times = defaultdict(list)
    kind = {}
    for i in range(WARMUP + calls):
        request.infer(by_index)
        if i < WARMUP:
            continue
        for info in request.get_profiling_info():
            if info.status == ov.ProfilingInfo.Status.EXECUTED:
                node_times[info.node_name].append(info.real_time.total_seconds() * 1e6)
                kind[info.node_name] = f"{info.node_type} [{info.exec_type}]"
    by_type = defaultdict(float)
    for node, durations in node_times.items():
        by_type[kind[node]] += statistics.median(durations)
    return dict(by_type), {"nodes": len(node_times)}


# --------------------------------------------------------------------------- one runtime


def profile(runtime: str, directory: Path, x: np.ndarray, peak: float, rounds: int,
            per_round: int) -> dict:
    model_file, floor_file = FILES[runtime]
    path, floor_path = directory / model_file, directory / floor_file
    runner = open_runner(path, runtime)
    floor = open_runner(floor_path, runtime, floor_ok=True)
    feed, floor_feed = runner.bind({"input": x}), floor.bind({"input": x})
    runner.infer(feed)
    floor.infer(floor_feed)
    calls = {"infer": lambda: runner.infer(feed),
             "floor infer": lambda: floor.infer(floor_feed)} | STEPS[runtime](runner, feed)
    p50 = interleaved_p50(calls, rounds, per_round)
    cost = flops.count(path, FLOP_FORMAT[runtime])
    if runtime in PREFIX_CALLS:
        kernels, detail = prefix_kernels(runtime, path, x, rounds, per_round)
    else:
        kernels, detail = openvino_kernels(runner, feed, rounds * per_round)
    roof = p50["floor infer"] + cost.flops / peak / 1e3
    route = next((a.get("route_form") for a in manifest_file.load(directory)["artifacts"]
                  if a["file"] == model_file), None)
    return {"runtime": runtime, "file": model_file, "route_form": route, "flops": cost.flops,
            "p50_us": p50["infer"], "floor_p50_us": p50["floor infer"], "roofline_us": roof,
            "p50_over_roofline": p50["infer"] / roof, "gflops_per_s": cost.flops / p50["infer"] / 1e3,
            "steps_p50_us": {k: v for k, v in p50.items() if k not in ("infer", "floor infer")},
            "kernels_us": dict(sorted(kernels.items(), key=lambda kv: -kv[1])),
            "kernel_flops": {op: cost.by_op.get(op.split(" [")[0], {}).get("flops", 0) for op in kernels},
            **detail}


def measure_peak() -> float:
    job = {"kind": "peak", "runtime": "peak", "variant": "fp32"}
    return bench._spawn(job, env=os.environ | roofline.ONE_THREAD_ENV)["gflops_per_s"]


def report(directory: Path, row: dict, top: int) -> str:
    lines = [f"## {directory.name} — {row['runtime']} {row['file']} ({row['route_form']}), batch 1",
             f"  p50 {row['p50_us']:.1f} µs; floor {row['floor_p50_us']:.1f}; roofline "
             f"{row['roofline_us']:.1f}; p50/roofline {row['p50_over_roofline']:.2f}; "
             f"{row['gflops_per_s']:.2f} GFLOP/s on {row['flops']:,} FLOPs",
             "  inside infer(): " + ", ".join(f"{k} {v:.1f}" for k, v in row["steps_p50_us"].items())
             + f"; the runner's own rest {row['p50_us'] - sum(row['steps_p50_us'].values()):.1f} µs"]
    total = sum(row["kernels_us"].values())
    extra = {k: row[k] for k in ("ops", "nodes", "call_of_no_ops_us", "call_of_all_ops_us") if k in row}
    lines.append(f"  kernels {total:.1f} µs per call ({', '.join(f'{k} {v:.4g}' for k, v in extra.items())}):")
    for op, us in list(row["kernels_us"].items())[:top]:
        op_flops = row["kernel_flops"].get(op, 0)
        rate = f"  {op_flops / us / 1e3:6.2f} GFLOP/s" if op_flops and us > 0 else ""
        lines.append(f"    {op:42s} {us:8.2f} µs {us / total:6.1%}{rate}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--runtime", action="append", choices=sorted(FILES))
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--calls", type=int, default=CALLS, help="calls per step per round")
    parser.add_argument("--top", type=int, default=8, help="kernel rows printed per runtime")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    problem = registry.problem_from_manifest(manifest_file.load(args.directory))
    x, _ = problem.generate(1, np.random.default_rng(bench_worker.INPUT_SEED))
    x = np.ascontiguousarray(x, dtype=np.float32)
    peak = measure_peak()
    print(f"peak {peak:.1f} GFLOP/s (bench's single-thread fp32 GEMM worker)")
    rows = []
    for runtime in args.runtime or ["tflite", "onnx", "openvino"]:
        rows.append(profile(runtime, args.directory, x, peak, args.rounds, args.calls))
        print(report(args.directory, rows[-1], args.top), flush=True)
    if args.json:
        args.json.write_text(json.dumps({"directory": str(args.directory), "peak_gflops_per_s": peak,
                                         "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
