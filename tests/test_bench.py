"""`edgeseq bench` and the floor models it compares against. Real runtimes, real worker
processes, few calls; no assertion on a time (machines are noisy), only on shape and sense."""

from __future__ import annotations

import importlib.util
import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from edgeseq import manifest
from edgeseq.cli import app
from edgeseq.measure import flops, graph
from edgeseq.runtimes import open_runner

from .conftest import cli_in_fresh_process

KEYS = {"runtime", "variant", "p50_us", "p99_us", "throughput_per_s", "batch_throughput_per_s",
        "load_ms", "bytes", "floor_p50_us", "peak_rss_mb", "macs", "flops", "flops_uncounted",
        "roofline_us", "p50_over_roofline", "gflops_per_s", "batch_gflops_per_s"}
HAS_TF = importlib.util.find_spec("tensorflow") is not None
HAS_OPENVINO = importlib.util.find_spec("openvino") is not None



def bench_process(*args, timeout=600):
    return cli_in_fresh_process("bench", *args, timeout=timeout)


@pytest.fixture(scope="module")
def benched(untrained, tmp_path_factory):
    """One `bench --json --plot` run on the untrained vanilla export, shared by the tests."""
    directory = untrained("vanilla")
    plot = tmp_path_factory.mktemp("bench") / "bench.png"
    result = bench_process(directory, "--json", "--calls", 50, "--keras-calls", 5,
                           "--batch", 8, "--plot", plot)
    assert result.returncode == 0, result.stderr
    return directory, json.loads(result.stdout), result.stderr, plot


def test_export_publishes_floor_models_listed_and_checksummed(untrained):
    directory = untrained("vanilla")
    floors = {a["file"]: a for a in manifest.load(directory)["artifacts"]
              if a.get("variant") == "floor"}
    assert {f: a["format"] for f, a in floors.items()} == {"floor.onnx": "onnx",
                                                            "floor.tflite": "tflite"}
    x = np.random.default_rng(0).random((3, 5, 10), dtype=np.float32)
    for name, entry in floors.items():
        assert entry["sha256"] == manifest.sha256(directory / name)
        runner = open_runner(directory / name, floor_ok=True)
        assert runner.inputs[0].name == "input"
        assert runner.inputs[0].shape[1:] == (5, 10)
        # identity-like: the input comes back unchanged, flattened, through exactly one op
        np.testing.assert_array_equal(runner.run_array(x), x.reshape(3, -1))
        assert sum(graph.op_counts(directory / name, runner.runtime).values()) == 1
    assert open_runner(directory / "floor.onnx", floor_ok=True).inputs[0].shape[0] is None  # dynamic batch
    assert open_runner(directory / "floor.tflite", floor_ok=True).inputs[0].shape[0] == 1  # like model.tflite


def test_bench_json_has_a_row_per_runtime_and_artifact(benched):
    directory, document, _, _ = benched
    # the batch-N file is no row of its own (it gives tflite fp32 its batch throughput)
    artifacts = [a for a in manifest.load(directory)["artifacts"]
                 if a["format"] in ("onnx", "tflite") and manifest.is_window_model(a)]
    expected = {(a["format"], a["variant"]) for a in artifacts}
    if HAS_OPENVINO:  # OpenVINO reads model.onnx (no IR in this export)
        expected.add(("openvino", "fp32"))
    if HAS_TF:
        expected |= {("keras-call", "fp32"), ("keras-predict", "fp32")}
    rows = {(r["runtime"], r["variant"]): r for r in document["results"]}
    assert set(rows) == expected and len(document["results"]) == len(expected)
    sizes = {a["format"]: a["bytes"] for a in artifacts}
    sizes["openvino"] = sizes["onnx"]
    for (runtime, _), r in rows.items():
        assert KEYS <= r.keys(), KEYS - r.keys()
        for key in ("p50_us", "p99_us", "throughput_per_s", "batch_throughput_per_s",
                    "load_ms", "bytes", "floor_p50_us", "p50_over_floor", "peak_rss_mb"):
            assert r[key] > 0, (runtime, key, r[key])
        assert r["p99_us"] >= r["p50_us"]
        assert r["batch"] == 8
        if runtime.startswith("keras"):
            assert r["calls"] == 5 and r["bytes"] == (directory / "model.keras").stat().st_size
        else:
            assert r["calls"] == 50 and r["bytes"] == sizes[runtime]
            if runtime == "openvino":  # model.onnx through OpenVINO, floor.onnx its floor; no step model
                assert r["file"] == "model.onnx" and r["floor_file"] == "floor.onnx" and r["step_file"] is None
                continue
            # the step model beside its window model: the per-new-sample speedup
            assert r["step_file"] == f"model.step.{runtime}" and r["step_p50_us"] > 0
            assert r["window_over_step"] == pytest.approx(r["p50_us"] / r["step_p50_us"])
            assert r["floor_source"] == "manifest" and r["floor_file"] == f"floor.{runtime}"
    assert document["machine"]["cpus"] >= 1 and document["calls"] == 50


