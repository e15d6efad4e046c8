"""Damped sine: 50 steps of 0.5 + 0.5·sin(2πi/p)·exp(−d·i) in, the next 5 steps out.

p is an integer period in [10, 20], d a decay in [0.01, 0.1], as in the seed's Stacked LSTM.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Metric, Problem, parse_numbers


@dataclass(frozen=True)
class DampedSine(Problem):
    steps_in: int = 50
    steps_out: int = 5
    period_min: int = 10
    period_max: int = 20
    decay_min: float = 0.01
    decay_max: float = 0.1

    name = "damped_sine"
    summary = "forecast the next 5 steps of a damped sine from its last 50"
    metric = Metric("mae", higher_is_better=False, target=0.03)
    output_kind = "regression"

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.steps_in, 1)

    def generate(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        period = rng.integers(self.period_min, self.period_max + 1, size=(n, 1))
        decay = rng.uniform(self.decay_min, self.decay_max, size=(n, 1))
        i = np.arange(self.steps_in + self.steps_out)[np.newaxis]
        series = (0.5 + 0.5 * np.sin(2 * np.pi * i / period) * np.exp(-decay * i)).astype(np.float32)
        return series[:, :self.steps_in, np.newaxis], series[:, self.steps_in:]

    def encode(self, text: str) -> np.ndarray:
        values = parse_numbers(text, self.steps_in, what="numbers")
        return self.encode_array(np.array(values))

    def encode_array(self, array: np.ndarray) -> np.ndarray:
        array = np.asarray(array)
        # (50,) and (N, 50) are the natural ways to save a series; add the feature axis.
        if array.ndim in (1, 2) and array.shape[-1] == self.steps_in:
            array = array[..., np.newaxis]
        return super().encode_array(array)

    def page_io(self) -> dict:
        i = np.arange(self.steps_in)
        example = 0.5 + 0.5 * np.sin(2 * np.pi * i / 15) * np.exp(-0.03 * i)  # period 15, decay 0.03
        return {"input": {"kind": "numbers", "count": self.steps_in, "what": "numbers",
                          "example": ",".join(f"{v:.4f}" for v in example), "step_count": 1,
                          "label": f"The last {self.steps_in} values of a damped sine"},
                "output": {"kind": "values"}}

    def decode(self, outputs: np.ndarray) -> list[list[float]]:
        return [[round(float(v), 6) for v in row] for row in outputs]

    def show_input(self, x: np.ndarray) -> str:
        return ",".join(f"{v:.4f}" for v in x[:, 0])

    def show_answer(self, answer) -> str:
        return ",".join(f"{v:.4f}" for v in answer)

    def score(self, inputs: np.ndarray, targets: np.ndarray, outputs: np.ndarray) -> float:
        return float(np.mean(np.abs(outputs - targets)))
