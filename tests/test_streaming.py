"""Step models (issue 11): streamed step by step from the zero state they answer as Keras does,
on the real artifacts and runtimes; `edgeseq stream` works in a pipe."""

import functools
import json
import subprocess
import sys

import numpy as np
import pytest

from edgeseq import manifest, registry
from edgeseq.checks import stream_parity
from edgeseq.runtimes import open_runner
from edgeseq.streaming import Stream, open_stream, step_runner

from .conftest import cli_in_fresh_process, stderr_lines

STREAMABLE = ["vanilla", "stacked", "cnn_lstm", "generative", "encoder_decoder"]
RUNTIMES = ["onnx", "tflite"]
ATOL = RTOL = 1e-5


def keras_references(directory):
    import keras

    from edgeseq.exporters.step import step_export, step_model

    model = keras.saving.load_model(directory / "model.keras", compile=False)
    return step_export.references(model, step_model.plan(model))


@functools.cache
def stream_references(directory):
    """Keras on 200 sequences and a 1,000-step stream, once per export (both runtimes use it)."""
    return stream_parity.references(manifest_problem(directory), sequences=200, long_steps=1000,
                                    seed=7, **keras_references(directory))


def manifest_problem(directory):
    return registry.problem_from_manifest(manifest.load(directory))


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("arch", STREAMABLE)
def test_step_model_streamed_from_zeros_matches_keras_at_every_step_over_a_long_stream_and_a_reset(
        untrained, arch, runtime):
    directory = untrained(arch)
    section = manifest.load(directory)["streaming"]
    report = stream_parity.compare(manifest_problem(directory), section, stream_references(directory),
                                   [("fp32", step_runner(directory / f"model.step.{runtime}", section))])
    result = report["results"][0]
    assert result["passed"], result.get("reason")
    assert result["sequences"] >= 200 and result["long_stream"]["steps"] >= 1000
    for part in ("every_step", "window", "long_stream"):
        assert result[part]["min_atol"] <= ATOL, part
    assert result["long_stream"]["well_conditioned"]  # untrained weights: not chaotic
    assert result["long_stream"]["gate"] == "anchored"
    anchored = result["anchored"]  # the step from each of Keras's 1,000 states
    assert anchored["steps"] >= 1000
    assert anchored["output"]["min_atol"] <= ATOL and anchored["state"]["min_atol"] <= ATOL
    assert anchored["decision_agreement"] in (None, 1.0)
    assert result["reset_exact"]
    if result["decision_agreement"] is not None:
        assert result["decision_agreement"] == 1.0


class _Faulty:
    """A step runner whose next state is spoilt a little at every step, as a real bug would
    (a state that decays, a state kept in float16): each step alone is nearly right, so only
    a long stream can tell."""

    def __init__(self, runner, section, spoil):
        self.runner, self.spoil, self._next = runner, spoil, section["state"]["output"]
        self.runtime, self.path = runner.runtime, runner.path
        self.inputs, self.outputs = runner.inputs, runner.outputs

    def infer(self, feed):
        outputs = dict(self.runner.infer(feed))
        outputs[self._next] = self.spoil(outputs[self._next]).astype(np.float32)
        return outputs


@pytest.mark.parametrize("spoil, name", [
    (lambda state: state * (1 - 1e-3), "decays by 1e-3 a step"),
    (lambda state: state.astype(np.float16), "kept in float16"),
])
@pytest.mark.parametrize("arch", ["stacked", "generative"])
def test_a_step_model_whose_state_drifts_fails_the_long_stream_from_keras_states(untrained, arch, spoil, name):
    directory = untrained(arch)
    section = manifest.load(directory)["streaming"]
    faulty = _Faulty(step_runner(directory / "model.step.onnx", section), section, spoil)
    report = stream_parity.compare(manifest_problem(directory), section, stream_references(directory),
                                   [("fp32", faulty)])
    result = report["results"][0]
    assert not result["passed"], name
    assert "1000-step stream from Keras's states: state" in result["reason"], result["reason"]
    # the anchored error is far past the tolerance, not on its edge
    assert result["anchored"]["state"]["min_atol"] > 10 * ATOL


