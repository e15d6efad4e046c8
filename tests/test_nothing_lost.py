"""Issue 16's promises that a bad-value matrix cannot show: nothing replaced without --force,
a computed report survives a failed plot, no wrong answer from a file that is not the model,
Ctrl-C said in one line, one export per directory at a time."""

from __future__ import annotations

import fcntl
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

from edgeseq import manifest, registry
from edgeseq.cli import app, validate
from edgeseq.errors import InputError
from edgeseq.exporters import pause_points, pipeline

cli = CliRunner()
REACH_LIMIT_S = 900  # only stops a hung test


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# ----------------------------------------------------------------- nothing replaced unasked


def test_export_refuses_to_replace_a_users_own_model_onnx_unless_forced(tmp_path):
    (tmp_path / "model.onnx").write_bytes(b"mine")
    with pytest.raises(InputError, match="model.onnx, which edgeseq did not write"):
        validate.export_target(tmp_path, "vanilla", force=False)
    assert validate.export_target(tmp_path, "vanilla", force=True) is False
    assert (tmp_path / "model.onnx").read_bytes() == b"mine"


def test_export_into_another_architectures_export_is_refused_and_forced_retrains(untrained, tmp_path):
    other = shutil.copytree(untrained("generative"), tmp_path / "generative", symlinks=True)
    with pytest.raises(InputError, match="'generative', not 'vanilla'"):
        validate.export_target(other, "vanilla", force=False)
    with pytest.raises(InputError, match="'generative', not 'vanilla'"):
        validate.train_target(other, "vanilla", force=False)
    # forced: the generative model.keras is not used as a vanilla model, it is replaced
    assert validate.export_target(other, "vanilla", force=True) is True


def test_a_model_keras_changed_by_hand_is_refused_by_export(untrained, tmp_path):
    directory = shutil.copytree(untrained("vanilla"), tmp_path / "vanilla", symlinks=True)
    with open(directory / "model.keras", "ab") as f:
        f.write(b"\0")
    with pytest.raises(InputError, match="changed since edgeseq wrote it"):
        validate.export_target(directory, "vanilla", force=False)


def test_a_model_edgeseq_retrained_in_place_is_exported_without_force(untrained, tmp_path):
    """make retrains into an exported directory, then exports: the record beside
    model.keras tells that retrained model from one changed by hand."""
    directory = shutil.copytree(untrained("vanilla"), tmp_path / "vanilla", symlinks=True)
    with open(directory / "model.keras", "ab") as f:
        f.write(b"retrained")
    manifest.write_model_record(directory / "model.keras", "vanilla", "edgeseq train")
    assert validate.export_target(directory, "vanilla", force=False) is False
    validate.train_target(directory, "vanilla", force=False)  # replaces only an unexported retrain


def test_retraining_the_model_an_export_was_made_from_needs_force(untrained, tmp_path):
    directory = shutil.copytree(untrained("vanilla"), tmp_path / "vanilla", symlinks=True)
    with pytest.raises(InputError, match="pass --force"):
        validate.train_target(directory, "vanilla", force=False)
    validate.train_target(directory, "vanilla", force=True)


