"""Moving line: frames in which a line is drawn one column per frame, left to right or right
to left, wandering up or down by at most one row per step; classify the direction.

The seed uses 50 frames of 50×50. edgeseq defaults to 20 frames of 20×20: the task is the
same (the direction is decided by where the line starts and grows), and a batch of
training data is 16× smaller, so the model trains in seconds on two cores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .base import Metric, Problem, check_range

DIRECTIONS = ("right-to-left", "left-to-right")  # label 0, label 1


@dataclass(frozen=True)
class MovingLine(Problem):
    size: int = 20  # frames per sequence, and height and width of a frame

    name = "moving_line"
    summary = "tell whether a line grows left-to-right or right-to-left across frames"
    metric = Metric("accuracy", higher_is_better=True, target=0.98)
    output_kind = "binary"
    input_label = "Last frame"

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.size, self.size, self.size, 1)

    def generate(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        size = self.size
        right = rng.random(n) < 0.5
        # A random walk of rows, one per column drawn, clipped to the frame.
        rows = np.empty((n, size), dtype=np.int64)
        rows[:, 0] = rng.integers(0, size, n)
        for t in range(1, size):
            rows[:, t] = np.clip(rows[:, t - 1] + rng.integers(-1, 2, n), 0, size - 1)
        cols = np.where(right[:, None], np.arange(size), size - 1 - np.arange(size))
        # Frame f shows every pixel drawn at steps 0..f: the pixel of step t is lit from frame t on.
        frames = np.zeros((n, size, size, size), dtype=np.float32)
        sample = np.arange(n)[:, None]
        for t in range(size):
            frames[sample, np.arange(t, size)[None], rows[:, t, None], cols[:, t, None]] = 1.0
        return frames[..., np.newaxis], right.astype(np.float32)[:, None]

    def encode(self, text: str) -> np.ndarray:
        raise InputError(f"{self.name} takes frames, not text: give --input-file frames.npy "
                         f"of shape {self.input_shape[:-1]} or {self.input_shape}")

    def encode_array(self, array: np.ndarray) -> np.ndarray:
        array = np.asarray(array)
        if array.ndim in (3, 4) and array.shape[-3:] == self.input_shape[:-1]:
            array = array[..., np.newaxis]  # frames saved without the channel axis
        return check_range(super().encode_array(array), 0.0, 1.0, closed=True)

    def check_steps(self, steps: np.ndarray) -> np.ndarray:
        return check_range(steps, 0.0, 1.0, closed=True)

    def page_io(self) -> dict:
        return {"input": {"kind": "stroke", "size": self.size,
                          "label": f"Draw a line across the {self.size}×{self.size} grid, from one side to the other"},
                "output": {"kind": "threshold", "labels": list(DIRECTIONS)}}

    def decode(self, outputs: np.ndarray) -> list[str]:
        return [DIRECTIONS[int(p > 0.5)] for p in outputs[:, 0]]

    def show_input(self, x: np.ndarray) -> str:
        last = x[-1, :, :, 0]
        return "\n" + "\n".join("".join("#" if v > 0.5 else "." for v in row) for row in last)

    def score(self, inputs: np.ndarray, targets: np.ndarray, outputs: np.ndarray) -> float:
        return float(np.mean((outputs > 0.5) == (targets > 0.5)))