def test_the_long_stream_judges_the_same_artifact_alike_on_every_seed(untrained):
    """The gate must not be a draw: the anchored error of a correct step model stays within a
    small fraction of atol whatever stream the seed gives."""
    directory = untrained("stacked")
    section = manifest.load(directory)["streaming"]
    runner = step_runner(directory / "model.step.tflite", section)
    refs = keras_references(directory)
    for seed in (1, 2, 3):
        report = stream_parity.check(manifest_problem(directory), section, sequences=4, seed=seed,
                                     candidates=[("fp32", runner)], **refs)
        anchored = report["results"][0]["anchored"]
        assert report["passed"], report["results"][0].get("reason")
        assert max(anchored["output"]["min_atol"], anchored["state"]["min_atol"]) < ATOL / 10


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_reset_mid_stream_returns_exactly_to_the_zero_state_outputs(untrained, runtime):
    directory = untrained("stacked")
    inputs, _ = registry.get("stacked").problem.generate(2, np.random.default_rng(3))
    stream = open_stream(directory, runtime)
    fresh = stream.run(inputs[1:])
    stream.run(inputs[:1])
    assert not np.array_equal(stream.run(inputs[1:]), fresh)  # the state carries over...
    stream.reset()
    assert np.array_equal(stream.run(inputs[1:]), fresh)  # ...until the reset


@pytest.mark.parametrize("arch", STREAMABLE)
def test_manifest_lists_step_models_with_sha256_and_names_one_packed_state(untrained, arch):
    directory = untrained(arch)
    document = manifest.load(directory)
    section = document["streaming"]
    assert section["streams"] and section["parity"]["passed"]
    assert section["state"]["reset"] == "zeros"
    assert section["artifacts"] == {"onnx": "model.step.onnx", "tflite": "model.step.tflite"}
    for file in section["artifacts"].values():
        entry = manifest.entry(document, file)
        assert entry["step"] and entry["sha256"] == manifest.sha256(directory / file)
        runner = open_runner(directory / file)
        # one step and one packed state in; the output and the next state out
        assert [s.name for s in runner.inputs] in (["step", "state"], ["state", "step"])
        assert {s.name for s in runner.outputs} == {"output", "next_state"}
        state = next(s for s in runner.inputs if s.name == "state")
        assert state.shape[1] == section["state"]["size"] == sum(
            span["c"][1] - span["h"][0] for span in section["state"]["layout"])
        # weights folded into constants: no variable reads per call
        assert not {"VAR_HANDLE", "READ_VARIABLE"} & set(entry["ops"]), entry["ops"]
    decoder = section.get("decoder")
    assert (decoder is not None) == (arch == "encoder_decoder")
    if decoder:  # the decoder beside the encoder's step model: stateless, one call
        assert decoder["stateless"] and decoder["artifacts"] == {"onnx": "model.decode.onnx",
                                                                 "tflite": "model.decode.tflite"}
        for file in decoder["artifacts"].values():
            entry = manifest.entry(document, file)
            assert entry["step"] and entry["sha256"] == manifest.sha256(directory / file)
            runner = open_runner(directory / file)
            assert [s.name for s in runner.inputs] == ["encoded"] and runner.outputs[0].name == "output"
            # loop-free, no variable tensors, and no TILE (TFLite Micro has no TILE kernel)
            assert not {"TILE", "WHILE", "UNIDIRECTIONAL_SEQUENCE_LSTM", "VAR_HANDLE", "Loop",
                        "LSTM"} & set(entry["ops"]), entry["ops"]


