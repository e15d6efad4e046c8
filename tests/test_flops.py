"""The FLOP/MAC counter against counts made by hand from the architectures' layer sizes
(DESIGN.md's table), on the untrained exports. Untrained Dense layers have zero biases, which
both converters fold away, so the hand counts below have no Dense bias adds; LSTM biases are
never zero (unit forget bias), so they are always there."""

from __future__ import annotations

import pytest

from edgeseq import manifest
from edgeseq.errors import InputError
from edgeseq.measure import flops

from .conftest import ARCHS


def test_a_5_step_lstm_25_on_10_features_by_hand():
    # one step: the four gates' products with [x (10), h (25)]
    macs_per_step = 4 * 25 * (10 + 25)          # 3,500
    assert macs_per_step == 3500
    flops_per_step = (2 * macs_per_step          # 7,000: a MAC is a multiply and an add
                      + 4 * 25                   # bias add per gate and cell
                      + 4 * 25                   # σ for i, f, o; tanh for g
                      + 3 * 25                   # c = f⊙c + i⊙g
                      + 2 * 25)                  # h = o ⊙ tanh(c)
    assert flops_per_step == 7325
    assert flops.lstm(steps=5, gates=4, cells=25, inputs=10, outputs=25, bias=True) == \
        (5 * 3500, 5 * (7325 - 7000))


def lstm(steps, inputs, cells):
    """(MACs, FLOPs) of a Keras LSTM layer with bias, by the rule the test above spells out."""
    macs = steps * 4 * cells * (inputs + cells)
    return macs, 2 * macs + steps * cells * (4 + 4 + 3 + 2)


def dense(rows, inputs, units):
    """(MACs, FLOPs) of a bias-free Dense applied to `rows` vectors."""
    return rows * inputs * units, 2 * rows * inputs * units


def total(*parts):
    return sum(p[0] for p in parts), sum(p[1] for p in parts)


# cnn_lstm: 20 frames of 20×20×1 → Conv2D(2, 2×2) 19×19×2 → MaxPool 9×9×2 = 162 → LSTM(50)
CONV_OUT = 20 * 19 * 19 * 2
CONV = (CONV_OUT * 2 * 2 * 1, 2 * CONV_OUT * 2 * 2 * 1 + CONV_OUT)  # + ReLU
POOL = (0, 20 * 9 * 9 * 2 * (4 - 1))

#: arch → (MACs, FLOPs) of the ONNX graph; the TFLite graph adds its differences below
HAND = {
    "vanilla": total(lstm(5, 10, 25), dense(1, 25, 10), (0, 3 * 10)),
    "stacked": total(lstm(50, 1, 20), lstm(50, 20, 20), dense(1, 20, 5)),
    "cnn_lstm": total(CONV, POOL, lstm(20, 162, 50), dense(1, 50, 1), (0, 1)),
    "encoder_decoder": total(lstm(8, 12, 75), lstm(2, 75, 50), dense(2, 50, 12), (0, 3 * 24)),
    "bidirectional": total(lstm(10, 1, 50), lstm(10, 1, 50), dense(10, 100, 1), (0, 10)),
    "generative": total(lstm(1, 2, 10), dense(1, 10, 2)),
}
#: TFLite's CONV_2D always carries a bias (zero here) that ONNX's Conv drops
TFLITE_EXTRA_FLOPS = {"cnn_lstm": CONV_OUT}
#: arch → (MACs, FLOPs) of the unrolled TFLite form where the route search publishes it (the
#: fixtures export with --optimize size). generative's one step from the zero state folds
#: away the recurrent half (U·h₀, f⊙c₀): the input gates, then σ(i), σ(o), tanh(g), tanh(c),
#: i⊙g and o⊙tanh(c), 10 each, then the Dense.
UNROLLED_TFLITE = {"generative": (4 * 10 * 2 + 10 * 2, 2 * (4 * 10 * 2 + 10 * 2) + 4 * 10 + 6 * 10)}


def test_hand_counts_cover_every_architecture():
    assert set(HAND) == set(ARCHS)


@pytest.mark.parametrize("runtime", ["onnx", "tflite"])
@pytest.mark.parametrize("arch", ARCHS)
def test_counter_matches_the_hand_count(untrained, arch, runtime):
    cost = flops.count(untrained(arch) / f"model.{runtime}", runtime)
    macs, expected = HAND[arch]
    if runtime == "tflite":
        expected += TFLITE_EXTRA_FLOPS.get(arch, 0)
    if manifest.entry(manifest.load(untrained(arch)), f"model.{runtime}")["route_form"] == "unrolled":
        macs, expected = UNROLLED_TFLITE[arch]
    assert cost.uncounted == {}, cost.uncounted
    assert (cost.macs, cost.flops) == (macs, expected), cost.by_op


def test_vanilla_cost_is_split_by_op(untrained):
    cost = flops.count(untrained("vanilla") / "model.tflite", "tflite").to_json()
    assert cost["by_op"]["UNIDIRECTIONAL_SEQUENCE_LSTM"]["macs"] == 17500
    assert cost["by_op"]["STRIDED_SLICE"] == {"count": 1, "macs": 0, "flops": 0}
    assert sum(r["flops"] for r in cost["by_op"].values()) == cost["flops"]


def test_ops_without_a_rule_are_listed_not_silently_zero(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Einsum", ["x", "x"], ["y"], equation="ij,ij->i")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])])
    path = tmp_path / "einsum.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    cost = flops.count(path, "onnx")
    assert cost.uncounted == {"Einsum": 1} and cost.flops == 0


@pytest.mark.parametrize("runtime", ["onnx", "tflite"])
def test_a_file_that_is_no_model_is_an_input_error(tmp_path, runtime):
    path = tmp_path / f"junk.{runtime}"
    path.write_bytes(b"not a model at all")
    with pytest.raises(InputError, match="is not a"):
        flops.count(path, runtime)
