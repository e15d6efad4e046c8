"""The LiteRT interpreter (ai-edge-litert), the successor of tf.lite.Interpreter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from ..errors import InputError
from ..quiet_tensorflow import captured_stderr
from .base import Runner, TensorSpec, dequantize, quantize


def _spec(name: str, detail: dict) -> TensorSpec:
    shape = tuple(None if d < 0 else int(d) for d in detail["shape_signature"])
    return TensorSpec(name, shape, np.dtype(detail["dtype"]).name)


def _named(details: list[dict], signature: dict[str, int]) -> list[tuple[str, dict]]:
    """(name, detail) in tensor order. Names are the signature's keys (what the model was
    exported with: `sequence`, `output_0`), or tensor names where the file has no signature."""
    by_index = {index: name for name, index in signature.items()}
    return [(by_index.get(d["index"], d["name"]), d) for d in details]


def _quantize(batch: np.ndarray, detail: dict) -> np.ndarray:
    return quantize(batch, detail["dtype"], *detail["quantization"])


def _dequantize(output: np.ndarray, detail: dict) -> np.ndarray:
    return dequantize(output, *detail["quantization"])


class TfliteRunner(Runner):
    runtime = "tflite"

    def __init__(self, path: Path, threads: int = 1):
        self.path = Path(path)
        try:
            # LiteRT announces its XNNPACK delegate on fd 2 ("INFO: Created TensorFlow Lite
            # XNNPACK delegate for CPU."): an error after loading would not be one line.
            with captured_stderr():
                self.interpreter = Interpreter(model_path=str(self.path), num_threads=threads)
                self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(f"{self.path} is not a loadable TFLite model ({first})") from None
        signatures = self.interpreter._get_full_signature_list()  # public get_signature_list lacks indices
        self._signature = next(iter(signatures.values()), {"inputs": {}, "outputs": {}})
        self._read_details()
        self.inputs = [_spec(name, d) for name, d in self._in]
        self.outputs = [_spec(name, d) for name, d in self._out]
        self.fixed_batch = self.inputs[0].shape[0]

    def _read_details(self) -> None:
        self._in = _named(self.interpreter.get_input_details(), self._signature["inputs"])
        self._out = _named(self.interpreter.get_output_details(), self._signature["outputs"])
        # Worked out once, not per call: the per-call Python around invoke() was 3.1 µs of
        # vanilla's 7.6 µs batch-1 call (unrolled form, invoke itself 3.4; tools/profile_ops.py).
        self._fixed_shapes = [(name, tuple(int(d) for d in detail["shape"][1:])) for name, detail in self._in]
        self._setters = [(name, detail["index"], np.dtype(detail["dtype"]),
                          detail if detail["quantization"][0] else None) for name, detail in self._in]
        self._getters = [(name, detail["index"], detail if detail["quantization"][0]
                          or np.dtype(detail["dtype"]) != np.float32 else None) for name, detail in self._out]

    def _invoke(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        interpreter = self.interpreter
        # Fused LSTMs keep their hidden and cell state in variable tensors that persist
        # across invoke(); without a reset every call would continue the previous sequence.
        interpreter.reset_all_variables()
        for name, index, dtype, quantized in self._setters:
            batch = feed[name]
            if quantized is not None:
                batch = _quantize(batch, quantized)
            elif batch.dtype != dtype:
                batch = batch.astype(dtype)
            interpreter.set_tensor(index, batch)
        interpreter.invoke()
        # get_tensor returns a copy already: only a non-float32 output needs converting
        return {name: interpreter.get_tensor(index) if convert is None
                else _dequantize(interpreter.get_tensor(index), convert)
                for name, index, convert in self._getters}

    def infer(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows = len(next(iter(feed.values())))
        if self.fixed_batch is None:
            if any(tuple(detail["shape"]) != feed[name].shape for name, detail in self._in):
                for name, detail in self._in:
                    self.interpreter.resize_tensor_input(detail["index"], feed[name].shape)
                self.interpreter.allocate_tensors()
                self._read_details()
            return self._invoke(feed)
        # Fixed-batch models (batch 1 fused, batch N unrolled) run block by block; a short
        # last block is padded with zero rows whose outputs are dropped.
        for name, fixed in self._fixed_shapes:
            if feed[name].shape[1:] != fixed:
                raise InputError(f"{self.path.name} takes {name!r} of shape (N, {', '.join(map(str, fixed))})"
                                 f" (fixed at export: a TFLite file has one sequence length); got "
                                 f"{feed[name].shape}")
        step = self.fixed_batch
        if rows == step:  # the batch-1 hot path: no per-call list and concatenate
            return self._invoke(feed)
        if rows % step:
            feed = {n: np.concatenate([a, np.zeros((step - rows % step, *a.shape[1:]), a.dtype)])
                    for n, a in feed.items()}
        padded = len(next(iter(feed.values())))
        parts = [self._invoke({n: a[i:i + step] for n, a in feed.items()}) for i in range(0, padded, step)]
        return {name: np.concatenate([p[name] for p in parts])[:rows] for name, _ in self._out}
