"""Can TFLM run this file? Checked statically, before any interpreter is started, so that a
refusal names the op (and the Keras layer it came from) instead of an allocation error.

The op table is what `tflite::MicroMutableOpResolver` can register: each builtin with the
method that adds it (taken from tensorflow/lite/micro/micro_mutable_op_resolver.h of the
tflite-micro build pinned in the [mcu] extra). The same table writes model_ops.h, so the
check and the pack cannot disagree. The host interpreter registers all of them
(python_ops_resolver.cc), so a file that passes here loads there.
"""

from __future__ import annotations

from ...errors import EdgeseqError
from .flatbuffer import Graph, Op

#: builtin op → MicroMutableOpResolver method
TFLM_OPS = {
    "ABS": "AddAbs", "ADD": "AddAdd", "ADD_N": "AddAddN", "ARG_MAX": "AddArgMax",
    "ARG_MIN": "AddArgMin", "ASSIGN_VARIABLE": "AddAssignVariable",
    "AVERAGE_POOL_2D": "AddAveragePool2D", "BATCH_MATMUL": "AddBatchMatMul",
    "BATCH_TO_SPACE_ND": "AddBatchToSpaceNd", "BROADCAST_ARGS": "AddBroadcastArgs",
    "BROADCAST_TO": "AddBroadcastTo", "CALL_ONCE": "AddCallOnce", "CAST": "AddCast",
    "CEIL": "AddCeil", "CONCATENATION": "AddConcatenation", "CONV_2D": "AddConv2D",
    "COS": "AddCos", "CUMSUM": "AddCumSum", "DEPTH_TO_SPACE": "AddDepthToSpace",
    "DEPTHWISE_CONV_2D": "AddDepthwiseConv2D", "DEQUANTIZE": "AddDequantize", "DIV": "AddDiv",
    "DYNAMIC_UPDATE_SLICE": "AddDynamicUpdateSlice", "EMBEDDING_LOOKUP": "AddEmbeddingLookup",
    "ELU": "AddElu", "EQUAL": "AddEqual", "EXP": "AddExp", "EXPAND_DIMS": "AddExpandDims",
    "FILL": "AddFill", "FLOOR": "AddFloor", "FLOOR_DIV": "AddFloorDiv", "FLOOR_MOD": "AddFloorMod",
    "FULLY_CONNECTED": "AddFullyConnected", "GATHER": "AddGather", "GATHER_ND": "AddGatherNd",
    "GREATER": "AddGreater", "GREATER_EQUAL": "AddGreaterEqual", "HARD_SWISH": "AddHardSwish",
    "IF": "AddIf", "L2_NORMALIZATION": "AddL2Normalization", "L2_POOL_2D": "AddL2Pool2D",
    "LEAKY_RELU": "AddLeakyRelu", "LESS": "AddLess", "LESS_EQUAL": "AddLessEqual", "LOG": "AddLog",
    "LOGICAL_AND": "AddLogicalAnd", "LOGICAL_NOT": "AddLogicalNot", "LOGICAL_OR": "AddLogicalOr",
    "LOGISTIC": "AddLogistic", "LOG_SOFTMAX": "AddLogSoftmax", "MAXIMUM": "AddMaximum",
    "MAX_POOL_2D": "AddMaxPool2D", "MIRROR_PAD": "AddMirrorPad", "MEAN": "AddMean",
    "MINIMUM": "AddMinimum", "MUL": "AddMul", "NEG": "AddNeg", "NOT_EQUAL": "AddNotEqual",
    "PACK": "AddPack", "PAD": "AddPad", "PADV2": "AddPadV2", "PRELU": "AddPrelu",
    "QUANTIZE": "AddQuantize", "READ_VARIABLE": "AddReadVariable", "REDUCE_ALL": "AddReduceAll",
    "REDUCE_MAX": "AddReduceMax", "REDUCE_MIN": "AddReduceMin", "RELU": "AddRelu",
    "RELU6": "AddRelu6", "RESHAPE": "AddReshape", "RESIZE_BILINEAR": "AddResizeBilinear",
    "RESIZE_NEAREST_NEIGHBOR": "AddResizeNearestNeighbor", "REVERSE_V2": "AddReverseV2",
    "ROUND": "AddRound", "RSQRT": "AddRsqrt", "SELECT_V2": "AddSelectV2", "SHAPE": "AddShape",
    "SIN": "AddSin", "SLICE": "AddSlice", "SOFTMAX": "AddSoftmax",
    "SPACE_TO_BATCH_ND": "AddSpaceToBatchNd", "SPACE_TO_DEPTH": "AddSpaceToDepth",
    "SPLIT": "AddSplit", "SPLIT_V": "AddSplitV", "SQUEEZE": "AddSqueeze", "SQRT": "AddSqrt",
    "SQUARE": "AddSquare", "SQUARED_DIFFERENCE": "AddSquaredDifference",
    "STRIDED_SLICE": "AddStridedSlice", "SUB": "AddSub", "SUM": "AddSum", "SVDF": "AddSvdf",
    "TANH": "AddTanh", "TRANSPOSE_CONV": "AddTransposeConv", "TRANSPOSE": "AddTranspose",
    "UNPACK": "AddUnpack", "UNIDIRECTIONAL_SEQUENCE_LSTM": "AddUnidirectionalSequenceLSTM",
    "VAR_HANDLE": "AddVarHandle", "WHILE": "AddWhile", "ZEROS_LIKE": "AddZerosLike",
}
#: ops whose weights may be stored int8 while the activations stay float: dynamic-range
#: quantization, which TFLM's kernels do not implement (tflite-micro PR#1474)
WEIGHTED_OPS = {"FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D", "UNIDIRECTIONAL_SEQUENCE_LSTM",
                "BATCH_MATMUL", "TRANSPOSE_CONV", "SVDF", "EMBEDDING_LOOKUP"}
