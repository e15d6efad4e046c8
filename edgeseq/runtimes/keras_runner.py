"""Keras, the reference. The only runner that imports TensorFlow, and only when built."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from .base import Runner, TensorSpec


class KerasRunner(Runner):
    runtime = "keras"

    def __init__(self, path: Path | None = None, model=None):
        from ..quiet_tensorflow import import_tensorflow  # noqa: PLC0415

        import_tensorflow()
        import keras  # noqa: PLC0415 - deliberately lazy: the device install has no Keras

        self._to_numpy = keras.ops.convert_to_numpy
        self.path = Path(path) if path else Path("<in memory>")
        self.model = model if model is not None else self._load(keras)
        self.inputs = [TensorSpec(t.name, tuple(t.shape), str(t.dtype)) for t in self.model.inputs]
        names = getattr(self.model, "output_names", None) or [t.name for t in self.model.outputs]
        self.outputs = [TensorSpec(name, tuple(t.shape), str(t.dtype))
                        for name, t in zip(names, self.model.outputs, strict=True)]

    def _load(self, keras):
        try:
            return keras.saving.load_model(self.path, compile=False)
        except Exception as exc:  # deserialization errors of every kind (custom classes, Lambda)
            from ..error_text import cause  # noqa: PLC0415

            raise InputError(f"{self.path} cannot be loaded by Keras here ({cause(exc)}); compare "
                             "with the Keras outputs stored at export instead: --reference stored") from None

    def infer(self, feed: dict[str, np.ndarray], chunk: int = 512) -> dict[str, np.ndarray]:
        names = [spec.name for spec in self.inputs]
        rows = len(feed[names[0]])
        parts = []
        for i in range(0, rows, chunk):
            args = [feed[n][i:i + chunk] for n in names]
            result = self.model(args if len(args) > 1 else args[0], training=False)
            if not isinstance(result, (list, tuple)):
                result = [result]
            parts.append([self._to_numpy(r) for r in result])
        return {spec.name: np.concatenate([p[k] for p in parts]) for k, spec in enumerate(self.outputs)}
