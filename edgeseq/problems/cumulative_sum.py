"""Cumulative sum: 10 values in [0, 1); label each step 1 once the running sum exceeds 2.5
(a quarter of the length), as in the seed's bidirectional LSTM problem."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Metric, Problem, check_range, parse_numbers


@dataclass(frozen=True)
class CumulativeSum(Problem):
    steps: int = 10

    name = "cumulative_sum"
    summary = "label each of 10 values in [0,1) with 1 once the running sum exceeds 2.5"
    metric = Metric("accuracy", higher_is_better=True, target=0.97)
    output_kind = "binary"

    @property
    def limit(self) -> float:
        return self.steps / 4.0

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.steps, 1)

    def generate(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        x = rng.random((n, self.steps, 1), dtype=np.float32)
        y = (np.cumsum(x, axis=1) > self.limit).astype(np.float32)
        return x, y

    def encode(self, text: str) -> np.ndarray:
        values = parse_numbers(text, self.steps, what="numbers in [0,1)")
        return self.encode_array(np.array(values))

    def encode_array(self, array: np.ndarray) -> np.ndarray:
        array = np.asarray(array)
        if array.ndim in (1, 2) and array.shape[-1] == self.steps:
            array = array[..., np.newaxis]
        return check_range(super().encode_array(array), 0.0, 1.0)

    def page_io(self) -> dict:
        return {"input": {"kind": "numbers", "count": self.steps, "min": 0.0, "max": 1.0, "closed": False,
                          "what": "numbers in [0,1)", "step_count": 1,
                          "example": "0.9,0.1,0.5,0.2,0.8,0.4,0.7,0.3,0.6,0.05",
                          "label": f"{self.steps} values in [0,1)"},
                "output": {"kind": "threshold"}}

    def decode(self, outputs: np.ndarray) -> list[list[int]]:
        return [[int(v > 0.5) for v in row[:, 0]] for row in outputs]

    def show_input(self, x: np.ndarray) -> str:
        return ",".join(f"{v:.3f}" for v in x[:, 0])

    def score(self, inputs: np.ndarray, targets: np.ndarray, outputs: np.ndarray) -> float:
        return float(np.mean((outputs > 0.5) == (targets > 0.5)))
