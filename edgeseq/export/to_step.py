"""Step models to files: `model.step.onnx` (Keras 3 step model through tf2onnx) and
`model.step.tflite` (its tf_keras twin through the TFLite converter).

Why the TFLite file comes from a tf_keras model through `from_keras_model`: that route freezes
the weights into constants. The first streaming try converted a Keras 3 concrete function
and got VAR_HANDLE / READ_VARIABLE ops (TOOLCHAIN.md): the weights stayed variables, read on
every call, and LiteRT's read_variable kernel fails unless the converter keeps the
SavedModel lowering off. The batch is fixed at 1 (one stream per interpreter).
"""

from __future__ import annotations

from pathlib import Path

from ..atomic import atomic_path
from . import step_model
from .to_onnx import OPSET

ONNX_ROUTE = "Keras 3 step model (LSTMCell, packed state) → tf2onnx.convert.from_function"
TFLITE_ROUTE = "tf_keras step model at batch 1 (LSTMCell, packed state) → TFLiteConverter.from_keras_model"


def _rename(proto, names: list[str]) -> None:
    """Stable output names, and a symbolic batch: tf2onnx names outputs `Identity:0`..."""
    graph = proto.graph
    renames = {old.name: new for old, new in zip(graph.output, names, strict=True)}
    for node in graph.node:
        node.output[:] = [renames.get(o, o) for o in node.output]
        node.input[:] = [renames.get(i, i) for i in node.input]
    for value in graph.output:
        value.name = renames[value.name]
    for value in (*graph.input, *graph.output):
        dim = value.type.tensor_type.shape.dim[0]
        if not dim.HasField("dim_value"):
            dim.dim_param = "batch"


def to_onnx(plan: step_model.Plan, path: Path) -> dict:
    import keras  # noqa: PLC0415
    import onnx  # noqa: PLC0415
    import tensorflow as tf  # noqa: PLC0415
    import tf2onnx  # noqa: PLC0415

    model = step_model.build(keras, plan)
    specs = (tf.TensorSpec((None, *plan.frame_shape), tf.as_dtype(plan.dtype), name=step_model.STEP_INPUT),
             tf.TensorSpec((None, plan.state_size), tf.float32, name=step_model.STATE_INPUT))
    function = tf.function(lambda x, s: tuple(model([x, s], training=False)))
    proto, _ = tf2onnx.convert.from_function(function, input_signature=specs, opset=OPSET)
    _rename(proto, [step_model.OUTPUT, step_model.STATE_OUTPUT])
    onnx.checker.check_model(proto)
    with atomic_path(path) as tmp:
        onnx.save(proto, str(tmp))
    return {"format": "onnx", "variant": "fp32", "route": ONNX_ROUTE, "opset": OPSET, "step": True}


def to_tflite(plan: step_model.Plan, path: Path) -> dict:
    import tensorflow as tf  # noqa: PLC0415
    import tf_keras  # noqa: PLC0415

    model = step_model.build(tf_keras, plan, batch_size=1)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    flatbuffer = converter.convert()
    with atomic_path(path) as tmp:
        tmp.write_bytes(flatbuffer)
    return {"format": "tflite", "variant": "fp32", "route": TFLITE_ROUTE, "step": True}
