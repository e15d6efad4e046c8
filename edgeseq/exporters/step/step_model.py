"""Step models: one time step and the packed recurrent state in, that step's output and the
next state out (silero-vad's `input, state → output, state`; kws_streaming's "external state"
mode).

Why one packed state tensor: every input and output tensor costs a bind and a copy per call
in onnxruntime and LiteRT, and for models this small that per-call cost is most of a step
(TOOLCHAIN.md, "Streaming, first try": 5 state tensors ate most of the gain). So all layers'
h and c travel as one (batch, S) tensor, sliced inside the graph.

Why cells (LSTMCell, GRUCell, SimpleRNNCell) rather than 1-step recurrent layers: the cell is
the step itself (two matmuls and the gates), with no time axis to add and remove and no loop
or fused-sequence op around it.

The plan is read from the trained model's layers, so the same code serves every chain of
per-step layers and unidirectional LSTMs, GRUs and SimpleRNNs; anything else gets a one-line reason instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..tflite.tf_keras_twin import _config, _is_chain, lowered_classes

STEP_INPUT = "step"
STATE_INPUT = "state"
OUTPUT = "output"
STATE_OUTPUT = "next_state"
#: the recurrent layers a step model carries, and their state parts in packing order
STATES = {"LSTM": ("h", "c"), "GRU": ("h",), "SimpleRNN": ("h",)}
#: layers that act on each time step alone, so they run unchanged on one step
PER_STEP = ("Dense", "Dropout", "Activation", "Embedding", "BatchNormalization",
            "LayerNormalization", "Identity")


@dataclass
class Plan:
    """How a window model streams: stages in order, each ("layer", per-step layer), ("frame",
    the layer a TimeDistributed wraps) or ("rnn", an LSTM, GRU or SimpleRNN layer), and whether the model's output
    is per step or the last step's."""

    frame_shape: tuple
    dtype: str = "float32"  # of the step input (token ids for an Embedding model)
    stages: list = field(default_factory=list)
    every_step: bool = False  # return_sequences model: Keras defines an output at every step
    #: an encoder-decoder: the layers from the RepeatVector on, run once on the encoder's
    #: vector when the input ends (export/decoder_model.py); the stages are the encoder's
    decoder: list = field(default_factory=list)

    @property
    def recurrences(self) -> list:
        return [layer for kind, layer in self.stages if kind == "rnn"]

    @property
    def state_size(self) -> int:
        return sum(len(STATES[type(layer).__name__]) * layer.units for layer in self.recurrences)

    def layout(self) -> list[dict]:
        """Where each layer's state parts (LSTM: h and c; GRU, SimpleRNN: h) sit in the
        packed state."""
        spans, offset = [], 0
        for layer in self.recurrences:
            span = {"layer": layer.name}
            for part in STATES[type(layer).__name__]:
                span[part] = [offset, offset + layer.units]
                offset += layer.units
            spans.append(span)
        return spans


