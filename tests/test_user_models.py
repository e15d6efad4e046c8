"""A user's own .keras file: exported with the same parity gate, or refused with one line."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from edgeseq import manifest
from edgeseq.cli import app

cli = CliRunner()


def run(*args):
    return cli.invoke(app, [str(a) for a in args])


def save(tmp_path, name, layers, shape, dtype="float32", functional_outputs=None):
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape, dtype=dtype)
    x = inputs
    for layer in layers:
        x = layer(x)
    model = keras.Model(inputs, functional_outputs(inputs, x) if functional_outputs else x)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from keras import layers as L

    tmp = tmp_path_factory.mktemp("user-models")
    return {
        "lstm": save(tmp, "lstm", [L.LSTM(8, return_sequences=True), L.Dropout(0.1), L.LSTM(4),
                                   L.Dense(2)], (6, 3)),
        "gru": save(tmp, "gru", [L.GRU(8), L.Dense(3, activation="softmax")], (6, 3)),
        "embedding": save(tmp, "embedding", [L.Embedding(30, 4), L.LSTM(4), L.Dense(1, activation="sigmoid")],
                          (9,), dtype="int32"),
        "lambda": save(tmp, "lambda", [L.Lambda(lambda x: x * 2), L.LSTM(4), L.Dense(1)], (5, 2)),
        "masked_time_distributed": save(tmp, "masked_td", [L.Masking(0.0), L.TimeDistributed(L.Dense(4), name="td"),
                                                            L.LSTM(4), L.Dense(1)], (6, 3)),
        "branches": save(tmp, "branches", [], (5, 2), functional_outputs=lambda i, _: L.Dense(1)(
            L.Concatenate()([L.LSTM(4)(i), L.LSTM(3)(i)]))),
        "two_outputs": save(tmp, "two_outputs", [L.LSTM(4)], (5, 2),
                            functional_outputs=lambda i, x: [L.Dense(1)(x), L.Dense(2)(x)]),
    }


def test_lstm_model_exports_both_formats_within_tolerance(models, tmp_path):
    result = run("export", models["lstm"], "--out", tmp_path / "lstm", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["source"] == "user model" and document["problem"]["name"] == "user_inputs"
    for r in document["parity"]["results"]:
        assert r["passed"] and r["max_abs"] <= 1e-5
    onnx = manifest.entry(document, "model.onnx")
    assert onnx["recurrent_ops"] == {"LSTM": 2} and onnx["fused"]
    # a chain of standard layers is rebuilt in tf_keras for TFLite: both LSTMs fuse
    tflite = manifest.entry(document, "model.tflite")
    assert tflite["recurrent_ops"] == {"UNIDIRECTIONAL_SEQUENCE_LSTM": 2} and tflite["fused"]
    assert tflite["loop_ops"] == {} and tflite["route"].startswith("tf_keras twin")
    x = np.random.default_rng(0).random((4, 6, 3)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    outputs = [json.loads(run("predict", tmp_path / "lstm" / f"model.{rt}", "--input-file",
                              tmp_path / "x.npy", "--json").stdout)["predictions"]
               for rt in ("onnx", "tflite")]
    assert np.allclose(outputs[0], outputs[1], atol=1e-5)
    assert run("parity", tmp_path / "lstm").exit_code == 0


def test_gru_exports_as_loops_and_passes_parity(models, tmp_path):
    result = run("export", models["gru"], "--out", tmp_path / "gru", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert manifest.entry(document, "model.onnx")["loop_ops"] == {"Loop": 1}
    assert manifest.entry(document, "model.tflite")["loop_ops"] == {"WHILE": 1}


def test_branches_are_rebuilt_in_tf_keras_so_both_lstms_fuse(models, tmp_path):
    np.save(tmp_path / "x.npy", np.random.default_rng(1).random((100, 5, 2), dtype=np.float32))
    result = run("export", models["branches"], "--out", tmp_path / "branches", "--calibration-file",
                 tmp_path / "x.npy", "-q", "int8", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert all(r["passed"] for r in document["parity"]["results"])
    assert not [r for r in document["rejected"] if r["runtime"] == "tflite"], document["rejected"]
    # the two LSTMs feed a CONCATENATION, whose int8 scale the converter gives their outputs
    # but not their states: lstm_state_scale.py realigns them, else each step misreads h
    int8 = manifest.entry(document, "model.int8.tflite")
    assert int8["route_form"] == "fused" and int8["lstm_state_aligned_to_output"] >= 1
    assert _lstm_state_scales((tmp_path / "branches" / "model.int8.tflite").read_bytes()) == "aligned"
    tflite = manifest.entry(document, "model.tflite")
    assert tflite["route"].startswith("tf_keras twin") and tflite["fused"]
    assert tflite["recurrent_ops"] == {"UNIDIRECTIONAL_SEQUENCE_LSTM": 2} and tflite["loop_ops"] == {}
    assert manifest.entry(document, "model.onnx")["recurrent_ops"] == {"LSTM": 2}
    # a user's model has one candidate per format (no builder to unroll it), and says so
    routes = document["routes"]["tflite"]
    assert [c["route"] for c in routes["candidates"]] == ["fused", "unrolled"]
    assert routes["chosen"] == "fused" and routes["candidates"][1]["skipped"]
    assert routes["why"] == "the only candidate that converted and passed parity"
    assert tflite["route_form"] == "fused"


def test_embedding_inputs_are_token_ids_within_the_vocabulary(models, tmp_path):
    result = run("export", models["embedding"], "--out", tmp_path / "emb", "--json")
    assert result.exit_code == 0, result.output
    params = json.loads(result.stdout)["problem"]["params"]
    assert params["dtype"] == "int32" and params["vocab"] == 30
    np.save(tmp_path / "ids.npy", np.array([[1, 2, 3, 4, 5, 6, 7, 8, 29]], dtype=np.int32))
    assert run("predict", tmp_path / "emb" / "model.tflite", "--input-file", tmp_path / "ids.npy").exit_code == 0
    np.save(tmp_path / "oov.npy", np.array([[1, 2, 3, 4, 5, 6, 7, 8, 30]], dtype=np.int32))
    bad = run("predict", tmp_path / "emb" / "model.onnx", "--input-file", tmp_path / "oov.npy")
    assert bad.exit_code == 2 and "vocabulary" in bad.stderr


def test_calibration_file_supplies_the_parity_inputs(models, tmp_path):
    data = np.random.default_rng(3).normal(size=(50, 6, 3)).astype(np.float32)
    np.save(tmp_path / "calib.npy", data)
    result = run("export", models["lstm"], "--out", tmp_path / "calib", "--calibration-file",
                 tmp_path / "calib.npy", "--json")
    assert result.exit_code == 0, result.output
    with np.load(tmp_path / "calib" / "reference.npz") as ref:
        assert all(any(np.array_equal(row, d) for d in data) for row in ref["inputs"][:5])


def test_lambda_is_refused_unless_unsafe(models, tmp_path):
    refused = run("export", models["lambda"], "--out", tmp_path / "lam")
    assert refused.exit_code == 2 and "--unsafe" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "lam" / "manifest.json").exists()
    accepted = run("export", models["lambda"], "--out", tmp_path / "lam", "--unsafe")
    assert accepted.exit_code == 0, accepted.output


@pytest.mark.parametrize("case, message", [
    ("missing", "not found"),
    ("not_a_model", "not a loadable Keras model"),
])
def test_unexportable_files_are_one_line_exit_2(models, tmp_path, case, message):
    path = models.get(case, tmp_path / f"{case}.keras")
    if case == "not_a_model":
        path.write_text("not a zip")
    result = run("export", path, "--out", tmp_path / "out")
    assert result.exit_code == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_quantizing_a_user_model_needs_calibration_data(models, tmp_path):
    result = run("export", models["lstm"], "--out", tmp_path / "q", "-q", "int8")
    assert result.exit_code == 2 and "--calibration-file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_masked_time_distributed_keeps_the_mask_when_folded_for_onnx(models, tmp_path):
    # zero-padded tails: the LSTM must skip them in every format (without the mask the
    # outputs differ by ~0.17 here), while the ONNX export folds TimeDistributed
    x = np.random.default_rng(0).random((200, 6, 3)).astype(np.float32)
    x[:, 4:] = 0
    np.save(tmp_path / "x.npy", x)
    result = run("export", models["masked_time_distributed"], "--out", tmp_path / "out",
                 "--calibration-file", tmp_path / "x.npy", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert manifest.entry(document, "model.onnx")["time_distributed_folded"] == ["td"]
    assert all(r["passed"] and r["max_abs"] <= 1e-5 for r in document["parity"]["results"])


def test_error_text_keeps_the_cause_of_a_long_message():
    from edgeseq.error_text import cause

    keras_message = ("<class 'Functional'> could not be deserialized properly. " + "advice " * 80
                     + "Exception encountered: Could not locate class 'ScaleShift'. Make sure custom "
                     "classes are decorated. Full object config: {" + "'x': 1, " * 300 + "}")
    line = cause(keras_message)
    assert "Could not locate class 'ScaleShift'" in line and len(line) <= 240 and "\n" not in line
    mlir = ("loc(fused[...]): " + "x" * 400 + " 'tf.TensorListReserve' op requires element_shape to be "
            "static during TF Lite transformation pass")
    assert "'tf.TensorListReserve' op requires element_shape" in cause(mlir)
    assert cause("short") == "short"


def test_a_missing_custom_class_is_named_in_one_line(tmp_path):
    path = _custom_layer_model(tmp_path)
    result = run("export", path, "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert "Could not locate class 'ScaleShift'" in result.stderr and "--custom-objects" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_refusals_after_tensorflow_loads_print_one_stderr_line(tmp_path):
    # a fresh process: TensorFlow's start-up logging goes to the real stderr, not to
    # CliRunner's capture
    import subprocess
    import sys

    path = _custom_layer_model(tmp_path)
    done = subprocess.run([sys.executable, "-m", "edgeseq", "export", str(path), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()], done.stderr
    assert "ScaleShift" in done.stderr


def test_tflite_route_says_what_the_file_holds(models, tmp_path):
    # quantized too (one export for both tests): full int8 of a WHILE form crashes the
    # converter (tensorflow/tensorflow#75140), so the int8 file comes from the unrolled form
    np.save(tmp_path / "x.npy", np.random.default_rng(1).random((100, 6, 3), dtype=np.float32))
    result = run("export", models["gru"], "--out", tmp_path / "gru", "--calibration-file", tmp_path / "x.npy",
                 "-q", "int8", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    tflite = manifest.entry(document, "model.tflite")
    assert tflite["fused"] is False and tflite["recurrence"] == "loop"
    assert "WHILE" in tflite["route"] and "fused" not in tflite["route"]
    info = json.loads(run("info", tmp_path / "gru" / "model.tflite", "--json").stdout)
    assert info["recurrence"] == tflite["recurrence"] and info["fused"] == tflite["fused"]
    _gru_int8_comes_from_the_unrolled_form_and_passes_its_gate(document)


def _gru_int8_comes_from_the_unrolled_form_and_passes_its_gate(document):
    assert not [r for r in document["rejected"] if r["runtime"] == "tflite" and r["variant"] == "int8"], \
        document["rejected"]
    int8 = manifest.entry(document, "model.int8.tflite")
    assert int8["route_form"] == "unrolled" and "75140" in int8["why_this_form"]
    assert int8["recurrence"] == "none" and int8["loop_ops"] == {}  # nothing left to crash the calibrator
    result = next(r for r in document["parity"]["results"] if r["artifact"] == "model.int8.tflite")
    assert result["passed"] and result["metric"]["name"] == "top1_agreement" and result["metric"]["value"] >= 0.98
    # integer-only hardware runs no fp32 file: kept though larger than its form's fp32 file
    assert result["fp32_bytes"] > 0 and result["bytes"] == int8["bytes"]
    # info and the parity table size it against that recorded file, whichever way they ask
    for asked in (result, {"artifact": "model.int8.tflite", "runtime": "tflite"}):
        assert manifest.variant_bytes(document, asked) == (
            int8["bytes"], int8["bytes"] / result["fp32_bytes"], "unrolled")


CUSTOM_LAYER_SOURCE = '''
import keras


@keras.saving.register_keras_serializable(package="user")
class ScaleShift(keras.layers.Layer):
    def __init__(self, scale=2.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def build(self, shape):
        self.shift = self.add_weight(shape=(shape[-1],), initializer="ones")

    def call(self, x):
        return x * self.scale + self.shift

    def get_config(self):
        return super().get_config() | {"scale": self.scale}
'''


def _custom_layer_model(tmp_path):
    """A .keras file whose layer class lives in a module the loading process has not imported."""
    import importlib.util

    import keras
    from keras import layers as L

    module_path = tmp_path / "scale_shift.py"
    module_path.write_text(CUSTOM_LAYER_SOURCE)
    spec = importlib.util.spec_from_file_location("scale_shift", module_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    keras.utils.set_random_seed(0)
    inputs = keras.Input((5, 2))
    model = keras.Model(inputs, L.Dense(1)(L.LSTM(4)(module.ScaleShift(name="scale_shift")(inputs))))
    path = tmp_path / "custom.keras"
    model.save(path)
    # unregister, so that loading in this process fails as it would in a fresh one
    keras.saving.get_custom_objects().pop("user>ScaleShift", None)
    return path


def _lstm_state_scales(flatbuffer: bytes) -> str:
    """Whether every int8 fused LSTM's state and hidden intermediate share its output's scale."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(flatbuffer, 0))
    tensors = model.subgraphs[0].tensors
    lstms = [op for op in model.subgraphs[0].operators
             if model.operatorCodes[op.opcodeIndex].builtinCode == schema.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM]
    assert lstms
    for op in lstms:
        wanted = tensors[op.outputs[0]].quantization
        for index in (op.inputs[18], op.intermediates[4]):
            got = tensors[index].quantization
            if list(got.scale) != list(wanted.scale) or list(got.zeroPoint) != list(wanted.zeroPoint):
                return "misaligned"
    return "aligned"


def test_held_out_rows_are_drawn_evenly_and_never_calibrate():
    """The gate's samples weight every held-out row alike (1,000 draws of 50 rows: 20 each), so
    one row near a decision boundary counts 1/50, not whatever a draw with replacement gave it."""
    from edgeseq.problems.user_inputs import UserInputs

    rows = np.arange(200, dtype=np.float32).reshape(200, 1, 1)
    problem = UserInputs(shape=(1, 1), calibration=rows)
    held, _ = problem.generate(1000, np.random.default_rng(0))
    counts = np.unique(held.ravel(), return_counts=True)[1]
    assert len(counts) == 50 and set(counts) == {20}
    calibrating, _ = problem.representative(300, np.random.default_rng(0))
    assert not set(held.ravel()) & set(calibrating.ravel())
    assert set(np.unique(calibrating.ravel(), return_counts=True)[1]) == {2}  # 150 rows, twice each
