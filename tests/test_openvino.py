"""OpenVINO as a third runtime: the same model.onnx, held to the same fp32 gate."""

import json
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from edgeseq import registry
from edgeseq.checks.parity import Tolerance, check
from edgeseq.cli import app
from edgeseq.runtimes import open_runner

from .conftest import ARCHS

cli = CliRunner()


def run(*args):
    return cli.invoke(app, [str(a) for a in args])


@pytest.mark.parametrize("arch", ARCHS)
def test_openvino_matches_keras_on_1000_consecutive_inputs(untrained, arch):
    pytest.importorskip("openvino")
    directory = untrained(arch)
    runner = open_runner(directory / "model.onnx", "openvino")
    assert runner.runtime == "openvino" and "32" in runner.precision
    report = check(registry.get(arch).problem, open_runner(directory / "model.keras"),
                   [("fp32", runner)], samples=1000, seed=99, tolerance=Tolerance())
    result = report["results"][0]
    assert result["passed"], result.get("reason")
    assert result["max_abs"] <= 1e-5


def test_openvino_takes_any_batch_and_gives_the_same_row_either_way(untrained):
    pytest.importorskip("openvino")
    runner = open_runner(untrained("bidirectional") / "model.onnx", "openvino")
    x, _ = registry.get("bidirectional").problem.generate(9, np.random.default_rng(0))
    batch = runner.run_array(x)
    assert batch.shape == (9, 10, 1)
    assert np.allclose(runner.run_array(x[4:5]), batch[4:5], atol=1e-6, rtol=0)


def test_openvinos_own_default_precision_is_rejected_by_the_gate_where_it_is_bf16(untrained):
    """On CPUs with bf16 (AMX, AVX512-BF16) OpenVINO's default is bf16: the gate must say so."""
    ov = pytest.importorskip("openvino")
    if "BF16" not in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
        pytest.skip("this CPU has no bf16: OpenVINO's default is f32 here")
    directory = untrained("stacked")
    runner = open_runner(directory / "model.onnx", "openvino", precision="default")
    assert "bf16" in runner.precision or "bfloat16" in runner.precision
    report = check(registry.get("stacked").problem, open_runner(directory / "model.keras"),
                   [("fp32", runner)], samples=200, seed=3)
    assert not report["passed"] and "exceeds atol" in report["results"][0]["reason"]


def test_parity_and_predict_and_compare_run_openvino_beside_the_others(untrained):
    pytest.importorskip("openvino")
    directory = untrained("vanilla")
    parity = run("parity", directory, "--samples", 200, "--json")
    assert parity.exit_code == 0, parity.output
    rows = {r["runtime"]: r for r in json.loads(parity.stdout)["results"]}
    assert set(rows) == {"onnx", "tflite", "openvino"} and rows["openvino"]["artifact"] == "model.onnx"
    predicted = run("predict", directory, "--runtime", "openvino", "--input", "4,3,6,6,6", "--json")
    expected = run("predict", directory, "--input", "4,3,6,6,6", "--json")
    assert predicted.exit_code == 0, predicted.output
    assert json.loads(predicted.stdout)["prediction"] == json.loads(expected.stdout)["prediction"]
    compared = run("compare", directory / "model.onnx", f"openvino:{directory / 'model.onnx'}",
                   "--samples", 100, "--json")
    assert compared.exit_code == 0 and json.loads(compared.stdout)["results"][0]["runtime"] == "openvino"


@pytest.mark.parametrize("command", ["predict", "compare"])
def test_a_missing_openvino_names_the_extra_in_one_line_exit_2(untrained, monkeypatch, command):
    onnx_file = untrained("vanilla") / "model.onnx"
    monkeypatch.setitem(sys.modules, "openvino", None)  # import openvino now fails, as if absent
    monkeypatch.delitem(sys.modules, "edgeseq.runtimes.openvino_runner", raising=False)
    args = {"predict": ["predict", onnx_file, "--runtime", "openvino", "--input", "4,3,6,6,6"],
            "compare": ["compare", onnx_file, f"openvino:{onnx_file}"]}[command]
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert "[openvino]" in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def ir_export(optional_formats):
    """vanilla (seeded, untrained) exported with --format openvino (and ort): model.onnx and the IR."""
    pytest.importorskip("openvino")
    return optional_formats


