"""Keras, the reference. The only runner that imports TensorFlow, and only when built."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import Runner, TensorSpec


class KerasRunner(Runner):
    runtime = "keras"

    def __init__(self, path: Path | None = None, model=None):
        import keras  # noqa: PLC0415 - deliberately lazy: the device install has no Keras

        self._to_numpy = keras.ops.convert_to_numpy
        self.path = Path(path) if path else Path("<in memory>")
        self.model = model if model is not None else keras.saving.load_model(self.path, compile=False)
        self.inputs = [TensorSpec(t.name, tuple(t.shape), str(t.dtype)) for t in self.model.inputs]
        self.outputs = [TensorSpec(t.name, tuple(t.shape), str(t.dtype)) for t in self.model.outputs]

    def run(self, batch: np.ndarray, chunk: int = 512) -> np.ndarray:
        parts = [self._to_numpy(self.model(batch[i:i + chunk], training=False))
                 for i in range(0, len(batch), chunk)]
        return np.concatenate(parts)
