"""Publish an export all at once, so that a reader (or a kill mid-export) sees the previous
artifact set or the new one, never a mix.

Each export writes into a fresh generation directory, `.generations/<id>/`, manifest last.
The switch is one atomic rename of the `current` symlink to that generation. The names
users know (`model.onnx`, `manifest.json`, ...) are symlinks into `current/`, made once, so
they change with the switch. Until the switch, the previous generation is untouched; after
it, older generations are removed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from ..manifest import MANIFEST
from . import pause_points

GENERATIONS = ".generations"
CURRENT = "current"


def new_generation(out_dir: Path) -> Path:
    root = Path(out_dir) / GENERATIONS
    root.mkdir(parents=True, exist_ok=True)
    generation = Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%dT%H%M%S-"), dir=root))
    umask = os.umask(0)
    os.umask(umask)
    generation.chmod(0o777 & ~umask)  # mkdtemp makes it 0700; readers are other users too
    return generation


def discard(generation: Path) -> None:
    shutil.rmtree(generation, ignore_errors=True)


def _symlink(target: str, link: Path) -> None:
    """Point `link` at `target`, replacing whatever is there in one rename."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}.link")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, link)


def activate(out_dir: Path, generation: Path, keep: set[str]) -> None:
    """Make `generation` current. Files it holds that are not in `keep` (rejected variants)
    are dropped first; it must already hold its manifest."""
    out_dir = Path(out_dir)
    for path in generation.iterdir():
        if path.name not in keep:
            path.unlink()
    # Stable names for files new in this generation are made *before* the switch: they
    # dangle until then, and no manifest lists them yet. Made after it, a kill in between
    # would leave the new manifest listing files with no name in out_dir.
    pending = []
    for path in sorted(generation.iterdir(), key=lambda p: p.name == MANIFEST):
        link, target = out_dir / path.name, f"{CURRENT}/{path.name}"
        if link.is_symlink() and os.readlink(link) == target:
            continue
        if link.exists() and not link.is_symlink():
            pending.append((target, link))  # a real file of an export made before generations
        else:
            _symlink(target, link)
    pause_points.reach("before-switch")
    _symlink(os.path.relpath(generation, out_dir), out_dir / CURRENT)  # the switch
    pause_points.reach("after-switch")
    for target, link in pending:
        _symlink(target, link)
    for link in out_dir.iterdir():  # names of files the new generation no longer has
        if link.is_symlink() and os.readlink(link).startswith(f"{CURRENT}/") and not link.exists():
            link.unlink()
    for old in (out_dir / GENERATIONS).iterdir():
        if old != generation:
            shutil.rmtree(old, ignore_errors=True)
