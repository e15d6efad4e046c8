"""onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from ..errors import InputError
from .base import Runner, TensorSpec

_DTYPES = {"tensor(float)": "float32", "tensor(int64)": "int64", "tensor(int32)": "int32",
           "tensor(int8)": "int8", "tensor(uint8)": "uint8", "tensor(float16)": "float16"}


def _spec(node) -> TensorSpec:
    shape = tuple(d if isinstance(d, int) else None for d in node.shape)
    return TensorSpec(node.name, shape, _DTYPES.get(node.type, node.type))


class OnnxRunner(Runner):
    runtime = "onnx"

    def __init__(self, path: Path, threads: int = 1):
        self.path = Path(path)
        options = ort.SessionOptions()
        # One thread: these models are tiny, and batch-1 latency is what a device sees.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Fatal only: a kernel that refuses an input is raised to us (infer makes it one line);
        # at the error level onnxruntime would print the same refusal on stderr a second time.
        options.log_severity_level = 4
        try:
            self.session = ort.InferenceSession(str(self.path), options,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own pybind exception types
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(f"{self.path} is not a loadable ONNX model ({first})") from None
        self.inputs = [_spec(i) for i in self.session.get_inputs()]
        self.outputs = [_spec(o) for o in self.session.get_outputs()]
        self._output_names = [o.name for o in self.outputs]
        # Reused: without one, run() makes a default RunOptions per call, ≈ 0.9 µs of
        # vanilla's 11.5 µs batch-1 call. (Turning the CPU memory arena off saved ≈ 1 µs
        # more at batch 1 but made cnn_lstm at batch 1000 4× slower: kept on.)
        self._run_options = ort.RunOptions()

    def infer(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        try:
            results = self.session.run(self._output_names, feed, self._run_options)
        except Exception as exc:  # onnxruntime's pybind errors: a shape or dtype it does not take
            text = " ".join(str(exc).split())
            detail = text[text.find("Got"):] if "Got" in text else text[:200]
            raise InputError(f"{self.path.name} refused the input: {detail}") from None
        return dict(zip(self._output_names, results, strict=True))
