"""ORT format (`export --format ort`): model.ort and its operator list, parity-gated."""

import json

import pytest
from typer.testing import CliRunner

from edgeseq import manifest, registry
from edgeseq.checks.parity import Tolerance, check
from edgeseq.cli import app
from edgeseq.exporters.onnx import to_ort
from edgeseq.runtimes import open_runner

from .conftest import ARCHS

cli = CliRunner()


@pytest.fixture(scope="module")
def ort_export(optional_formats):
    return optional_formats  # vanilla with --format ort (and the OpenVINO IR, shared with its tests)


def test_export_format_ort_writes_model_ort_and_its_operator_list(ort_export):
    document = manifest.load(ort_export)
    files = {a["file"]: a for a in document["artifacts"]}
    assert {"model.onnx", "model.ort", "required_operators.config"} <= set(files)
    assert "model.tflite" not in files  # only what was asked, and the onnx it is made from
    for name in ("model.ort", "required_operators.config"):
        assert files[name]["sha256"] == manifest.sha256(ort_export / name)
    assert files["model.ort"]["format"] == "ort" and "Fixed" in files["model.ort"]["route"]
    operators = (ort_export / "required_operators.config").read_text()
    assert "LSTM" in operators and "/tmp" not in operators
    ort_row = next(r for r in document["parity"]["results"] if r["runtime"] == "ort")
    assert ort_row["passed"] and ort_row["max_abs"] <= 1e-5


def test_parity_and_predict_run_the_ort_file(ort_export):
    parity = cli.invoke(app, ["parity", str(ort_export), "--samples", "200", "--json"])
    assert parity.exit_code == 0, parity.output
    assert "ort" in {r["runtime"] for r in json.loads(parity.stdout)["results"]}
    answer = cli.invoke(app, ["predict", str(ort_export / "model.ort"), "--input", "4,3,6,6,6"])
    onnx_answer = cli.invoke(app, ["predict", str(ort_export / "model.onnx"), "--input", "4,3,6,6,6"])
    assert answer.exit_code == 0 and answer.stdout == onnx_answer.stdout


@pytest.mark.parametrize("arch", ARCHS)
def test_ort_format_matches_keras_on_every_architecture(untrained, arch, tmp_path):
    directory = untrained(arch)
    to_ort.convert(directory / "model.onnx", tmp_path / "model.ort")
    report = check(registry.get(arch).problem, open_runner(directory / "model.keras"),
                   [("fp32", open_runner(tmp_path / "model.ort"))], samples=300, seed=5,
                   tolerance=Tolerance())
    assert report["results"][0]["runtime"] == "ort"
    assert report["passed"], report["results"][0].get("reason")


def test_an_unknown_format_is_one_line_exit_2(tmp_path):
    result = cli.invoke(app, ["export", "vanilla", "--out", str(tmp_path), "--format", "coreml"])
    assert result.exit_code == 2 and "coreml" in result.stderr
