"""The TFLite batch-N variant (export --batch, default 64): gated like every fp32 file, and
used for batches of at least N rows by predict --input-file and bench."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from edgeseq import manifest, registry
from edgeseq.measure import graph
from edgeseq.runtimes import open_runner

from .conftest import ARCHS, cli_in_fresh_process


@pytest.mark.parametrize("arch", ARCHS)
def test_batch_64_file_is_published_and_passes_the_fp32_gate(untrained, arch):
    document = manifest.load(untrained(arch))
    entry = manifest.entry(document, "model.b64.tflite")
    assert entry["variant"] == "fp32-b64" and entry["batch"] == 64
    result = next(r for r in document["parity"]["results"] if r["artifact"] == "model.b64.tflite")
    assert result["passed"] and result["gate"] == "tolerance", result
    assert result["min_atol"] <= document["tolerance"]["atol"]
    # unrolled: no loop, and GEMM-shaped ops XNNPACK runs at batch 64
    ops = graph.op_counts(untrained(arch) / "model.b64.tflite", "tflite")
    assert "WHILE" not in ops and ops["FULLY_CONNECTED"] >= 1, ops


def test_batch_file_runs_any_row_count_like_the_batch_1_file(untrained):
    directory = untrained("stacked")
    x, _ = registry.get("stacked").problem.generate(100, np.random.default_rng(3))  # 64 + 36
    batched = open_runner(directory / "model.b64.tflite")
    assert batched.inputs[0].shape[0] == 64
    np.testing.assert_allclose(batched.run_array(x), open_runner(directory / "model.tflite").run_array(x),
                               atol=1e-5, rtol=1e-5)
    assert batched.run_array(x[:5]).shape == (5, 5)


def test_predict_runs_big_files_through_the_batch_file_and_small_ones_row_by_row(untrained, tmp_path):
    directory = untrained("vanilla")
    x, _ = registry.get("vanilla").problem.generate(70, np.random.default_rng(4))
    answers = {}
    for rows in (70, 3):
        np.save(tmp_path / f"x{rows}.npy", x[:rows])
        result = cli_in_fresh_process("predict", directory / "model.tflite", "--input-file",
                                      tmp_path / f"x{rows}.npy", "--json", timeout=120)
        assert result.returncode == 0, result.stderr
        document = json.loads(result.stdout)
        answers[rows] = (document["model"].rsplit("/", 1)[-1], document["predictions"])
    assert answers[70][0] == "model.b64.tflite" and answers[3][0] == "model.tflite"
    assert answers[70][1][:3] == answers[3][1]
    onnx = open_runner(directory / "model.onnx").run_array(x)
    assert answers[70][1] == [int(v) for v in np.argmax(onnx, -1)]


def test_bench_takes_tflite_batch_throughput_from_the_batch_file(untrained, tmp_path):
    directory = tmp_path / "device"
    shutil.copytree(untrained("vanilla"), directory)
    (directory / "model.keras").unlink()  # no Keras rows: keep it quick
    result = cli_in_fresh_process("bench", directory, "--calls", 5, "--batch", 64, "--json")
    assert result.returncode == 0, result.stderr
    rows = {(r["runtime"], r["variant"]): r for r in json.loads(result.stdout)["results"]}
    # OpenVINO's row, when its extra is installed, runs model.onnx: not this test's subject
    assert set(rows) - {("openvino", "fp32")} == {("onnx", "fp32"), ("tflite", "fp32")}
    assert rows["tflite", "fp32"]["batch_file"] == "model.b64.tflite"
    assert rows["onnx", "fp32"]["batch_file"] == "model.onnx"


def test_export_batch_1_writes_no_batch_file(tmp_path):
    from edgeseq.exporters.pipeline import export_untrained

    document = export_untrained(registry.get("generative"), tmp_path, batch=1, formats=("tflite",))
    assert not any(a.get("batch") for a in document["artifacts"])
    assert not list(tmp_path.glob("model.b*.tflite"))
