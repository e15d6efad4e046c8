"""TimeDistributed as one call over batch × time, for export.

Keras 3's TimeDistributed, when the time axis is static, calls its layer once per step in a
Python loop (keras/src/layers/rnn/time_distributed.py, "Implementation #1"), so a traced graph
holds one copy of the layer's ops per step: tf2onnx then writes 20 Conv/MaxPool/Reshape
chains for cnn_lstm's 20 frames, and onnxruntime runs 20 small kernels instead of one.
A per-step layer that takes no mask computes the same thing on (batch·time, ...) in one call,
which is what tf_keras's TimeDistributed does. The export clone below swaps each such wrapper
for that folded call, sharing the trained layer (no weights copied); the parity gate then
checks the exported graph against the original model.
"""

from __future__ import annotations


def fold(model) -> tuple[object, list[str]]:
    """`model` with every foldable TimeDistributed replaced by a batch × time call, and the
    names of the layers folded; the model itself when there is none or it cannot be cloned
    (a subclassed model)."""
    import keras  # noqa: PLC0415

    def foldable(layer) -> bool:
        if not isinstance(layer, keras.layers.TimeDistributed) or layer.layer._call_has_mask_arg:
            return False
        inputs = keras.tree.flatten(layer.input)  # with a mask flowing in, [inputs, mask]
        return None not in inputs[0].shape[1:]

    names = [layer.name for layer in getattr(model, "layers", []) if foldable(layer)]
    if not names:
        return model, []
    folded_layer = _folded_class(keras)
    try:
        return keras.models.clone_model(
            model, clone_function=lambda layer: folded_layer(layer) if foldable(layer) else layer), names
    except (ValueError, TypeError, NotImplementedError):
        return model, []


def _folded_class(keras):
    ops = keras.ops

    class FoldedTimeDistributed(keras.layers.Layer):
        def __init__(self, wrapper):
            super().__init__(name=wrapper.name)
            self.inner = wrapper.layer
            self.supports_masking = True  # the mask passes through, as TimeDistributed's does

        def call(self, inputs, training=None, mask=None):  # mask: for compute_mask only
            steps, *frame = inputs.shape[1:]
            kwargs = {"training": training} if self.inner._call_has_training_arg else {}
            outputs = self.inner(ops.reshape(inputs, (-1, *frame)), **kwargs)
            return ops.reshape(outputs, (-1, steps, *outputs.shape[1:]))

        def compute_output_shape(self, input_shape):
            inner = self.inner.compute_output_shape((None, *input_shape[2:]))
            return (input_shape[0], input_shape[1], *inner[1:])

        def compute_mask(self, inputs, mask=None):
            return mask

    return FoldedTimeDistributed
