"""Issue 21's seams: what a fresh export meets in `edgeseq parity`, `bench` and `predict` with
inputs the rest of the suite does not have — a runtime edgeseq adds on its own that cannot load
the model, and a variable-length model whose first layer needs several steps."""

import importlib.util
import json

import pytest

from .conftest import cli_in_fresh_process, stderr_lines

HAS_OPENVINO = importlib.util.find_spec("openvino") is not None


def save(path, build):
    import keras

    keras.utils.set_random_seed(0)
    model = build(keras, keras.layers)
    model.save(path)
    return path


@pytest.fixture(scope="module")
def bidirectional_gru(tmp_path_factory):
    """A user's Bidirectional(GRU): tf2onnx writes its GRUs as Loops, which onnxruntime and
    LiteRT run and OpenVINO 2026.4 cannot read ("loop body graph canonical inputs size")."""
    tmp = tmp_path_factory.mktemp("bigru")

    def build(keras, L):
        inputs = keras.Input((6, 3))
        return keras.Model(inputs, L.Dense(2, activation="softmax")(L.Bidirectional(L.GRU(4))(inputs)))

    model = save(tmp / "bigru.keras", build)
    result = cli_in_fresh_process("export", model, "--optimize", "none", "--out", tmp / "export")
    assert result.returncode == 0, result.stderr
    return tmp / "export"


def no_traceback(result):
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr


@pytest.mark.skipif(not HAS_OPENVINO, reason="the [openvino] extra is not installed")
def test_parity_reports_openvino_that_cannot_load_the_model_as_a_row_and_passes(bidirectional_gru):
    result = cli_in_fresh_process("parity", bidirectional_gru, "--samples", "50", "--json")
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["passed"]
    assert {r["runtime"] for r in report["results"]} == {"onnx", "tflite"}
    (row,) = report["not_run"]
    assert row["runtime"] == "openvino" and row["gated"] is False and row["artifact"] == "model.onnx"
    assert row["reason"].startswith("cannot load: ") and "Loop" in row["reason"]
    assert "\n" not in row["reason"]

    table = cli_in_fresh_process("parity", bidirectional_gru, "--samples", "50")
    assert table.returncode == 0, table.stderr
    assert "not gated" in table.stdout and "openvino: cannot load" in " ".join(table.stdout.split())


@pytest.mark.skipif(not HAS_OPENVINO, reason="the [openvino] extra is not installed")
def test_bench_skips_openvino_that_cannot_load_the_model_in_one_line(bidirectional_gru):
    result = cli_in_fresh_process("bench", bidirectional_gru, "--calls", "5", "--keras-calls", "1", "--json")
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert "openvino" not in {r["runtime"] for r in document["results"]}
    assert any(line.startswith("openvino") and "Loop" in line for line in document["skipped"])


@pytest.mark.skipif(not HAS_OPENVINO, reason="the [openvino] extra is not installed")
@pytest.mark.parametrize("command", [
    ("predict", "{d}", "--runtime", "openvino", "--input-file", "{x}"),
    ("compare", "{d}/model.onnx", "openvino:{d}/model.onnx"),
])
def test_asking_for_openvino_by_name_on_a_model_it_cannot_load_is_refused_in_one_line(
        bidirectional_gru, tmp_path, command):
    import numpy as np

    np.save(tmp_path / "x.npy", np.zeros((2, 6, 3), np.float32))
    result = cli_in_fresh_process(*(part.format(d=bidirectional_gru, x=tmp_path / "x.npy") for part in command))
    no_traceback(result)
    assert result.returncode == 2, result.stderr
    said = stderr_lines(result)
    assert len(said) == 1 and "not a model OpenVINO can load" in said[0], said


@pytest.mark.skipif(not HAS_OPENVINO, reason="the [openvino] extra is not installed")
def test_a_model_every_optional_runtime_runs_is_checked_by_each_and_openvino_reports_beside(tmp_path):
    """Every optional format and runtime installed here: the ORT file and the OpenVINO IR
    are the export's own artifacts (gated); OpenVINO on model.onnx is edgeseq's addition."""
    def build(keras, L):
        inputs = keras.Input((5, 3))
        return keras.Model(inputs, L.Dense(2)(L.LSTM(4)(inputs)))

    model = save(tmp_path / "small.keras", build)
    result = cli_in_fresh_process("export", model, "--optimize", "none", "--out", tmp_path / "export",
                                  "--format", "onnx", "--format", "tflite", "--format", "ort",
                                  "--format", "openvino")
    assert result.returncode == 0, result.stderr
    result = cli_in_fresh_process("parity", tmp_path / "export", "--samples", "50", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    rows = {(r["runtime"], r["artifact"]): r for r in report["results"]}
    assert {("onnx", "model.onnx"), ("tflite", "model.tflite"), ("ort", "model.ort"),
            ("openvino", "model.xml"), ("openvino", "model.onnx")} <= set(rows)
    assert rows[("openvino", "model.onnx")]["gated"] is False
    assert "gated" not in rows[("openvino", "model.xml")]  # asked for at export: gated
    assert all(r["passed"] for r in rows.values()) and "not_run" not in report


def test_variable_length_parity_starts_at_the_shortest_length_the_model_takes(tmp_path):
    """Conv1D(8, 3) → LSTM on (None, 8): 1 step is too few for the kernel (Keras refuses it),
    2 steps Keras answers wrongly (a 2-step convolution output) and onnxruntime refuses; the
    check starts at 3."""
    def build(keras, L):
        inputs = keras.Input((None, 8))
        return keras.Model(inputs, L.Dense(1)(L.LSTM(4)(L.Conv1D(8, 3)(inputs))))

    model = save(tmp_path / "conv_lstm.keras", build)
    result = cli_in_fresh_process("export", model, "--sequence-length", "10", "--optimize", "none",
                                  "--out", tmp_path / "export", "--json")
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    lengths = json.loads(result.stdout)["parity"]["lengths"]
    assert [r["length"] for r in lengths] == [3, 10, 23]
    assert all(r["passed"] and r["max_abs"] <= 1e-5 for r in lengths)
    assert "E:onnxruntime" not in result.stderr  # its refusals while probing are not printed