def test_train_refuses_a_model_keras_it_did_not_write(tmp_path):
    (tmp_path / "model.keras").write_bytes(b"someone's model")
    result = cli.invoke(app, ["train", "vanilla", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "edgeseq did not write" in one_error_line(result)


def test_a_hand_placed_model_keras_of_other_shapes_is_refused_before_conversion(untrained, tmp_path):
    directory = tmp_path / "out"
    directory.mkdir()
    shutil.copy(untrained("generative") / "model.keras", directory / "model.keras")
    with pytest.raises(Exception, match="not a vanilla model"):
        pipeline.export(registry.get("vanilla"), directory, log=lambda _: None)
    assert not (directory / "manifest.json").exists()


# ------------------------------------------------------------ reports survive their plots


FAKE_BENCH = {"directory": "d", "architecture": "vanilla", "machine": {"cpus": 2}, "notes": [],
              "skipped": [], "results": [{"runtime": "onnx", "variant": "fp32", "p50_us": 10.0,
                                          "p99_us": 12.0, "floor_p50_us": 1.0,
                                          "throughput_per_s": 1e5, "batch_throughput_per_s": 1e6,
                                          "load_ms": 1.0, "peak_rss_mb": 50.0, "bytes": 1000}]}


def test_bench_prints_its_report_even_when_the_plot_cannot_be_saved(untrained, monkeypatch, tmp_path):
    import edgeseq.measure.bench

    def broken_plot(document, path):
        raise OSError("disk full")

    monkeypatch.setattr(edgeseq.measure.bench, "run", lambda *a, **k: FAKE_BENCH)
    monkeypatch.setattr(edgeseq.measure.bench, "plot", broken_plot)
    result = cli.invoke(app, ["bench", str(untrained("vanilla")), "--json",
                              "--plot", str(tmp_path / "b.png")])
    assert json.loads(result.stdout)["results"][0]["p50_us"] == 10.0
    assert result.exit_code == 2
    assert "disk full" in one_error_line(result) and "report above is complete" in result.stderr


def test_bench_without_matplotlib_says_so_before_benchmarking(untrained, monkeypatch, tmp_path):
    import edgeseq.measure.bench

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as on the device install
    monkeypatch.setattr(edgeseq.measure.bench, "run", lambda *a, **k: pytest.fail("benchmark ran"))
    result = cli.invoke(app, ["bench", str(untrained("vanilla")), "--plot", str(tmp_path / "b.png")])
    assert result.exit_code == 2
    assert "needs matplotlib" in one_error_line(result)


# ----------------------------------------------------------------- no silent wrong answer


@pytest.mark.parametrize("floor", ["floor.onnx", "floor.tflite"])
def test_predict_refuses_the_bench_floor_model(untrained, floor):
    result = cli.invoke(app, ["predict", str(untrained("vanilla") / floor), "--input", "4,3,6,6,6"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "floor model" in one_error_line(result)


def test_an_encoder_decoder_array_spelling_plus_signs_is_refused_like_typed_input(tmp_path):
    problem = registry.get("encoder_decoder").problem
    np.save(tmp_path / "plus.npy", np.eye(12, dtype=np.float32)[np.full(8, 10)])
    with pytest.raises(InputError, match="'\\+\\+\\+\\+\\+\\+\\+\\+'"):
        problem.load_array(tmp_path / "plus.npy")


@pytest.mark.parametrize("arch", list(registry.ARCHITECTURES))
def test_every_generated_example_passes_the_array_rules(arch, tmp_path):
    """The typed-input rules on arrays refuse nothing the problem itself generates."""
    problem = registry.get(arch).problem
    x, _ = problem.generate(50, np.random.default_rng(7))
    np.save(tmp_path / "x.npy", x)
    np.testing.assert_array_equal(problem.load_array(tmp_path / "x.npy"), x)


def test_parity_without_its_listed_reference_npz_is_one_line(untrained, tmp_path):
    directory = shutil.copytree(untrained("vanilla"), tmp_path / "vanilla", symlinks=True)
    (directory / "reference.npz").resolve().unlink()
    result = cli.invoke(app, ["parity", str(directory), "--reference", "stored"])
    assert result.exit_code == 2
    assert "reference.npz is listed in manifest.json but missing" in one_error_line(result)


# ----------------------------------------------------------------------- the small things


def test_version_and_short_help():
    version = cli.invoke(app, ["--version"])
    assert version.exit_code == 0 and version.stdout.startswith("edgeseq ")
    short = cli.invoke(app, ["predict", "-h"])
    assert short.exit_code == 0 and "--input-file" in short.stdout


def test_export_help_shows_the_default_out_of_a_keras_file():
    result = cli.invoke(app, ["export", "--help"], env={"COLUMNS": "200"})
    assert "exported/<file stem>" in result.stdout


def test_docs_list_every_option_of_every_command_and_every_format_and_route_rule():
    """A newcomer reads the options in docs/commands.md's table (README links to it): each
    command's row names all of its options, and export's row every --format and --optimize
    value the code accepts. --help is the source of truth; the table follows it."""
    import importlib
    import re
    from pathlib import Path

    import typer.main

    from edgeseq.cli import COMMANDS
    from edgeseq.exporters import routes

    page = (Path(__file__).parents[1] / "docs" / "commands.md").read_text()
    section = page.split("\n## Options of every command\n", 1)[1].split("\n## ", 1)[0]
    rows = {m.group(1): line for line in section.splitlines() if (m := re.match(r"\| `(\w+)", line))}
    for module in COMMANDS.values():  # each registers its command on import
        importlib.import_module(module)
    commands = typer.main.get_command(app).commands
    assert set(rows) == set(COMMANDS)
    for name in COMMANDS:
        for param in (p for p in commands[name].params if p.param_type_name == "option"):
            for option in (o for o in param.opts if o.startswith("--") and o != "--help"):
                assert re.search(rf"`{re.escape(option)}[` ]", rows[name]), f"{name} {option} not in docs/commands.md"
    choices = {option: set(values.split("\\|")) for option, values in
               re.findall(r"`(--format|--optimize) ([\w\\|]+)`", rows["export"])}
    assert choices["--format"] == set(pipeline.FORMATS + pipeline.OPTIONAL_FORMATS)
    assert choices["--optimize"] == set(routes.OPTIMIZE)


def test_a_second_export_into_the_same_directory_is_refused_while_the_first_runs(untrained, tmp_path):
    directory = shutil.copytree(untrained("vanilla"), tmp_path / "vanilla", symlinks=True)
    before = manifest.load(directory)["generation"]
    with open(directory / pipeline.LOCK, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first export, mid-way
        result = cli.invoke(app, ["export", "vanilla", "--out", str(directory)])
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "another export into" in line and ".generations" not in line
    assert manifest.load(directory)["generation"] == before


def test_ctrl_c_during_export_is_one_line_exit_130_and_keeps_the_previous_set(untrained, tmp_path):
    directory = shutil.copytree(untrained("vanilla"), tmp_path / "vanilla", symlinks=True)
    before = manifest.load(directory)["generation"]
    marker = tmp_path / "reached"
    child = subprocess.Popen(
        [sys.executable, "-m", "edgeseq", "export", "vanilla", "--out", str(directory), "--optimize", "none"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=os.environ | {pause_points.ENV: f"staged={marker}"},
        # Ctrl-C as a terminal delivers it: a suite started in the background (`cmd &`, nohup)
        # ignores SIGINT, the child inherits that and Python then installs no handler, so the
        # export slept at its pause point until REACH_LIMIT_S (15 min) and the test failed
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + REACH_LIMIT_S
    while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), child.communicate()[1][-2000:]
    child.send_signal(signal.SIGINT)  # what Ctrl-C sends
    _, stderr = child.communicate(timeout=REACH_LIMIT_S)
    assert child.returncode == 130
    assert stderr.strip().splitlines()[-1] == "interrupted; previous export kept"
    assert "Traceback" not in stderr
    assert manifest.load(directory)["generation"] == before


def test_training_prints_an_epoch_line_when_not_on_a_terminal():
    from rich.progress import Progress

    from edgeseq.training import _RichProgress

    console = Console(file=io.StringIO(), force_terminal=False)
    with Progress(console=console) as progress:
        callback = _RichProgress(progress, epochs=3, steps=2, name="vanilla")
        callback.on_epoch_begin(0)
        callback.on_train_batch_end(0, {"loss": 0.5})
        callback.on_epoch_end(0, {"loss": 0.25})
    assert "vanilla epoch 1/3 loss 0.2500" in console.file.getvalue()


def test_the_loser_of_two_concurrent_exports_is_told_in_one_line(untrained, tmp_path):
    """The first export is held mid-way (a pause point, not a guessed sleep); the second,
    started meanwhile, is refused at once and the first's directory is untouched by it."""
    directory = shutil.copytree(untrained("vanilla"), tmp_path / "vanilla", symlinks=True)
    before = manifest.load(directory)["generation"]
    marker = tmp_path / "reached"
    first = subprocess.Popen(
        [sys.executable, "-m", "edgeseq", "export", "vanilla", "--out", str(directory), "--optimize", "none"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env=os.environ | {pause_points.ENV: f"staged={marker}"})
    try:
        deadline = time.monotonic() + REACH_LIMIT_S
        while not marker.exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), first.communicate()[1][-2000:]
        second = cli.invoke(app, ["export", "vanilla", "--out", str(directory)])
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert second.exit_code == 2
    line = one_error_line(second)
    assert "another export into" in line and ".generations" not in line
    assert manifest.load(directory)["generation"] == before
