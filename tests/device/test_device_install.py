"""The device install: `pip install .` without extras. These run in both venvs: in the
device venv (`make test-device`, EDGESEQ_DEVICE_EXPORTS set) on exports made elsewhere, and
in the development venv on the session's own exports."""

import importlib.util
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edgeseq import registry
from edgeseq.cli import app

ARCHS = list(registry.ARCHITECTURES)
DEVICE = "EDGESEQ_DEVICE_EXPORTS" in os.environ
HAS_TF = importlib.util.find_spec("tensorflow") is not None
cli = CliRunner()


@pytest.fixture(scope="session")
def exports(request):
    if DEVICE:
        return lambda arch: Path(os.environ["EDGESEQ_DEVICE_EXPORTS"]) / arch
    return request.getfixturevalue("untrained")


def run(*args):
    return cli.invoke(app, [str(a) for a in args])


@pytest.mark.skipif(not DEVICE, reason="only in the device venv")
def test_device_venv_has_no_tensorflow_and_runs_the_installed_package():
    assert not HAS_TF and importlib.util.find_spec("keras") is None
    import edgeseq

    assert "site-packages" in edgeseq.__file__, edgeseq.__file__


@pytest.mark.parametrize("runtime", ["onnx", "tflite"])
@pytest.mark.parametrize("arch", ARCHS)
def test_predict_example_runs(exports, arch, runtime):
    result = run("predict", exports(arch) / f"model.{runtime}", "--example", "--json")
    assert result.exit_code == 0, result.output
    assert "prediction" in json.loads(result.stdout)


@pytest.mark.parametrize("arch", ARCHS)
def test_parity_against_the_stored_keras_reference(exports, arch):
    result = run("parity", exports(arch), "--reference", "stored", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["reference"]["runtime"] == "keras-stored"
    assert report["samples"] >= 200 and report["passed"]
    assert {r["runtime"] for r in report["results"]} - {"openvino"} == {"onnx", "tflite"}  # openvino when installed
    assert "stored" in result.stderr


def test_parity_auto_uses_what_is_installed(exports):
    report = json.loads(run("parity", exports("vanilla"), "--json").stdout)
    assert report["reference"]["runtime"] == ("keras" if HAS_TF else "keras-stored")


def test_info_and_generate_run(exports):
    assert run("info", exports("vanilla") / "model.tflite", "--json").exit_code == 0
    result = run("generate", exports("generative"), "--runtime", "tflite", "--json")
    assert result.exit_code == 0 and len(json.loads(result.stdout)["corners"]) == 4


@pytest.mark.skipif(HAS_TF, reason="TensorFlow is installed here")
@pytest.mark.parametrize("command", [["train", "vanilla"], ["export", "vanilla", "--out", "x"]])
def test_train_and_export_name_the_missing_extra(command, tmp_path):
    result = run(*command)
    assert result.exit_code == 2
    assert "[train]" in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(HAS_TF, reason="TensorFlow is installed here")
def test_parity_with_keras_reference_needs_the_extra(exports):
    result = run("parity", exports("vanilla"), "--reference", "keras")
    assert result.exit_code == 2 and "[train]" in result.stderr

