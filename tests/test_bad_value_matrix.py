"""Every command × every option × every class of bad value: one line on stderr, exit 2, no
traceback, nothing changed, and refused before any long work starts.

The matrix is generated from the app itself: each option of each registered command is given
a kind (by its name), each kind lists the bad-value classes that apply to it, and each cell
runs the command's base command line with that one option replaced by the bad value. A new
command needs a base command line here; a new option needs a kind (the coverage tests below
name what is missing). Long work (training, export, parity, bench rows) is replaced by a
sentinel, so a value that is only noticed after the long work started fails its cell
instead of running for minutes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import typer.main
from typer.testing import CliRunner

from edgeseq.cli import app

cli = CliRunner()


class LongWorkStarted(Exception):
    """Raised in place of training, conversion, parity or a bench row."""


def _long_work(*_args, **_kwargs):
    raise LongWorkStarted


@pytest.fixture()
def no_long_work(monkeypatch):
    import edgeseq.checks.parity
    import edgeseq.exporters.pipeline
    import edgeseq.measure.bench
    import edgeseq.targets.mcu.build
    import edgeseq.targets.web.pack
    import edgeseq.targets.web.serve
    import edgeseq.training

    for module, name in ((edgeseq.training, "train"), (edgeseq.exporters.pipeline, "export"),
                         (edgeseq.checks.parity, "check"), (edgeseq.measure.bench, "_spawn"),
                         (edgeseq.targets.mcu.build, "run"), (edgeseq.targets.web.pack, "write"),
                         (edgeseq.targets.web.serve, "server")):
        monkeypatch.setattr(module, name, _long_work)


# ----------------------------------------------------------------------------- the classes

# kind → bad-value class → value ({placeholders} name paths made by the `world` fixture).
# A class that does not apply to a kind is absent.
KINDS: dict[str, dict[str, str]] = {
    "count": {"negative": "-1", "zero": "0", "huge": "1000000000000", "non-numeric": "many"},
    "seed": {"negative": "-1", "huge": str(2**64), "non-numeric": "x"},
    "choice": {"unknown value": "bogus", "empty": ""},
    "text": {"non-numeric": "x", "empty": "", "negative": "-1,3,6,6,6",
             "huge": "1" * 400 + ",3,6,6,6"},
    "npy in": {"missing path": "{root}/missing.npy", "directory-for-file": "{root}/a_dir",
               "file-for-directory": "{root}/a_file/x.npy",
               "empty file": "{root}/empty.npy", "corrupt file": "{root}/corrupt.npy",
               "damaged archive": "{root}/damaged.npy",  # zip magic: np.load reads it as an .npz
               "wrong suffix": "{root}/table.csv", "wrong shape": "{root}/wrong_shape.npy"},
    # an artifact file or its exported directory
    "model": {"missing path": "{root}/missing.onnx", "directory-for-file": "{root}/a_dir",
              "file-for-directory": "{root}/a_file/model.onnx",
              "empty file": "{junk}/empty.onnx", "corrupt file": "{junk}/corrupt.tflite",
              "wrong suffix": "{junk}/notes.txt", "unlisted model": "{junk}/other.onnx",
              "bench floor model": "{base}/floor.onnx", "tampered": "{root}/changed/model.onnx"},
    "export dir": {"missing path": "{root}/missing", "file-for-directory": "{base}/model.onnx",
                   "empty file": "{root}/empty_manifest", "corrupt file": "{root}/corrupt_manifest",
                   "manifest lacking problem": "{root}/no_problem",
                   "manifest lacking artifacts": "{root}/no_artifacts",
                   "missing artifact": "{root}/missing_onnx", "tampered": "{root}/changed"},
    "out dir": {"file-for-directory": "{root}/a_file", "read-only path": "/sys/kernel/edgeseq-out",
                "path under a file": "{root}/a_file/out",
                "another architecture": "{root}/generative"},
    "png out": {"directory-for-file": "{root}/a_dir", "read-only path": "/proc/edgeseq-plot.png",
                "wrong suffix": "{root}/plot.jpg", "file-for-directory": "{root}/a_file/plot.png"},
    # for the --save-*/--load-* options of commands to come (compare)
    "npz out": {"directory-for-file": "{root}/a_dir", "read-only path": "/proc/edgeseq-out.npz",
                "wrong suffix": "{root}/out.txt", "file-for-directory": "{root}/a_file/out.npz"},
    "npz in": {"missing path": "{root}/missing.npz", "directory-for-file": "{root}/a_dir",
               "empty file": "{root}/empty.npy", "corrupt file": "{root}/corrupt.npy",
               "damaged archive": "{root}/damaged.npy", "wrong suffix": "{root}/table.csv"},
    "arch": {"unknown value": "nosuch", "empty": ""},
    "source dir": {"missing path": "{root}/missing", "file-for-directory": "{root}/a_file"},
    "py in": {"missing path": "{root}/missing.py", "directory-for-file": "{root}/a_dir",
              "wrong suffix": "{root}/table.csv", "file-for-directory": "{root}/a_file/x.py"},
    # a TFLite model listed in the command's export, by name or path (mcu --artifact)
    "artifact": {"missing path": "{root}/missing.tflite", "directory-for-file": "{root}/a_dir",
                 "empty": "", "unlisted model": "{junk}/corrupt.tflite", "not a TFLite model": "model.onnx",
                 "bench floor model": "floor.tflite", "another export's model": "{generative}/model.tflite"},
    # onnxruntime-web's npm package folder (web --ort-web)
    "npm dir": {"missing path": "{root}/missing", "file-for-directory": "{root}/a_file",
                "empty directory": "{root}/a_dir"},
    "port": {"negative": "-1", "huge": "70000", "non-numeric": "x"},
    "margin": {"non-numeric": "lots", "negative": "-5%", "empty": "", "huge": "1" * 400 + "%"},
    "tolerance": {"non-numeric": "x", "negative": "-1", "empty": "", "unknown value": "nosuch:1e-5",
                  "negative named": "output:-1"},
    # an architecture name or a .keras file of the user's
    "subject": {"unknown value": "nosuch", "missing path": "{root}/missing.keras",
                "directory-for-file": "{root}/dir.keras", "empty file": "{root}/empty.keras",
                "corrupt file": "{root}/corrupt.keras", "wrong suffix": "{root}/table.csv"},
}

# Command-specific extra classes: (command, option) → {class: value or (value, the export
# the command's base runs on)}.
EXTRA = {
    ("export", "--out"): {"user's own file": "{root}/users_onnx",
                          "tampered model.keras": "{root}/tampered_keras",
                          "a real 'current' directory": "{root}/users_current"},
    ("train", "--out"): {"user's own file": "{root}/users_keras",
                         "tampered model.keras": "{root}/tampered_keras"},
    ("predict", "--input-file"): {"valid one-hot, not a sum": ("{root}/plus_signs.npy",
                                                              "encoder_decoder")},
    ("parity", "directories"): {"missing reference.npz": "{root}/no_reference"},
    # a (4, 10) array is a good stream of 4 steps; a step of the wrong width is not
    ("stream", "--input-file"): {"wrong shape": "{root}/wrong_width.npy"},
}

# Option name (click's parameter name) → kind; --save-* and --load-* by their prefix.
KIND_OF = {
    "seed": "seed", "epochs": "count", "samples": "count", "calls": "count",
    "keras_calls": "count", "batch": "count", "top_k": "count", "reset_every": "count",
    "sequence_length": "count", "labels": "npy in", "metric": "choice", "custom_objects": "py in",
    "runtime": "choice", "reference": "choice", "formats": "choice", "quantize": "choice",
    "text": "text", "input_file": "npy in", "calibration_file": "npy in",
    "model": "model", "directories": "export dir", "directory": "export dir",
    "out_dir": "out dir", "plot": "png out", "margin": "margin", "artifact": "artifact",
    "atol": "tolerance", "rtol": "tolerance", "check_error_stat": "choice", "optimize": "choice",
    "ort_web": "npm dir", "port": "port", "seconds": "count",
    "core": "choice", "tflm_source": "source dir",
}
KIND_OF_ARGUMENT = {("train", "arch"): "arch", ("export", "arch"): "subject", ("compare", "models"): "model"}


def kind_of(command: str, name: str) -> str | None:
    if (command, name) in KIND_OF_ARGUMENT:
        return KIND_OF_ARGUMENT[command, name]
    if name.startswith("save_"):
        return "npz out"
    if name.startswith("load_"):
        return "npz in"
    return KIND_OF.get(name)

def _ort_web() -> Path:
    """The checkout's onnxruntime-web (make test runs npm ci first)."""
    from edgeseq.errors import EdgeseqError
    from edgeseq.targets.web import runtime_files

    try:
        return runtime_files.find()[0].parent
    except EdgeseqError:
        return Path("node_modules/onnxruntime-web")  # absent: the control says so


