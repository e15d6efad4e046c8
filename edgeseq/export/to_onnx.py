"""Keras 3 → ONNX through tf2onnx.

Route: wrap the model in a tf.function and call `tf2onnx.convert.from_function`.
`tf2onnx.convert.from_keras` fails on Keras 3 models (KeyError 'keras_tensor_N': it reads
Keras 2 internals), so the function route is the one that works; it keeps a dynamic batch
dimension and emits a native ONNX `LSTM` op (no Loop). TimeDistributed layers are traced
as one call over batch × time (fold_time.py), not once per step.
"""

from __future__ import annotations

from pathlib import Path

from ..atomic import atomic_path
from .fold_time import fold

OPSET = 17  # tf2onnx 1.17 supports up to 18; 17 is widely deployed (onnxruntime, TensorRT)
INPUT_NAME = "input"
OUTPUT_NAME = "output"


def _rename_io(proto) -> None:
    """Stable names: tf2onnx numbers them per process (`Identity:0`, `unk__71`)."""
    graph = proto.graph
    old = graph.output[0].name
    for node in graph.node:
        node.output[:] = [OUTPUT_NAME if o == old else o for o in node.output]
        node.input[:] = [OUTPUT_NAME if i == old else i for i in node.input]
    graph.output[0].name = OUTPUT_NAME
    for value in (graph.input[0], graph.output[0]):
        dim = value.type.tensor_type.shape.dim[0]
        if not dim.HasField("dim_value"):
            dim.dim_param = "batch"


def convert(model, input_shape: tuple[int, ...], path: Path, dtype: str = "float32") -> dict:
    import onnx  # noqa: PLC0415
    import tensorflow as tf  # noqa: PLC0415
    import tf2onnx  # noqa: PLC0415

    model, folded = fold(model)
    spec = tf.TensorSpec((None, *input_shape), tf.as_dtype(dtype), name=INPUT_NAME)
    function = tf.function(lambda x: model(x, training=False))
    proto, _ = tf2onnx.convert.from_function(function, input_signature=(spec,), opset=OPSET)
    _rename_io(proto)
    onnx.checker.check_model(proto)
    with atomic_path(path) as tmp:
        onnx.save(proto, str(tmp))
    info = {"format": "onnx", "route": "tf2onnx.convert.from_function (Keras 3 model)", "opset": OPSET}
    return info | ({"time_distributed_folded": folded} if folded else {})
