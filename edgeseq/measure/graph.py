"""What is inside an artifact: op counts, native recurrent ops, loops. No TensorFlow."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ..errors import InputError

RECURRENT_OPS = {
    "onnx": {"LSTM", "GRU", "RNN", "DynamicQuantizeLSTM"},
    "tflite": {"UNIDIRECTIONAL_SEQUENCE_LSTM", "BIDIRECTIONAL_SEQUENCE_LSTM",
               "UNIDIRECTIONAL_SEQUENCE_RNN", "BIDIRECTIONAL_SEQUENCE_RNN"},
    "openvino": {"LSTMSequence", "GRUSequence", "RNNSequence", "LSTMCell", "GRUCell", "RNNCell"},
}
#: OpenVINO graph nodes that are the model's inputs, outputs and weights, not ops (as ONNX
#: initializers and TFLite tensors are not counted as ops)
_OPENVINO_NOT_OPS = {"Parameter", "Result", "Constant"}


def is_loop_op(runtime: str, op: str) -> bool:
    """Ops that mean the recurrence was exported as a loop or needs a non-builtin kernel."""
    if runtime == "onnx":
        return op in {"Loop", "Scan"}
    if runtime == "openvino":
        return op in {"Loop", "TensorIterator"}
    return op == "WHILE" or "TensorList" in op or op.startswith("Flex") or op == "CUSTOM"


def op_counts(path: Path, runtime: str) -> Counter:
    """Op type → count, over every (sub)graph of the artifact."""
    if runtime == "onnx":
        import onnx  # noqa: PLC0415 - only `info` and export need the graph itself

        try:
            model = onnx.load(str(path), load_external_data=False)
        except Exception as exc:  # protobuf's DecodeError and friends
            raise InputError(f"{path} is not an ONNX model ({type(exc).__name__})") from None
        counts: Counter = Counter()

        def walk(graph):
            for node in graph.node:
                counts[node.op_type] += 1
                for attr in node.attribute:
                    for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                        walk(sub)

        walk(model.graph)
        return counts
    if runtime == "tflite":
        from ai_edge_litert.interpreter import Interpreter, OpResolverType  # noqa: PLC0415

        try:
            # Without the default XNNPACK delegate, which would replace ops by one DELEGATE.
            interpreter = Interpreter(
                model_path=str(path),
                experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        except (ValueError, RuntimeError) as exc:
            raise InputError(f"{path} is not a TFLite model ({exc})") from None
        # _get_ops_details is the interpreter's only op listing.
        return Counter(op["op_name"] for op in interpreter._get_ops_details())
    if runtime == "openvino":
        import openvino as ov  # noqa: PLC0415 - the [openvino] extra; info on the IR only

        try:
            model = ov.Core().read_model(str(path))
        except RuntimeError as exc:
            raise InputError(f"{path} is not an OpenVINO IR ({str(exc).strip().splitlines()[-1][:200]})") from None
        return Counter(op.get_type_name() for op in model.get_ordered_ops()
                       if op.get_type_name() not in _OPENVINO_NOT_OPS)
    raise InputError(f"no op listing for {runtime} artifacts")


def summary(path: Path, runtime: str) -> dict:
    counts = op_counts(path, runtime)
    recurrent = {op: n for op, n in counts.items() if op in RECURRENT_OPS.get(runtime, ())}
    loops = {op: n for op, n in counts.items() if is_loop_op(runtime, op)}
    fused = bool(recurrent) and not loops
    return {
        "ops": dict(sorted(counts.items())),
        "recurrent_ops": recurrent,
        "loop_ops": loops,
        # "fused": the recurrence is carried by native recurrent ops and by no loop
        "fused": fused,
        "recurrence": "fused" if fused else "loop" if loops else "mixed" if recurrent else "none",
    }


def describe_route(route: str, summary: dict, recurrent_layers: bool) -> str:
    """A converter route with what the file holds, read from its graph: the route alone
    (the tf_keras twin, say) promises fusion that a GRU or a masked LSTM does not get."""
    if summary["recurrence"] == "fused":
        held = "fused " + ", ".join(f"{op}×{n}" for op, n in summary["recurrent_ops"].items())
    elif summary["recurrence"] in ("loop", "mixed"):
        held = "recurrences as loops: " + ", ".join(f"{op}×{n}" for op, n in summary["loop_ops"].items())
        if summary["recurrent_ops"]:
            held += " beside " + ", ".join(f"{op}×{n}" for op, n in summary["recurrent_ops"].items())
    elif recurrent_layers:
        held = "recurrences unrolled into plain ops (no loop, no recurrent op)"
    else:
        held = "no recurrent layer"
    return f"{route} ({held})"
