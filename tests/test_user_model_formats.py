"""A user's model as users have it: several inputs and outputs, a variable time axis, .h5,
SavedModel, custom layers, and quantized variants gated without a task of edgeseq's own."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from edgeseq import manifest
from edgeseq.cli import app

from .test_user_models import _custom_layer_model

cli = CliRunner()


def run(*args):
    return cli.invoke(app, [str(a) for a in args])


def one_line(result) -> bool:
    return len(result.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    import keras
    import tf_keras
    from keras import layers as L

    tmp = tmp_path_factory.mktemp("user-formats")
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    paths = {}
    seq, side = keras.Input((6, 3), name="seq"), keras.Input((4,), name="side")
    merged = L.Concatenate()([L.LSTM(5)(seq), side])
    two = keras.Model([seq, side], [L.Dense(3, activation="softmax", name="label")(merged),
                                    L.Dense(1, name="level")(merged)])
    two.save(paths.setdefault("two_io", tmp / "two_io.keras"))
    np.savez(paths.setdefault("two_io_calib", tmp / "two_io_calib.npz"),
             seq=rng.random((40, 6, 3), dtype=np.float32), side=rng.random((40, 4), dtype=np.float32))
    frames = keras.Input((None, 3), name="frames")
    keras.Model(frames, L.Dense(2)(L.LSTM(4)(frames))).save(paths.setdefault("variable", tmp / "variable.keras"))
    np.save(paths.setdefault("variable_calib", tmp / "variable_calib.npy"), rng.random((40, 10, 3), dtype=np.float32))
    x = keras.Input((5, 2))
    keras.Model(x, L.Dense(1)(L.GRU(4)(x))).save(paths.setdefault("h5", tmp / "gru.h5"))
    keras2 = tf_keras.Sequential([tf_keras.layers.LSTM(4, input_shape=(6, 3)), tf_keras.layers.Dense(2)])
    keras2.save(paths.setdefault("saved_model", tmp / "keras2_saved_model"))
    return paths


def test_two_inputs_and_two_outputs_keep_their_names_in_every_format(files, tmp_path):
    out = tmp_path / "two"
    result = run("export", files["two_io"], "--out", out, "--calibration-file", files["two_io_calib"],
                 "-q", "int8", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    # rebuilt in tf_keras from its functional graph: the LSTM fuses, and full int8 converts
    # (the Keras 3 WHILE route crashed the converter in int8)
    tflite = manifest.entry(document, "model.tflite")
    assert tflite["fused"] and tflite["recurrent_ops"] == {"UNIDIRECTIONAL_SEQUENCE_LSTM": 1}
    int8 = [r for r in document["parity"]["results"] + document["rejected"]
            if (r["runtime"], r["variant"]) == ("tflite", "int8")]
    assert int8 and "converter" not in (int8[0].get("reason") or "")
    assert [i["name"] for i in document["inputs"]] == ["seq", "side"]
    assert [o["name"] for o in document["outputs"]] == ["label", "level"]
    for r in (r for r in document["parity"]["results"] if r["variant"] == "fp32"):
        assert r["passed"] and set(r["outputs"]) == {"label", "level"}
        assert all(o["max_abs"] <= 1e-5 for o in r["outputs"].values())
    for artifact in ("model.onnx", "model.tflite"):
        info = json.loads(run("info", out / artifact, "--json").stdout)
        # names, not positions, are the contract: a SavedModel signature (hence TFLite's)
        # lists dict outputs sorted by name (tf.nest sorts dict keys)
        assert sorted(i["name"] for i in info["inputs"]) == ["seq", "side"]
        assert sorted(o["name"] for o in info["outputs"]) == ["label", "level"]
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "x.npz", seq=rng.random((3, 6, 3), dtype=np.float32), side=rng.random((3, 4), dtype=np.float32))
    answers = [json.loads(run("predict", out / a, "--input-file", tmp_path / "x.npz", "--json").stdout)["outputs"]
               for a in ("model.onnx", "model.tflite")]
    assert set(answers[0]) == {"label", "level"}
    assert np.allclose(answers[0]["label"], answers[1]["label"], atol=1e-5)
    np.savez(tmp_path / "wrong.npz", seq=rng.random((3, 6, 3), dtype=np.float32))
    wrong = run("predict", out / "model.onnx", "--input-file", tmp_path / "wrong.npz")
    assert wrong.exit_code == 2 and "side" in wrong.stderr and one_line(wrong)
    assert run("parity", out).exit_code == 0
    bench = run("bench", out, "--calls", "5", "--keras-calls", "1", "--batch", "2", "--json")
    assert bench.exit_code == 0, bench.output
    assert {r["runtime"] for r in json.loads(bench.stdout)["results"]} >= {"onnx", "tflite", "keras-call"}


def test_a_variable_time_axis_stays_dynamic_in_onnx_and_is_fixed_in_tflite(files, tmp_path):
    out = tmp_path / "var"
    result = run("export", files["variable"], "--out", out, "--calibration-file", files["variable_calib"], "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["sequence_length"] == 10 and document["variable_length"]
    lengths = {r["length"]: r for r in document["parity"]["lengths"]}
    assert set(lengths) == {1, 10, 23} and all(r["passed"] and r["max_abs"] <= 1e-5 for r in lengths.values())
    np.save(tmp_path / "short.npy", np.random.default_rng(2).random((2, 5, 3), dtype=np.float32))
    assert run("predict", out / "model.onnx", "--input-file", tmp_path / "short.npy").exit_code == 0
    refused = run("predict", out / "model.tflite", "--input-file", tmp_path / "short.npy")
    assert refused.exit_code == 2 and "sequence length" in refused.stderr and one_line(refused)
    no_length = run("export", files["variable"], "--out", tmp_path / "none")
    assert no_length.exit_code == 2 and "--sequence-length" in no_length.stderr and one_line(no_length)
    fixed = run("export", files["variable"], "--out", tmp_path / "fixed", "--format", "tflite",
                "--sequence-length", "4", "--json")
    assert fixed.exit_code == 0, fixed.output
    assert json.loads(fixed.stdout)["sequence_length"] == 4


def test_legacy_h5_exports(files, tmp_path):
    result = run("export", files["h5"], "--out", tmp_path / "h5", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["source_format"] == "h5"
    assert all(r["passed"] and r["max_abs"] <= 1e-5 for r in document["parity"]["results"])


@pytest.mark.parametrize("target", ["directory", "saved_model.pb"])
def test_a_saved_model_exports_and_says_whether_its_lstm_fused(files, tmp_path, target):
    path = files["saved_model"] if target == "directory" else files["saved_model"] / "saved_model.pb"
    result = run("export", path, "--out", tmp_path / "sm", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["source_format"] == "saved_model"
    assert all(r["passed"] and r["max_abs"] <= 1e-5 for r in document["parity"]["results"])
    tflite = manifest.entry(document, "model.tflite")
    # written by Keras 2: its LSTM functions carry the attribute the converter fuses on
    assert tflite["fused"] and "UNIDIRECTIONAL_SEQUENCE_LSTM" in tflite["route"]
    assert run("parity", tmp_path / "sm").exit_code == 0  # no model.keras: the stored reference


def test_custom_objects_module_loads_a_registered_layer_only_with_unsafe(tmp_path):
    path = _custom_layer_model(tmp_path)
    refused = run("export", path, "--out", tmp_path / "out", "--custom-objects", tmp_path / "scale_shift.py")
    assert refused.exit_code == 2 and "--unsafe" in refused.stderr and one_line(refused)
    accepted = run("export", path, "--out", tmp_path / "out", "--custom-objects", tmp_path / "scale_shift.py",
                   "--unsafe", "--json")
    assert accepted.exit_code == 0, accepted.output
    assert all(r["passed"] for r in json.loads(accepted.stdout)["parity"]["results"])
    # tf_keras has no ScaleShift: the Keras 3 route, and the route says why
    tflite = manifest.entry(json.loads(accepted.stdout), "model.tflite")
    assert tflite["route"].startswith("Keras 3") and tflite["fused"] is False
    assert "no tf_keras twin: layer 'scale_shift' (ScaleShift) has no tf_keras counterpart" in tflite["route"]
    # later, in a process that never imported the module: the stored Keras outputs still judge
    import keras

    keras.saving.get_custom_objects().pop("user>ScaleShift", None)
    keras_reference = run("parity", tmp_path / "out", "--reference", "keras")
    assert keras_reference.exit_code == 2 and "--reference stored" in keras_reference.stderr
    assert one_line(keras_reference)
    assert run("parity", tmp_path / "out", "--reference", "stored").exit_code == 0


def _trained_classifier(tmp_path):
    """A classifier that has learnt something: an untrained softmax is near-uniform, and top-1
    agreement between near-ties says nothing about quantization."""
    import keras
    from keras import layers as L

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((600, 8, 3), dtype=np.float32)
    y = (x[:, :, 0].mean(1) > 0.5).astype(int) + (x[:, :, 1].mean(1) > 0.5).astype(int)
    inputs = keras.Input((8, 3))
    model = keras.Model(inputs, L.Dense(3, activation="softmax")(L.LSTM(16)(inputs)))
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    model.save(tmp_path / "classifier.keras")
    np.save(tmp_path / "calib.npy", x[:400])
    np.save(tmp_path / "labels.npy", y[:400])
    return tmp_path / "classifier.keras"


def test_quantized_user_model_is_gated_on_fidelity_or_on_labels(tmp_path):
    path = _trained_classifier(tmp_path)
    result = run("export", path, "--out", tmp_path / "q", "--calibration-file", tmp_path / "calib.npy",
                 "-q", "dynamic", "-q", "int8", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    judged = document["parity"]["results"] + document["rejected"]
    quantized = [r for r in judged if r["variant"] != "fp32"]
    assert {(r["runtime"], r["variant"]) for r in quantized} >= {("onnx", "int8"), ("tflite", "int8")}
    for r in quantized:  # every variant judged, and a gate failure says so
        assert r["passed"] or r["reason"]
        if r.get("metric"):
            assert r["metric"]["name"] == "top1_agreement"
    assert any(r["passed"] for r in quantized), quantized
    labelled = run("export", path, "--out", tmp_path / "ql", "--calibration-file", tmp_path / "calib.npy",
                   "--labels", tmp_path / "labels.npy", "--metric", "accuracy", "-q", "int8", "--json")
    assert labelled.exit_code == 0, labelled.output
    reference = json.loads(labelled.stdout)["parity"]["reference"]["metric"]
    assert reference["name"] == "accuracy" and reference["value"] > 0.5
