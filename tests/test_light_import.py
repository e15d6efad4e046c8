"""The inference path must never import TensorFlow or Keras (4+ s and ~500 MB on a device),
and predict imports only what answering takes: not onnx (only `info` reads a graph), not rich
(predict answers with print()), not the other commands' modules (cold start, issue 15)."""

import subprocess
import sys

import numpy as np
import pytest

from edgeseq.cli import COMMANDS

from .conftest import cli_in_fresh_process, edgeseq_modules_imported, packages_imported


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
    # What only a file reader or writer needs is imported where it reads or writes (about 1 ms
    # each of the cold start); LiteRT's runner captures fd 2 in a temporary file.
    assert "zipfile" not in packages
    assert runtime != "onnxruntime" or "tempfile" not in packages



@pytest.mark.parametrize("command", ["predict", "stream"])
def test_a_device_command_imports_its_own_command_module_and_no_other(untrained, tmp_path, command):
    export = untrained("vanilla")
    if command == "predict":
        args = ["predict", export / "model.onnx", "--input", "4,3,6,6,6"]
    else:
        np.save(tmp_path / "steps.npy", np.eye(10, dtype=np.float32)[[4, 3, 6, 6, 6]])
        args = ["stream", export, "--input-file", tmp_path / "steps.npy"]
    result = cli_in_fresh_process(*args, timeout=120)
    assert result.returncode == 0, result.stderr
    commands = edgeseq_modules_imported(result) & set(COMMANDS.values())
    assert commands == {COMMANDS[command]}, sorted(commands)


def test_importing_the_cli_imports_no_numpy_so_predict_can_ask_openblas_for_one_thread():
    """cli.main sets OPENBLAS_NUM_THREADS for predict and stream before their module imports
    numpy; a numpy imported by `edgeseq.cli` itself would have started the pool already."""
    probe = "import sys, edgeseq.cli; print('numpy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
