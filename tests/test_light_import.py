"""The inference path must never import TensorFlow or Keras (4+ s and ~500 MB on a device)."""

import pytest

from .conftest import cli_in_fresh_process


@pytest.mark.parametrize("artifact", ["model.onnx", "model.tflite"])
def test_predict_imports_no_tensorflow_or_keras(untrained, artifact):
    path = untrained("vanilla") / artifact
    for args in (["predict", str(path), "--input", "4,3,6,6,6"], ["info", str(path)]):
        result = cli_in_fresh_process(*args, timeout=120)
        assert result.returncode == 0, result.stderr
        heavy = result.stderr.strip().splitlines()[-1]
        assert heavy == "HEAVY:", heavy