# A good value per kind, for the control runs.
GOOD = {"count": "1", "seed": "0", "text": "4,3,6,6,6", "npy in": "{root}/good.npy",
        "npz out": "{root}/fresh/out.npz", "npz in": "{root}/good.npz",
        "model": "{base}", "export dir": "{base}", "out dir": "{root}/fresh/out",
        "png out": "{root}/fresh/plot.png", "arch": "vanilla", "subject": "vanilla", "margin": "25%",
        "py in": "{root}/objects.py", "artifact": "model.tflite",
        "tolerance": "1e-5", "npm dir": str(_ort_web()), "port": "0",
        "source dir": "{root}/fresh"}
GOOD_FOR = {("compare", "--load-outputs"): "{root}/good_outputs.npz",
            ("export", "--calibration-file"): "{root}/good_batch.npy",
            ("export", "--labels"): "{root}/good_labels.npy",
            ("export", "--sequence-length"): "5"}
GOOD_CHOICE = {"--runtime": "onnx", "--reference": "stored", "--format": "onnx", "--quantize": "none",
               "--check-error-stat": "median", "--metric": "mae", "--optimize": "size", "--build": "cortex-m4"}

# command → (arguments, options) of a command line that passes validation; {base} is the
# export the command runs on.
BASES = {
    "train": (["vanilla"], {"--out": "{root}/fresh/train"}),
    "export": (["vanilla"], {"--out": "{root}/fresh/export"}),
    "predict": (["{base}"], {"--input": "4,3,6,6,6"}),
    "generate": (["{base}"], {}),
    "parity": (["{base}"], {"--reference": "stored"}),
    "info": (["{base}"], {}),
    "bench": (["{base}"], {"--calls": "1", "--keras-calls": "1", "--batch": "1"}),
    "mcu": (["{base}"], {"--reference": "stored"}),
    "web": (["{base}"], {"--no-check": None}),  # the page is written; Chromium is test_web's
    "serve": (["{base}"], {"--port": "0", "--for": "1"}),
    "compare": (["{base}/model.onnx", "{base}/model.tflite"], {"--samples": "10"}),
    "stream": (["{base}"], {"--input-file": "{root}/good.npy"}),  # 5 steps of vanilla
    "list": ([], {}),
}
BASE_EXPORT = {"generate": "generative", "serve": "web_pack"}
# (command, option) → the base command line for that option, where the command's own base
# would make the option meaningless or conflicting.
OPTION_BASES = {
    ("predict", "--input-file"): (["{base}"], {}),
    ("predict", "--seed"): (["{base}"], {"--example": None}),
    ("export", "--calibration-file"): (["{root}/my_model.keras"], {"--out": "{root}/fresh/user"}),
    ("export", "--sequence-length"): (["{root}/my_model.keras"], {"--out": "{root}/fresh/user"}),
    ("export", "--custom-objects"): (["{root}/my_model.keras"], {"--out": "{root}/fresh/user", "--unsafe": None}),
    ("export", "--labels"): (["{root}/my_model.keras"], {"--out": "{root}/fresh/user", "--metric": "mae",
                                                         "--calibration-file": "{root}/good_batch.npy"}),
    ("export", "--metric"): (["{root}/my_model.keras"], {"--out": "{root}/fresh/user",
                                                         "--labels": "{root}/good_labels.npy",
                                                         "--calibration-file": "{root}/good_batch.npy"}),
    # the bad model in second place, after a good reference
    ("compare", "models"): (["{base}/model.onnx", "{value}"], {"--samples": "10"}),
    ("compare", "--load-inputs"): (["{base}/model.onnx", "{base}/model.tflite"], {}),
    ("compare", "--load-outputs"): (["{base}/model.onnx"], {"--load-inputs": "{root}/good.npz"}),
}


