"""Keras's streaming answers stored at export (stream_reference.npz), so that `edgeseq parity
--reference stored` on a device without TensorFlow reports step rows too: a few seeded
sequences with Keras's output at every step and on the window, and one long stream with
Keras's outputs in float32 and float64 and Keras's state before each of its steps with its
step from there (the anchored check) — what stream_parity.compare needs, as arrays.

Why a few sequences, not the export gate's 200: the file travels with the export, and
cnn_lstm's frames make every stored sequence 8,000 values; the 200-sequence gate has run at
export already, this checks the device's runtimes against the same Keras numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..errors import InputError

FILE = "stream_reference.npz"
SEQUENCES = 32
#: the arrays of stream_parity.references, stored under these names
KEYS = ("inputs", "targets", "every_step", "window", "stream", "long")
#: stored when the export had them (older exports have none of the anchored arrays)
OPTIONAL = ("exact_long", "anchored_states", "anchored_outputs", "anchored_next_states")


def write(path: Path, refs: dict) -> dict:
    """refs: stream_parity.references(...); its first SEQUENCES sequences are stored."""
    refs = refs | {key: refs[key][:SEQUENCES] for key in ("inputs", "every_step", "window")}
    targets = refs["targets"]  # a user model's labels may be a dict: not judged on the device
    refs["targets"] = (targets[:SEQUENCES] if isinstance(targets, np.ndarray)
                       else np.zeros((len(refs["inputs"]), 0), np.float32))
    arrays = {key: refs[key] for key in KEYS + OPTIONAL if refs.get(key) is not None}
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, seed=np.int64(refs["seed"]), **arrays)
    return {"format": "reference", "variant": "stream", "step": True, "sequences": len(refs["inputs"]),
            "long_steps": int(refs["stream"].shape[1]), "seed": int(refs["seed"]),
            "route": "Keras 3 outputs at every step of seeded sequences and of one long stream"}


def read(path: Path) -> dict:
    """The stored references, as stream_parity.compare takes them."""
    try:
        with np.load(path, allow_pickle=False) as data:
            stored = {name: data[name] for name in data.files}
    except (OSError, ValueError) as exc:
        raise InputError(f"{path} is not a readable edgeseq stream reference ({exc})") from None
    missing = [key for key in KEYS + ("seed",) if key not in stored]
    if missing:
        raise InputError(f"{path} is not a readable edgeseq stream reference (no {', '.join(missing)})")
    return {key: stored.get(key) for key in KEYS + OPTIONAL} | {"seed": int(stored["seed"])}
