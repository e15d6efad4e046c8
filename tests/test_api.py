"""The Python API (issue 24) against real exports: what a notebook user calls instead of the
CLI, and what it returns."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import edgeseq
from edgeseq import manifest
from edgeseq.errors import EdgeseqError, InputError

from .conftest import cli_in_fresh_process


def test_load_lists_every_manifest_file_as_an_artifact_value(untrained):
    exp = edgeseq.load(untrained("vanilla"))
    listed = manifest.load(untrained("vanilla"))["artifacts"]
    assert [a.file for a in exp.artifacts] == [a["file"] for a in listed]
    by_file = {a.file: a for a in exp.artifacts}
    assert by_file["model.onnx"].kind == "model" and by_file["model.onnx"].gate == "tolerance"
    assert by_file["model.step.tflite"].kind == "step" and by_file["floor.onnx"].kind == "floor"
    assert by_file["model.tflite"].bytes == (untrained("vanilla") / "model.tflite").stat().st_size


@pytest.mark.parametrize("runtime", ["onnx", "tflite"])
def test_predict_gives_what_the_cli_gives_for_the_same_inputs(untrained, tmp_path, runtime):
    directory = untrained("vanilla")
    x, _ = edgeseq.registry.get("vanilla").problem.generate(3, np.random.default_rng(5))
    np.save(tmp_path / "x.npy", x)
    result = cli_in_fresh_process("predict", directory, "--runtime", runtime, "--input-file",
                                  tmp_path / "x.npy", "--json")
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout)["predictions"]  # the echoed ints
    assert edgeseq.load(directory).predict(x, runtime=runtime).argmax(-1).tolist() == answers


def test_stream_steps_carry_state_and_five_steps_answer_as_the_window(untrained):
    exp = edgeseq.load(untrained("vanilla"))
    x, _ = edgeseq.registry.get("vanilla").problem.generate(1, np.random.default_rng(2))
    stream = exp.stream(runtime="tflite")
    for t in range(x.shape[1]):
        answer = stream.step(x[:, t])
    assert np.allclose(answer, exp.predict(x, runtime="tflite"), atol=1e-5)
    stream.reset()
    assert np.array_equal(stream.step(x[:, 0]), exp.stream(runtime="tflite").step(x[:, 0]))


def test_parity_against_stored_outputs_runs_without_tensorflow(untrained):
    code = ("import sys, edgeseq; r = edgeseq.load(sys.argv[1]).parity(samples=20, reference='stored'); "
            "print(r['passed'], 'tensorflow' in sys.modules, 'keras' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code, str(untrained("stacked"))],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False", "False"]


def test_import_edgeseq_and_predict_import_no_tensorflow(untrained):
    code = ("import sys, numpy as np, edgeseq; exp = edgeseq.load(sys.argv[1]); "
            "exp.predict(np.zeros((1, 5, 10), np.float32)); exp.stream().step(np.zeros((1, 10), np.float32)); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'tf_keras')))")
    done = subprocess.run([sys.executable, "-c", code, str(untrained("vanilla"))],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_export_takes_a_keras_model_object_and_its_manifest_matches_the_cli_export(tmp_path):
    """The same model through both doors, each in a fresh process as a user runs them: the
    API with the object in memory, the CLI with it saved. Their manifests differ only in what
    differs between any two runs (the generation, the time, timings), and model.keras, which
    each saves anew (a zip's timestamps)."""
    import keras

    sys.path.insert(0, str(Path(__file__).parents[1] / "tools"))
    from manifest_diff import compare

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4, 3)), keras.layers.LSTM(5), keras.layers.Dense(2)], name="tiny")
    model.save(tmp_path / "tiny.keras")
    result = cli_in_fresh_process("export", tmp_path / "tiny.keras", "--optimize", "none", "--out", tmp_path / "cli")
    assert result.returncode == 0, result.stderr
    code = ("import sys, keras, edgeseq; model = keras.saving.load_model(sys.argv[1]); "
            "exp = edgeseq.export(model, out=sys.argv[2], optimize='none'); "
            "print(type(exp).__name__, exp.manifest['parity']['passed'])")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "tiny.keras"), str(tmp_path / "api")],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["Export", "True"]
    assert [d for d in compare(tmp_path / "cli", tmp_path / "api") if not d.startswith("/artifacts[0]/sha256")] == []


@pytest.mark.parametrize("call, error, words", [
    (lambda: edgeseq.export(42), InputError, "expected a Keras model, a model file or an architecture name"),
    (lambda: edgeseq.export("vanilla", quantize=("int9",)), EdgeseqError, "unknown quantization 'int9'"),
    (lambda: edgeseq.export("vanilla", formats=("pdf",)), EdgeseqError, "unknown format 'pdf'"),
    (lambda: edgeseq.load("/nonexistent/export"), EdgeseqError, "/nonexistent/export"),
])
def test_bad_calls_raise_typed_errors_naming_what_was_wrong(call, error, words):
    with pytest.raises(error, match=None) as raised:
        call()
    assert words in str(raised.value)


def test_an_export_renders_its_artifacts_and_rejected_variants_as_html(quantized_vanilla):
    html = edgeseq.load(quantized_vanilla)._repr_html_()
    assert "<table>" in html and "model.onnx" in html and "model.int8.tflite" in html
    rejected = manifest.load(quantized_vanilla).get("rejected", [])
    for row in rejected:
        assert row["variant"] in html
