"""The inference path must never import TensorFlow or Keras (4+ s and ~500 MB on a device)."""

import subprocess
import sys

import pytest

PROBE = """
import sys
from edgeseq.cli import app
try:
    app(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf_keras", "tf2onnx"))
print("HEAVY:" + ",".join(heavy), file=sys.stderr)
sys.exit(code)
"""


@pytest.mark.parametrize("artifact", ["model.onnx", "model.tflite"])
def test_predict_imports_no_tensorflow_or_keras(untrained, artifact):
    path = untrained("vanilla") / artifact
    for args in (["predict", str(path), "--input", "4,3,6,6,6"], ["info", str(path)]):
        result = subprocess.run([sys.executable, "-c", PROBE, *args],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        heavy = result.stderr.strip().splitlines()[-1]
        assert heavy == "HEAVY:", heavy
