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


def write(path: Path, inputs, targets: np.ndarray, outputs) -> dict:
    """inputs and outputs: arrays (one input, one output) or name → array. Several are stored
    as `inputs.NAME` / `outputs.NAME`, so the names survive."""
    arrays = {"targets": targets if isinstance(targets, np.ndarray) else np.zeros((0,), np.float32)}
    for key, value in (("inputs", inputs), ("outputs", outputs)):
        if isinstance(value, dict):
            arrays |= {f"{key}.{name}": array for name, array in value.items()}
        else:
            arrays[key] = value
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
    return {"format": "reference", "variant": "reference", "samples": len(next(iter(_first(inputs)))),
            "seed": SEED, "route": "Keras 3 model outputs on seeded generated inputs"}


def _first(value):
    return value.values() if isinstance(value, dict) else [value]


class StoredReference(Runner):
    runtime = "keras-stored"

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            with np.load(self.path, allow_pickle=False) as data:
                stored = {name: data[name] for name in data.files}
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"{self.path} is not a readable edgeseq reference ({exc})") from None
        self.targets = stored.get("targets")
        self._in = _named(stored, "inputs", "input")
        self._out = _named(stored, "outputs", "output")
        if not self._in or not self._out:
            raise InputError(f"{self.path} is not a readable edgeseq reference (no inputs or outputs)")
        self.inputs = [TensorSpec(n, (None, *a.shape[1:]), str(a.dtype)) for n, a in self._in.items()]
        self.outputs = [TensorSpec(n, (None, *a.shape[1:]), str(a.dtype)) for n, a in self._out.items()]

    def data(self):
        inputs = self._in if len(self._in) > 1 else next(iter(self._in.values()))
        return inputs, self.targets

    def infer(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        for name, stored in self._in.items():
            batch = feed[name]
            if batch.shape != stored.shape or not np.array_equal(batch, stored):
                raise InputError("a stored reference answers only its own stored inputs")
        return dict(self._out)


def _named(stored: dict, key: str, single: str) -> dict[str, np.ndarray]:
    """A one-input file's `inputs` under the name edgeseq's own models use; `inputs.NAME` under NAME."""
    if key in stored:
        return {single: stored[key]}
    return {name[len(key) + 1:]: array for name, array in stored.items() if name.startswith(key + ".")}
