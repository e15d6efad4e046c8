"""The plumbing tf2onnx builds around recurrent ops is cut where that changes nothing: a
computed zero initial state, and the last step taken from Y instead of Y_h."""

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, checker, helper, numpy_helper

from edgeseq.exporters.onnx.onnx_recurrent import simplify

from .conftest import ARCHS

HIDDEN, FEATURES, STEPS = 3, 2, 4


def lstm_model(state: str, direction: str = "forward") -> helper.ModelProto:
    """X (steps, batch, features) → LSTM → its last step (batch, hidden), built as tf2onnx
    does: the state from the batch (Shape … Expand(fill) … Unsqueeze), fill 0 ("zeros") or 1
    ("ones"); the last step as Squeeze(Y, 1) → Slice(-1:) → Squeeze(0)."""
    rng = np.random.default_rng(0)
    arrays = {"W": rng.standard_normal((1, 4 * HIDDEN, FEATURES)).astype(np.float32),
              "R": rng.standard_normal((1, 4 * HIDDEN, HIDDEN)).astype(np.float32),
              "fill": np.array(0.0 if state == "zeros" else 1.0, np.float32),
              "one": np.array([1], np.int64), "two": np.array([2], np.int64),
              "hidden": np.array([HIDDEN], np.int64), "axis0": np.array([0], np.int64),
              "last": np.array([-1], np.int64), "end": np.array([2 ** 63 - 1], np.int64)}
    nodes = [helper.make_node("Shape", ["X"], ["shape"]),
             helper.make_node("Slice", ["shape", "one", "two"], ["batch"]),
             helper.make_node("Concat", ["batch", "hidden"], ["state_shape"], axis=0),
             helper.make_node("Expand", ["fill", "state_shape"], ["state2d"]),
             helper.make_node("Unsqueeze", ["state2d", "axis0"], ["state"]),
             helper.make_node("LSTM", ["X", "W", "R", "", "", "state", "state"], ["Y"],
                              hidden_size=HIDDEN, direction=direction),
             helper.make_node("Squeeze", ["Y", "one"], ["Y3"]),
             helper.make_node("Slice", ["Y3", "last", "end", "axis0"], ["Y_last"]),
             helper.make_node("Squeeze", ["Y_last", "axis0"], ["H"])]
    model = helper.make_model(helper.make_graph(
        nodes, "lstm", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [STEPS, "batch", FEATURES])],
        [helper.make_tensor_value_info("H", TensorProto.FLOAT, ["batch", HIDDEN])],
        initializer=[numpy_helper.from_array(a, name) for name, a in arrays.items()]),
        opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    checker.check_model(model)
    return model


def run(model, x):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"X": x})[0]


@pytest.mark.parametrize("state, direction, dropped, last_steps, ops", [
    ("zeros", "forward", 2, 1, ["LSTM", "Squeeze"]),
    ("ones", "forward", 0, 1, ["Shape", "Slice", "Concat", "Expand", "Unsqueeze", "LSTM", "Squeeze"]),
    # a reverse LSTM's Y_h is its state after step 0, not Y's last slot: kept as it was
    ("zeros", "reverse", 2, 0, ["LSTM", "Squeeze", "Slice", "Squeeze"])])
def test_only_what_changes_nothing_is_cut(state, direction, dropped, last_steps, ops):
    x = np.random.default_rng(1).random((STEPS, 5, FEATURES), dtype=np.float32)
    model = lstm_model(state, direction)
    before = run(model, x)
    assert simplify(model) == {"zero_state_inputs_dropped": dropped, "last_steps_from_y_h": last_steps}
    checker.check_model(model)
    assert [n.op_type for n in model.graph.node] == ops
    assert np.array_equal(run(model, x), before)
    if state == "ones":  # a real state changes the outputs: the checks above can fail
        assert not np.allclose(before, run(lstm_model("zeros"), x))


@pytest.mark.parametrize("arch", ARCHS)
def test_exported_recurrent_ops_build_no_state_per_call(untrained, arch):
    model = onnx.load(untrained(arch) / "model.onnx")
    recurrent = [n for n in model.graph.node if n.op_type in ("LSTM", "GRU", "RNN")]
    assert recurrent and all(len(n.input) <= 5 for n in recurrent), [list(n.input) for n in recurrent]
    assert not {"Expand", "ConstantOfShape"} & {n.op_type for n in model.graph.node}
