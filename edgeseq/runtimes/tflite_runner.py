"""The LiteRT interpreter (ai-edge-litert), the successor of tf.lite.Interpreter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from ..errors import InputError
from .base import Runner, TensorSpec, dequantize, quantize


def _spec(detail: dict) -> TensorSpec:
    shape = tuple(None if d < 0 else int(d) for d in detail["shape_signature"])
    return TensorSpec(detail["name"], shape, np.dtype(detail["dtype"]).name)


def _quantize(batch: np.ndarray, detail: dict) -> np.ndarray:
    return quantize(batch, detail["dtype"], *detail["quantization"])


def _dequantize(output: np.ndarray, detail: dict) -> np.ndarray:
    return dequantize(output, *detail["quantization"])


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
        # Fixed-batch models (the fused LSTM route exports batch 1) run row block by row block.
        step = self.fixed_batch
        if len(batch) == step:  # the batch-1 hot path: no per-call list and concatenate
            return self._invoke(batch)
        if len(batch) % step:
            raise InputError(f"{self.path} takes batches of {step}; got {len(batch)}")
        return np.concatenate([self._invoke(batch[i:i + step]) for i in range(0, len(batch), step)])
