"""Named arrays in files, and inputs generated from a model's input specs: what `compare`
feeds its runs and what `predict --save-outputs` writes. numpy only (onnx read lazily), so
the device install has it.

An .npz holds one array per tensor name, as Polygraphy's saved feeds do; an .npy is the one
array of a one-input model. Generated inputs follow the documented user-model ranges
(problems/user_inputs.py): floats uniform in [0, 1), integer ids uniform below the vocabulary
of the Embedding (Keras) or Gather (ONNX) they index.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .array_files import read_npz
from .atomic import atomic_path
from .errors import InputError
from .problems.user_inputs import UserInputs
from .runtimes import Runner, TensorSpec

#: Integer inputs whose vocabulary no layer tells: ids below this.
DEFAULT_VOCAB = 10


#: Named arrays from an .npz (or the single array of an .npy, named by the file's stem).
load = read_npz


def save(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    path = Path(path)
    if path.suffix != ".npz":
        raise InputError(f"{path}: named arrays are saved as .npz; give a file name ending in .npz")
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **{name: np.asarray(a) for name, a in arrays.items()})


def batch_size(feed: Mapping[str, np.ndarray]) -> int:
    sizes = {len(a) if np.ndim(a) else 0 for a in feed.values()}
    if len(sizes) != 1 or 0 in sizes:
        raise InputError(f"inputs need one batch size, first axis: got {sorted(sizes)}")
    return sizes.pop()


def vocabularies(runner: Runner) -> dict[str, int]:
    """Input name → vocabulary size, for integer inputs that index an embedding table."""
    model = getattr(runner, "model", None)
    if runner.runtime == "keras" and model is not None:
        return _keras_vocabularies(model)
    if runner.path.suffix == ".onnx":
        return _onnx_vocabularies(runner.path)
    return {}


def _keras_vocabularies(model) -> dict[str, int]:
    found = {}
    for layer in model.layers:
        if type(layer).__name__ != "Embedding":
            continue
        for node in getattr(layer, "_inbound_nodes", []):
            for tensor in node.input_tensors:
                for spec in model.inputs:
                    if tensor is spec:
                        found[spec.name] = int(layer.input_dim)
    return found


def _onnx_vocabularies(path: Path) -> dict[str, int]:
    import onnx  # noqa: PLC0415 - the base install has it; only needed here

    graph = onnx.load(str(path), load_external_data=False).graph
    tables = {t.name: list(t.dims) for t in graph.initializer}
    inputs = {i.name for i in graph.input}
    # tf2onnx may cast ids before the Gather: follow Cast nodes back to the graph input.
    source = {n.output[0]: n.input[0] for n in graph.node if n.op_type == "Cast"}
    found = {}
    for node in graph.node:
        if node.op_type == "Gather" and node.input[0] in tables:
            name = node.input[1]
            while name in source and name not in inputs:
                name = source[name]
            if name in inputs:
                found[name] = int(tables[node.input[0]][0])
    return found


def generate(specs: list[TensorSpec], samples: int, seed: int,
             vocabs: Mapping[str, int] | None = None) -> dict[str, np.ndarray]:
    """Seeded inputs for every spec; the batch axis becomes `samples`."""
    rng = np.random.default_rng(seed)
    vocabs = vocabs or {}
    feed = {}
    for spec in specs:
        shape = tuple(spec.shape[1:])
        if any(d is None for d in shape):
            raise InputError(f"input {spec.name} has shape {tuple(spec.shape)} with a variable "
                             "dimension besides the batch; give --load-inputs x.npz")
        dtype = np.dtype(spec.dtype) if spec.dtype in np.sctypeDict else np.dtype("float32")
        vocab = vocabs.get(spec.name, DEFAULT_VOCAB) if dtype.kind in "iu" else None
        rows, _ = UserInputs(shape=shape, dtype=dtype.name, vocab=vocab).generate(samples, rng)
        feed[spec.name] = rows
    return feed