def _layers(model) -> list | None:
    import keras  # noqa: PLC0415

    if isinstance(model, keras.Sequential):
        return [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    config = model.get_config()
    if not _is_chain(config):
        return None
    return [model.get_layer(layer["name"]) for layer in config["layers"][1:]]


def plan(model) -> Plan | str:
    """The step plan of a Keras 3 window model, or one line saying why it cannot stream."""
    layers = _layers(model)
    if layers is None:
        return "not a chain of layers (branches or several inputs): no step model"
    plan_ = Plan(frame_shape=tuple(model.inputs[0].shape[2:]), dtype=str(model.inputs[0].dtype))
    sequence_out = True  # what reaches the next layer still has a time axis
    for layer in layers:
        name = type(layer).__name__
        if name == "Bidirectional" or getattr(layer, "go_backwards", False):
            return (f"cannot stream: {layer.name} ({name}) runs backward over the window, "
                    "which needs the future")
        if plan_.decoder:
            plan_.decoder.append(layer)  # checked by decoder_model.refusal below
            continue
        if not sequence_out:
            if name in PER_STEP:
                plan_.stages.append(("layer", layer))
            elif name == "RepeatVector":  # an encoder's vector fed to a decoder
                plan_.decoder.append(layer)
            else:
                return (f"cannot stream: {layer.name} ({name}) follows a last-step recurrence and is "
                        "neither a per-step layer nor a RepeatVector starting a decoder")
            continue
        if name in STATES:
            if layer.stateful:
                return f"does not stream yet: {layer.name} is a stateful {name}"
            plan_.stages.append(("rnn", layer))
            sequence_out = layer.return_sequences
        elif name == "TimeDistributed":
            plan_.stages.append(("frame", layer.layer))
        elif name in PER_STEP:
            plan_.stages.append(("layer", layer))
        elif name in ("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "RNN"):
            return (f"does not stream yet: step models support {', '.join(STATES)}, not {name} "
                    f"({layer.name})")
        else:
            return f"cannot stream: {layer.name} ({name}) is not a per-step layer"
    if not plan_.recurrences:
        return "no recurrent layer: nothing to stream"
    if plan_.decoder:
        from .decoder_model import refusal as decoder_refusal  # noqa: PLC0415

        return decoder_refusal(plan_.decoder) or plan_
    plan_.every_step = sequence_out
    return plan_


def _clone(keras, layer, **changes):
    name = type(layer).__name__
    if not keras.__name__.startswith("tf_keras"):
        return type(layer).from_config(layer.get_config() | changes)
    # Keras 3 configs carry arguments tf_keras lacks; layers TFLM lacks ops for are lowered
    config = _config(getattr(keras.layers, name), layer.get_config() | changes, keras)
    lowered = lowered_classes(keras)
    if name in lowered:
        return lowered[name].from_config(config)
    return keras.layers.deserialize({"class_name": name, "config": config})


def _cell(keras, layer):
    """The cell of a recurrent layer, the step itself: its matmuls and gates, no time axis and
    no loop or fused-sequence op around it."""
    cell, name = layer.cell, type(layer).__name__
    settings = {"use_bias": cell.use_bias, "activation": cell.activation, "name": f"{layer.name}_step"}
    if name == "LSTM":
        return keras.layers.LSTMCell(layer.units, recurrent_activation=cell.recurrent_activation, **settings)
    if name == "GRU":  # reset_after decides where the reset gate meets the recurrent matmul
        return keras.layers.GRUCell(layer.units, recurrent_activation=cell.recurrent_activation,
                                    reset_after=cell.reset_after, **settings)
    return keras.layers.SimpleRNNCell(layer.units, **settings)


def build(keras, plan_: Plan, batch_size=None):
    """The step model in `keras` (Keras 3 for ONNX, tf_keras for a TFLite file with its
    weights as constants), with the trained weights copied in."""
    step = keras.Input(shape=plan_.frame_shape, batch_size=batch_size, dtype=plan_.dtype,
                       name=STEP_INPUT)
    state = keras.Input(shape=(plan_.state_size,), batch_size=batch_size, name=STATE_INPUT)
    x, next_states, offset = step, [], 0
    for kind, layer in plan_.stages:
        if kind in ("layer", "frame"):
            twin = _clone(keras, layer)
            x = twin(x)
            twin.set_weights(layer.get_weights())
            continue
        units, parts = layer.units, len(STATES[type(layer).__name__])
        states = [state[:, offset + i * units:offset + (i + 1) * units] for i in range(parts)]
        offset += parts * units
        cell = _cell(keras, layer)
        x, states = cell(x, states)
        cell.set_weights(layer.get_weights())
        next_states += list(states)
    output = keras.layers.Identity(name=OUTPUT)(x)
    packed = keras.layers.Concatenate(axis=-1, name=STATE_OUTPUT)(next_states)
    return keras.Model([step, state], [output, packed], name="step")


def sequence_reference(model, plan_: Plan, dtype: str = "float32"):
    """The window model as Keras runs it, made to answer at every step of a sequence of any
    length: the same trained layers, the last recurrence returning sequences. The output at step t
    is the window model's output on the prefix up to t (the recurrences are causal), so this is the
    reference a stream is checked against."""
    import keras  # noqa: PLC0415

    def clone(layer, **changes):
        config = layer.get_config() | changes
        if dtype != "float32":  # float64: the same weights in exact-enough arithmetic
            config["dtype"] = dtype
        return type(layer).from_config(config)

    input_dtype = plan_.dtype if plan_.dtype != "float32" else dtype
    x = inputs = keras.Input(shape=(None, *plan_.frame_shape), dtype=input_dtype)
    for kind, layer in plan_.stages:
        if kind == "rnn":
            twin = clone(layer, return_sequences=True, name=f"{layer.name}_seq")
        elif kind == "frame":
            twin = keras.layers.TimeDistributed(clone(layer), dtype=dtype)
        else:  # a per-step layer that takes sequences as they are (Dense, Embedding)
            twin = clone(layer)
        x = twin(x)
        twin.set_weights(layer.get_weights())
    return keras.Model(inputs, x)


def streaming_section(plan_: Plan, window_steps: int, artifacts: dict) -> dict:
    """The manifest's account of how to drive the step models."""
    if plan_.every_step:
        valid = ("every step: the output at step t equals the window model's output at step t "
                 "of the same sequence")
    else:
        valid = (f"the output after step t is the window model's output on the t steps fed "
                 f"since the last reset; after {window_steps} steps from a reset it equals the "
                 f"window model's output on that window. Past {window_steps} steps the state "
                 f"keeps the whole stream (not a sliding window): reset every {window_steps} "
                 "steps to reproduce window answers")
    return {
        "streams": True,
        "artifacts": artifacts,
        "inputs": [{"name": STEP_INPUT, "shape": [None, *plan_.frame_shape], "dtype": plan_.dtype},
                   {"name": STATE_INPUT, "shape": [None, plan_.state_size], "dtype": "float32"}],
        "outputs": [{"name": OUTPUT, "dtype": "float32"},
                    {"name": STATE_OUTPUT, "shape": [None, plan_.state_size], "dtype": "float32"}],
        "state": {"input": STATE_INPUT, "output": STATE_OUTPUT, "size": plan_.state_size,
                  "reset": "zeros", "layout": plan_.layout()},
        "drive": (f"start with {STATE_INPUT} = zeros; each call feeds one step and the previous "
                  f"{STATE_OUTPUT}; reset by feeding zeros again"),
        "window_steps": window_steps,
        "valid_output": valid,
    }


def refusal(reason: str) -> dict:
    return {"streams": False, "reason": reason}
