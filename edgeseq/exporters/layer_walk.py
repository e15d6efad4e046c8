"""Every layer of a Keras model, looking inside wrappers (Bidirectional, TimeDistributed) and
submodels: the one walk over layer objects (user_model looks for Embeddings with it, the
pipeline for recurrent layers).

route_forms walks the model's config instead: unroll() edits that config in place to build
the unrolled clone, which a walk over layer objects cannot do.
"""

from __future__ import annotations

#: where a wrapper keeps the layers it wraps (Keras 3's Bidirectional has no `layer`)
WRAPPED = ("layer", "forward_layer", "backward_layer")


def layers(model):
    """Each layer once, outer before inner, in model order."""
    seen: set[int] = set()

    def walk(layer):
        if id(layer) in seen:
            return
        seen.add(id(layer))
        yield layer
        for attr in WRAPPED:
            inner = getattr(layer, attr, None)
            if inner is not None and hasattr(inner, "get_config"):  # a layer, not a flag
                yield from walk(inner)
        for sub in getattr(layer, "layers", None) or []:
            yield from walk(sub)

    for layer in model.layers:
        yield from walk(layer)


def has_recurrence(model) -> bool:
    """Whether the Keras model holds a recurrent layer (inside wrappers and submodels too),
    so that a graph without loops or recurrent ops reads as unrolled rather than as none."""
    import keras  # noqa: PLC0415

    return any(isinstance(layer, keras.layers.RNN) or type(layer).__name__.startswith("ConvLSTM")
               for layer in layers(model))
