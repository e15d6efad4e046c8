"""Every command, given bad input, prints one line on stderr and exits 2: no traceback, and
nothing under the exported directories changes."""

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from edgeseq.cli import app

cli = CliRunner()


def snapshot(*roots: Path) -> dict:
    """Every entry under the roots: file bytes' sha256, symlink targets."""
    seen = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                path = Path(dirpath) / name
                if path.is_symlink():
                    seen[str(path)] = "->" + os.readlink(path)
                elif path.is_file():
                    seen[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return seen


@pytest.fixture(scope="module")
def bad(untrained, tmp_path_factory):
    """Exports to point bad commands at, and a folder of bad files."""
    root = tmp_path_factory.mktemp("bad")
    vanilla, generative = untrained("vanilla"), untrained("generative")
    # a copy of an export whose listed ONNX file no longer matches its checksum
    changed = root / "changed"
    shutil.copytree(vanilla, changed)
    (changed / "model.onnx").unlink()
    shutil.copy(vanilla / "model.onnx", changed / "model.onnx")
    with open(changed / "model.onnx", "ab") as f:
        f.write(b"\0")
    # an export dir (manifest beside) holding unlisted broken models
    broken = root / "broken"
    shutil.copytree(vanilla, broken)
    onnx_bytes, tflite_bytes = (vanilla / "model.onnx").read_bytes(), (vanilla / "model.tflite").read_bytes()
    for name, data in {"truncated.onnx": onnx_bytes[: len(onnx_bytes) // 2],
                       "truncated.tflite": tflite_bytes[: len(tflite_bytes) // 2],
                       "onnx_inside.tflite": onnx_bytes, "tflite_inside.onnx": tflite_bytes,
                       "text.onnx": b"hello", "empty.tflite": b"", "notes.txt": b"x"}.items():
        (broken / name).write_bytes(data)
    (root / "empty_dir").mkdir()
    (root / "corrupt_manifest").mkdir()
    (root / "corrupt_manifest" / "manifest.json").write_text("{")
    arrays = root / "arrays"
    arrays.mkdir()
    x = np.eye(10, dtype=np.float32)[np.array([[4, 3, 6, 6, 6]])]
    for name, array in {"wrong_shape": x[:, :4], "strings": np.array(["a", "b"]),
                        "complex": x.astype(np.complex64), "nan": np.where(x == 1, np.nan, x),
                        "inf": np.where(x == 1, np.inf, x), "empty": x[:0], "not_one_hot": x * 2,
                        "scalar": np.array(3.0)}.items():
        np.save(arrays / f"{name}.npy", array)
    np.save(arrays / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    good = (arrays / "wrong_shape.npy").read_bytes()
    (arrays / "truncated.npy").write_bytes(good[: len(good) - 7])
    (arrays / "text.npy").write_text("1,2,3")
    return {"root": root, "vanilla": vanilla, "generative": generative, "changed": changed,
            "broken": broken, "arrays": arrays, "stacked": untrained("stacked"),
            "cnn_lstm": untrained("cnn_lstm"), "bidirectional": untrained("bidirectional"),
            "encoder_decoder": untrained("encoder_decoder")}


# (command, arguments with {placeholders} for the fixture's paths)
CASES = {
    "predict": [
        "{vanilla} --input 4,3,6", "{vanilla} --input 4,3,6,6,x", "{vanilla} --input 4,3,6,6,10",
        "{vanilla} --input=", "{vanilla} --input nan,1,2,3,4", "{vanilla} --input -1,3,6,6,6",
        "{vanilla} --input-file {arrays}/wrong_shape.npy", "{vanilla} --input-file {arrays}/strings.npy",
        "{vanilla} --input-file {arrays}/complex.npy", "{vanilla} --input-file {arrays}/nan.npy",
        "{vanilla} --input-file {arrays}/inf.npy", "{vanilla} --input-file {arrays}/empty.npy",
        "{vanilla} --input-file {arrays}/not_one_hot.npy", "{vanilla} --input-file {arrays}/scalar.npy",
        "{vanilla} --input-file {arrays}/objects.npy", "{vanilla} --input-file {arrays}/truncated.npy",
        "{vanilla} --input-file {arrays}/text.npy", "{vanilla} --input-file {arrays}/missing.npy",
        "{vanilla} --input-file {arrays}",
        "{root}/missing.onnx --input 1,2,3,4,5", "{broken}/truncated.onnx --input 1,2,3,4,5",
        "{broken}/truncated.tflite --input 1,2,3,4,5", "{broken}/onnx_inside.tflite --input 1,2,3,4,5",
        "{broken}/tflite_inside.onnx --input 1,2,3,4,5", "{broken}/text.onnx --input 1,2,3,4,5",
        "{broken}/empty.tflite --input 1,2,3,4,5", "{broken}/notes.txt --input 1,2,3,4,5",
        "{changed}/model.onnx --input 1,2,3,4,5", "{changed} --input 1,2,3,4,5",
        "{root}/empty_dir --input 1,2,3,4,5", "{root}/corrupt_manifest --input 1,2,3,4,5",
        "{vanilla} --runtime bogus --input 1,2,3,4,5", "{vanilla}/model.onnx --runtime tflite --input 1,2,3,4,5",
        "{vanilla}/model.keras --input 1,2,3,4,5", "{vanilla}", "{vanilla} --input 1,2,3,4,5 --example",
        "{stacked} --input 1,2,3", "{stacked} --input " + ",".join(["inf"] * 50),
        "{cnn_lstm} --input 1,2,3", "{cnn_lstm} --input-file {arrays}/wrong_shape.npy",
        "{bidirectional} --input 1.5,0,0,0,0,0,0,0,0,0", "{bidirectional} --input 0.1,0.2",
        "{encoder_decoder} --input 11+3+7", "{encoder_decoder} --input 10+3", "{encoder_decoder} --input 1e1+3+7",
    ],
    "generate": ["{vanilla}", "{generative} --runtime bogus", "{root}/missing", "{root}/empty_dir",
                 "{changed}", "{generative}/model.keras"],
    "parity": ["{root}/missing", "{root}/empty_dir", "{root}/corrupt_manifest", "{changed}",
               "{vanilla} --reference bogus", "{vanilla}/model.onnx", "{vanilla} --samples 0"],
    "info": ["{root}/missing.onnx", "{broken}/truncated.onnx", "{broken}/truncated.tflite",
             "{broken}/notes.txt", "{broken}/tflite_inside.onnx", "{broken}/onnx_inside.tflite",
             "{changed}/model.onnx", "{root}/empty_dir", "{root}/corrupt_manifest"],
    "bench": ["{root}/missing", "{root}/empty_dir", "{root}/corrupt_manifest", "{changed}"],
    "mcu": ["{root}/missing", "{root}/empty_dir", "{root}/corrupt_manifest", "{broken}/truncated.tflite",
            "{vanilla} --margin lots", "{vanilla} --margin -5%", "{vanilla} --reference bogus"],
    "web": ["{root}/missing", "{root}/empty_dir", "{root}/corrupt_manifest", "{changed}",
            "{vanilla}/model.onnx"],
    "serve": ["{root}/missing", "{root}/empty_dir", "{vanilla} --port -1", "{vanilla} --for 0"],
    "export": ["nosuch", "vanilla --out {root}/x --format pdf", "vanilla --out {root}/x -q int4",
               "vanilla --out {root}/x --runtime onnx"],
    "train": ["nosuch", "vanilla --epochs 0", "vanilla --seed many"],
    "list": ["--bogus", "extra"],
}


@pytest.mark.parametrize("command, args", [(c, a) for c, cases in CASES.items() for a in cases])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(bad, command, args):
    roots = [bad["vanilla"], bad["generative"], bad["changed"]]
    before = snapshot(*roots)
    argv = [command, *[part.format(**bad) for part in args.split(" ") if part]]
    result = cli.invoke(app, argv)
    assert result.exit_code == 2, (argv, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert snapshot(*roots) == before
