"""A user's Keras 3 model rebuilt in tf_keras, layer by layer, for a fused TFLite LSTM.

The TFLite converter fuses an LSTM only when the traced function declares itself a Keras LSTM
implementation, which tf_keras's LSTM does and Keras 3's does not (TOOLCHAIN.md). edgeseq's
own architectures build their tf_keras twin from their builder; a user's model has no
builder, but its layer graph can be rebuilt from the Keras 3 functional config (inputs, each
layer's inbound calls, outputs): same classes, same settings, the trained weights copied over.
Several inputs, merges (Concatenate, Add), shared layers and several outputs rebuild; a layer
tf_keras lacks or builds differently (a custom class, a keras.ops call feeding a layer, a
nested model, outputs that differ) raises NoTwin with the reason, and the caller keeps the
Keras 3 route, whose recurrences stay WHILE loops, and records why.

Twins are also where a layer whose TFLite op a device runtime lacks is lowered to ops it has
(`for_tflm`): the Keras model keeps the layer, only the converted graph changes.
"""

from __future__ import annotations

import functools
import inspect
import itertools

import numpy as np

from ...checks.parity import error_stats

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


class NoTwin(Exception):
    """Why a model has no tf_keras twin: the manifest's route records it."""


def rebuild(model, inputs, atol: float, length: int | None = None) -> object:
    """The tf_keras twin of `model` at batch 1 (a variable time axis fixed at `length`),
    checked on `inputs` (an array, or input name → array); raises NoTwin saying why not."""
    import tf_keras  # noqa: PLC0415

    try:
        twin = _graph(model, tf_keras, length)
    except NoTwin:
        raise
    except Exception as exc:  # a config shape this reader does not know (dict inputs, …)
        raise NoTwin(f"the layer graph did not rebuild: {type(exc).__name__}: {str(exc)[:160]}") from None
    feeds = [inputs[t.name] for t in model.inputs] if isinstance(inputs, dict) else [inputs]
    expected = _as_list(model(feeds if len(feeds) > 1 else feeds[0], training=False))
    rows = [_as_list(twin([f[i:i + 1] for f in feeds] if len(feeds) > 1 else feeds[0][i:i + 1],
                          training=False)) for i in range(len(feeds[0]))]
    for k, want in enumerate(expected):  # the parity gate's own test: atol + RTOL·|Keras|
        worst = error_stats(np.asarray(want), np.concatenate([np.asarray(r[k]) for r in rows]))["min_atol"]
        if not worst <= atol:
            raise NoTwin(f"the rebuilt output {k} differs from Keras by {worst:.1e} (> {atol:g})")
    return twin


def _as_list(result) -> list:
    return list(result) if isinstance(result, (list, tuple)) else [result]


def _graph(model, tf_keras, length: int | None):
    """Rebuild the model's layer graph in tf_keras from its Keras 3 functional config: each
    layer re-created from its config and called on the twins of its inbound tensors (merge
    layers such as Concatenate take a list), the trained weights copied, the outputs in the
    model's order. The config holds only this model's graph: a layer shared with an export
    clone (as fold_time makes) has more inbound nodes than the model's config lists."""
    import keras  # noqa: PLC0415

    if isinstance(model, keras.Sequential):  # its config has no inbound nodes: a chain
        body = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
        names = [SEQUENTIAL_INPUT] + [layer.name for layer in body]
        config = {"layers": [{"name": name, "inbound_nodes": [{"args": [_reference(previous)]}]}
                             for previous, name in itertools.pairwise(names)],
                  "input_layers": [SEQUENTIAL_INPUT, 0, 0], "output_layers": [names[-1], 0, 0]}
    else:
        config = model.get_config()
    tensors = {}  # (layer name, node index, tensor index) → twin tensor
    inputs = []
    for (name, node, index), spec in zip(_history_list(config["input_layers"]), model.inputs, strict=True):
        shape = tuple(length if d is None else d for d in spec.shape[1:])
        tensor = tf_keras.Input(batch_shape=(1, *shape), dtype=str(spec.dtype), name=name)
        tensors[(name, node, index)] = tensor
        inputs.append(tensor)
    lowered = lowered_classes(tf_keras)
    layers = {layer.name: layer for layer in model.layers}
    twins: dict = {}  # layer name → its tf_keras twin (a shared layer: one twin, several calls)
    # one entry per call; a mask's own keras.ops nodes (NotEqual, Any) are not layers and
    # feed only the ignored mask argument: they are left out unless a layer takes them
    pending = [(entry["name"], number, node) for entry in config["layers"]
               for number, node in enumerate(entry.get("inbound_nodes", [])) if entry["name"] in layers]
    while pending:  # configs list calls in order; this also takes any other order
        ready = [call for call in pending if _refs(call[2]) <= tensors.keys()]
        if not ready:
            missing = sorted({ref[0] for call in pending for ref in _refs(call[2])} - {k[0] for k in tensors}
                             - {call[0] for call in pending})
            raise NoTwin(f"a layer takes the output of {', '.join(missing)}, a keras.ops call rather than a layer")
        for name, number, node in ready:
            _call_twin(layers[name], number, node, twins, tensors, lowered, tf_keras)
        pending = [call for call in pending if call not in ready]
    outputs = [tensors[tuple(ref)] for ref in _history_list(config["output_layers"])]
    return tf_keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs if len(outputs) > 1 else outputs[0])


