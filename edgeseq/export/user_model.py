"""A user's own Keras model (`edgeseq export PATH.keras`), shaped like a registry
Architecture so the same pipeline converts and gates it.

Loading uses Keras safe mode: a file that carries Python code (a Lambda layer) is refused
unless the user passes --unsafe. TFLite goes through a tf_keras twin at batch 1 when the
model is a chain of standard layers (tf_keras_twin.py: LSTMs fuse), else through the Keras 3
model at batch 1, whose recurrences stay WHILE loops; the manifest's `route` and `fused` say
which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import error_text
from ..architectures import Training
from ..errors import EdgeseqError
from ..problems.user_inputs import UserInputs
from . import tf_keras_twin

USER = "user"
TWIN_CHECK_SAMPLES = 8


@dataclass
class UserModel:
    name: str
    path: Path
    unsafe: bool
    keras_model: object
    problem: UserInputs
    model: str  # the layer types, as a one-line description
    training = Training(samples=0, epochs=0, batch_size=0, loss="", atol=1e-5)

    @property
    def worker_name(self) -> str:
        """How the TFLite conversion child process finds this model again."""
        return f"{USER}:{'unsafe' if self.unsafe else 'safe'}"

    def tflite_twin(self, model, problem=None):
        """The tf_keras twin when the model can be rebuilt (fused LSTMs), else the model
        itself: save_twin exports it with a batch-1 signature, the fixed batch that lets the
        converter lower Keras 3 recurrences to a builtin WHILE loop."""
        inputs, _ = self.problem.generate(TWIN_CHECK_SAMPLES, np.random.default_rng(0))
        twin = tf_keras_twin.rebuild(model, inputs, atol=self.training.atol)
        return model if twin is None else twin


def load_keras(path: Path, unsafe: bool):
    import keras  # noqa: PLC0415

    path = Path(path)
    if not path.is_file():
        raise EdgeseqError(f"model file not found: {path}")
    if unsafe:
        # The user vouched for the file: later clones (the TFLite twin) deserialize it too.
        keras.config.enable_unsafe_deserialization()
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=not unsafe)
    except ValueError as exc:
        if "safe_mode" in str(exc) or "Lambda" in str(exc):
            raise EdgeseqError(f"{path} carries Python code (a Lambda layer); refused in safe "
                               "mode. Pass --unsafe only if you trust the file") from None
        raise _not_loadable(path, exc) from None
    except Exception as exc:  # zip, h5 and deserialization errors of every kind
        raise _not_loadable(path, exc) from None


def _not_loadable(path: Path, exc: Exception) -> EdgeseqError:
    missing = re.search(r"Could not locate (?:class|function) '([^']+)'", str(exc))
    if missing:
        return EdgeseqError(f"{path} uses a custom class Keras cannot find ({missing.group(0)}): "
                            "pass --custom-objects module.py (the module that registers it) with --unsafe")
    return EdgeseqError(f"{path} is not a loadable Keras model ({error_text.cause(exc)})")


def load(path: Path, unsafe: bool = False, calibration: Path | None = None) -> UserModel:
    model = load_keras(path, unsafe)
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise EdgeseqError(f"{path}: edgeseq exports models with one input and one output; "
                           f"this one has {len(model.inputs)} and {len(model.outputs)}")
    spec = model.inputs[0]
    shape = tuple(spec.shape[1:])
    if any(d is None for d in shape):
        raise EdgeseqError(f"{path}: input shape {tuple(spec.shape)} has a variable dimension "
                           "besides the batch; give the model a fixed input shape")
    dtype = str(spec.dtype)
    layers = [layer for layer in _walk(model)]
    vocab = next((layer.input_dim for layer in layers if type(layer).__name__ == "Embedding"), None)
    if np.dtype(dtype).kind in "iu" and vocab is None and calibration is None:
        raise EdgeseqError(f"{path}: integer input without an Embedding; give --calibration-file "
                           "with example inputs")
    data = None
    if calibration is not None:
        probe = UserInputs(shape=shape, dtype=dtype, vocab=vocab)
        data = probe.load_array(calibration)
    last = getattr(model.layers[-1], "activation", None)
    activation = getattr(last, "__name__", "")
    kind = {"softmax": "classes", "sigmoid": "binary"}.get(activation, "regression")
    problem = UserInputs(shape=shape, dtype=dtype, vocab=vocab, kind=kind, calibration=data)
    described = " → ".join(type(layer).__name__ for layer in model.layers
                           if type(layer).__name__ != "InputLayer")
    return UserModel(name=Path(path).stem, path=Path(path), unsafe=unsafe, keras_model=model,
                     problem=problem, model=described)


def _walk(model):
    """Every layer, looking inside wrappers (Bidirectional, TimeDistributed) and submodels."""
    for layer in model.layers:
        yield layer
        inner = getattr(layer, "layer", None) or getattr(layer, "forward_layer", None)
        if inner is not None:
            yield inner
        if hasattr(layer, "layers"):
            yield from _walk(layer)
