"""The LiteRT interpreter (ai-edge-litert), the successor of tf.lite.Interpreter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from ..errors import InputError
from .base import Runner, TensorSpec


def _spec(detail: dict) -> TensorSpec:
    shape = tuple(None if d < 0 else int(d) for d in detail["shape_signature"])
    return TensorSpec(detail["name"], shape, np.dtype(detail["dtype"]).name)


def _quantize(batch: np.ndarray, detail: dict) -> np.ndarray:
    """Float input → the tensor's type; integer tensors (full-int8 models) use its scale."""
    dtype = np.dtype(detail["dtype"])
    scale, zero_point = detail["quantization"]
    if dtype.kind in "iu" and scale:
        info = np.iinfo(dtype)
        return np.clip(np.round(batch / scale + zero_point), info.min, info.max).astype(dtype)
    return batch.astype(dtype, copy=False)


def _dequantize(output: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero_point = detail["quantization"]
    if output.dtype.kind in "iu" and scale:
        return ((output.astype(np.float32) - zero_point) * scale).astype(np.float32)
    return output.astype(np.float32, copy=True)


class TfliteRunner(Runner):
    runtime = "tflite"

    def __init__(self, path: Path, threads: int = 1):
        self.path = Path(path)
        try:
            self.interpreter = Interpreter(model_path=str(self.path), num_threads=threads)
            self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(f"{self.path} is not a loadable TFLite model ({first})") from None
        self._in = self.interpreter.get_input_details()[0]
        self._out = self.interpreter.get_output_details()[0]
        self.inputs = [_spec(d) for d in self.interpreter.get_input_details()]
        self.outputs = [_spec(d) for d in self.interpreter.get_output_details()]
        self.fixed_batch = self.inputs[0].shape[0]

    def _invoke(self, batch: np.ndarray) -> np.ndarray:
        # Fused LSTMs keep their hidden and cell state in variable tensors that persist
        # across invoke(); without a reset every call would continue the previous sequence.
        self.interpreter.reset_all_variables()
        self.interpreter.set_tensor(self._in["index"], _quantize(batch, self._in))
        self.interpreter.invoke()
        return _dequantize(self.interpreter.get_tensor(self._out["index"]), self._out)

    def run(self, batch: np.ndarray) -> np.ndarray:
        if self.fixed_batch is None:
            if tuple(self._in["shape"]) != batch.shape:
                self.interpreter.resize_tensor_input(self._in["index"], batch.shape)
                self.interpreter.allocate_tensors()
                self._in = self.interpreter.get_input_details()[0]
                self._out = self.interpreter.get_output_details()[0]
            return self._invoke(batch)
        # Fixed-batch models (batch 1 fused, batch N unrolled) run block by block; a short
        # last block is padded with zero rows whose outputs are dropped.
        step = self.fixed_batch
        if len(batch) == step:  # the batch-1 hot path: no per-call list and concatenate
            return self._invoke(batch)
        rows = len(batch)
        if rows % step:
            pad = np.zeros((step - rows % step, *batch.shape[1:]), dtype=batch.dtype)
            batch = np.concatenate([batch, pad])
        return np.concatenate([self._invoke(batch[i:i + step])
                               for i in range(0, len(batch), step)])[:rows]