def test_every_row_runs_in_its_own_process_and_device_rows_import_no_tensorflow(benched):
    _, document, stderr, _ = benched
    pids = [r["pid"] for r in document["results"]]
    assert len(set(pids)) == len(pids)
    for r in document["results"]:
        if r["runtime"] in ("onnx", "tflite", "openvino"):
            assert r["heavy_modules"] == [], r
        else:
            assert "tensorflow" in r["heavy_modules"]
    # nor does the parent process that ran them
    assert stderr.strip().splitlines()[-1] == "HEAVY:"


def test_roofline_is_the_floor_plus_the_graphs_flops_at_the_measured_peak(benched):
    directory, document, _, _ = benched
    peak = document["peak"]
    assert peak["gflops_per_s"] > 0 and peak["source"] in peak["kernels"]
    # one BLAS thread in the peak's own worker, whatever this process has
    assert set(peak["blas_threads_env"].values()) == {"1"}
    assert peak["gflops_per_s"] == max(k["best_gflops_per_s"] for k in peak["kernels"].values())
    onnx_cost = flops.count(directory / "model.onnx", "onnx")
    for r in document["results"]:
        expected = onnx_cost if r["runtime"].startswith("keras") or r["runtime"] == "openvino" else \
            flops.count(directory / r["file"], r["runtime"])
        assert (r["macs"], r["flops"]) == (expected.macs, expected.flops), r
        assert r["flops_uncounted"] == {}
        assert r["roofline_us"] == pytest.approx(r["floor_p50_us"] + r["flops"] / peak["gflops_per_s"] / 1e3)
        assert r["roofline_us"] > r["floor_p50_us"]
        assert r["p50_over_roofline"] == pytest.approx(r["p50_us"] / r["roofline_us"])
        assert r["gflops_per_s"] == pytest.approx(r["flops"] / r["p50_us"] / 1e3)
        assert r["batch_gflops_per_s"] == pytest.approx(r["flops"] * r["batch_throughput_per_s"] / 1e9)


def test_bench_plot_is_a_png(benched):
    _, _, _, plot = benched
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_table_skips_keras_without_model_keras_and_shows_the_roofline(untrained, tmp_path):
    directory = tmp_path / "device"
    shutil.copytree(untrained("vanilla"), directory)
    (directory / "model.keras").unlink()
    result = bench_process(directory, "--calls", 20, "--batch", 4)
    assert result.returncode == 0, result.stderr
    assert "skipped keras-call and keras-predict" in result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("onnx ") for line in lines), result.stdout
    assert any(line.startswith("tflite ") for line in lines), result.stdout
    assert not any(line.startswith("keras") for line in lines)
    assert "roof" in result.stdout and "GFLOP/s" in result.stdout
    assert any(line.startswith("peak: ") for line in lines), result.stdout


cli = CliRunner()


def test_bench_bad_directories_are_one_line_and_exit_2(tmp_path):
    for directory, message in ((tmp_path / "nowhere", "not found"),
                               (tmp_path, "no manifest.json")):
        result = cli.invoke(app, ["bench", str(directory)])
        assert result.exit_code == 2, result.output
        assert message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.output


def test_bench_refuses_a_changed_floor_model(untrained, tmp_path):
    directory = tmp_path / "changed"
    shutil.copytree(untrained("vanilla"), directory)
    (directory / "model.keras").unlink()  # no Keras rows: keep it quick
    with open(directory / "floor.onnx", "ab") as f:
        f.write(b"\0")
    result = bench_process(directory, "--calls", 5)
    assert result.returncode == 2, result.stderr
    assert "sha256" in result.stderr and "Traceback" not in result.stderr


def test_parity_and_info_leave_floor_models_out(untrained):
    directory = untrained("vanilla")
    info = json.loads(cli.invoke(app, ["info", str(directory), "--json"]).stdout)
    assert {a["file"] for a in info["artifacts"]} == {"model.onnx", "model.tflite", "model.b64.tflite"}
    # LSTM(25) on 5×10 and Dense(10), 17,750 MACs (see test_flops); the unrolled batch file
    # does 4·25·25 fewer: the converter folds away the first step's product with h0 = 0
    assert {a["file"]: a["macs"] for a in info["artifacts"]} == {
        "model.onnx": 17750, "model.tflite": 17750, "model.b64.tflite": 17750 - 4 * 25 * 25}
    result = cli.invoke(app, ["parity", str(directory), "--samples", "50", "--json"])
    assert result.exit_code == 0, result.output
    assert {r["variant"] for r in json.loads(result.stdout)["results"]} == {"fp32", "fp32-b64"}
