"""Keras 3 → ONNX through tf2onnx.

Route: wrap the model in a tf.function and call `tf2onnx.convert.from_function`.
`tf2onnx.convert.from_keras` fails on Keras 3 models (KeyError 'keras_tensor_N': it reads
Keras 2 internals), so the function route is the one that works; it keeps a dynamic batch
dimension and emits a native ONNX `LSTM` op (no Loop). TimeDistributed layers are traced
as one call over batch × time (fold_time.py), not once per step. The zero initial state
tf2onnx computes on every call and its Y → last-step slicing are cut (onnx_recurrent.py).
"""

from __future__ import annotations

from pathlib import Path

from ...atomic import atomic_path
from .fold_time import fold
from .onnx_recurrent import simplify

OPSET = 17  # tf2onnx 1.17 supports up to 18; 17 is widely deployed (onnxruntime, TensorRT)
INPUT_NAME = "input"
OUTPUT_NAME = "output"


def _rename_io(proto, output_names: list[str] | None = None) -> None:
    """Stable names: tf2onnx numbers them per process (`Identity:0`, `unk__71`). One output is
    `output`; a user's model keeps its Keras output names, in order."""
    graph = proto.graph
    names = output_names or [OUTPUT_NAME]
    renames = {value.name: name for value, name in zip(graph.output, names, strict=True)}
    for node in graph.node:
        node.output[:] = [renames.get(o, o) for o in node.output]
        node.input[:] = [renames.get(i, i) for i in node.input]
    for value in graph.output:
        value.name = renames[value.name]
    for value in list(graph.input) + list(graph.output):
        dims = value.type.tensor_type.shape.dim
        if dims and not dims[0].HasField("dim_value"):
            dims[0].dim_param = "batch"
        # a user's variable time axis: one name for it on every input and output
        for dim in list(dims)[1:2]:
            if not dim.HasField("dim_value") and not dim.dim_param.startswith("time"):
                dim.dim_param = "time"


def convert(model, input_shape: tuple[int, ...], path: Path, dtype: str = "float32",
            inputs: list[dict] | None = None, output_names: list[str] | None = None) -> dict:
    """`inputs` (name, shape, dtype per input; None for a variable axis) and `output_names`
    name the graph after a user's Keras model; without them it has one `input` and `output`."""
    import onnx  # noqa: PLC0415
    import tensorflow as tf  # noqa: PLC0415
    import tf2onnx  # noqa: PLC0415

    model, folded = fold(model)
    if inputs is None:
        specs = (tf.TensorSpec((None, *input_shape), tf.as_dtype(dtype), name=INPUT_NAME),)
        function = tf.function(lambda x: model(x, training=False))
    else:
        specs = tuple(tf.TensorSpec((None, *s["shape"]), tf.as_dtype(s["dtype"]), name=s["name"])
                      for s in inputs)

        def call(*xs):
            result = model(list(xs) if len(xs) > 1 else xs[0], training=False)
            return list(result) if isinstance(result, (list, tuple)) else result

        function = tf.function(call)
    proto, _ = tf2onnx.convert.from_function(function, input_signature=specs, opset=OPSET)
    _rename_io(proto, output_names)
    simplify(proto)  # the per-call plumbing around recurrent ops (zero state, last step)
    onnx.checker.check_model(proto)
    with atomic_path(path) as tmp:
        onnx.save(proto, str(tmp))
    info = {"format": "onnx", "route": "tf2onnx.convert.from_function (Keras 3 model)", "opset": OPSET}
    return info | ({"time_distributed_folded": folded} if folded else {})
