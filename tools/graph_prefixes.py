"""A model file cut into its prefixes, for per-op profiles the runtimes' own profilers cannot
give at this size.

TFLite: the LiteRT interpreter in the pip wheel has no op profiler to read from Python (its C++
BufferedProfiler is not bound; the CompiledModel profiler in libLiteRt.so needs runtime
options the wheel does not expose, and CompiledModel refuses the fused LSTM's variable
tensors). So: prefix k is the model's first k operators, with every tensor they produce that a
later operator (or the model's output) reads made an output of the prefix — so no delegate
prunes an operator as dead. invoke() of prefix k minus prefix k−1 is what operator k adds to
a call; prefix 0 (no operators) is invoke's own cost. Each prefix is delegated to XNNPACK as
the whole file is (LiteRT's default delegate), so a difference includes what the op costs
inside the delegate's one fused node, not an isolated kernel run.

ONNX: onnxruntime's profiler (SessionOptions.enable_profiling) adds about 2 µs to every node it
times and records whole microseconds (stacked: session.run 170 µs profiled against 46 µs plain;
every Shape, Squeeze or Gather shows 2–3 µs), so it only sizes the big kernels. The same prefix
cut, in node order (ONNX requires topological order), with each prefix's live tensors as
outputs typed by onnx's shape inference, measures what each node adds to a plain session.run.
"""

from __future__ import annotations

from pathlib import Path

from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.tools import flatbuffer_utils

OP_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}


def op_types(model) -> list[str]:
    """The builtin name of each operator of the main subgraph, in execution order."""
    return [OP_NAMES.get(flatbuffer_utils.get_builtin_code_from_operator_code(
        model.operatorCodes[op.opcodeIndex]), "CUSTOM") for op in model.subgraphs[0].operators]


def tflite_prefixes(path: Path) -> tuple[list[str], list[bytes]]:
    """(op type per operator, model bytes of prefixes 0..N)."""
    model = flatbuffer_utils.read_model(str(path))
    graph = model.subgraphs[0]
    operators = list(graph.operators)
    final_outputs = [int(i) for i in graph.outputs]
    produced_by = [[int(t) for t in op.outputs] for op in operators]
    read_by = [[int(t) for t in op.inputs if t >= 0] for op in operators]
    model.signatureDefs = []  # the signature names the full model's outputs
    cut = []
    for k in range(len(operators) + 1):
        live = _live(produced_by, read_by, final_outputs, k)
        graph.operators = operators[:k]
        # prefix 0: the input itself is the output (an empty plan, invoke's fixed cost)
        graph.outputs = live or [int(graph.inputs[0])]
        cut.append(bytes(flatbuffer_utils.convert_object_to_bytearray(model)))
    graph.operators, graph.outputs = operators, final_outputs
    return op_types(model), cut


def _live(produced_by: list[list[str]], read_by: list[list[str]], finals: list[str], k: int) -> list[str]:
    """Tensors the first k nodes produce that a later node or the model's output reads."""
    produced = {t for outs in produced_by[:k] for t in outs}
    read_later = {t for ins in read_by[k:] for t in ins if t != ""}  # "": an absent ONNX input
    return [t for outs in produced_by[:k] for t in outs if t in produced & (read_later | set(finals))]


def onnx_prefixes(path: Path) -> tuple[list[str], list[bytes]]:
    """(op type per node, model bytes of prefixes 0..N)."""
    import onnx  # noqa: PLC0415

    model = onnx.shape_inference.infer_shapes(onnx.load(str(path)))
    graph = model.graph
    nodes = list(graph.node)
    typed = {v.name: v for v in [*graph.value_info, *graph.output, *graph.input]}
    finals = [o.name for o in graph.output]
    produced_by = [list(n.output) for n in nodes]
    read_by = [list(n.input) for n in nodes]
    cut = []
    for k in range(len(nodes) + 1):
        live = _live(produced_by, read_by, finals, k) or [graph.input[0].name]
        prefix = onnx.ModelProto()
        prefix.CopyFrom(model)
        del prefix.graph.node[k:]
        del prefix.graph.output[:]
        prefix.graph.output.extend(typed[t] for t in live)
        cut.append(prefix.SerializeToString())
    return [n.op_type for n in nodes], cut
