"""The first diverging layer (`compare --per-layer`, `parity --per-layer`): run every Keras
layer's output and the artifact's tensors that belong to the same layer, and compare them in
layer order with the same statistics as everything else (parity.error_stats).

Matching by name, not by value (a value match would hide the very divergence we look for):
tf2onnx names nodes by the TensorFlow scope they were traced in, `<model>_1/<layer>_1/...`;
the last node in a layer's scope (nodes are in topological order) carries the layer's output.
TFLite tensors carry the same scopes (`<model>_1/<layer>_1/...`, or the tf_keras twin's
`<model>/<layer>/...`) and are kept with `experimental_preserve_all_tensors`. A tensor with
the same number of elements in another layout (TimeDistributed folded into the batch) is
reshaped to the Keras layer's shape; a layer without a matching tensor is reported as such.
OpenVINO keeps the ONNX names (see openvino_layer_outputs); an ORT format file is read back
as the graph it holds (see ort_layer_outputs).

Imports Keras: a host-side diagnosis, never on the device path.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np

from ..errors import InputError
from .parity import ATOL, RTOL, error_stats


def keras_layer_outputs(model, batch: np.ndarray) -> list[tuple[str, np.ndarray]]:
    import keras  # noqa: PLC0415

    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    probe = keras.Model(model.inputs, [layer.output for layer in layers])
    outputs = probe([batch] if len(model.inputs) == 1 else batch, training=False)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [(layer.name, keras.ops.convert_to_numpy(out)) for layer, out in zip(layers, outputs, strict=True)]


def _in_scope(tensor_name: str, layer: str) -> bool:
    """Whether a tensor or node name lies in the layer's scope, one level below the model's."""
    parts = tensor_name.split("/")
    return len(parts) > 2 and re.fullmatch(rf"{re.escape(layer)}(_\d+)?", parts[1]) is not None


def onnx_layer_outputs(path: Path, layers: list[str], feed: dict[str, np.ndarray],
                       options=None) -> dict[str, np.ndarray]:
    """onnxruntime, with graph outputs added; `options` (SessionOptions) default to its own."""
    import onnx  # noqa: PLC0415
    import onnxruntime as ort  # noqa: PLC0415

    proto = onnx.load(str(path))
    graph = proto.graph
    chosen = {}
    for layer in layers:
        last = [n for n in graph.node if _in_scope(n.name, layer)]
        if last:
            chosen[layer] = last[-1].output[0]
    present = {o.name for o in graph.output}
    for tensor in dict.fromkeys(chosen.values()):
        if tensor not in present:
            graph.output.append(onnx.helper.make_tensor_value_info(tensor, onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])
    names = list(dict.fromkeys(chosen.values()))
    values = dict(zip(names, session.run(names, feed), strict=True))
    return {layer: values[tensor] for layer, tensor in chosen.items()}


def ort_layer_outputs(path: Path, layers: list[str], batch: np.ndarray) -> dict[str, np.ndarray]:
    """An ORT format file is a flatbuffer onnxruntime cannot add outputs to. onnxruntime
    writes the graph it loaded from it back out as ONNX (`optimized_model_filepath`); with
    every optimization off, that is the .ort file's own graph, its optimizations (style
    Fixed) already applied. That graph, with outputs added, runs with optimizations still off:
    the .ort's nodes and kernels, not the model.onnx it was made from."""
    import tempfile  # noqa: PLC0415

    import onnxruntime as ort  # noqa: PLC0415

    def options(dump: Path | None = None):
        chosen = ort.SessionOptions()
        chosen.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        chosen.log_severity_level = 3
        if dump is not None:
            chosen.optimized_model_filepath = str(dump)
        return chosen

    with tempfile.TemporaryDirectory(prefix="edgeseq-ort-graph-") as scratch:
        dump = Path(scratch) / "graph.onnx"
        ort.InferenceSession(str(path), options(dump), providers=["CPUExecutionProvider"])
        _name_subgraphs(dump)
        return onnx_layer_outputs(dump, layers, {_onnx_input(dump): batch.astype(np.float32)}, options())


def _name_subgraphs(path: Path) -> None:
    """onnxruntime writes a Loop's body graph back without a name, and its own reader then
    refuses the model ("Field 'name' of 'graph' is required to be non-empty"): name them."""
    import onnx  # noqa: PLC0415

    proto = onnx.load(str(path))

    def walk(graph):
        for node in graph.node:
            for attribute in node.attribute:
                for sub in ([attribute.g] if attribute.type == onnx.AttributeProto.GRAPH else list(attribute.graphs)):
                    sub.name = sub.name or f"{node.name}/{attribute.name}"
                    walk(sub)

    walk(proto.graph)
    onnx.save(proto, str(path))


