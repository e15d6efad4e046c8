"""An export killed part-way leaves the previous artifact set intact and loadable."""

import os
import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from edgeseq import manifest
from edgeseq.cli import app


def assert_intact(directory, expected_generation=None):
    document = manifest.load(directory)
    if expected_generation is not None:
        assert document["generation"] == expected_generation
    for entry in document["artifacts"]:
        assert manifest.sha256(directory / entry["file"]) == entry["sha256"], entry["file"]
    for artifact in ("model.onnx", "model.tflite"):
        result = CliRunner().invoke(app, ["predict", str(directory / artifact), "--input", "1,2,3,4,5"])
        assert result.exit_code == 0, result.output
    return document


@pytest.mark.parametrize("kill_after_s", [3, 6, 9, 12])
def test_export_killed_mid_way_keeps_the_previous_set(untrained, tmp_path, kill_after_s):
    directory = tmp_path / "vanilla"
    os.system(f"cp -a {untrained('vanilla')} {directory}")  # keeps the symlink layout
    previous = assert_intact(directory)
    child = subprocess.Popen(
        [sys.executable, "-m", "edgeseq", "export", "vanilla", "--out", str(directory),
         "-q", "int8", "-q", "float16"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    time.sleep(kill_after_s)
    finished = child.poll() is not None
    os.killpg(child.pid, signal.SIGKILL)  # the child and its converter worker
    child.wait()
    document = assert_intact(directory)
    if kill_after_s == 3:  # TensorFlow alone takes longer to import: surely before the switch
        assert not finished and document["generation"] == previous["generation"]


def test_the_next_export_clears_what_a_killed_one_left(untrained, tmp_path):
    from edgeseq import registry
    from edgeseq.export import publish
    from edgeseq.export.pipeline import export

    directory = tmp_path / "vanilla"
    os.system(f"cp -a {untrained('vanilla')} {directory}")
    (directory / publish.GENERATIONS / "20000101T000000-killed").mkdir()
    (directory / publish.GENERATIONS / "20000101T000000-killed" / "model.onnx").write_bytes(b"half")
    export(registry.get("vanilla"), directory, log=lambda _: None)
    assert len(list((directory / publish.GENERATIONS).iterdir())) == 1
    assert_intact(directory)
