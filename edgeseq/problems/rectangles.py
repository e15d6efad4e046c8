"""Rectangles: from one corner predict the next, walking (0,0) → (w,0) → (w,h) → (0,h).

Width and height are uniform in [0, 1). A model fed its own predictions from (0,0) draws a
rectangle, as in the seed's generative LSTM.

Metric: from a corner only some coordinates of the next one are determined — from (0,0) the
next y is 0 (its x, the width, is random); from (w,0) the next x is w; from (w,h) the next
is (0,h). `rect_mae` is the mean absolute error on exactly those coordinates, so it measures
whether the model draws a rectangle, and it applies unchanged to a sequence the model
generated itself (the random coordinates cannot be predicted by any model).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .base import Metric, Problem, check_range, parse_numbers

ORIGIN_EPS = 1e-6


@dataclass(frozen=True)
class Rectangles(Problem):
    corners: int = 4

    name = "rectangles"
    summary = "from a rectangle's corner predict the next; generate one from (0,0)"
    metric = Metric("rect_mae", higher_is_better=False, target=0.05)
    output_kind = "regression"
    input_label = "Corner"

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (1, 2)

    @staticmethod
    def outline(width, height) -> np.ndarray:
        """The corners (..., 4, 2) of rectangles, counter-clockwise from the origin."""
        width, height = np.asarray(width, np.float32), np.asarray(height, np.float32)
        zero = np.zeros_like(width)
        return np.stack([np.stack([zero, zero], -1), np.stack([width, zero], -1),
                         np.stack([width, height], -1), np.stack([zero, height], -1)], -2)

    def generate(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """n (corner → next corner) pairs, drawn from ⌈n/3⌉ rectangles."""
        rects = -(-n // (self.corners - 1))
        outline = self.outline(rng.random(rects), rng.random(rects))
        x = outline[:, :-1].reshape(-1, 2)[:n]
        y = outline[:, 1:].reshape(-1, 2)[:n]
        order = rng.permutation(n)
        return x[order, np.newaxis, :], y[order]

    @staticmethod
    def steps_of(inputs: np.ndarray) -> np.ndarray:
        """Which corner each input is (0, 1 or 2), told apart by its exact zeros."""
        corner = inputs[:, 0, :]
        at_origin = np.all(np.abs(corner) < ORIGIN_EPS, axis=-1)
        on_base = ~at_origin & (np.abs(corner[:, 1]) < ORIGIN_EPS)
        return np.where(at_origin, 0, np.where(on_base, 1, 2))

    @staticmethod
    def determined(inputs: np.ndarray, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For corners (n, 1, 2) at the given steps: the values the next corner must have,
        and which of its coordinates those are (a mask)."""
        corner = inputs[:, 0, :]
        value = np.zeros_like(corner)
        mask = np.zeros(corner.shape, dtype=bool)
        mask[steps == 0, 1] = True                      # (0,0) → (w, 0)
        mask[steps == 1, 0] = True                      # (w,0) → (w, h)
        value[steps == 1, 0] = corner[steps == 1, 0]
        mask[steps == 2] = True                         # (w,h) → (0, h)
        value[steps == 2, 1] = corner[steps == 2, 1]
        return value, mask

    def score(self, inputs: np.ndarray, targets: np.ndarray, outputs: np.ndarray) -> float:
        value, mask = self.determined(inputs, self.steps_of(inputs))
        return float(np.mean(np.abs(outputs - value)[mask]))

    def rollout(self, step: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """Corners (4, 2) drawn from (0,0) by feeding each prediction back in."""
        corners = [np.zeros(2, dtype=np.float32)]
        for _ in range(self.corners - 1):
            corners.append(step(corners[-1].reshape(1, 1, 2))[0].astype(np.float32))
        return np.stack(corners)

    def rollout_score(self, corners: np.ndarray) -> float:
        """rect_mae of a generated corner sequence (each corner predicted from the last).
        Steps come from the position: generated corners are never exactly on an axis."""
        value, mask = self.determined(corners[:-1, np.newaxis], np.arange(len(corners) - 1))
        return float(np.mean(np.abs(corners[1:] - value)[mask]))

    def page_io(self) -> dict:
        return {"input": {"kind": "rollout", "start": [0.0, 0.0], "steps": self.corners - 1,
                          "label": "Generate a rectangle from the corner (0,0)", "min": 0.0, "max": 1.0,
                          "closed": True, "what": "coordinates x,y in [0,1]", "step_count": 2},
                "output": {"kind": "values"}}

    def encode(self, text: str) -> np.ndarray:
        values = parse_numbers(text, 2, what="coordinates x,y in [0,1]")
        return self.encode_array(np.array(values))

    def encode_array(self, array: np.ndarray) -> np.ndarray:
        array = np.asarray(array)
        if array.ndim in (1, 2) and array.shape[-1] == 2:
            array = array.reshape(-1, 1, 2)
        return check_range(super().encode_array(array), 0.0, 1.0, closed=True)

    def check_steps(self, steps: np.ndarray) -> np.ndarray:
        return check_range(steps, 0.0, 1.0, closed=True)

    def decode(self, outputs: np.ndarray) -> list[list[float]]:
        return [[round(float(v), 6) for v in row] for row in outputs]

    def show_input(self, x: np.ndarray) -> str:
        return f"{x[0, 0]:.4f},{x[0, 1]:.4f}"

    def show_answer(self, answer) -> str:
        return f"{answer[0]:.4f},{answer[1]:.4f}"
