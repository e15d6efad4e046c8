"""The CLI contract, through typer's test runner and once as a real process."""

import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from edgeseq.cli import app

cli = CliRunner()


def run(*args):
    return cli.invoke(app, [str(a) for a in args])


def test_list_json_names_every_architecture():
    result = run("list", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)["architectures"]
    assert {"architecture": "vanilla", "problem": "echo"}.items() <= rows[0].items()


def test_trained_vanilla_echoes_index_2_on_both_runtimes(trained_vanilla):
    for artifact in ("model.onnx", "model.tflite"):
        result = run("predict", trained_vanilla / artifact, "--input", "4,3,6,6,6")
        assert result.exit_code == 0, result.output
        assert result.stdout.strip() == "6"


def test_predict_example_prints_sequence_expected_predicted(trained_vanilla):
    result = run("predict", trained_vanilla, "--example", "--seed", "3")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["Sequence", "Expected", "Predicted"]
    assert lines[1].split()[-1] == lines[2].split()[-1]


def test_predict_json_is_one_document(trained_vanilla):
    result = run("predict", trained_vanilla / "model.tflite", "--input", "1,2,3,4,5", "--json")
    document = json.loads(result.stdout)
    assert document["prediction"] == 3 and document["runtime"] == "tflite"
    assert len(document["output"]) == 10


def test_predict_runs_a_batch_from_npy(trained_vanilla, tmp_path):
    from edgeseq.problems import Echo

    x, y = Echo().generate(20, np.random.default_rng(5))
    np.save(tmp_path / "x.npy", x)
    result = run("predict", trained_vanilla / "model.onnx", "--input-file", tmp_path / "x.npy")
    assert result.stdout.split() == [str(v) for v in np.argmax(y, -1)]


def test_parity_json_has_the_documented_shape(trained_vanilla):
    result = run("parity", trained_vanilla, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["samples"] == 1000 and report["passed"] is True
    assert report["reference"]["runtime"] == "keras"
    assert report["reference"]["metric"]["name"] == "accuracy"
    assert report["reference"]["metric"]["value"] >= 0.99
    keys = {"runtime", "variant", "artifact", "max_abs", "mean_abs", "p99_abs", "max_rel",
            "min_atol", "argmax_agreement", "metric", "passed"}
    assert {r["runtime"] for r in report["results"]} - {"openvino"} == {"onnx", "tflite"}  # openvino when installed
    for r in report["results"]:
        assert keys <= r.keys()
        assert r["variant"] in ("fp32", "fp32-b64") and r["max_abs"] <= 1e-5 and r["argmax_agreement"] == 1.0


def test_parity_fails_with_exit_1_when_an_artifact_drifts(untrained, tmp_path):
    """A model whose ONNX file no longer matches its Keras weights is caught."""
    import shutil

    import keras

    from edgeseq import manifest
    from edgeseq.atomic import write_json
    from edgeseq.registry import get

    directory = tmp_path / "drifted"
    shutil.copytree(untrained("vanilla"), directory)
    model = keras.saving.load_model(directory / "model.keras")
    model.set_weights([w + 0.01 for w in model.get_weights()])
    model.save(directory / "model.keras")
    document = manifest.load(directory)
    for entry in document["artifacts"]:
        entry.update(manifest.describe_file(directory / entry["file"]))
    write_json(directory / "manifest.json", document)
    result = run("parity", directory, "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["passed"] is False
    assert get("vanilla")


def test_info_counts_ops_and_flags_no_loops(untrained):
    result = run("info", untrained("vanilla") / "model.onnx", "--json")
    document = json.loads(result.stdout)
    assert document["ops"]["LSTM"] == 1 and document["loop_ops"] == {}
    assert document["inputs"][0]["shape"] == [None, 5, 10]
    assert len(document["sha256"]) == 64


@pytest.mark.parametrize("args, message", [
    (["--input", "4,3,6,6"], "expected 5"),
    (["--input", "4,3,6,6,10"], "outside 0..9"),
    (["--input", "a,3,6,6,6"], "not a valid int"),
    (["--input", ""], "expected 5"),
])
def test_bad_input_is_one_line_and_exit_2(untrained, args, message):
    result = run("predict", untrained("vanilla") / "model.onnx", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_bad_model_files_are_one_line_and_exit_2(untrained, tmp_path):
    not_a_model = tmp_path / "model.onnx"
    not_a_model.write_text("hello")
    (tmp_path / "manifest.json").write_text((untrained("vanilla") / "manifest.json").read_text())
    cases = [tmp_path / "missing.onnx", not_a_model, tmp_path / "notes.txt", tmp_path / "nowhere"]
    (tmp_path / "notes.txt").write_text("x")
    for model in cases:
        result = run("predict", model, "--input", "1,2,3,4,5")
        assert result.exit_code == 2, (model, result.output)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.output


def test_a_changed_artifact_is_refused_by_its_checksum(untrained, tmp_path):
    import shutil

    directory = tmp_path / "v"
    shutil.copytree(untrained("vanilla"), directory)
    with open(directory / "model.tflite", "ab") as f:
        f.write(b"\0")
    result = run("predict", directory / "model.tflite", "--input", "1,2,3,4,5")
    assert result.exit_code == 2 and "sha256" in result.stderr


def test_predict_as_a_real_process(trained_vanilla):
    result = subprocess.run(
        [sys.executable, "-m", "edgeseq", "predict", str(trained_vanilla / "model.tflite"),
         "--input", "4,3,6,6,6"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "6"
    bad = subprocess.run(
        [sys.executable, "-m", "edgeseq", "predict", str(trained_vanilla / "model.tflite"),
         "--input", "4,3,x,6,6"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
