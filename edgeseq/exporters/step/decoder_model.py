"""The decoder half of a streamed encoder-decoder: `model.decode.*`, run once when the input
ends, beside the encoder's step model (`model.step.*`, step_model.py).

Why two calls and not a decoder inside every step: a device streaming a question wants the
per-character cost to be the encoder's step alone; the answer is wanted once, at the end. A
caller that wants the answer of the prefix so far (`edgeseq stream` does) calls the decoder
after any step: the encoder's vector after t steps is all the window model knows of those t
steps, so decoding it gives the window model's answer on that prefix.

Why one decoder call rather than a decoder step model: the decoder's input is the same
vector at each of its RepeatVector's n steps and its state starts at zeros, so the whole
decode depends on the encoder's vector alone. One call (RepeatVector, the decoder's
recurrences unrolled over those n steps, its per-step layers) needs no state in or out and
nothing to reset; a decoder step model would add n calls and a second state to carry.

Unrolled, not a fused sequence op: a fused TFLite LSTM keeps its state in variable tensors
that persist across invokes (TOOLCHAIN.md), which a stateless call must not have; n is
small (the answer's length), so the unrolled graph is small, loop-free and TFLM's ops only
(the tf_keras twin lowers RepeatVector to RESHAPE + CONCATENATION, no TILE).
"""

from __future__ import annotations

from .step_model import OUTPUT, PER_STEP, STATES, Plan, _clone

ENCODED = "encoded"
RECURRENT = tuple(STATES)


def refusal(layers: list) -> str | None:
    """Why the layers from the RepeatVector on cannot be one stateless decoder call, or None."""
    for layer in layers[1:]:
        name = type(layer).__name__
        if name in RECURRENT:
            if getattr(layer, "go_backwards", False) or layer.stateful:
                return (f"cannot stream: decoder layer {layer.name} runs backward or is stateful")
        elif name == "RepeatVector":
            return f"cannot stream: a second RepeatVector ({layer.name}) in the decoder"
        elif name != "TimeDistributed" and name not in PER_STEP:
            return f"cannot stream: decoder layer {layer.name} ({name}) is not supported"
    return None


def width(plan: Plan) -> int:
    """The size of the encoder's vector (what the RepeatVector repeats)."""
    return int(plan.decoder[0].input.shape[-1])


def build(keras, plan: Plan, batch_size=None):
    """The decoder in `keras` (Keras 3 for ONNX, tf_keras for TFLite), trained weights copied."""
    x = encoded = keras.Input(shape=(width(plan),), batch_size=batch_size, name=ENCODED)
    for layer in plan.decoder:
        changes = {"unroll": True} if type(layer).__name__ in RECURRENT else {}
        twin = _clone(keras, layer, **changes)
        x = twin(x)
        twin.set_weights(layer.get_weights())
    return keras.Model(encoded, keras.layers.Identity(name=OUTPUT)(x), name="decoder")


def reference(plan: Plan, dtype: str = "float32"):
    """The decoder as Keras runs it in the window model (not unrolled), in `dtype`."""
    import keras  # noqa: PLC0415

    def clone(layer):
        if type(layer).__name__ == "TimeDistributed":
            return keras.layers.TimeDistributed(clone(layer.layer), dtype=dtype)
        return type(layer).from_config(layer.get_config() | {"dtype": dtype})

    x = encoded = keras.Input(shape=(width(plan),), dtype=dtype)
    for layer in plan.decoder:
        twin = clone(layer)
        x = twin(x)
        twin.set_weights(layer.get_weights())
    return keras.Model(encoded, x)


def section(plan: Plan, window_steps: int, artifacts: dict) -> dict:
    """What the streaming section adds for an encoder-decoder."""
    return {
        "decoder": {
            "artifacts": artifacts,
            "inputs": [{"name": ENCODED, "shape": [None, width(plan)], "dtype": "float32"}],
            "outputs": [{"name": OUTPUT, "dtype": "float32"}],
            "stateless": True,
        },
        "drive": ("start with state = zeros; each call of the step model feeds one input step "
                  "and the previous next_state. Its output is the encoder's vector, not an "
                  "answer: when the input ends, call the decoder once on the last step's output "
                  "(encoded = output); its output is the answer. The decoder has no state; call "
                  "it after any step for the answer on the steps fed so far. Reset by feeding "
                  "zeros as state"),
        "valid_output": (f"the decoder's output on the step model's output after step t is the "
                         f"window model's output on the t steps fed since the last reset; after "
                         f"{window_steps} steps from a reset it equals the window model's output "
                         "on that window"),
    }
