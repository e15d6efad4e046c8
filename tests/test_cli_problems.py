"""predict and generate speak each problem's language, on both runtimes."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from edgeseq import registry
from edgeseq.cli import app

cli = CliRunner()
RUNTIMES = ["onnx", "tflite"]


def run(*args):
    result = cli.invoke(app, [str(a) for a in args])
    return result


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_encoder_decoder_adds(trained, runtime):
    result = run("predict", trained("encoder_decoder") / f"model.{runtime}", "--input", "10+3+7")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "20"
    document = json.loads(run("predict", trained("encoder_decoder") / f"model.{runtime}",
                              "--input", "1+1+1", "--json").stdout)
    assert document["prediction"] == 3


@pytest.mark.parametrize("text", ["11+3+7", "0+3+7", "10+3", "ten+3+7", "10-3+7"])
def test_encoder_decoder_refuses_anything_but_three_ints_in_1_to_10(untrained, text):
    result = run("predict", untrained("encoder_decoder"), "--input", text)
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_stacked_forecasts_5_values_from_text_or_npy(trained, runtime, tmp_path):
    problem = registry.get("stacked").problem
    x, y = problem.generate(1, np.random.default_rng(8))
    text = ",".join(repr(float(v)) for v in x[0, :, 0])
    model = trained("stacked") / f"model.{runtime}"
    document = json.loads(run("predict", model, "--input", text, "--json").stdout)
    forecast = document["prediction"]
    assert len(forecast) == 5 and all(isinstance(v, float) for v in forecast)
    assert np.abs(np.array(forecast) - y[0]).mean() < 0.05
    np.save(tmp_path / "series.npy", x[0, :, 0])  # a plain (50,) series is accepted too
    from_file = json.loads(run("predict", model, "--input-file", tmp_path / "series.npy", "--json").stdout)
    assert from_file["prediction"] == forecast


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_cnn_lstm_names_the_direction_from_a_frames_file(trained, runtime, tmp_path):
    problem = registry.get("cnn_lstm").problem
    x, y = problem.generate(6, np.random.default_rng(4))
    model = trained("cnn_lstm") / f"model.{runtime}"
    for i in range(6):
        np.save(tmp_path / "frames.npy", x[i, ..., 0])  # (T, H, W), no channel axis
        result = run("predict", model, "--input-file", tmp_path / "frames.npy")
        assert result.exit_code == 0, result.output
        assert result.stdout.strip() == problem.decode(y[i:i + 1])[0]
    text = run("predict", model, "--input", "1,2,3")
    assert text.exit_code == 2 and "--input-file" in text.stderr


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_bidirectional_labels_each_of_10_steps(trained, runtime):
    model = trained("bidirectional") / f"model.{runtime}"
    result = run("predict", model, "--input", "0.9,0.9,0.9,0.1,0.1,0.1,0.1,0.1,0.1,0.1", "--json")
    labels = json.loads(result.stdout)["prediction"]
    assert labels == [0, 0, 1, 1, 1, 1, 1, 1, 1, 1]
    assert run("predict", model, "--input", "0.9,0.9,0.9,0.1,0.1,0.1,0.1,0.1,0.1,0.1").stdout.strip() \
        == "0,0,1,1,1,1,1,1,1,1"
    assert run("predict", model, "--input", "1.5,0,0,0,0,0,0,0,0,0").exit_code == 2


@pytest.mark.parametrize("arch", [a for a in registry.ARCHITECTURES])
def test_example_prints_input_expected_predicted(untrained, arch):
    result = run("predict", untrained(arch), "--example", "--seed", "1", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert {"input", "expected", "prediction"} <= document.keys()
    human = run("predict", untrained(arch), "--example", "--seed", "1")
    labels = [line.split(":")[0] for line in human.stdout.splitlines() if ":" in line]
    assert labels[-2:] == ["Expected", "Predicted"]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_generate_draws_four_corners_and_a_plot(trained, runtime, tmp_path):
    plot = tmp_path / "rect.png"
    result = run("generate", trained("generative"), "--runtime", runtime, "--json", "--plot", plot)
    assert result.exit_code == 0, result.output
    corners = json.loads(result.stdout)["corners"]
    assert len(corners) == 4 and all(len(c) == 2 for c in corners)
    assert corners[0] == [0.0, 0.0]
    assert plot.stat().st_size > 1000 and plot.read_bytes()[:4] == b"\x89PNG"


def test_generate_refuses_a_model_that_generates_nothing(untrained):
    result = run("generate", untrained("vanilla"))
    assert result.exit_code == 2 and "generative" in result.stderr
