"""Every exported artifact against the real Keras model, on the real runtimes."""

import numpy as np
import pytest

from edgeseq import manifest, registry
from edgeseq.checks.parity import Tolerance, check, error_stats
from edgeseq.errors import InputError
from edgeseq.runtimes import open_runner

from .conftest import ARCHS


def test_min_atol_is_the_smallest_passing_atol():
    ref = np.array([1.0, 0.0, -2.0])
    cand = ref + np.array([1e-5, 3e-6, -2e-5])
    stats = error_stats(ref, cand, rtol=1e-5)
    assert stats["max_abs"] == pytest.approx(2e-5)
    # |err| - rtol·|ref|: 1e-5 - 1e-5, 3e-6 - 0, 2e-5 - 2e-5 → 3e-6
    assert stats["min_atol"] == pytest.approx(3e-6)
    assert np.allclose(cand, ref, atol=stats["min_atol"] * 1.0001, rtol=1e-5)
    assert not np.allclose(cand, ref, atol=stats["min_atol"] * 0.9, rtol=1e-5)


@pytest.mark.parametrize("runtime", ["onnx", "tflite"])
@pytest.mark.parametrize("arch", ARCHS)
def test_runtime_matches_keras_on_1000_consecutive_inputs(untrained, arch, runtime):
    directory = untrained(arch)
    problem = registry.get(arch).problem
    report = check(problem, open_runner(directory / "model.keras"),
                   [("fp32", open_runner(directory / f"model.{runtime}"))],
                   samples=1000, seed=99, tolerance=Tolerance(atol=registry.get(arch).training.atol))
    result = report["results"][0]
    assert result["passed"], result.get("reason")
    assert result["max_abs"] <= registry.get(arch).training.atol
    if result["argmax_agreement"] is not None:
        assert result["argmax_agreement"] == 1.0
    assert result["metric"]["value"] == pytest.approx(report["reference"]["metric"]["value"], abs=1e-3)


@pytest.mark.parametrize("arch", ARCHS)
def test_export_writes_both_formats_and_a_manifest_that_lists_them(untrained, arch):
    directory = untrained(arch)
    document = manifest.load(directory)
    files = {a["file"]: a for a in document["artifacts"]}
    models = {name for name, a in files.items() if a.get("variant") in (None, "fp32") and not a.get("step")}
    assert models == {"model.keras", "model.onnx", "model.tflite"}
    assert files["reference.npz"]["samples"] >= 200  # parity without TensorFlow
    assert {files["floor.onnx"]["variant"], files["floor.tflite"]["variant"]} == {"floor"}
    for name, entry in files.items():
        assert entry["sha256"] == manifest.sha256(directory / name)
        assert entry["bytes"] == (directory / name).stat().st_size
    assert document["parity"]["passed"]
    assert document["versions"]["tensorflow"] and document["versions"]["tf2onnx"]
    assert document["parameters"] > 0


def test_vanilla_has_the_seed_parameter_count(untrained):
    assert manifest.load(untrained("vanilla"))["parameters"] == 3860


def test_onnx_keeps_a_dynamic_batch(untrained):
    runner = open_runner(untrained("vanilla") / "model.onnx")
    assert runner.inputs[0].shape[0] is None
    x, _ = registry.get("vanilla").problem.generate(7, np.random.default_rng(0))
    assert runner.run_array(x).shape == (7, 10)


def test_tflite_state_does_not_leak_between_calls(untrained):
    """The fused LSTM keeps state in variable tensors; the same input must give the same
    output whatever ran before it."""
    runner = open_runner(untrained("vanilla") / "model.tflite")
    x, _ = registry.get("vanilla").problem.generate(50, np.random.default_rng(1))
    first = runner.run_array(x[:1])
    runner.run_array(x)
    assert np.array_equal(runner.run_array(x[:1]), first)


def test_runners_take_and_give_named_tensors_and_bind_other_names_by_position(untrained):
    directory = untrained("vanilla")
    x = np.random.default_rng(1).random((4, 5, 10), dtype=np.float32)
    onnx, tflite = open_runner(directory / "model.onnx"), open_runner(directory / "model.tflite")
    by_onnx = onnx.run({"input": x})
    assert list(by_onnx) == [s.name for s in onnx.outputs] == ["output"]
    # the TFLite signature names its input `sequence`: ONNX's name binds by position
    by_tflite = tflite.run({"input": x})
    assert list(by_tflite) == [s.name for s in tflite.outputs]
    np.testing.assert_allclose(by_tflite[tflite.outputs[0].name], by_onnx["output"], atol=1e-5)
    with pytest.raises(InputError, match="takes inputs input"):
        onnx.run({"input": x, "extra": x})
