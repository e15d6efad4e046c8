"""Floor models: the cheapest model a runtime can run on a given input shape.

`edgeseq bench` times each runtime on one of these next to the real model, so a latency can
be read as "runtime floor + model work". The device install has no TensorFlow, so the floors
are made at export time and published with the other artifacts (manifest variant "floor").

Both floors flatten the input, (batch, *shape) → (batch, prod(shape)), with one Reshape: the
values come out unchanged, and there is exactly one op to dispatch. An Identity, `x * 1` or
`x + 0` would not do for TFLite: the converter folds them away and leaves a graph of zero ops
whose output *is* its input tensor.

    python -m edgeseq.exporters.floor 5,10 OUT_DIR [--format onnx --format tflite]

writes them for an export made before floors existed (TensorFlow needed for floor.tflite).
"""

from __future__ import annotations

import math
from pathlib import Path

from ..atomic import atomic_path
from .onnx.to_onnx import INPUT_NAME, OPSET, OUTPUT_NAME

FLOOR_FILES = {"onnx": "floor.onnx", "tflite": "floor.tflite"}
VARIANT = "floor"


def write_onnx(input_shape: tuple[int, ...], path: Path) -> dict:
    """Dynamic batch like model.onnx, built with onnx.helper: no TensorFlow needed."""
    import numpy as np  # noqa: PLC0415
    import onnx  # noqa: PLC0415
    from onnx import TensorProto, helper, numpy_helper  # noqa: PLC0415

    flat = math.prod(input_shape)
    shape = numpy_helper.from_array(np.array([0, flat], dtype=np.int64), name="flat_shape")
    graph = helper.make_graph(
        [helper.make_node("Reshape", [INPUT_NAME, "flat_shape"], [OUTPUT_NAME], name="flatten")],
        "edgeseq_floor",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", *input_shape])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", flat])],
        initializer=[shape],
    )
    # IR 8 and opset 17: what tf2onnx writes for model.onnx, so the same onnxruntime loads both.
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              ir_version=8, producer_name="edgeseq floor")
    onnx.checker.check_model(proto)
    with atomic_path(path) as tmp:
        onnx.save(proto, str(tmp))
    return {"format": "onnx", "variant": VARIANT, "opset": OPSET,
            "route": "onnx.helper: one Reshape (batch, *shape) → (batch, prod(shape))"}


def write_tflite(input_shape: tuple[int, ...], path: Path) -> dict:
    """Batch 1 like the fused model.tflite; one RESHAPE op."""
    import tensorflow as tf  # noqa: PLC0415

    flat = math.prod(input_shape)

    @tf.function(input_signature=[tf.TensorSpec((1, *input_shape), tf.float32, name=INPUT_NAME)])
    def flatten(x):
        return tf.reshape(x, (1, flat))

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [flatten.get_concrete_function()], flatten)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    flatbuffer = converter.convert()
    with atomic_path(path) as tmp:
        tmp.write_bytes(flatbuffer)
    return {"format": "tflite", "variant": VARIANT,
            "route": "tf.function → TFLiteConverter: one RESHAPE (1, *shape) → (1, prod(shape))"}


def write(input_shape: tuple[int, ...], out_dir: Path,
          formats=tuple(FLOOR_FILES)) -> list[tuple[Path, dict]]:
    """The floor model of each format in `formats` written into out_dir: [(path, info)]."""
    writers = {"onnx": write_onnx, "tflite": write_tflite}
    written = []
    for fmt in formats:
        path = Path(out_dir) / FLOOR_FILES[fmt]
        written.append((path, writers[fmt](tuple(input_shape), path)))
    return written


def main(argv: list[str] | None = None) -> None:
    import argparse  # noqa: PLC0415

    parser = argparse.ArgumentParser(description="Write floor models for an input shape.")
    parser.add_argument("shape", help="input shape without batch, e.g. 5,10")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--format", action="append", choices=sorted(FLOOR_FILES), dest="formats")
    args = parser.parse_args(argv)
    shape = tuple(int(d) for d in args.shape.split(","))
    for path, _ in write(shape, args.out_dir, tuple(args.formats or FLOOR_FILES)):
        print(path)


if __name__ == "__main__":
    main()
