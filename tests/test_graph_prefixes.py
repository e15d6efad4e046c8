"""tools/graph_prefixes.py, the cut tools/profile_ops.py times op by op: prefix k runs the
first k ops of the real file, the last prefix gives the model's own output, prefix 0 none."""

import importlib.util
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from ai_edge_litert.interpreter import Interpreter

from edgeseq.measure import graph
from edgeseq.runtimes import open_runner

TOOL = Path(__file__).resolve().parents[1] / "tools" / "graph_prefixes.py"


@pytest.fixture(scope="module")
def prefixes():
    spec = importlib.util.spec_from_file_location("graph_prefixes", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tflite_outputs(content: bytes, x: np.ndarray) -> list[np.ndarray]:
    interpreter = Interpreter(model_content=content, num_threads=1)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]


def onnx_outputs(content: bytes, x: np.ndarray) -> list[np.ndarray]:
    session = ort.InferenceSession(content, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})


@pytest.mark.parametrize("runtime", ["tflite", "onnx"])
def test_each_prefix_runs_and_the_last_one_is_the_whole_model(untrained, prefixes, runtime):
    path = untrained("stacked") / f"model.{runtime}"
    types, cuts = getattr(prefixes, f"{runtime}_prefixes")(path)
    assert sorted(types) == sorted(graph.op_counts(path, runtime).elements())
    assert len(cuts) == len(types) + 1
    x = np.random.default_rng(0).random((1, 50, 1), dtype=np.float32)
    run = tflite_outputs if runtime == "tflite" else onnx_outputs
    outputs = [run(content, x) for content in cuts]
    assert np.array_equal(outputs[0][0], x)  # no op: the input itself
    expected = open_runner(path).run_array(x)
    assert any(np.array_equal(o, expected) for o in outputs[-1])
    assert not any(o.shape == expected.shape and np.array_equal(o, expected) for o in outputs[1])
