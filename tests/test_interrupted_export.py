"""An export killed part-way leaves a complete, loadable artifact set: the previous one when
killed before the switch of `current`, the new one after it.

The export is stopped at named points (edgeseq/export/pause_points.py), never after a
guessed time: each test waits until its point is reached for certain, then kills."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from edgeseq import manifest
from edgeseq.cli import app
from edgeseq.exporters import pause_points, publish

BEFORE_SWITCH = ("staged", "converting", "before-switch")
# Generous: an untrained vanilla export takes seconds; this only stops a hung test.
REACH_LIMIT_S = 900


def assert_intact(directory):
    document = manifest.load(directory)
    for entry in document["artifacts"]:
        assert manifest.sha256(directory / entry["file"]) == entry["sha256"], entry["file"]
    for artifact in ("model.onnx", "model.tflite"):
        result = CliRunner().invoke(app, ["predict", str(directory / artifact), "--input", "1,2,3,4,5"])
        assert result.exit_code == 0, result.output
    return document


def start_export(directory, log, env=None):
    return subprocess.Popen(
        [sys.executable, "-m", "edgeseq", "export", "vanilla", "--out", str(directory),
         "-q", "int8", "-q", "float16", "--optimize", "none"],  # no route search: not the point here
        stdout=log, stderr=subprocess.STDOUT,
        env=os.environ | (env or {}), start_new_session=True)  # its own group: worker included


def copy_of_previous_export(untrained, tmp_path):
    directory = tmp_path / "vanilla"
    shutil.copytree(untrained("vanilla"), directory, symlinks=True)
    return directory, assert_intact(directory)


def test_the_pause_points_are_the_ones_the_export_passes():
    assert set(BEFORE_SWITCH) | {"after-switch"} == set(pause_points.POINTS)


@pytest.mark.parametrize("point", pause_points.POINTS)
def test_export_killed_at_a_defined_point_keeps_a_complete_set(untrained, tmp_path, point):
    directory, previous = copy_of_previous_export(untrained, tmp_path)
    marker = tmp_path / "reached"
    with open(tmp_path / "export.log", "w") as log:
        child = start_export(directory, log, {pause_points.ENV: f"{point}={marker}"})
        deadline = time.monotonic() + REACH_LIMIT_S
        while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        reached = marker.exists()
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)  # the export and its converter worker
        child.wait()
    assert reached, f"export never reached {point!r}:\n{(tmp_path / 'export.log').read_text()[-2000:]}"
    assert child.returncode == -signal.SIGKILL  # killed there, not finished
    document = assert_intact(directory)
    if point in BEFORE_SWITCH:
        assert document["generation"] == previous["generation"]
    else:
        assert document["generation"] != previous["generation"]
        assert {a["file"] for a in document["artifacts"]} >= {"model.int8.tflite"}


def test_an_export_left_to_finish_publishes_the_new_set_complete(untrained, tmp_path):
    directory, previous = copy_of_previous_export(untrained, tmp_path)
    with open(tmp_path / "export.log", "w") as log:
        child = start_export(directory, log)
        assert child.wait(timeout=REACH_LIMIT_S) == 0, (tmp_path / "export.log").read_text()[-2000:]
    document = assert_intact(directory)
    assert document["generation"] != previous["generation"]
    assert [p.name for p in (directory / publish.GENERATIONS).iterdir()] == [document["generation"]]


def test_the_next_export_clears_what_a_killed_one_left(untrained, tmp_path):
    from edgeseq import registry
    from edgeseq.exporters.pipeline import export

    directory, _ = copy_of_previous_export(untrained, tmp_path)
    (directory / publish.GENERATIONS / "20000101T000000-killed").mkdir()
    (directory / publish.GENERATIONS / "20000101T000000-killed" / "model.onnx").write_bytes(b"half")
    export(registry.get("vanilla"), directory, log=lambda _: None, optimize="none")
    assert len(list((directory / publish.GENERATIONS).iterdir())) == 1
    assert_intact(directory)
