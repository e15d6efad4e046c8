"""Keras 3 → TFLite with fused LSTM kernels.

Why a tf_keras twin: the TFLite converter fuses an LSTM into UNIDIRECTIONAL_SEQUENCE_LSTM only
when the function it converts declares itself a Keras LSTM implementation
(`api_implements` "lstm_…"), which tf_keras's (Keras 2) LSTM layer does and Keras 3's does
not. Keras 3 through `from_keras_model` either fails (dynamic batch: TensorListReserve needs a
static element shape) or, at batch 1, leaves a WHILE loop of unfused math that many device
runtimes reject. So the same builder makes the architecture in tf_keras at batch 1, the
trained weights are copied in (the layouts match 1:1), and that twin is converted.
The result takes batch 1 only; runners loop over larger batches.
"""

from __future__ import annotations

from pathlib import Path

from ..atomic import atomic_path


def fused_twin(arch, model, problem):
    """The architecture rebuilt in tf_keras at batch 1, with the Keras 3 model's weights."""
    import tf_keras  # noqa: PLC0415

    twin = arch.build(tf_keras, batch_size=1, problem=problem)
    twin.set_weights(model.get_weights())
    return twin


def convert(arch, model, problem, path: Path) -> dict:
    import tensorflow as tf  # noqa: PLC0415

    converter = tf.lite.TFLiteConverter.from_keras_model(fused_twin(arch, model, problem))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]  # no Flex ops
    flatbuffer = converter.convert()
    with atomic_path(path) as tmp:
        tmp.write_bytes(flatbuffer)
    return {"format": "tflite",
            "route": "tf_keras twin at batch 1 → TFLiteConverter.from_keras_model (fused LSTM)"}