#: what DEQUANTIZE takes in TFLM (kernels/dequantize_common.cc)
DEQUANTIZE_TYPES = {"INT8", "INT16", "UINT8"}


class Refused(EdgeseqError):
    """TFLM cannot run the file: bad input for this target (exit 2)."""


def _layer_in(name: str) -> str | None:
    parts = [p for p in name.split("/") if p and not p.startswith(("StatefulPartitionedCall", "serving_default"))]
    return parts[1] if len(parts) >= 3 else None


def keras_layer(op: Op) -> str | None:
    """Where an op came from in Keras terms, read from tensor names (`<model>/<layer>/<tf op>`).
    The output's name gives the layer; the converter's own names (`tfl.…`) and the model's
    output name carry none, and then the input's layer is named: the op is in that layer
    (a fused activation) or the next one."""
    for t in op.outputs:
        if t is not None and _layer_in(t.name):
            return f"Keras layer '{_layer_in(t.name)}'"
    for t in op.inputs:
        if t is not None and not t.constant and _layer_in(t.name):
            return f"Keras layer '{_layer_in(t.name)}' or the one after it"
    return None


def _where(op: Op) -> str:
    layer = keras_layer(op)
    return f"{op.name} ({layer})" if layer else op.name


def reason(graph: Graph) -> str | None:
    """Why TFLM cannot run this graph, in one line; None when it can."""
    for op in graph.ops:
        if op.name == "WHILE" or "TensorList" in op.name:
            return (f"{_where(op)}: the recurrence was exported as a loop, not a fused LSTM; "
                    "edgeseq packs only fused recurrences for TFLM (export the model so its LSTMs "
                    "fuse: a chain of standard layers)")
        if op.name.startswith("Flex"):
            return f"{_where(op)} is a TensorFlow (Flex) op: TFLM has no TensorFlow kernels"
        if op.name not in TFLM_OPS:
            return f"TFLM has no kernel for op {_where(op)}"
        activations = [t for t in op.inputs[:1] if t is not None and not t.constant]
        weights = [t for t in op.inputs[1:] if t is not None and t.constant]
        if (op.name in WEIGHTED_OPS and any(t.type == "FLOAT32" for t in activations)
                and any(t.type == "INT8" for t in weights)):
            return (f"{_where(op)} has int8 weights on float activations (dynamic-range, or hybrid, "
                    "quantization), which TFLM does not run: use the fp32 or full-int8 file")
        if op.name == "DEQUANTIZE" and op.inputs[0] is not None and op.inputs[0].type not in DEQUANTIZE_TYPES:
            return (f"{_where(op)} of {op.inputs[0].type} weights: TFLM dequantizes only "
                    f"{', '.join(sorted(DEQUANTIZE_TYPES))} (float16 files do not run; use fp32 or int8)")
    return None


def check(graph: Graph, name: str) -> list[str]:
    """The graph's ops, in first-use order; Refused naming the first op TFLM cannot run."""
    why = reason(graph)
    if why:
        raise Refused(f"{name}: {why}")
    return graph.op_names()
