"""Echo: a sequence of random integers, one-hot encoded; the answer is the one at a fixed index.

The seed's Vanilla LSTM problem: length 5, 10 features, echo the value at index 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .base import Metric, Problem, check_one_hot, one_hot, parse_numbers


@dataclass(frozen=True)
class Echo(Problem):
    length: int = 5
    features: int = 10
    index: int = 2

    name = "echo"
    input_label = "Sequence"
    summary = "echo the value at index 2 of 5 one-hot integers in 0..9"
    metric = Metric("accuracy", higher_is_better=True, target=0.99)
    output_kind = "classes"
    typed_round_trip = True

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.length, self.features)

    def generate(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        sequences = rng.integers(0, self.features, size=(n, self.length))
        return one_hot(sequences, self.features), one_hot(sequences[:, self.index], self.features)

    def encode(self, text: str) -> np.ndarray:
        values = parse_numbers(text, self.length, kind=int, what=f"integers in 0..{self.features - 1}")
        for value in values:
            if not 0 <= value < self.features:
                raise InputError(f"{value} is outside 0..{self.features - 1} in {text!r}")
        return one_hot(np.array([values]), self.features)

    def encode_array(self, array: np.ndarray) -> np.ndarray:
        return check_one_hot(super().encode_array(array))

    def encode_step(self, text: str) -> np.ndarray:
        (value,) = parse_numbers(text, 1, kind=int, what=f"integer in 0..{self.features - 1}")
        if not 0 <= value < self.features:
            raise InputError(f"{value} is outside 0..{self.features - 1}")
        return one_hot(np.array(value), self.features)

    def check_steps(self, steps: np.ndarray) -> np.ndarray:
        return check_one_hot(steps)

    def page_io(self) -> dict:
        return {"input": {"kind": "integers", "count": self.length, "min": 0, "max": self.features - 1,
                          "depth": self.features, "example": "4,3,6,6,6",
                          "label": f"{self.length} integers in 0..{self.features - 1}"},
                "output": {"kind": "argmax"}}

    def decode(self, outputs: np.ndarray) -> list[int]:
        return [int(v) for v in np.argmax(outputs, axis=-1)]

    def show_input(self, x: np.ndarray) -> str:
        return ",".join(str(v) for v in np.argmax(x, axis=-1))

    def score(self, inputs: np.ndarray, targets: np.ndarray, outputs: np.ndarray) -> float:
        return float(np.mean(np.argmax(targets, -1) == np.argmax(outputs, -1)))