def matrix() -> list[tuple[str, str, str, str, str | None]]:
    """(command, option, class, value, base export or None) for every applicable cell."""
    cells = []
    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        for param in command.params:
            if getattr(param, "is_flag", False) or param.name in ("help",):
                continue
            kind = kind_of(name, param.name)
            if kind is None:
                continue  # reported by test_every_option_has_a_kind
            option = param.opts[0] if param.param_type_name == "option" else param.name
            classes = dict(KINDS[kind]) | EXTRA.get((name, option), {})
            for cls, value in classes.items():
                value, base = value if isinstance(value, tuple) else (value, None)
                cells.append((name, option, cls, value, base))
    return cells


CELLS = matrix()


def _argv(command: str, option: str | None, value: str | None, world: dict,
          base: str | None = None) -> list[str]:
    arguments, options = OPTION_BASES.get((command, option), BASES[command])
    arguments, options = list(arguments), dict(options)
    if option is None:
        pass
    elif option.startswith("-"):
        options[option] = value
    elif any("{value}" in a for a in arguments):
        arguments = [a.replace("{value}", value) for a in arguments]
    else:
        arguments = [value]
    base = base or BASE_EXPORT.get(command, "vanilla")
    fill = world | {"base": world[base], "junk": world.get(f"{base}_junk")}
    argv = [command, *[a.format(**fill) for a in arguments]]
    for key, val in options.items():
        argv += [key] if val is None else [key, val.format(**fill)]
    return argv