@pytest.mark.parametrize("arch, why", [("bidirectional", "cannot stream")])
def test_models_that_cannot_stream_say_why_in_one_line_and_write_no_step_model(untrained, arch, why):
    directory = untrained(arch)
    section = manifest.load(directory)["streaming"]
    assert section["streams"] is False and why in section["reason"]
    assert not list(directory.glob("model.step.*"))
    result = cli_in_fresh_process("stream", directory, "--input-file", directory / "nothing.npy")
    assert result.returncode == 2
    message = stderr_lines(result)
    assert len(message) == 1 and why in message[0]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_encoder_decoder_decoded_after_a_prefix_equals_keras_on_that_prefix(untrained, runtime):
    import keras

    directory = untrained("encoder_decoder")
    model = keras.saving.load_model(directory / "model.keras", compile=False)
    # the same trained layers on a variable-length input: Keras's answer on any prefix
    prefix_model = keras.models.clone_model(model, input_tensors=keras.Input((None, 12)))
    prefix_model.set_weights(model.get_weights())
    inputs, _ = registry.get("encoder_decoder").problem.generate(4, np.random.default_rng(11))
    stream = open_stream(directory, runtime, batch=4)
    streamed = stream.run(inputs)  # (4, 8, 2, 12): the decoded answer after every step
    for t in (1, 3, 8):
        expected = np.asarray(prefix_model(inputs[:, :t], training=False))
        assert np.allclose(streamed[:, t - 1], expected, atol=ATOL, rtol=RTOL), t
    window = open_runner(directory / f"model.{runtime}").run_array(inputs)
    assert np.allclose(streamed[:, -1], window, atol=ATOL, rtol=RTOL)


def test_encoder_decoder_streams_a_sum_character_by_character_in_a_pipe(untrained):
    directory = untrained("encoder_decoder")
    problem = registry.get("encoder_decoder").problem
    question = "  10+3+7"  # right-aligned in 8 characters, as predict encodes it
    window = open_runner(directory / "model.onnx").run_array(problem.encode(question.strip()))
    process = stream_process(directory, "--json")
    try:
        for t, char in enumerate(question):
            process.stdin.write(("" if char == " " else char) + "\n")  # an empty line: a space
            process.stdin.flush()
            answer = json.loads(process.stdout.readline())
            assert answer["step"] == t + 1 and len(answer["output"]) == 2 * 12
        assert answer["answer"] == problem.decode(window)[0]
        assert np.allclose(answer["output"], window.ravel(), atol=1e-6)
        process.stdin.write("ab\n")
        process.stdin.close()
        assert process.wait(timeout=60) == 2
        assert "line 9: expected one character" in process.stderr.read()
    finally:
        process.kill()


