"""Arithmetic per inference, counted from an artifact's graph: `count(path, runtime)`.

Read from the file alone (onnx's protobuf and shape inference; the TFLite flatbuffer through
the schema reader LiteRT ships), never by running it and never with TensorFlow. Counts are
per sample: ONNX's dynamic batch is taken as 1, a fixed-batch TFLite file is divided by its
batch.

Counting rules
- A MAC is one multiply-accumulate of a matrix product: FULLY_CONNECTED / MatMul / Gemm
  (M·N·K), CONV_2D / Conv (output elements × kernel elements per output channel), and the
  gate products of an LSTM. FLOPs = 2 × MACs + the elementwise FLOPs below.
- LSTM, per time step, direction and sample, with G gates (4; 3 when CIFG), H cells, I
  inputs, P outputs (P = H without projection): G·H·(I + P) MACs (input and recurrent
  products as one [x, h] product), then G·H bias adds if the bias is present, G·H gate
  activations (σ, tanh), 3·H for the cell update (f⊙c + i⊙g), 2·H for the output
  (o ⊙ tanh c); with a projection, H·P MACs more. ONNX's two bias vectors (Wb, Rb) count as
  one add, as they are one bias. Peepholes and layer norm are not counted (Keras LSTMs have
  neither).
- Elementwise arithmetic and activations (Add, Mul, Sigmoid, Relu, …): 1 FLOP per output
  element, a transcendental included; a TFLite fused activation likewise. A bias input of
  FC / Gemm / Conv: 1 per output element. Softmax: 3 per element (exp, sum, divide).
  Pooling: window − 1 per output element (compares or adds).
- Data movement and bookkeeping (Reshape, Transpose, Slice, Concat, Tile, Reverse, Shape,
  Cast, (De)Quantize, …) cost 0: they move or convert values, they do no arithmetic.
- Any other op is listed in `uncounted` (and a loop's body is not counted at all), so a
  total that misses work says so instead of silently being low.
- Quantized files count the same way: their MACs are integer MACs, "FLOPs" then means
  operations. The fp32 roofline in bench is no limit for them.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError

LSTM_CELL_FLOPS = 3 + 2  # per cell and step: cell update (2 mul, 1 add), output (tanh, mul)
SOFTMAX_FLOPS = 3


@dataclass
class Cost:
    """MACs and FLOPs per sample, split by op type."""

    macs: int = 0
    flops: int = 0
    by_op: dict = field(default_factory=dict)  # op → {"count", "macs", "flops"}
    uncounted: Counter = field(default_factory=Counter)  # op → how many were not counted

    def add(self, op: str, macs: float = 0, elementwise: float = 0) -> None:
        row = self.by_op.setdefault(op, {"count": 0, "macs": 0, "flops": 0})
        row["count"] += 1
        row["macs"] += int(macs)
        row["flops"] += int(2 * macs + elementwise)

    def per_sample(self, batch: int) -> Cost:
        by_op = {op: {"count": r["count"], "macs": r["macs"] // batch, "flops": r["flops"] // batch}
                 for op, r in sorted(self.by_op.items())}
        return Cost(sum(r["macs"] for r in by_op.values()), sum(r["flops"] for r in by_op.values()),
                    by_op, self.uncounted)

    def to_json(self) -> dict:
        return {"macs": self.macs, "flops": self.flops, "by_op": self.by_op,
                "uncounted": dict(sorted(self.uncounted.items()))}


def count(path: Path, runtime: str) -> Cost:
    """MACs and FLOPs per sample of one artifact (see the module's counting rules)."""
    if runtime == "onnx":
        return _onnx(Path(path))
    if runtime == "tflite":
        return _tflite(Path(path))
    raise InputError(f"no FLOP count for {runtime} artifacts")


def lstm(steps: int, gates: int, cells: int, inputs: int, outputs: int, bias: bool,
         projection: bool = False) -> tuple[int, int]:
    """(MACs, elementwise FLOPs) of one LSTM direction over `steps` steps for one sample."""
    macs = gates * cells * (inputs + outputs) + (cells * outputs if projection else 0)
    elementwise = gates * cells * (2 if bias else 1) + LSTM_CELL_FLOPS * cells
    return steps * macs, steps * elementwise


# --------------------------------------------------------------------------- ONNX

_ONNX_ELEMENTWISE = {"Add", "Sub", "Mul", "Div", "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt",
                     "Neg", "Abs", "Max", "Min", "Pow", "Clip", "LeakyRelu", "Erf", "HardSigmoid",
                     "Reciprocal", "Sum", "Elu", "Selu", "Softplus", "Where"}
_ONNX_SOFTMAX = {"Softmax", "LogSoftmax"}
_ONNX_FREE = {"Transpose", "Shape", "Cast", "Slice", "Concat", "Expand", "Unsqueeze", "Squeeze",
              "Reshape", "Tile", "Gather", "Flatten", "Identity", "Constant", "ConstantOfShape",
              "Split", "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear",
              "ReverseSequence", "Pad"}
#: matrix-product op → (A input, B input): float and onnxruntime's quantized forms
_ONNX_MATMUL = {"MatMul": (0, 1), "MatMulInteger": (0, 1), "DynamicQuantizeMatMul": (0, 1),
                "QLinearMatMul": (0, 3), "MatMulIntegerToFloat": (0, 1)}
_ONNX_CONV = {"Conv": (1, 2), "ConvInteger": (1, None), "QLinearConv": (3, 8)}  # (W, bias)


def _onnx(path: Path) -> Cost:
    import onnx  # noqa: PLC0415 - bench's parent and info only; never the predict path

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf's DecodeError and friends
        raise InputError(f"{path} is not an ONNX model ({type(exc).__name__})") from None
    for tensor in model.graph.input:  # the dynamic batch (a named dim) as one sample
        for dim in tensor.type.tensor_type.shape.dim:
            if not dim.HasField("dim_value"):
                dim.dim_value = 1
    try:
        # data_prop: shapes computed by Shape→Slice→Concat chains (RepeatVector's Reshape)
        model = onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception:  # noqa: BLE001 - an op onnx cannot infer: fall back on our own rules
        pass
    shapes: dict[str, tuple] = {}
    for info in [*model.graph.input, *model.graph.value_info, *model.graph.output]:
        dims = info.type.tensor_type.shape.dim
        if dims and all(d.HasField("dim_value") for d in dims):
            shapes[info.name] = tuple(d.dim_value for d in dims)
    for init in model.graph.initializer:
        shapes[init.name] = tuple(init.dims)

    cost = Cost()
    for node in model.graph.node:
        if node.op_type == "Loop" or node.op_type == "Scan" or node.op_type == "If":
            cost.uncounted[node.op_type] += 1
            continue
        _onnx_node(node, shapes, cost)
    return cost.per_sample(1)  # the batch was set to 1 above


def _attrs(node) -> dict:
    from onnx import helper  # noqa: PLC0415

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _broadcast(shapes: list[tuple]) -> tuple | None:
    if not shapes or any(s is None for s in shapes):
        return None
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    return tuple(max(dims) for dims in zip(*padded, strict=True))


def _onnx_node(node, shapes: dict, cost: Cost) -> None:
    op, ins = node.op_type, [shapes.get(name) if name else None for name in node.input]
    out = shapes.get(node.output[0]) if node.output else None
    attrs = _attrs(node)

    def known(*values):
        return all(v is not None for v in values)

    if op in _ONNX_FREE:
        cost.add(op)
        return
    if op in _ONNX_ELEMENTWISE or op in _ONNX_SOFTMAX:
        out = out or _broadcast([s for s, name in zip(ins, node.input, strict=True) if name])
        if out is None:
            cost.uncounted[op] += 1
            return
        shapes.setdefault(node.output[0], out)
        cost.add(op, elementwise=math.prod(out) * (SOFTMAX_FLOPS if op in _ONNX_SOFTMAX else 1))
        return
    if op in _ONNX_MATMUL:
        a, b = (ins[i] for i in _ONNX_MATMUL[op])
        if not known(a, b):
            cost.uncounted[op] += 1
            return
        out = out or (*a[:-1], b[-1])
        shapes.setdefault(node.output[0], out)
        cost.add(op, macs=math.prod(out) * a[-1])
        return
    if op == "Gemm":
        a, b = ins[0], ins[1]
        if not known(a, b):
            cost.uncounted[op] += 1
            return
        m, k = (a[1], a[0]) if attrs.get("transA") else a
        n = b[0] if attrs.get("transB") else b[1]
        bias = len(node.input) > 2 and node.input[2]
        shapes.setdefault(node.output[0], (m, n))
        cost.add(op, macs=m * n * k, elementwise=m * n if bias else 0)
        return
    if op in _ONNX_CONV:
        w_at, bias_at = _ONNX_CONV[op]
        w = ins[w_at]
        if not known(w, out):
            cost.uncounted[op] += 1
            return
        bias = bias_at is not None and len(node.input) > bias_at and node.input[bias_at]
        cost.add(op, macs=math.prod(out) * math.prod(w[1:]), elementwise=math.prod(out) if bias else 0)
        return
    if op in ("MaxPool", "AveragePool"):
        if out is None:
            cost.uncounted[op] += 1
            return
        cost.add(op, elementwise=math.prod(out) * (math.prod(attrs["kernel_shape"]) - 1))
        return
    if op in ("LSTM", "DynamicQuantizeLSTM"):
        x = ins[0]
        if x is None:
            cost.uncounted[op] += 1
            return
        # layout 0: X is [steps, batch, inputs]; W's layout differs between the float and the
        # quantized op, so sizes come from X and the attributes, not from W
        steps, batch = (x[0], x[1]) if not attrs.get("layout") else (x[1], x[0])
        hidden = attrs["hidden_size"]
        directions = 2 if attrs.get("direction", b"forward") == b"bidirectional" else 1
        bias = len(node.input) > 3 and bool(node.input[3])
        macs, elementwise = lstm(steps, 4, hidden, x[-1], hidden, bias)
        cost.add(op, macs=directions * batch * macs, elementwise=directions * batch * elementwise)
        return
    cost.uncounted[op] += 1


# --------------------------------------------------------------------------- TFLite

_TFLITE_ELEMENTWISE = {"ADD", "SUB", "MUL", "DIV", "RELU", "RELU6", "RELU_N1_TO_1", "LOGISTIC",
                       "TANH", "EXP", "LOG", "SQRT", "RSQRT", "NEG", "ABS", "MAXIMUM", "MINIMUM",
                       "POW", "LEAKY_RELU", "SQUARE", "HARD_SWISH", "ELU", "SQUARED_DIFFERENCE",
                       "ADD_N", "GELU"}
_TFLITE_SOFTMAX = {"SOFTMAX", "LOG_SOFTMAX"}
_TFLITE_FREE = {"RESHAPE", "STRIDED_SLICE", "TILE", "CONCATENATION", "REVERSE_V2", "TRANSPOSE",
                "SQUEEZE", "EXPAND_DIMS", "PACK", "UNPACK", "SPLIT", "SPLIT_V", "SLICE", "GATHER",
                "QUANTIZE", "DEQUANTIZE", "CAST", "SHAPE", "PAD", "PADV2", "FILL", "ZEROS_LIKE"}
_TFLITE_POOL = {"MAX_POOL_2D", "AVERAGE_POOL_2D"}
_TFLITE_LSTM = {"UNIDIRECTIONAL_SEQUENCE_LSTM", "LSTM"}
# UNIDIRECTIONAL_SEQUENCE_LSTM inputs (tensorflow/lite/kernels/lstm_shared.h)
_INPUT_TO_GATES = (1, 2, 3, 4)  # input, forget, cell, output; input gate absent in CIFG
_RECURRENT_TO_CELL, _CELL_BIAS, _PROJECTION, _OUTPUT_STATE = 7, 14, 16, 18


def _tflite(path: Path) -> Cost:
    from ai_edge_litert import schema_py_generated as schema  # noqa: PLC0415 - flatbuffer reader

    try:
        model = schema.Model.GetRootAs(path.read_bytes())
        graph = model.Subgraphs(0)
        operators = [graph.Operators(i) for i in range(graph.OperatorsLength())]
    except Exception as exc:  # noqa: BLE001 - a flatbuffer that is not a model fails anywhere
        raise InputError(f"{path} is not a TFLite model ({type(exc).__name__})") from None
    op_names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    option_names = {v: k for k, v in vars(schema.BuiltinOptions).items() if not k.startswith("_")}

    def shape(index: int) -> tuple | None:
        if index < 0:
            return None
        return tuple(int(d) for d in graph.Tensors(index).ShapeAsNumpy()) \
            if graph.Tensors(index).ShapeLength() else ()

    def options(op):
        kind = op.BuiltinOptionsType()
        table = op.BuiltinOptions()
        if not kind or table is None:
            return None
        parsed = getattr(schema, option_names[kind])()
        parsed.Init(table.Bytes, table.Pos)
        return parsed

    cost = Cost()
    for op in operators:
        code = model.OperatorCodes(op.OpcodeIndex())
        # builtin codes above 127 live only in BuiltinCode; older files only in the deprecated one
        name = op_names.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "CUSTOM")
        ins = [shape(int(i)) for i in op.InputsAsNumpy()]
        out = shape(int(op.OutputsAsNumpy()[0])) if op.OutputsLength() else None
        opts = options(op)
        fused = 0
        if name not in _TFLITE_LSTM and opts is not None and hasattr(opts, "FusedActivationFunction"):
            fused = math.prod(out) if opts.FusedActivationFunction() else 0
        if name in _TFLITE_FREE:
            cost.add(name, elementwise=fused)
        elif name in _TFLITE_ELEMENTWISE:
            cost.add(name, elementwise=math.prod(out) + fused)
        elif name in _TFLITE_SOFTMAX:
            cost.add(name, elementwise=SOFTMAX_FLOPS * math.prod(out))
        elif name == "FULLY_CONNECTED":
            bias = len(ins) > 2 and ins[2] is not None
            cost.add(name, macs=math.prod(out) * ins[1][-1],
                     elementwise=(math.prod(out) if bias else 0) + fused)
        elif name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            # CONV_2D filter [out_c, kh, kw, in_c]; DEPTHWISE [1, kh, kw, out_c]: one in_c each
            per_output = math.prod(ins[1][1:3]) * (ins[1][3] if name == "CONV_2D" else 1)
            bias = len(ins) > 2 and ins[2] is not None
            cost.add(name, macs=math.prod(out) * per_output,
                     elementwise=(math.prod(out) if bias else 0) + fused)
        elif name in _TFLITE_POOL:
            window = opts.FilterWidth() * opts.FilterHeight()
            cost.add(name, elementwise=math.prod(out) * (window - 1) + fused)
        elif name in _TFLITE_LSTM:
            cost.add(name, *_tflite_lstm(ins, opts))
        else:
            cost.uncounted[name] += 1
    inputs = [shape(int(i)) for i in graph.InputsAsNumpy()]
    batch = inputs[0][0] if inputs and inputs[0] else 1
    return cost.per_sample(max(batch, 1))


def _tflite_lstm(ins: list, opts) -> tuple[int, int]:
    cell_weights = ins[_INPUT_TO_GATES[2]]  # [cells, inputs]; present even in CIFG
    cells, n_inputs = cell_weights
    outputs = ins[_RECURRENT_TO_CELL][1]
    batch = ins[_OUTPUT_STATE][0]
    gates = sum(ins[i] is not None for i in _INPUT_TO_GATES)
    x = ins[0]
    time_major = bool(opts is not None and hasattr(opts, "TimeMajor") and opts.TimeMajor())
    steps = x[0] if time_major else x[1]
    if len(x) == 2:  # the plain LSTM op: one step
        steps = 1
    projection = len(ins) > _PROJECTION and ins[_PROJECTION] is not None
    macs, elementwise = lstm(steps, gates, cells, n_inputs, outputs, ins[_CELL_BIAS] is not None,
                             projection)
    return batch * macs, batch * elementwise