def snapshot(root: Path) -> dict:
    """Every entry under root: file bytes' sha256, symlink targets, directories."""
    seen = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            if path.is_symlink():
                seen[str(path)] = "->" + os.readlink(path)
            elif path.is_file():
                seen[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                seen[str(path)] = "dir"
    return seen


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


def _edit_manifest(directory: Path, edit) -> None:
    path = directory / "manifest.json"
    document = json.loads(path.read_text())
    edit(document)
    target = path.resolve()
    path.unlink()  # the stable name is a link into current/: write a real file instead
    target.unlink()
    path.write_text(json.dumps(document))


@pytest.fixture(scope="module")
def world(untrained, tmp_path_factory):
    root = tmp_path_factory.mktemp("matrix")
    vanilla = _copy(untrained("vanilla"), root / "vanilla")
    generative = _copy(untrained("generative"), root / "generative")
    for name, export in (("vanilla", vanilla), ("generative", generative)):
        junk = _copy(export, root / f"{name}_junk")
        (junk / "empty.onnx").write_bytes(b"")
        (junk / "corrupt.tflite").write_bytes((export / "model.tflite").read_bytes()[:200])
        (junk / "notes.txt").write_text("notes")
        other = generative if name == "vanilla" else vanilla
        shutil.copy(other / "model.onnx", junk / "other.onnx")  # a valid model, not this one
    changed = _copy(vanilla, root / "changed")
    target = (changed / "model.onnx").resolve()
    target.write_bytes(target.read_bytes() + b"\0")
    (root / "a_dir").mkdir()
    (root / "dir.keras").mkdir()
    (root / "a_file").write_text("a file")
    for name in ("empty.npy", "empty.keras"):
        (root / name).write_bytes(b"")
    (root / "corrupt.npy").write_bytes(b"\x93NUMPY garbage")
    (root / "damaged.npy").write_bytes(b"PK\x03\x04 not a zip")
    (root / "corrupt.keras").write_bytes(b"PK\x03\x04 not a zip")
    (root / "table.csv").write_text("1,2,3\n")
    x = np.eye(10, dtype=np.float32)[np.array([4, 3, 6, 6, 6])]
    np.save(root / "good.npy", x)
    np.save(root / "good_batch.npy", np.stack([x] * 8))  # calibration rows: a batch
    np.save(root / "good_labels.npy", np.zeros((8, 10), dtype=np.float32))
    (root / "objects.py").write_text("# registers no layer\n")
    np.savez(root / "good.npz", input=x[np.newaxis])
    from edgeseq.runtimes import open_runner  # a golden file: the model's own outputs on good.npz

    np.savez(root / "good_outputs.npz", **open_runner(vanilla / "model.onnx").run({"input": x[np.newaxis]}))
    np.save(root / "wrong_shape.npy", x[:4])
    np.save(root / "wrong_width.npy", x[:, :7])
    plus = np.eye(12, dtype=np.float32)[np.full(8, 10)]  # "++++++++" one-hot: valid one-hot
    np.save(root / "plus_signs.npy", plus)
    (root / "empty_manifest").mkdir()
    (root / "empty_manifest" / "manifest.json").write_text("")
    (root / "corrupt_manifest").mkdir()
    (root / "corrupt_manifest" / "manifest.json").write_text("{")
    _edit_manifest(_copy(vanilla, root / "no_problem"), lambda d: d.pop("problem"))
    _edit_manifest(_copy(vanilla, root / "no_artifacts"), lambda d: d.pop("artifacts"))
    encoder_decoder = _copy(untrained("encoder_decoder"), root / "encoder_decoder")
    (_copy(vanilla, root / "no_reference") / "reference.npz").resolve().unlink()
    tampered = _copy(vanilla, root / "tampered_keras")
    with open(tampered / "model.keras", "ab") as f:
        f.write(b"\0")
    missing_onnx = _copy(vanilla, root / "missing_onnx")
    (missing_onnx / "model.onnx").resolve().unlink()
    (root / "users_onnx").mkdir()
    (root / "users_onnx" / "model.onnx").write_bytes(b"the user's own model")
    (root / "users_current" / "current").mkdir(parents=True)
    (root / "users_keras").mkdir()
    (root / "users_keras" / "model.keras").write_bytes(b"the user's own keras model")
    shutil.copy(vanilla / "model.keras", root / "my_model.keras")
    (root / "fresh").mkdir()
    (root / "web_pack").mkdir()  # what serve checks before it listens: a page.json
    (root / "web_pack" / "page.json").write_text("{}")
    return {"root": root, "vanilla": vanilla, "generative": generative, "web_pack": root / "web_pack",
            "encoder_decoder": encoder_decoder,
            "vanilla_junk": root / "vanilla_junk", "generative_junk": root / "generative_junk"}


def run_cell(world, command, option, value, base=None):
    argv = _argv(command, option, value, world, base)
    before = snapshot(world["root"])
    result = cli.invoke(app, argv)
    return argv, result, before


def cell_failures(world, argv, result, before) -> list[str]:
    """What is wrong with one cell's run (empty when it holds the contract)."""
    problems = []
    if isinstance(result.exception, LongWorkStarted):
        problems.append("long work started before the value was refused")
    if result.exit_code != 2:
        problems.append(f"exit {result.exit_code}")
    lines = result.stderr.strip().splitlines()
    if len(lines) != 1 or not lines[0].startswith("error:"):
        problems.append(f"{len(lines)} stderr lines")
    if "Traceback" in result.output or (result.exception is not None
                                        and not isinstance(result.exception, SystemExit)):
        problems.append(f"exception {type(result.exception).__name__}")
    if result.stdout:
        problems.append("stdout not empty")
    if snapshot(world["root"]) != before:
        problems.append("files changed")
    return problems


@pytest.mark.usefixtures("no_long_work")
@pytest.mark.parametrize("command, option, cls, value, base", CELLS,
                         ids=[f"{c} {o} {k}" for c, o, k, _, _ in CELLS])
def test_bad_value_is_one_line_exit_2_before_long_work_and_changes_nothing(world, command, option,
                                                                           cls, value, base):
    argv, result, before = run_cell(world, command, option, value, base)
    problems = cell_failures(world, argv, result, before)
    assert not problems, f"{argv}: {'; '.join(problems)}\n{result.output[-1500:]}"


CONTROLS = sorted({(c, o) for c, o, _, _, _ in CELLS} | {(c, None) for c in BASES},
                  key=lambda pair: (pair[0], pair[1] or ""))


@pytest.mark.usefixtures("no_long_work")
@pytest.mark.parametrize("command, option", CONTROLS, ids=[f"{c} {o or ''}" for c, o in CONTROLS])
def test_the_base_command_line_with_a_good_value_passes_validation(world, command, option):
    """So that each cell above fails because of its one bad value, not because of its base."""
    if option is None:
        argv = _argv(command, None, None, world)
    else:
        kind = _kind_of_option(command, option)
        good = GOOD_CHOICE[option] if kind == "choice" else GOOD_FOR.get((command, option), GOOD[kind])
        argv = _argv(command, option, good, world)
    result = cli.invoke(app, argv)
    assert isinstance(result.exception, LongWorkStarted) or result.exit_code == 0, (argv, result.output)


def _kind_of_option(command: str, option: str) -> str:
    group = typer.main.get_command(app)
    param = next(p for p in group.commands[command].params if option in (*p.opts, p.name))
    return kind_of(command, param.name)


def test_every_command_has_a_base_command_line():
    missing = sorted(set(typer.main.get_command(app).commands) - set(BASES))
    assert not missing, f"add a base command line to BASES for: {', '.join(missing)}"


def test_every_option_has_a_kind():
    group = typer.main.get_command(app)
    missing = [f"{name} {param.opts[0]}" for name, command in group.commands.items()
               for param in command.params
               if not getattr(param, "is_flag", False)
               and kind_of(name, param.name) is None]
    assert not missing, f"give these options a kind in KIND_OF: {', '.join(missing)}"
