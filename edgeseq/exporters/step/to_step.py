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

from ...atomic import atomic_path
from ..onnx.to_onnx import OPSET
from . import decoder_model, step_model

ONNX_ROUTE = "Keras 3 step model (LSTMCell, packed state) → tf2onnx.convert.from_function"
TFLITE_ROUTE = "tf_keras step model at batch 1 (LSTMCell, packed state) → TFLiteConverter.from_keras_model"
DECODER_ONNX_ROUTE = "Keras 3 decoder (recurrences unrolled, no state) → tf2onnx.convert.from_function"
DECODER_TFLITE_ROUTE = ("tf_keras decoder at batch 1 (recurrences unrolled, RepeatVector as "
                        "RESHAPE + CONCATENATION) → TFLiteConverter.from_keras_model")


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


def _onnx_file(model, specs, names: list[str], path: Path) -> None:
    import onnx  # noqa: PLC0415
    import tensorflow as tf  # noqa: PLC0415
    import tf2onnx  # noqa: PLC0415

    def call(*x):
        outputs = model(list(x) if len(x) > 1 else x[0], training=False)
        return tuple(outputs) if isinstance(outputs, list | tuple) else outputs

    function = tf.function(call)
    proto, _ = tf2onnx.convert.from_function(function, input_signature=specs, opset=OPSET)
    _rename(proto, names)
    onnx.checker.check_model(proto)
    with atomic_path(path) as tmp:
        onnx.save(proto, str(tmp))


def _tflite_file(model, path: Path) -> None:
    import tensorflow as tf  # noqa: PLC0415

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    flatbuffer = converter.convert()
    with atomic_path(path) as tmp:
        tmp.write_bytes(flatbuffer)


def to_onnx(plan: step_model.Plan, path: Path) -> dict:
    import keras  # noqa: PLC0415
    import tensorflow as tf  # noqa: PLC0415

    specs = (tf.TensorSpec((None, *plan.frame_shape), tf.as_dtype(plan.dtype), name=step_model.STEP_INPUT),
             tf.TensorSpec((None, plan.state_size), tf.float32, name=step_model.STATE_INPUT))
    _onnx_file(step_model.build(keras, plan), specs, [step_model.OUTPUT, step_model.STATE_OUTPUT], path)
    return {"format": "onnx", "variant": "fp32", "route": ONNX_ROUTE, "opset": OPSET, "step": True}


def to_tflite(plan: step_model.Plan, path: Path) -> dict:
    import tf_keras  # noqa: PLC0415

    _tflite_file(step_model.build(tf_keras, plan, batch_size=1), path)
    return {"format": "tflite", "variant": "fp32", "route": TFLITE_ROUTE, "step": True}


def decoder_to_onnx(plan: step_model.Plan, path: Path) -> dict:
    import keras  # noqa: PLC0415
    import tensorflow as tf  # noqa: PLC0415

    specs = (tf.TensorSpec((None, decoder_model.width(plan)), tf.float32, name=decoder_model.ENCODED),)
    _onnx_file(decoder_model.build(keras, plan), specs, [step_model.OUTPUT], path)
    return {"format": "onnx", "variant": "fp32", "route": DECODER_ONNX_ROUTE, "opset": OPSET,
            "step": True, "decoder": True}


def decoder_to_tflite(plan: step_model.Plan, path: Path) -> dict:
    import tf_keras  # noqa: PLC0415

    _tflite_file(decoder_model.build(tf_keras, plan, batch_size=1), path)
    return {"format": "tflite", "variant": "fp32", "route": DECODER_TFLITE_ROUTE, "step": True,
            "decoder": True}
