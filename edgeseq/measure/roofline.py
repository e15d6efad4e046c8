"""How far a latency is from the machine's limit: `edgeseq bench`'s roofline columns.

    roofline_us = floor_p50_us + FLOPs ÷ peak

The floor is the runtime's own cost of one call on a one-Reshape model (measured in the
row's process); FLOPs come from the artifact's graph (flops.py); the peak is the
single-thread float32 GEMM rate of this machine, measured in the same bench run by
`measure_peak`, in a worker process of its own:

- numpy `a @ b` on 512×512 float32, with OPENBLAS_NUM_THREADS / OMP_NUM_THREADS /
  MKL_NUM_THREADS = 1 set in that worker's environment before numpy loads (BLAS reads them
  once, at load), and
- onnxruntime's MatMul (its MLAS kernel, the one model.onnx's LSTM and MatMul use) on the
  same shapes with intra_op_num_threads = 1,

and the faster of the two is the peak. The fastest of the calls is the peak, the median is
recorded beside it: on a machine shared with other work the median fell to a quarter of the
best in some runs here (25 against 111 GFLOP/s at load 4.6 on 2 cores) while the best stayed
within 10 %, and a limit is what the machine can do, not what it did while busy. 512 fits
in cache on the machines we measured (1024 lost half its rate to memory in numpy here), so
the figure is the kernel's compute limit, which is what a roofline wants.

The batch-1 LSTM models here do 1e3 to 2e6 FLOPs, so the roofline is mostly the floor plus a
few microseconds: p50_over_roofline ≫ 1 means per-op overhead and small, cache-hot but
poorly vectorised products, not arithmetic, set the latency.
"""

from __future__ import annotations

import os
import time

import numpy as np

SIZE = 512
CALLS = 30
WARMUP = 3
#: environment of the peak worker: one BLAS thread, whichever BLAS numpy was built with
ONE_THREAD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _rates(call, flops: float) -> dict:
    for _ in range(WARMUP):
        call()
    times = []
    for _ in range(CALLS):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return {"median_gflops_per_s": flops / float(np.median(times)) / 1e9,
            "best_gflops_per_s": flops / min(times) / 1e9}


def _onnxruntime_matmul(a: np.ndarray, b: np.ndarray):
    import onnxruntime as ort  # noqa: PLC0415
    from onnx import TensorProto, helper, numpy_helper  # noqa: PLC0415

    graph = helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["c"])], "peak",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, list(a.shape))],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, [a.shape[0], b.shape[1]])],
        initializer=[numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    return lambda: session.run(None, {"a": a})


def measure_peak() -> dict:
    """Single-thread float32 GEMM rate of this process (see the module docstring)."""
    rng = np.random.default_rng(0)
    a, b = (rng.random((SIZE, SIZE), dtype=np.float32) for _ in range(2))
    flops = 2.0 * SIZE ** 3
    kernels = {"numpy": _rates(lambda: a @ b, flops)}
    try:
        kernels["onnxruntime"] = _rates(_onnxruntime_matmul(a, b), flops)
    except ImportError:  # a device with LiteRT only: numpy alone sets the peak
        pass
    source = max(kernels, key=lambda k: kernels[k]["best_gflops_per_s"])
    return {"gflops_per_s": kernels[source]["best_gflops_per_s"], "source": source,
            "kernel": f"{SIZE}×{SIZE} float32 matmul, 1 thread, fastest of {CALLS} calls",
            "kernels": kernels,
            "blas_threads_env": {k: os.environ.get(k) for k in ONE_THREAD_ENV}}


def annotate(row: dict, cost: dict | None, peak_gflops_per_s: float | None) -> dict:
    """The roofline keys of one bench row; None where a part is missing (no FLOP count,
    no floor, no peak)."""
    flops = cost["flops"] if cost else None
    keys = {"macs": cost["macs"] if cost else None, "flops": flops,
            "flops_uncounted": cost["uncounted"] if cost else None,
            "roofline_us": None, "p50_over_roofline": None,
            "gflops_per_s": None, "batch_gflops_per_s": None}
    if not flops:
        return keys
    keys["gflops_per_s"] = flops / row["p50_us"] / 1e3
    keys["batch_gflops_per_s"] = flops * row["batch_throughput_per_s"] / 1e9
    if row.get("floor_p50_us") and peak_gflops_per_s:
        keys["roofline_us"] = row["floor_p50_us"] + flops / peak_gflops_per_s / 1e3
        keys["p50_over_roofline"] = row["p50_us"] / keys["roofline_us"]
    return keys
