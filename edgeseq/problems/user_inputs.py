"""Inputs for a user's own Keras model: no task, only the model's input spec.

Parity inputs are drawn at random from a documented range: floats uniform in [low, high)
(default [0, 1)), integers uniform in [0, vocab) where vocab is the input_dim of the
Embedding the input feeds. A calibration array (`--calibration-file`) replaces them: its
rows are drawn instead. There is no task metric, so only the fp32 tolerance gates these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError
from .base import Metric, Problem


@dataclass(frozen=True)
class UserInputs(Problem):
    shape: tuple = ()
    dtype: str = "float32"
    low: float = 0.0
    high: float = 1.0
    vocab: int | None = None
    kind: str = "regression"  # classes (softmax output), binary (sigmoid) or regression
    calibration: Any = None  # an array of example inputs, not recorded in the manifest

    name = "user_inputs"
    summary = "a user's own model: random inputs in a documented range"
    metric = Metric("none", higher_is_better=True, target=0.0)

    @property
    def output_kind(self):
        return self.kind

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.shape)

    def params(self) -> dict[str, Any]:
        params = super().params()
        params.pop("calibration")
        params["shape"] = list(self.shape)
        return params

    def generate(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        if self.calibration is not None:
            rows = self.calibration[rng.integers(0, len(self.calibration), n)]
        elif np.dtype(self.dtype).kind in "iu":
            rows = rng.integers(0, self.vocab, size=(n, *self.shape))
        else:
            rows = rng.uniform(self.low, self.high, size=(n, *self.shape))
        return rows.astype(self.dtype), np.zeros((n, 0), dtype=np.float32)

    def encode(self, text: str) -> np.ndarray:
        raise InputError(f"a user model takes --input-file x.npy of shape {self.input_shape} "
                         f"or (N, {', '.join(map(str, self.shape))}), dtype {self.dtype}")

    def encode_array(self, array: np.ndarray) -> np.ndarray:
        array = np.asarray(array)
        if np.dtype(self.dtype).kind in "iu":
            if array.dtype.kind not in "iu":
                raise InputError(f"input array has dtype {array.dtype}; the model takes integers")
            batch = array[np.newaxis] if array.shape == self.input_shape else array
            if batch.shape[1:] != self.input_shape or len(batch) == 0:
                raise InputError(f"input array has shape {array.shape}; expected {self.input_shape}")
            if self.vocab is not None and ((batch < 0) | (batch >= self.vocab)).any():
                raise InputError(f"input holds token ids outside the vocabulary 0..{self.vocab - 1}")
            return batch.astype(self.dtype)
        return super().encode_array(array)

    def decode(self, outputs: np.ndarray) -> list:
        return [np.round(row.astype(np.float64), 6).tolist() for row in outputs]

    def show_input(self, x: np.ndarray) -> str:
        return f"array {x.shape} {x.dtype}"

    def score(self, inputs, targets, outputs) -> None:
        return None
