"""Arrays read from the files users give (.npy, .npz): one reader each, numpy only, so every
command that takes a file refuses a bad one with the same one-line error (exit 2) instead of
numpy's traceback. np.load tells .npy from .npz by the bytes, not the suffix."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import InputError


def read_arrays(path: Path, what: str = "input", expected: str = ".npy or .npz file"):
    """An .npy's array, or an .npz's arrays (name → array, all read here); InputError, one
    line, for a missing or unreadable file. `what` names the file in the not-found message,
    `expected` what it should have been."""
    import zipfile  # noqa: PLC0415 - only a command that reads a file needs it (predict --input does not)

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what} file not found: {path}")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputError(f"{path} is not a readable {expected} ({first})") from None
    if isinstance(loaded, np.ndarray):
        return loaded
    with loaded:  # an .npz reads its members lazily: a damaged member fails here, not later
        try:
            return {name: loaded[name] for name in loaded.files}
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise InputError(f"{path} holds an unreadable array ({exc})") from None


def read_npy(path: Path) -> np.ndarray:
    """The one array of an .npy file."""
    array = read_arrays(path, expected=".npy array")
    if not isinstance(array, np.ndarray):
        raise InputError(f"{path} holds several arrays; expected one .npy array")
    return array


def read_npz(path: Path, what: str = "arrays") -> dict[str, np.ndarray]:
    """Named arrays from an .npz (the one array of an .npy is named by the file's stem)."""
    path = Path(path)
    arrays = read_arrays(path, what, expected=".npz or .npy file")
    if isinstance(arrays, np.ndarray):
        return {path.stem: arrays}
    if not arrays:
        raise InputError(f"{path} holds no arrays")
    return arrays
