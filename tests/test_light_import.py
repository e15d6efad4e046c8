"""The inference path must never import TensorFlow or Keras (4+ s and ~500 MB on a device),
and predict imports only what answering takes: not onnx (only `info` reads a graph), not rich
(predict answers with print())."""

import pytest

from .conftest import cli_in_fresh_process, packages_imported


@pytest.mark.parametrize("artifact", ["model.onnx", "model.tflite"])
def test_predict_imports_no_tensorflow_or_keras(untrained, artifact):
    path = untrained("vanilla") / artifact
    for args in (["predict", str(path), "--input", "4,3,6,6,6"], ["info", str(path)]):
        result = cli_in_fresh_process(*args, timeout=120)
        assert result.returncode == 0, result.stderr
        heavy = result.stderr.strip().splitlines()[-1]
        assert heavy == "HEAVY:", heavy


@pytest.mark.parametrize("artifact, runtime", [("model.onnx", "onnxruntime"),
                                               ("model.tflite", "ai_edge_litert")])
def test_predict_imports_its_runtime_and_not_onnx_tensorflow_keras_or_rich(untrained, artifact, runtime):
    result = cli_in_fresh_process("predict", untrained("vanilla") / artifact, "--input", "4,3,6,6,6",
                                  timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().isdigit()
    packages = packages_imported(result)
    assert runtime in packages
    assert packages.isdisjoint({"onnx", "tensorflow", "keras", "tf_keras", "tf2onnx", "rich"}), \
        sorted(packages & {"onnx", "tensorflow", "keras", "tf_keras", "tf2onnx", "rich"})
    # the other runtime is not loaded either: a device may have only one of them
    assert packages.isdisjoint({"onnxruntime", "ai_edge_litert"} - {runtime})