#: OpenVINO ops that carry no computed value of a layer (weights, shapes, graph ends).
_NOT_VALUES = {"Constant", "Parameter", "Result"}


def openvino_layer_outputs(path: Path, layers: list[str], feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """OpenVINO (model.onnx or its IR), with outputs added to the ov.Model before it compiles.
    Its ONNX frontend keeps tf2onnx's node names as friendly names and tensor names (the IR
    keeps both), so the same scope rule as onnxruntime's applies, on float tensors only (a
    Shape in a layer's scope may come last in OpenVINO's order); the op that feeds a model
    output is renamed after that output, and belongs to the last layer."""
    from ..runtimes.openvino_runner import OpenvinoRunner  # noqa: PLC0415

    runner = OpenvinoRunner(path)  # the same f32 precision and compile settings as parity
    model_outputs = {result.input_value(0).get_node().get_friendly_name() for result in runner.model.get_results()}
    chosen = {}
    for op in runner.model.get_ordered_ops():
        if op.get_type_name() in _NOT_VALUES or op.get_output_size() == 0:
            continue
        port = op.output(0)
        if not port.get_element_type().is_real():
            continue
        names = [op.get_friendly_name(), *port.get_names()]
        layer = (layers[-1] if op.get_friendly_name() in model_outputs
                 else next((name for name in layers if any(_in_scope(n, name) for n in names)), None))
        if layer is not None:
            chosen[layer] = _before_transpose(op)
    layers_of = list(chosen)
    names = runner.expose([chosen[layer][0] for layer in layers_of])
    values = runner.infer(runner.bind(feed))
    return {layer: values[name] if chosen[layer][1] is None else values[name].transpose(chosen[layer][1])
            for layer, name in zip(layers_of, names, strict=True)}


def _before_transpose(op) -> tuple:
    """(port to expose, permutation to apply in numpy or None). A Transpose's output made a
    model output comes back from the CPU plugin in its input's memory order under the
    transposed shape (openvino 2026.4.1, stacked: lstm_1's batch-major output read as
    time-major data, 0.19 off, while lstm_2 downstream is exact; the plugin drops the pair
    with the next layer's inverse Transpose). So such a layer's input tensor is exposed, and
    transposed here."""
    if op.get_type_name() == "Transpose" and op.input_value(1).get_node().get_type_name() == "Constant":
        return op.input_value(0), tuple(int(i) for i in op.input_value(1).get_node().get_data())
    return op.output(0), None


def tflite_layer_outputs(path: Path, layers: list[tuple[str, str]], batch: np.ndarray) -> dict[str, np.ndarray]:
    """Layers are (name, Keras class). Ops run in order; each is given to a layer: by its
    output's scope, else (the fused LSTM op's outputs are named `tfl.unidirectional_sequence_
    lstm`) the next recurrent layer for a recurrent op, and the model's output to the last
    layer; unnamed ops in between (the slice that takes an LSTM's last step) stay with the
    layer before them. A layer's output is its last op's."""
    from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415

    with warnings.catch_warnings():  # "for debugging purposes only": this is debugging
        warnings.simplefilter("ignore", UserWarning)
        interpreter = Interpreter(model_path=str(path), experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    names = {d["index"]: d["name"] for d in interpreter.get_tensor_details()}
    model_outputs = {d["index"] for d in interpreter.get_output_details()}
    recurrent = iter([name for name, kind in layers if kind in RECURRENT_LAYERS])
    last_op_of, current = {}, None
    for op in interpreter._get_ops_details():  # the public API lists tensors, not ops in order
        if op["op_name"] == "DELEGATE" or not len(op["outputs"]):
            continue
        tensor = int(op["outputs"][0])
        scoped = next((name for name, _ in layers if _in_scope(names[tensor], name)), None)
        if tensor in model_outputs:
            current = layers[-1][0]
        elif scoped is not None:
            current = scoped
        elif op["op_name"] in RECURRENT_OPS:
            current = next(recurrent, current)
        if current is not None:
            last_op_of[current] = tensor
    detail_in = interpreter.get_input_details()[0]
    fixed = int(detail_in["shape"][0])
    rows = []
    for start in range(0, len(batch), fixed):
        interpreter.reset_all_variables()  # fused LSTM state persists across invoke()
        interpreter.set_tensor(detail_in["index"], batch[start:start + fixed].astype(detail_in["dtype"]))
        interpreter.invoke()
        rows.append({layer: np.array(interpreter.get_tensor(t)) for layer, t in last_op_of.items()})
    return {layer: np.concatenate([r[layer] for r in rows]) for layer in last_op_of}


RECURRENT_LAYERS = {"LSTM", "GRU", "SimpleRNN"}
RECURRENT_OPS = {"UNIDIRECTIONAL_SEQUENCE_LSTM", "UNIDIRECTIONAL_SEQUENCE_RNN", "WHILE"}


def _aligned(got: np.ndarray, expected: np.ndarray) -> np.ndarray | None:
    """The artifact's tensor in the Keras layer's layout: as is; transposed, when its shape
    is a permutation of the layer's (time-major recurrent outputs; with equal dimensions the
    permutation that fits best); reshaped, when only the element count agrees (TimeDistributed
    folded into the batch)."""
    import itertools  # noqa: PLC0415

    if got.shape == expected.shape:
        return got
    if sorted(got.shape) == sorted(expected.shape):
        fits = [got.transpose(p) for p in itertools.permutations(range(got.ndim))
                if tuple(got.shape[i] for i in p) == expected.shape]
        return min(fits, key=lambda a: float(np.abs(a.astype(np.float64) - expected).max()))
    if got.size == expected.size:
        return got.reshape(expected.shape)
    return None


def first_divergence(reference: list[tuple[str, np.ndarray]], candidate: dict[str, np.ndarray],
                     atol: float = ATOL, rtol: float = RTOL) -> dict:
    """Layer by layer in Keras order: error statistics, and the first layer over tolerance."""
    rows, first = [], None
    for layer, expected in reference:
        got = candidate.get(layer)
        row = {"layer": layer, "shape": list(expected.shape)}
        if got is None:
            rows.append(row | {"matched": False})
            continue
        aligned = _aligned(got, expected)
        if aligned is None:
            rows.append(row | {"matched": False, "reason": f"artifact tensor has shape {list(got.shape)}"})
            continue
        got = aligned
        stats = error_stats(expected, got.astype(np.float32), rtol)
        passed = stats["min_atol"] <= atol
        rows.append(row | {"matched": True} | stats | {"passed": passed})
        if not passed and first is None:
            first = layer
    return {"layers": rows, "first_diverging": first, "atol": atol, "rtol": rtol}


def per_layer(keras_model, artifact: Path, runtime: str, batch: np.ndarray,
              atol: float = ATOL, rtol: float = RTOL) -> dict:
    if runtime not in ("onnx", "tflite", "openvino", "ort"):
        return {"artifact": str(artifact), "runtime": runtime, "first_diverging": None,
                "skipped": f"--per-layer reads .onnx, .ort, .tflite and OpenVINO files, not {runtime}"}
    reference = keras_layer_outputs(keras_model, batch)
    names = [name for name, _ in reference]
    kinds = {layer.name: _kind(layer) for layer in keras_model.layers}
    try:
        candidate = _layer_outputs(artifact, runtime, names, kinds, batch)
    except InputError:
        raise
    except Exception as exc:  # each runtime's own error types: reported for this artifact only
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        return {"artifact": str(artifact), "runtime": runtime, "first_diverging": None,
                "skipped": f"its intermediate tensors could not be read ({first})"}
    return {"artifact": str(artifact), "runtime": runtime} | first_divergence(reference, candidate, atol, rtol)


def _layer_outputs(artifact: Path, runtime: str, names: list[str], kinds: dict, batch: np.ndarray) -> dict:
    if runtime == "onnx":
        return onnx_layer_outputs(artifact, names, {_onnx_input(artifact): batch.astype(np.float32)})
    if runtime == "ort":
        return ort_layer_outputs(artifact, names, batch)
    if runtime == "openvino":  # bound to the model's one input by position
        return openvino_layer_outputs(artifact, names, {"input": batch.astype(np.float32)})
    return tflite_layer_outputs(artifact, [(n, kinds[n]) for n in names], batch)


def _onnx_input(path: Path) -> str:
    import onnx  # noqa: PLC0415

    graph = onnx.load(str(path), load_external_data=False).graph
    initializers = {t.name for t in graph.initializer}
    inputs = [i.name for i in graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise InputError(f"--per-layer takes one-input models; {path.name} has {len(inputs)}")
    return inputs[0]


def _kind(layer) -> str:
    """The recurrent class inside wrappers (Bidirectional, TimeDistributed) or the layer's own."""
    inner = getattr(layer, "layer", None) or getattr(layer, "forward_layer", None)
    return type(inner if inner is not None and type(layer).__name__ != "Bidirectional" else layer).__name__
