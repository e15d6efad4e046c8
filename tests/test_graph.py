"""Recurrent layers export as native ops or unrolled into plain ops, never loops (checked the
way tf2onnx's tests do: count the ops)."""

import pytest

from edgeseq import manifest
from edgeseq.measure import graph

from .conftest import ARCHS


@pytest.mark.parametrize("runtime", ["onnx", "tflite"])
@pytest.mark.parametrize("arch", ARCHS)
def test_recurrent_layers_are_native_ops_without_loops(untrained, arch, runtime):
    path = untrained(arch) / f"model.{runtime}"
    summary = graph.summary(path, runtime)
    entry = manifest.entry(manifest.load(path.parent), path.name)
    if entry["route_form"] == "unrolled":  # the route search's smaller form here (generative)
        assert summary["recurrence"] == "none" and "unrolled" in entry["route"], summary["ops"]
        return
    assert summary["recurrent_ops"], summary["ops"]
    assert summary["loop_ops"] == {}, summary["ops"]
    assert summary["fused"]
    assert entry["fused"] is True and entry["loop_ops"] == {}


def test_vanilla_tflite_is_the_four_op_fused_graph(untrained):
    ops = graph.op_counts(untrained("vanilla") / "model.tflite", "tflite")
    assert ops == {"UNIDIRECTIONAL_SEQUENCE_LSTM": 1, "STRIDED_SLICE": 1,
                   "FULLY_CONNECTED": 1, "SOFTMAX": 1}


# Keras 3 traces TimeDistributed once per step; the export folds time into the batch.
@pytest.mark.parametrize("arch, layer_ops", [("cnn_lstm", {"Conv": 1, "MaxPool": 1}),
                                             ("bidirectional", {"MatMul": 1}),
                                             ("encoder_decoder", {"MatMul": 1})])
def test_time_distributed_layers_export_as_one_onnx_op_not_one_per_step(untrained, arch, layer_ops):
    path = untrained(arch) / "model.onnx"
    ops = graph.op_counts(path, "onnx")
    assert {op: ops.get(op) for op in layer_ops} == layer_ops, ops
    assert manifest.entry(manifest.load(path.parent), "model.onnx")["time_distributed_folded"]
