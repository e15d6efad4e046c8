"""A user's Keras 3 model rebuilt in tf_keras, layer by layer, for a fused TFLite LSTM.

The TFLite converter fuses an LSTM only when the traced function declares itself a Keras LSTM
implementation, which tf_keras's LSTM does and Keras 3's does not (TOOLCHAIN.md). edgeseq's
own architectures build their tf_keras twin from their builder; a user's model has no
builder, but a chain of standard layers (each layer fed by the one before) can be rebuilt
from its layer configs: same classes, same settings, the trained weights copied over.
Anything else (branches, custom or Keras-3-only layers, outputs that differ) returns None
and the caller keeps the Keras 3 route, whose recurrences stay WHILE loops.

Twins are also where a layer whose TFLite op a device runtime lacks is lowered to ops it has
(`for_tflm`): the Keras model keeps the layer, only the converted graph changes.
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

from ..parity import error_stats

#: Layer keyword arguments every tf_keras layer takes besides its own __init__ parameters
BASE_KWARGS = {"name", "trainable", "dtype"}
#: Weights are copied, so initial values and training-time penalties do not matter
DROPPED_SUFFIXES = ("_initializer", "_regularizer", "_constraint")


def lowered_classes(tf_keras) -> dict:
    """tf_keras layers replaced by the same computation in ops TFLite Micro registers."""
    backend = tf_keras.backend

    class RepeatVector(tf_keras.layers.RepeatVector):
        # tf_keras repeats with tf.tile, which converts to TILE: TFLM has no TILE kernel
        # (encoder_decoder failed to allocate there). n copies of the step, concatenated,
        # convert to RESHAPE + CONCATENATION, both in TFLM and in Vela's NPU op set; int8
        # concatenation of one tensor with itself keeps its scale, so outputs are unchanged.
        def call(self, inputs):
            step = backend.expand_dims(inputs, 1)
            return backend.concatenate([step] * self.n, axis=1)

    return {"RepeatVector": RepeatVector}


class _Overlay:
    """A module seen through a few replaced attributes: how builders, which take the keras
    module as an argument, get the lowered layers without knowing of them."""

    def __init__(self, module, **replaced):
        self._module, self._replaced = module, replaced

    def __getattr__(self, name):
        return self._replaced[name] if name in self._replaced else getattr(self._module, name)


def for_tflm(tf_keras, lowered: bool = True, unroll: bool = False):
    """tf_keras as an architecture builder should see it when building a TFLite twin: with the
    layers TFLM lacks lowered, and (unroll) every LSTM built with unroll=True."""
    replaced = lowered_classes(tf_keras) if lowered else {}
    if unroll:
        replaced["LSTM"] = functools.partial(tf_keras.layers.LSTM, unroll=True)
    return _Overlay(tf_keras, layers=_Overlay(tf_keras.layers, **replaced))


def rebuild(model, inputs: np.ndarray, atol: float, length: int | None = None) -> object | None:
    """The tf_keras twin of `model` at batch 1 (a variable time axis fixed at `length`),
    checked on `inputs`; None if there is none."""
    import tf_keras  # noqa: PLC0415

    try:
        twin = _chain(model, tf_keras, length)
    except Exception:  # a layer tf_keras lacks or configures differently: no twin
        return None
    if twin is None:
        return None
    expected = np.asarray(model(inputs, training=False))
    got = np.concatenate([twin(inputs[i:i + 1], training=False).numpy() for i in range(len(inputs))])
    # the parity gate's own test: within atol + RTOL·|Keras|
    return twin if error_stats(expected, got)["min_atol"] <= atol else None


def _is_chain(config: dict) -> bool:
    """Each layer takes exactly the previous layer's output, and the last is the output. Read
    from the model's config, which holds only this model's graph (a layer shared with an
    export clone, as fold_time makes, has more inbound nodes than the model uses)."""
    previous = None
    for layer in config.get("layers", []):
        nodes = layer.get("inbound_nodes", [])
        if previous is None:
            if nodes:
                return False
        elif len(nodes) != 1 or len(nodes[0].get("args", [])) != 1:
            return False
        else:
            tensor = nodes[0]["args"][0]
            if not isinstance(tensor, dict) or tensor.get("config", {}).get("keras_history", [None])[0] != previous:
                return False
        previous = layer["name"]
    return previous is not None and config.get("output_layers") in ([[previous, 0, 0]], [previous, 0, 0])


def _chain(model, tf_keras, length: int | None = None):
    import keras  # noqa: PLC0415

    if isinstance(model, keras.Sequential):  # a chain by construction
        layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    else:
        config = model.get_config()
        if not _is_chain(config):
            return None
        layers = [model.get_layer(layer["name"]) for layer in config["layers"][1:]]
    spec = model.inputs[0]
    shape = tuple(length if d is None else d for d in spec.shape[1:])
    x = inputs = tf_keras.Input(batch_shape=(1, *shape), dtype=str(spec.dtype))
    lowered = lowered_classes(tf_keras)
    for layer in layers:
        name = type(layer).__name__
        config = _config(getattr(tf_keras.layers, name), layer.get_config(), tf_keras)
        twin_layer = (lowered[name].from_config(config) if name in lowered
                      else tf_keras.layers.deserialize({"class_name": name, "config": config}))
        x = twin_layer(x)
        twin_layer.set_weights(layer.get_weights())
    return tf_keras.Model(inputs, x)


def _config(cls, config: dict, tf_keras) -> dict:
    """A Keras 3 layer config as the tf_keras class takes it: only the arguments it knows,
    dtype policies as plain names, wrapped layers converted the same way."""
    known = set(BASE_KWARGS)
    for klass in cls.__mro__:
        if "__init__" in vars(klass):
            known |= set(inspect.signature(klass.__init__).parameters)
    cleaned = {}
    for key, value in config.items():
        if key not in known or key.endswith(DROPPED_SUFFIXES):
            continue
        if key == "dtype" and isinstance(value, dict):  # Keras 3 DTypePolicy
            value = value.get("config", {}).get("name", "float32")
        if key in ("layer", "backward_layer") and isinstance(value, dict):
            inner = value["class_name"]
            value = {"class_name": inner,
                     "config": _config(getattr(tf_keras.layers, inner), value["config"], tf_keras)}
        cleaned[key] = value
    return cleaned