#: the name a Sequential model's input takes in the chain config made for it
SEQUENTIAL_INPUT = "sequential_input"


def _reference(layer_name: str) -> dict:
    """A tensor reference as Keras 3 functional configs write them."""
    return {"class_name": "__keras_tensor__", "config": {"keras_history": [layer_name, 0, 0]}}


def _history_list(refs) -> list:
    """input_layers / output_layers: one [name, node, index] or a list of them."""
    return [tuple(refs)] if refs and isinstance(refs[0], str) else [tuple(r) for r in refs]


def _refs(node: dict) -> set:
    """The (layer, node, tensor) triples a call takes, wherever they sit in args/kwargs."""
    found = set()

    def walk(value):
        if isinstance(value, dict) and "keras_history" in value.get("config", {}):
            found.add(tuple(value["config"]["keras_history"]))
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)

    walk(node.get("args", []))
    walk({k: v for k, v in node.get("kwargs", {}).items() if k not in IGNORED_CALL_KWARGS})
    return found


#: call arguments the twin does not take from the config: training is fixed (inference), and
#: tf_keras propagates masks itself (Keras 3 records them, often as null)
IGNORED_CALL_KWARGS = {"training", "mask"}


def _call_twin(layer, number: int, node: dict, twins: dict, tensors: dict, lowered: dict, tf_keras) -> None:
    """Call the tf_keras twin of `layer` on the twin tensors of one inbound node; the first
    call creates the twin and copies the trained weights into it."""
    import keras  # noqa: PLC0415

    name = type(layer).__name__
    if isinstance(layer, keras.Model):
        raise NoTwin(f"layer {layer.name!r} is a nested model")
    cls = lowered.get(name) or getattr(tf_keras.layers, name, None)
    if cls is None:
        raise NoTwin(f"layer {layer.name!r} ({name}) has no tf_keras counterpart")
    try:
        created = layer.name not in twins
        if created:
            config = _config(cls, layer.get_config(), tf_keras)
            twins[layer.name] = (cls.from_config(config) if name in lowered
                                 else tf_keras.layers.deserialize({"class_name": name, "config": config}))
        args = _resolve(node.get("args", []), tensors)
        kwargs = {k: _resolve(v, tensors) for k, v in node.get("kwargs", {}).items() if k not in IGNORED_CALL_KWARGS}
        for index, out in enumerate(_as_list(twins[layer.name](*args, **kwargs))):
            tensors[(layer.name, number, index)] = out
        if created:
            twins[layer.name].set_weights(layer.get_weights())
    except Exception as exc:  # a layer tf_keras configures, calls or stores differently
        text = str(exc).strip().splitlines()
        raise NoTwin(f"layer {layer.name!r} ({name}) did not rebuild in tf_keras: "
                     f"{type(exc).__name__}{': ' + text[0][:160] if text else ''}") from None


def _resolve(value, tensors: dict):
    """A config's call argument with its tensor references replaced by twin tensors."""
    if isinstance(value, dict) and "keras_history" in value.get("config", {}):
        return tensors[tuple(value["config"]["keras_history"])]
    if isinstance(value, (list, tuple)):
        return [_resolve(v, tensors) for v in value]
    return value


def _is_chain(config: dict) -> bool:
    """Each layer takes exactly the previous layer's output, and the last is the output (the
    step models' test: export/step_model.py). Read
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
    if cls.__name__ == "MultiHeadAttention":
        # tf_keras's from_config reads the input shapes it was built with (Keras 3 does not
        # store them); None defers the build to the first call, which the twin makes anyway
        cleaned |= dict.fromkeys(("query_shape", "key_shape", "value_shape"))
    return cleaned
