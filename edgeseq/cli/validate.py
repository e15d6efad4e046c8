"""Checks of command-line values that run before any long work: a path the command will
write to, a file it will read, a count it will allocate for, a directory whose files it
would replace. Each refuses with one InputError line (exit 2) naming the option, the value
and what was expected, so that a bad `--plot` or `--out` is said in milliseconds instead of
after a training run or a benchmark.

Imports no TensorFlow and no runtime: predict and the device install use it too.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

from .. import manifest as manifest_file
from ..errors import InputError

#: numpy's and Keras's seeds are unsigned 32-bit at heart; larger values are refused, not wrapped
SEED_MAX = 2**32 - 1
#: Past this, generated inputs are an allocation accident, not a measurement: `parity
#: --samples 1000000000` once tried to allocate 37 GiB.
MAX_INPUT_BYTES = 1 << 30
MAX_SAMPLES = 1_000_000
MAX_CALLS = 10_000_000
MAX_KERAS_CALLS = 100_000
MAX_BATCH = 100_000
MAX_EPOCHS = 100_000
MAX_SEQUENCE_LENGTH = 100_000

MODEL_KERAS = "model.keras"
# What an export writes into --out: anything real (not a link into current/) under these
# names that the manifest does not vouch for is someone's file and would be replaced.
_EXPORT_WRITES = re.compile(r"(current|manifest\.json|reference\.npz|(model|floor)(\.[\w-]+)?\.(onnx|tflite))")
GENERATIONS = ".generations"  # export.publish.GENERATIONS, named here without importing export


def _nearest_existing(path: Path) -> Path:
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _probe_writable(directory: Path, option: str, value: Path) -> None:
    """os.access says yes to root even where the kernel says no (sysfs, read-only mounts),
    so ask the file system itself with a file made and removed at once."""
    import tempfile  # noqa: PLC0415 - a command that writes; predict without --save-outputs never does

    try:
        fd, probe = tempfile.mkstemp(prefix=".edgeseq-probe-", dir=directory)
    except OSError as exc:
        raise InputError(f"{option} {value}: cannot write in {directory} "
                         f"({exc.strerror or type(exc).__name__})") from None
    os.close(fd)
    os.unlink(probe)


def _writable_from(directory: Path, option: str, value: Path) -> Path:
    """`value` when `directory` (made when missing) can be written: its nearest existing
    ancestor is a directory the file system lets us write in."""
    ancestor = _nearest_existing(directory)
    if not ancestor.is_dir():
        raise InputError(f"{option} {value}: {ancestor} is a file, so no directory can be made there")
    _probe_writable(ancestor, option, value)
    return value


def output_dir(path: Path, option: str = "--out") -> Path:
    """A directory the command writes into (made when missing): not a file, not under a
    file, writable."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{option} {path} is a file; expected a directory (made when missing)")
    return _writable_from(path, option, path)


def output_file(path: Path, option: str, suffixes: tuple[str, ...] = (".png",)) -> Path:
    """A file the command writes (replaced atomically when it exists)."""
    path = Path(path)
    expected = " or ".join(suffixes)
    if path.is_dir():
        raise InputError(f"{option} {path} is a directory; expected a {expected} file name")
    if path.suffix.lower() not in suffixes:
        raise InputError(f"{option} {path}: expected a {expected} file name")
    if path.exists() and not path.is_file():
        raise InputError(f"{option} {path} exists and is not a regular file")
    return _writable_from(path.parent, option, path)


def input_file(path: Path, option: str, suffixes: tuple[str, ...] = (".npy",)) -> Path:
    """A file the command reads: present, a file, not empty, of the expected kind."""
    path = Path(path)
    expected = " or ".join(suffixes)
    if not path.exists():
        raise InputError(f"{option} {path}: file not found")
    if path.is_dir():
        raise InputError(f"{option} {path} is a directory; expected a {expected} file")
    if path.suffix.lower() not in suffixes:
        raise InputError(f"{option} {path}: expected a {expected} file")
    if not os.access(path, os.R_OK):
        raise InputError(f"{option} {path}: not readable")
    if path.stat().st_size == 0:
        raise InputError(f"{option} {path} is empty")
    return path


