"""Host↔device parity through golden files. The host writes inputs and Keras's outputs
(`compare model.keras --save-inputs --save-outputs`; tools/device_fixtures.py for the device
run); the device runs `predict --input-file inputs.npz --save-outputs out.npz` without
TensorFlow; the two output files are compared on either side, and on the host against Keras
itself. Runs in both venvs, like test_device_install.py."""

import importlib.util
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from edgeseq import registry
from edgeseq.cli import app

ARCHS = list(registry.ARCHITECTURES)
DEVICE = "EDGESEQ_DEVICE_EXPORTS" in os.environ
HAS_TF = importlib.util.find_spec("tensorflow") is not None
HEAVY = ("tensorflow", "keras", "tf_keras", "tf2onnx")
cli = CliRunner()


def run(*args):
    return cli.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="session")
def golden(request, tmp_path_factory):
    """arch → (export directory, directory with inputs.npz and keras.npz)."""
    if DEVICE:
        root = Path(os.environ["EDGESEQ_DEVICE_EXPORTS"])
        return lambda arch: (root / arch, root / "golden" / arch)
    untrained = request.getfixturevalue("untrained")

    def made(arch):
        directory, files = untrained(arch), tmp_path_factory.getbasetemp() / "golden" / arch
        if not (files / "keras.npz").is_file():
            result = run("compare", directory / "model.keras", "--samples", 64, "--json",
                         "--save-inputs", files / "inputs.npz", "--save-outputs", files / "keras.npz")
            assert result.exit_code == 0, result.output
        return directory, files
    return made


@pytest.mark.parametrize("runtime", ["onnx", "tflite"])
@pytest.mark.parametrize("arch", ARCHS)
def test_device_outputs_match_the_hosts_keras_golden_file(golden, arch, runtime, tmp_path):
    directory, files = golden(arch)
    device_out = tmp_path / "device.npz"
    result = run("predict", directory / f"model.{runtime}", "--input-file", files / "inputs.npz",
                 "--save-outputs", device_out)
    assert result.exit_code == 0, result.output
    assert len(np.load(device_out)[next(iter(np.load(device_out).files))]) == 64

    compared = run("compare", "--load-outputs", files / "keras.npz", "--load-outputs", device_out, "--json")
    assert compared.exit_code == 0, compared.output
    report = json.loads(compared.stdout)
    assert report["passed"] and report["results"][0]["max_abs"] <= 1e-5
    if HAS_TF:  # the host half: Keras itself on the same inputs against the device's file
        host = run("compare", directory / "model.keras", "--load-inputs", files / "inputs.npz",
                   "--load-outputs", device_out, "--json")
        assert host.exit_code == 0, host.output
        assert json.loads(host.stdout)["results"][0]["max_abs"] <= 1e-5


def test_a_device_output_off_by_a_little_fails_the_round_trip(golden, tmp_path):
    directory, files = golden("vanilla")
    run("predict", directory / "model.tflite", "--input-file", files / "inputs.npz",
        "--save-outputs", tmp_path / "device.npz")
    outputs = dict(np.load(tmp_path / "device.npz"))
    name = next(iter(outputs))
    outputs[name][3, 0] += np.float32(1e-3)
    np.savez(tmp_path / "off.npz", **outputs)
    result = run("compare", "--load-outputs", files / "keras.npz", "--load-outputs", tmp_path / "off.npz")
    assert result.exit_code == 1
    assert "1.0e-03" in result.stdout or "1.00e-03" in result.stdout


@pytest.mark.skipif(not DEVICE, reason="only in the device venv")
def test_the_device_half_imports_no_tensorflow(golden, tmp_path):
    directory, files = golden("stacked")
    run("predict", directory / "model.onnx", "--input-file", files / "inputs.npz",
        "--save-outputs", tmp_path / "out.npz")
    run("compare", "--load-outputs", files / "keras.npz", "--load-outputs", tmp_path / "out.npz")
    assert not [m for m in sys.modules if m.split(".")[0] in HEAVY]


@pytest.mark.skipif(importlib.util.find_spec("openvino") is not None, reason="OpenVINO is installed here")
def test_openvino_without_its_extra_is_one_line_exit_2(golden):
    directory, _ = golden("vanilla")
    result = run("predict", directory, "--runtime", "openvino", "--input", "4,3,6,6,6")
    assert result.exit_code == 2
    assert "[openvino]" in result.stderr and len(result.stderr.strip().splitlines()) == 1