def test_export_format_openvino_writes_the_fp32_ir_listed_and_parity_gated(ir_export):
    from edgeseq import manifest

    document = manifest.load(ir_export)
    files = {a["file"]: a for a in document["artifacts"]}
    assert {"model.onnx", "model.xml", "model.bin"} <= set(files) and "model.tflite" not in files
    for name in ("model.xml", "model.bin"):
        assert files[name]["sha256"] == manifest.sha256(ir_export / name)
    assert files["model.xml"]["format"] == "openvino" and files["model.xml"]["weights"] == "model.bin"
    assert "compress_to_fp16=False" in files["model.xml"]["route"]
    # fp32 weights: LSTM(25) and Dense(10) hold 3,860 floats; fp16 would be half the bytes
    assert files["model.bin"]["bytes"] >= 4 * 3860
    row = next(r for r in document["parity"]["results"] if r["artifact"] == "model.xml")
    assert row["runtime"] == "openvino" and row["passed"] and row["max_abs"] <= 1e-5


def test_predict_parity_and_compare_run_the_ir_and_runtime_openvino_picks_it(ir_export):
    parity = run("parity", ir_export, "--samples", 100, "--json")
    assert parity.exit_code == 0, parity.output
    rows = {(r["runtime"], r["artifact"]) for r in json.loads(parity.stdout)["results"]}
    assert {("openvino", "model.xml"), ("openvino", "model.onnx"), ("onnx", "model.onnx")} <= rows
    predicted = run("predict", ir_export, "--runtime", "openvino", "--input", "4,3,6,6,6", "--json")
    expected = run("predict", ir_export / "model.onnx", "--input", "4,3,6,6,6", "--json")
    assert predicted.exit_code == 0, predicted.output
    answer = json.loads(predicted.stdout)
    assert answer["model"].endswith("model.xml") and answer["runtime"] == "openvino"
    assert answer["prediction"] == json.loads(expected.stdout)["prediction"]
    compared = run("compare", ir_export / "model.onnx", ir_export / "model.xml", "--samples", 100, "--json")
    assert compared.exit_code == 0, compared.output
    assert json.loads(compared.stdout)["results"][0]["runtime"] == "openvino"


def test_bench_runs_openvino_on_the_ir_when_the_export_has_one(ir_export, untrained):
    from edgeseq import manifest
    from edgeseq.measure import bench

    assert bench._openvino_artifact(ir_export, manifest.load(ir_export)) == (
        {"file": "model.xml", "source": "model.onnx"}, None)
    plain = untrained("vanilla")
    assert bench._openvino_artifact(plain, manifest.load(plain)) == (
        {"file": "model.onnx", "source": "model.onnx"}, None)


def test_info_describes_the_ir_and_its_weights_like_the_other_formats(ir_export):
    from edgeseq import manifest

    result = run("info", ir_export, "--json")
    assert result.exit_code == 0, result.output
    described = {d["file"]: d for d in json.loads(result.stdout)["artifacts"]}
    ir, onnx = described["model.xml"], described["model.onnx"]
    assert ir["runtime"] == "openvino" and ir["sha256"] == manifest.sha256(ir_export / "model.xml")
    assert ir["weights"] == manifest.describe_file(ir_export / "model.bin")
    assert ir["inputs"][0]["shape"] == onnx["inputs"][0]["shape"] == [None, 5, 10]
    assert ir["recurrent_ops"] == {"LSTMSequence": 1} and ir["recurrence"] == "fused" and not ir["loop_ops"]
    assert "Parameter" not in ir["ops"] and "Constant" not in ir["ops"]
    # the IR is model.onnx as OpenVINO saved it: the same computation, counted there
    assert (ir["macs"], ir["flops"], ir["counted_on"]) == (onnx["macs"], onnx["flops"], "model.onnx")
    table = run("info", ir_export)
    assert table.exit_code == 0, table.output
    assert "model.xml (openvino)" in table.stdout and "LSTMSequence×1" in table.stdout
    assert f"model.bin: {ir['weights']['bytes']:,} bytes" in table.stdout


def test_a_changed_ir_weights_file_is_refused_in_one_line(ir_export, tmp_path):
    import shutil

    directory = tmp_path / "changed"
    shutil.copytree(ir_export, directory)
    with open(directory / "model.bin", "r+b") as f:
        f.write(b"\1\2\3\4")
    result = run("predict", directory / "model.xml", "--input", "4,3,6,6,6")
    assert result.exit_code == 2 and "model.bin" in result.stderr and "sha256" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_without_openvino_export_and_bench_name_the_extra(untrained, monkeypatch, tmp_path):
    from edgeseq import manifest
    from edgeseq.measure import bench

    monkeypatch.setitem(sys.modules, "openvino", None)  # import openvino now fails, as if absent
    result = run("export", "vanilla", "--out", tmp_path, "--format", "openvino")
    assert result.exit_code == 2, result.output
    assert "[openvino]" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "manifest.json").exists()
    directory = untrained("vanilla")
    artifact, skipped = bench._openvino_artifact(directory, manifest.load(directory))
    assert artifact is None and "pip install 'edgeseq[openvino]'" in skipped