@pytest.mark.parametrize("arch", ["stacked", "encoder_decoder"])
def test_parity_against_the_stored_reference_reports_step_rows_without_tensorflow(untrained, arch):
    directory = untrained(arch)
    document = manifest.load(directory)
    entry = manifest.entry(document, "stream_reference.npz")
    assert entry["step"] and entry["sequences"] == 32 and entry["long_steps"] >= 1000
    result = cli_in_fresh_process("parity", directory, "--reference", "stored", "--samples", "20", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "HEAVY:"
    streaming = json.loads(result.stdout)["streaming"]
    assert streaming["passed"] and streaming["sequences"] == 32
    assert {r["runtime"] for r in streaming["results"]} == {"onnx", "tflite"}
    exported = {r["runtime"]: r for r in document["streaming"]["parity"]["results"]}
    for r in streaming["results"]:  # the same Keras numbers as the export's own gate
        assert r["every_step"]["max_abs"] <= exported[r["runtime"]]["every_step"]["max_abs"]
        assert r["long_stream"]["max_abs"] == exported[r["runtime"]]["long_stream"]["max_abs"]
        assert r["long_stream"]["keras_vs_float64"] == exported[r["runtime"]]["long_stream"]["keras_vs_float64"]
        assert r["anchored"] == exported[r["runtime"]]["anchored"]  # Keras's states, stored
        assert r["reset_exact"]


def stream_process(*args):
    return subprocess.Popen([sys.executable, "-m", "edgeseq", "stream", *map(str, args)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, bufsize=1)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_stream_answers_each_line_in_a_pipe_before_the_next_is_written(untrained, runtime):
    directory = untrained("stacked")
    series = np.linspace(0.0, 1.0, 60, dtype=np.float32)
    expected = open_stream(directory, runtime).run(series.reshape(1, -1, 1))[0]
    process = stream_process(directory, "--runtime", runtime, "--json", "--reset-every", "50")
    try:
        for t, value in enumerate(series):
            process.stdin.write(f"{float(value)!r}\n")
            process.stdin.flush()
            answer = json.loads(process.stdout.readline())  # blocks until this step's answer
            assert answer["step"] == t + 1
            if t < 50:  # after the reset at step 51 the fresh state answers differently
                assert np.allclose(answer["output"], expected[t], atol=1e-6)
        assert answer["since_reset"] == 10
        process.stdin.close()
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()


@pytest.mark.parametrize("line, message", [
    ("0.1,0.2", "line 3: expected 1 comma-separated"),
    ("zero", "line 3: 'zero' is not a valid float"),
    ("nan", "line 3: 'nan' is not a finite number"),
])
def test_a_bad_line_is_a_one_line_error_naming_it_and_earlier_answers_stand(untrained, line, message):
    result = subprocess.run([sys.executable, "-m", "edgeseq", "stream", untrained("stacked")],
                            input=f"0.5\n0.25\n{line}\n0.75\n", capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    errors = [e for e in result.stderr.splitlines() if not e.startswith("INFO:")]
    assert len(errors) == 1 and message in errors[0] and "Traceback" not in result.stderr
    assert len(result.stdout.splitlines()) == 2  # the two good lines were answered


def test_stream_imports_no_tensorflow(untrained, tmp_path):
    directory = untrained("vanilla")
    steps = np.eye(10, dtype=np.float32)[[4, 3, 6, 6, 6]]
    np.save(tmp_path / "steps.npy", steps)
    result = cli_in_fresh_process("stream", directory, "--input-file", tmp_path / "steps.npy", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "HEAVY:"
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    window = open_runner(directory / "model.onnx").run_array(steps[np.newaxis])
    assert len(answers) == 5
    assert np.allclose(answers[-1]["output"], window[0], atol=1e-6)  # a full window: its answer


def test_stream_class_carries_state_for_a_batch_of_streams(untrained):
    directory = untrained("vanilla")
    runner = open_runner(directory / "model.step.onnx")
    section = manifest.load(directory)["streaming"]
    inputs, _ = registry.get("vanilla").problem.generate(3, np.random.default_rng(0))
    together = Stream(runner, section, batch=3).run(inputs)
    alone = np.concatenate([Stream(runner, section).run(inputs[i:i + 1]) for i in range(3)])
    assert np.allclose(together, alone, atol=1e-6)


@pytest.fixture(scope="module")
def generative_with_biases(tmp_path_factory):
    """A generative export whose untrained weights include nonzero biases: from (0,0) a zero-
    bias LSTM answers (0,0) forever, which would make any two rollouts agree."""
    import keras

    from edgeseq.exporters.pipeline import export
    from edgeseq.training import save

    arch = registry.get("generative")
    keras.utils.set_random_seed(5)
    model = arch.build(keras)
    rng = np.random.default_rng(5)
    model.set_weights([w + rng.normal(0, 0.3, w.shape).astype(np.float32) for w in model.get_weights()])
    directory = tmp_path_factory.mktemp("generative-biased")
    save(model, directory / "model.keras")
    export(arch, directory, log=lambda _: None)
    return directory


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_generate_drives_the_step_model_and_draws_the_same_corners_as_the_window_model(
        generative_with_biases, runtime):
    directory = generative_with_biases
    result = cli_in_fresh_process("generate", directory, "--runtime", runtime, "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["ran"] == f"model.step.{runtime}"
    window = registry.get("generative").problem.rollout(
        open_runner(directory / f"model.{runtime}").run_array)
    assert np.abs(window).max() > 0.05  # a rollout that goes somewhere
    assert np.allclose(document["corners"], window, atol=1e-5)


def export_user_model(tmp_path, name, layers, shape, dtype="float32"):
    import keras
    from typer.testing import CliRunner

    from edgeseq.cli import app

    keras.utils.set_random_seed(0)
    inputs = x = keras.Input(shape, dtype=dtype)
    for layer in layers:
        x = layer(x)
    keras.Model(inputs, x).save(tmp_path / f"{name}.keras")
    result = CliRunner().invoke(app, ["export", str(tmp_path / f"{name}.keras"), "--out", str(tmp_path / name)])
    assert result.exit_code == 0, result.output
    return tmp_path / name


def test_a_user_model_with_a_backward_lstm_is_refused_in_one_line(tmp_path):
    from keras import layers as L

    directory = export_user_model(tmp_path, "backward", [L.LSTM(6, go_backwards=True), L.Dense(2)], (5, 3))
    section = manifest.load(directory)["streaming"]
    assert section["streams"] is False and "runs backward" in section["reason"]
    assert not list(directory.glob("model.step.*"))


def test_a_user_sequence_model_of_lstm_gru_and_simple_rnn_streams_every_step_like_keras(tmp_path):
    from keras import layers as L

    # both GRU forms (reset_after decides where the reset gate meets the recurrent matmul)
    directory = export_user_model(tmp_path, "per_step", [
        L.TimeDistributed(L.Dense(5, activation="relu")), L.GRU(6, return_sequences=True),
        L.LSTM(7, return_sequences=True), L.GRU(4, reset_after=False, return_sequences=True),
        L.SimpleRNN(3, return_sequences=True), L.TimeDistributed(L.Dense(2))], (6, 3))
    document = manifest.load(directory)
    section = document["streaming"]
    assert section["streams"] and "every step" in section["valid_output"]
    assert section["state"]["size"] == 6 + 2 * 7 + 4 + 3
    # GRU and SimpleRNN carry h only; the LSTM h then c, packed in layer order
    assert [sorted(span) for span in section["state"]["layout"]] == [
        ["h", "layer"], ["c", "h", "layer"], ["h", "layer"], ["h", "layer"]]
    assert section["state"]["layout"][3]["h"] == [24, 27]
    assert len(section["parity"]["results"]) == 2
    for result in section["parity"]["results"]:
        assert result["passed"] and result["every_step"]["min_atol"] <= ATOL
        assert result["long_stream"]["min_atol"] <= ATOL and result["reset_exact"]
    for file in section["artifacts"].values():  # cells, not loops
        assert not {"WHILE", "Loop", "GRU", "RNN"} & set(manifest.entry(document, file)["ops"])


def test_integer_step_models_are_gated_on_the_streamed_task_metric(quantized_vanilla):
    from edgeseq.checks.parity import metric_gate

    directory = quantized_vanilla  # every variant asked for; int8 and int16x8 have step forms
    document = manifest.load(directory)
    section = document["streaming"]
    reference = section["parity"]["reference"]["metric"]["value"]
    published = section.get("variants", {}).get("tflite", {})
    results = {r["variant"]: r for r in section["parity"]["results"]}
    for rejected in section.get("rejected", []):  # each with its reason, and not on disk
        assert rejected["reason"] and not (directory / f"model.step.{rejected['variant']}.tflite").exists()
        assert "metric" in rejected, rejected["reason"]  # both convert: only the gate may reject
    assert set(published) | {r["variant"] for r in section.get("rejected", [])} == {"int8", "int16x8"}
    problem = registry.get("vanilla").problem
    for variant, file in published.items():
        entry = manifest.entry(document, file)
        assert entry["step"] and entry["sha256"] == manifest.sha256(directory / file)
        assert metric_gate(problem.metric, reference, results[variant]["metric"]["value"]) is None
        assert results[variant]["reset_exact"]
        inputs, _ = problem.generate(2, np.random.default_rng(0))
        assert Stream(open_runner(directory / file), section, batch=2).run(inputs).shape == (2, 5, 10)