def plot_needs_matplotlib(option: str = "--plot") -> None:
    """The device install has no matplotlib: say so before the work whose picture it is."""
    try:
        import matplotlib  # noqa: F401, PLC0415 - imported only when a plot is asked for
    except ImportError:
        raise InputError(f"{option} needs matplotlib, which is not installed "
                         "(pip install matplotlib); nothing was run") from None


def plot_path(path: Path | None, option: str = "--plot") -> Path | None:
    if path is None:
        return None
    output_file(path, option)
    plot_needs_matplotlib(option)
    return path


def inputs_fit(count: int, input_shape: tuple[int, ...], option: str) -> None:
    """`count` generated float32 inputs of input_shape must fit in MAX_INPUT_BYTES."""
    per_input = 4 * math.prod(input_shape)
    if count * per_input > MAX_INPUT_BYTES:
        most = MAX_INPUT_BYTES // per_input
        raise InputError(f"{option} {count:,} would need {count * per_input / 2**30:.1f} GiB of "
                         f"inputs of shape {tuple(input_shape)}; at most {most:,} fit in the "
                         f"{MAX_INPUT_BYTES / 2**30:.0f} GiB edgeseq allows")


# ----------------------------------------------------------------- replacing what is there


def _owner_of_model_keras(directory: Path, manifest: dict | None) -> str | None:
    """Which architecture edgeseq wrote directory/model.keras for; None when edgeseq has no
    record of it; "changed" when a record exists and the bytes no longer match it."""
    path = directory / MODEL_KERAS
    digest = manifest_file.sha256(path)
    records = []
    listed = manifest_file.entry(manifest, MODEL_KERAS) if manifest else None
    if listed is not None:
        records.append((manifest.get("architecture"), listed.get("sha256")))
    sidecar = manifest_file.model_record(directory)
    if sidecar is not None:
        records.append((sidecar.get("architecture"), sidecar.get("sha256")))
    for architecture, recorded in records:
        if recorded == digest:
            return architecture
    return "changed" if records else None


def _readable_manifest(directory: Path) -> dict | None:
    try:
        return manifest_file.load(directory)
    except InputError:
        return None


def _ours(path: Path, manifest: dict | None) -> bool:
    if path.is_symlink():
        return path.name == "current" or os.readlink(path).startswith("current/")
    listed = manifest_file.entry(manifest, path.name) if manifest else None
    return listed is not None and path.is_file() and manifest_file.sha256(path) == listed.get("sha256")


def export_target(directory: Path, name: str, force: bool, user_model: Path | None = None) -> bool:
    """Refuse an --out whose files an export of `name` would replace without having written
    them. Returns True when model.keras there must be ignored and replaced (--force over
    another model's file)."""
    directory = output_dir(directory)
    if not directory.is_dir():
        return False
    manifest = _readable_manifest(directory)
    hint = "choose another --out, or pass --force to replace it"
    # Names the publishing switch needs as its own; --force cannot make them so.
    if (directory / GENERATIONS).exists() and not (directory / GENERATIONS).is_dir():
        raise InputError(f"--out {directory} holds a file named {GENERATIONS}, where exports keep "
                         "their generations: move it, or choose another --out")
    current = directory / "current"
    if current.exists() and not current.is_symlink():
        raise InputError(f"--out {directory} holds {current.name}, which edgeseq did not write and "
                         "needs as its link to the published set: move it, or choose another --out")
    if not force:
        foreign = sorted(p.name for p in directory.iterdir()
                         if _EXPORT_WRITES.fullmatch(p.name) and not _ours(p, manifest))
        if foreign:
            raise InputError(f"--out {directory} holds {foreign[0]}, which edgeseq did not write; "
                             f"exporting would replace it: {hint}")
        if manifest is not None and manifest.get("architecture") != name:
            raise InputError(f"--out {directory} holds the export of "
                             f"{manifest.get('architecture')!r}, not {name!r}: {hint}")
    keras_file = directory / MODEL_KERAS
    if not keras_file.is_file():
        return False
    owner = _owner_of_model_keras(directory, manifest)
    if user_model is not None:
        if keras_file.samefile(user_model) or owner == name:
            return False
        if manifest_file.sha256(keras_file) == manifest_file.sha256(user_model):
            return False
    elif owner in (name, None):
        return False  # ours, or one the user put there to be exported (the pipeline checks its shape)
    if force:
        return owner != "changed" or user_model is not None
    if owner == "changed":
        raise InputError(f"{keras_file} changed since edgeseq wrote it (sha256 differs from its "
                         f"record); refusing to export or replace it: {hint}")
    what = f"a trained {owner!r} model" if owner else "a model.keras edgeseq did not write"
    raise InputError(f"--out {directory} holds {what}, not {name!r}: {hint}")


