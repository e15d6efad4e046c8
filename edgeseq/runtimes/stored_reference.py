"""Keras outputs stored at export time (reference.npz), so that a device without TensorFlow
can still check its runtimes against Keras: on the stored inputs only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..errors import InputError
from .base import Runner, TensorSpec

FILE = "reference.npz"
SAMPLES = 200
SEED = 4321


def write(path: Path, inputs: np.ndarray, targets: np.ndarray, outputs: np.ndarray) -> dict:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, inputs=inputs, targets=targets, outputs=outputs)
    return {"format": "reference", "variant": "reference", "samples": len(inputs), "seed": SEED,
            "route": "Keras 3 model outputs on seeded generated inputs"}


class StoredReference(Runner):
    runtime = "keras-stored"

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            with np.load(self.path, allow_pickle=False) as data:
                self.inputs_, self.targets, self.outputs_ = (data["inputs"], data["targets"],
                                                             data["outputs"])
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"{self.path} is not a readable edgeseq reference ({exc})") from None
        self.inputs = [TensorSpec("input", (None, *self.inputs_.shape[1:]), str(self.inputs_.dtype))]
        self.outputs = [TensorSpec("output", (None, *self.outputs_.shape[1:]), str(self.outputs_.dtype))]

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        return self.inputs_, self.targets

    def infer(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        batch = feed["input"]
        if batch.shape != self.inputs_.shape or not np.array_equal(batch, self.inputs_):
            raise InputError("a stored reference answers only its own stored inputs")
        return {"output": self.outputs_}
