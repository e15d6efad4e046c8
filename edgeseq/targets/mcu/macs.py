"""Multiply-accumulates per inference, counted from the graph's shapes.

Counted: the matrix work (fully connected, convolutions, batch matmul and each LSTM gate's
input and recurrent matmuls, step by step). Not counted: elementwise work (activations,
gate products, pooling, softmax), which is small next to it and which runtimes fuse
differently; Vela's own MAC figure (vela.py) counts some of it, so the two differ a little.
"""

from __future__ import annotations

from math import prod

from .flatbuffer import Graph, Op

# UNIDIRECTIONAL_SEQUENCE_LSTM inputs 1–8 are the gates' input and recurrent weights, 16
# the projection weights (tensorflow/lite/kernels/lstm_shared.h).
LSTM_WEIGHTS = (1, 2, 3, 4, 5, 6, 7, 8, 16)


def _elements(shape) -> int:
    return prod(shape) if shape else 0


def op_macs(op: Op) -> int:
    def shape(i):
        t = op.inputs[i] if i < len(op.inputs) else None
        return t.shape if t is not None else ()

    out = op.outputs[0].shape if op.outputs else ()
    if op.name == "FULLY_CONNECTED":
        units, depth = shape(1)
        return _elements(out) // units * units * depth if units else 0
    if op.name == "CONV_2D":  # filter (out_ch, kh, kw, in_ch), output NHWC
        return _elements(out) * _elements(shape(1)[1:])
    if op.name == "DEPTHWISE_CONV_2D":  # filter (1, kh, kw, out_ch)
        return _elements(out) * _elements(shape(1)[1:3])
    if op.name == "TRANSPOSE_CONV":  # filter (out_ch, kh, kw, in_ch), input NHWC
        return _elements(shape(2)) * _elements(shape(1)[:3])
    if op.name == "BATCH_MATMUL":
        return _elements(out) * (shape(0)[-1] if shape(0) else 0)
    if op.name == "UNIDIRECTIONAL_SEQUENCE_LSTM":  # input (batch, time, features)
        steps = _elements(shape(0)[:-1])
        return steps * sum(_elements(shape(i)) for i in LSTM_WEIGHTS)
    return 0


def count(graph: Graph) -> dict:
    """{"total": MACs per inference, "by_op": {op: MACs}} over every op the graph runs."""
    by_op: dict[str, int] = {}
    for op in graph.ops:
        macs = op_macs(op)
        if macs:
            by_op[op.name] = by_op.get(op.name, 0) + macs
    return {"total": sum(by_op.values()), "by_op": by_op}
