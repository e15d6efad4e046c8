"""What a converted .tflite stores its weights as: the check behind two quantization choices.

- TFLite's MLIR dynamic-range quantizer (the converter's default) leaves every weight of a
  fused UNIDIRECTIONAL_SEQUENCE_LSTM float32, whatever its size (measured: LSTM(64), 4,096-
  element recurrent gate weights, 72,324 bytes before and after); the legacy quantizer
  (`experimental_new_dynamic_range_quantizer = False`) stores those of ≥ 1,024 elements int8
  with a DEQUANTIZE (LSTM(32): 21,124 → 9,408 bytes). to_tflite retries with it when this
  module finds such float LSTM weights.
- Both quantizers skip weight tensors under 1,024 elements (`minimum_elements_for_weights`,
  tensorflow/compiler/mlir/lite/quantization/lite/quantize_weights.h), and the fused LSTM
  holds one tensor per gate (units × features, units × units): a small model keeps every
  weight float, and its "quantized" file is the fp32 one under another name. Such a variant
  is refused with the numbers rather than published.

Read with the flatbuffer schema LiteRT ships (no TensorFlow needed to read a file).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: the converter's minimum_elements_for_weights for dynamic-range quantization
MIN_ELEMENTS = 1024
LSTM = "UNIDIRECTIONAL_SEQUENCE_LSTM"


@dataclass(frozen=True)
class Weight:
    op: str  # the op that takes it
    type: str  # FLOAT32, INT8, FLOAT16, ...
    elements: int


def weights(flatbuffer: bytes) -> list[Weight]:
    """Every constant input of every op, in every subgraph (a WHILE body included); a
    DEQUANTIZE's constant input is counted for the op it feeds."""
    from ai_edge_litert import schema_py_generated as schema  # noqa: PLC0415

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(flatbuffer, 0))
    op_names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    type_names = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    found = []
    for subgraph in model.subgraphs:
        tensors = subgraph.tensors or []
        ops = [(op_names.get(max(model.operatorCodes[op.opcodeIndex].builtinCode,
                                 model.operatorCodes[op.opcodeIndex].deprecatedBuiltinCode), "CUSTOM"), op)
               for op in subgraph.operators or []]
        dequantized = {int(op.outputs[0]): int(op.inputs[0]) for name, op in ops if name == "DEQUANTIZE"}
        for name, op in ops:
            if name == "DEQUANTIZE":
                continue
            for index in (int(i) for i in op.inputs if i >= 0):
                index = dequantized.get(index, index)
                tensor = tensors[index]
                buffer = model.buffers[tensor.buffer] if tensor.buffer < len(model.buffers) else None
                if buffer is None or not ((buffer.data is not None and len(buffer.data)) or getattr(buffer, "size", 0)):
                    continue
                shape = tensor.shape if tensor.shape is not None else ()
                found.append(Weight(name, type_names.get(tensor.type, str(tensor.type)), int(np.prod(shape))))
    return found


def float_lstm_weights(flatbuffer: bytes) -> int:
    """Elements of fused-LSTM weights left float32 though large enough to quantize."""
    return sum(w.elements for w in weights(flatbuffer)
               if w.op == LSTM and w.type == "FLOAT32" and w.elements >= MIN_ELEMENTS)


def nothing_quantized(flatbuffer: bytes) -> str | None:
    """Why a dynamic-range file quantized nothing, with the numbers; None if it did."""
    found = [w for w in weights(flatbuffer) if w.type in ("FLOAT32", "INT8", "FLOAT16")]
    if any(w.type != "FLOAT32" for w in found):
        return None
    largest = max(found, key=lambda w: w.elements, default=Weight("", "", 0))
    total = f"{len(found)} tensors, {sum(w.elements for w in found):,} elements"
    if largest.elements < MIN_ELEMENTS:
        return (f"no smaller variant possible: every weight tensor is below the converter's "
                f"{MIN_ELEMENTS}-element threshold (largest {largest.elements}; {total}), so none was quantized")
    return f"the converter quantized no weight ({total}; largest {largest.elements}, on {largest.op})"