def train_target(directory: Path, name: str, force: bool) -> None:
    """Training writes model.keras: refuse to replace one edgeseq did not train for `name`."""
    directory = output_dir(directory)
    if force or not directory.is_dir():
        return
    manifest = _readable_manifest(directory)
    hint = "choose another --out, or pass --force to replace it"
    if manifest is not None and manifest.get("architecture") != name:
        raise InputError(f"--out {directory} holds the export of "
                         f"{manifest.get('architecture')!r}, not {name!r}: {hint}")
    keras_file = directory / MODEL_KERAS
    if keras_file.is_file():
        owner = _owner_of_model_keras(directory, manifest)
        if owner == "changed":
            raise InputError(f"{keras_file} changed since edgeseq wrote it: {hint}")
        if owner != name:
            what = f"a trained {owner!r} model" if owner else "a model.keras edgeseq did not write"
            raise InputError(f"--out {directory} holds {what}, not {name!r}: {hint}")
        listed = manifest_file.entry(manifest, MODEL_KERAS) if manifest else None
        if listed is not None and listed.get("sha256") == manifest_file.sha256(keras_file):
            # Replacing the model an export was made from leaves that export refusing parity
            # and bench until it is re-exported: worth one explicit word.
            raise InputError(f"--out {directory} holds the {name} export made from this "
                             "model.keras; retraining replaces it and the export must be redone: "
                             "pass --force (then run `edgeseq export`), or choose another --out")


# ------------------------------------------------------------------- after the long work


def save_plot(write, path: Path, option: str = "--plot") -> None:
    """Run `write` (which saves the picture); a failure is one line, said after the report
    it illustrates was already printed."""
    try:
        write()
    except InputError:
        raise
    except Exception as exc:  # matplotlib's and the file system's errors alike
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise InputError(f"{option} {path}: the plot could not be saved ({first}); "
                         "the report above is complete") from None


def bench_inputs(directory: Path, batch: int) -> None:
    """The batch bench generates must fit in memory (checked when the directory has a
    manifest; bench itself says what is wrong with one that has none)."""
    from .. import registry  # noqa: PLC0415

    if (Path(directory) / manifest_file.MANIFEST).is_file():
        problem = registry.problem_from_manifest(manifest_file.load(directory))
        inputs_fit(batch, problem.input_shape, "--batch")


def fits_runner(batch, runner):
    """An encoded batch the runner's one input takes: shape checked here, so a model of
    other shapes is one line, not the runtime's error."""
    spec = runner.inputs[0]
    expected = tuple(spec.shape[1:])
    if len(expected) != batch.ndim - 1 or any(
            e is not None and e != b for e, b in zip(expected, batch.shape[1:], strict=True)):
        raise InputError(f"{runner.path.name} takes inputs of shape {expected}; "
                         f"this input has {tuple(batch.shape[1:])}")
    return batch
