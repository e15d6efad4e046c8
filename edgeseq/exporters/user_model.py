"""A user's own model (`edgeseq export PATH`), shaped like a registry Architecture so the same
pipeline converts and gates it.

Formats: a Keras 3 `.keras` file, a legacy Keras `.h5`/`.hdf5` file (Keras 3 reads both), and
a TF SavedModel directory (or the path of its `saved_model.pb`). Keras 3 cannot load a
SavedModel as a model, so its serving signature is called through a TFSMLayer inside a Keras
model with the signature's input names: Keras runs it as the parity reference, tf2onnx traces
it, and TFLite converts it at batch 1 (fused where the SavedModel was written by Keras 2,
whose LSTM functions carry the fusable implementation attribute; WHILE loops otherwise).

Loading uses Keras safe mode: a file that carries Python code (a Lambda layer) is refused
unless the user passes --unsafe; so is `--custom-objects module.py`, which runs the module to
register the user's layer classes. TFLite goes through a tf_keras twin at batch 1 when the
model's layer graph (any inputs, merges, outputs) rebuilds from standard layers
(tf_keras_twin.py: LSTMs fuse), else through the Keras 3 model at batch 1, the route saying
why; the manifest's `route` and `fused` say what the file holds.

Inputs and outputs keep the Keras model's names in every format (ONNX graph names, the TFLite
signature), so a feed or an answer means the same thing whichever runtime runs it.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

import numpy as np

from .. import error_text
from ..architectures import Training
from ..array_files import read_arrays
from ..errors import EdgeseqError
from ..problems.user_inputs import METRICS, UserInputs
from . import layer_walk
from .tflite import tf_keras_twin

USER = "user"
TWIN_CHECK_SAMPLES = 8
KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
SAVED_MODEL_ROUTE = "TF SavedModel through TFSMLayer at batch 1 → TFLiteConverter"


@dataclass
class UserModel:
    name: str
    path: Path | None  # None: a model handed over in memory (the Python API)
    unsafe: bool
    keras_model: object
    problem: UserInputs
    model: str  # the layer types, as a one-line description
    source_format: str = "keras"  # keras, h5 or saved_model
    io_specs: dict = field(default_factory=dict)  # {"inputs": [...], "outputs": [...]}: Keras names
    no_twin: str = ""  # why the layer graph has no tf_keras twin (set by tflite_twin)
    training = Training(samples=0, epochs=0, batch_size=0, loss="", atol=1e-5)
    #: An export subject that is a user's model: no skill to reach, its Keras model given
    #: (registry.Architecture says False).
    is_user_model: ClassVar[bool] = True

    @property
    def worker_name(self) -> str:
        """How the TFLite conversion child process finds this model again."""
        return f"{USER}:{'unsafe' if self.unsafe else 'safe'}"

    @property
    def twin_route(self) -> str:
        """The TFLite route when there is no tf_keras twin, with the reason there is none."""
        from .tflite.to_tflite import KERAS3_ROUTE  # noqa: PLC0415

        route = SAVED_MODEL_ROUTE if self.source_format == "saved_model" else KERAS3_ROUTE
        return f"{route} (no tf_keras twin: {self.no_twin})" if self.no_twin else route

    def tflite_twin(self, model, problem=None):
        """The tf_keras twin when the model's layer graph can be rebuilt (fused LSTMs), else
        the model itself: save_twin exports it with a batch-1 signature, the fixed batch that
        lets the converter lower Keras 3 recurrences to a builtin WHILE loop."""
        if self.source_format == "saved_model":  # its functions are converted as saved
            return model
        inputs, _ = self.problem.generate(TWIN_CHECK_SAMPLES, np.random.default_rng(0))
        try:
            twin = tf_keras_twin.rebuild(model, inputs, atol=self.training.atol, length=self.problem.length)
        except tf_keras_twin.NoTwin as why:
            self.no_twin = str(why)
            return model
        self.no_twin = ""
        return twin


def import_custom_objects(module_path: Path | None, unsafe: bool) -> dict:
    """Run the user's module so that its `register_keras_serializable` decorators register its
    layers; its classes are also passed to the loader by name (for unregistered ones)."""
    if module_path is None:
        return {}
    module_path = Path(module_path)
    if not unsafe:
        raise EdgeseqError("--custom-objects runs the module's Python code: add --unsafe if you trust it")
    if not module_path.is_file() or module_path.suffix != ".py":
        raise EdgeseqError(f"--custom-objects {module_path}: expected a .py file")
    spec = importlib.util.spec_from_file_location(module_path.stem, module_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_path.stem] = module  # classes pickled or looked up by module name
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's own code: any error it raises
        raise EdgeseqError(f"--custom-objects {module_path} failed to import: {type(exc).__name__}: "
                           f"{error_text.cause(exc)}") from None
    return {name: obj for name, obj in vars(module).items()
            if isinstance(obj, type) and obj.__module__ == module.__name__}


def saved_model_dir(path: Path) -> Path | None:
    path = Path(path)
    if path.is_dir() and (path / "saved_model.pb").is_file():
        return path
    if path.name == "saved_model.pb" and path.is_file():
        return path.parent
    return None


def load_keras(path: Path, unsafe: bool, custom_objects: dict | None = None):
    import keras  # noqa: PLC0415

    path = Path(path)
    if saved_model_dir(path) is not None:
        return _load_saved_model(saved_model_dir(path))
    if path.is_dir():
        raise EdgeseqError(f"{path} is a directory without saved_model.pb: not a TF SavedModel")
    if not path.is_file():
        raise EdgeseqError(f"model file not found: {path}")
    if unsafe:
        # The user vouched for the file: later clones (the TFLite twin) deserialize it too.
        keras.config.enable_unsafe_deserialization()
    else:
        # Keras has no public way back: without this, one --unsafe load in a process (a test
        # session, a notebook) would let every later load run Lambda code unasked.
        from keras.src.backend.common import global_state  # noqa: PLC0415

        global_state.set_global_attribute("safe_mode_saving", None)
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=not unsafe,
                                       custom_objects=custom_objects or None)
    except ValueError as exc:
        if "safe_mode" in str(exc) or "Lambda" in str(exc):
            raise EdgeseqError(f"{path} carries Python code (a Lambda layer); refused in safe "
                               "mode. Pass --unsafe only if you trust the file") from None
        raise _not_loadable(path, exc) from None
    except Exception as exc:  # zip, h5 and deserialization errors of every kind
        raise _not_loadable(path, exc) from None


def _not_loadable(path: Path, exc: Exception) -> EdgeseqError:
    missing = re.search(r"Could not locate (?:class|function) '([^']+)'", str(exc))
    if missing:
        return EdgeseqError(f"{path} uses a custom class Keras cannot find ({missing.group(0)}): "
                            "pass --custom-objects module.py (the module that registers it) with --unsafe")
    if "File not found" in str(exc) and Path(path).is_file():  # Keras's words for "not a zip"
        return EdgeseqError(f"{path} is not a loadable Keras model (neither a .keras zip nor an HDF5 file)")
    return EdgeseqError(f"{path} is not a loadable Keras model ({error_text.cause(exc)})")


def _load_saved_model(directory: Path):
    import keras  # noqa: PLC0415
    import tensorflow as tf  # noqa: PLC0415

    try:
        loaded = tf.saved_model.load(str(directory))
        signature = loaded.signatures["serving_default"]
    except KeyError:
        raise EdgeseqError(f"{directory}: the SavedModel has no serving_default signature") from None
    except Exception as exc:  # protobuf and op-registry errors of every kind
        raise EdgeseqError(f"{directory} is not a loadable TF SavedModel ({error_text.cause(exc)})") from None
    _, specs = signature.structured_input_signature
    outputs = signature.structured_outputs
    if not isinstance(outputs, dict) or not specs:
        raise EdgeseqError(f"{directory}: serving_default must take and return named tensors")

    class SignatureCall(keras.layers.TFSMLayer):
        """TFSMLayer calls a signature with one positional tensor; a signature takes keyword
        arguments, one per input name, so several inputs need this call."""

        def call(self, inputs, training=False):
            inputs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
            result = self.call_endpoint_fn(**dict(zip(specs, inputs, strict=True)))
            values = [result[name] for name in outputs]
            return values if len(values) > 1 else values[0]

    names = list(specs)
    inputs = [keras.Input(tuple(specs[n].shape[1:]), name=n, dtype=specs[n].dtype.name) for n in names]
    call = SignatureCall(str(directory), call_endpoint="serving_default", name="saved_model")
    result = call(inputs if len(inputs) > 1 else inputs[0])
    result = result if isinstance(result, (list, tuple)) else [result]
    # Identity layers named after the signature's outputs: the outputs keep their names
    named = [keras.layers.Identity(name=name)(t) for name, t in zip(outputs, result, strict=True)]
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], named if len(named) > 1 else named[0],
                       name=directory.name)


def load(path: Path, unsafe: bool = False, calibration: Path | None = None,
         custom_objects: Path | None = None, sequence_length: int | None = None,
         labels: Path | None = None, metric: str | None = None, quantize: bool = False) -> UserModel:
    """A user's model file (.keras, .h5, a SavedModel) as an export subject."""
    _check_options(calibration, labels, metric, quantize)
    model = load_keras(path, unsafe, import_custom_objects(custom_objects, unsafe))
    source = ("saved_model" if saved_model_dir(path) is not None
              else "h5" if Path(path).suffix in (".h5", ".hdf5") else "keras")
    name = (saved_model_dir(path).name if source == "saved_model" else Path(path).stem)
    return of_model(model, name, Path(path), source, unsafe, calibration, sequence_length, labels,
                    metric, quantize)


def of_model(model, name: str, path: Path | None = None, source: str = "keras", unsafe: bool = False,
             calibration: Path | None = None, sequence_length: int | None = None,
             labels: Path | None = None, metric: str | None = None, quantize: bool = False) -> UserModel:
    """A Keras model as an export subject: one loaded from `path`, or one in memory (the
    Python API's `edgeseq.export(model)`; `path` None)."""
    _check_options(calibration, labels, metric, quantize)
    where = path if path is not None else f"model {name!r}"
    layers = list(layer_walk.layers(model))
    tensors = []
    for tensor in model.inputs:
        vocab = _vocab_of(model, tensor, layers)
        tensors.append({"name": tensor.name, "shape": list(tensor.shape[1:]), "dtype": str(tensor.dtype),
                        "vocab": vocab})
        if np.dtype(str(tensor.dtype)).kind in "iu" and vocab is None and calibration is None:
            raise EdgeseqError(f"{where}: integer input {tensor.name!r} without an Embedding; give "
                               "--calibration-file with example inputs")
    output_names = getattr(model, "output_names", None) or [t.name for t in model.outputs]
    outputs = [{"name": name, "kind": _kind(model, t)} for name, t in zip(output_names, model.outputs, strict=True)]
    problem = UserInputs(shape=tuple(tensors[0]["shape"]), dtype=tensors[0]["dtype"], vocab=tensors[0]["vocab"],
                         kind=outputs[0]["kind"], tensors=tuple(tensors), outputs=tuple(outputs),
                         length=sequence_length)
    if calibration is not None:
        problem = _with_calibration(problem, Path(calibration), sequence_length)
    if labels is not None:
        problem = _with_labels(problem, Path(labels), metric)
    elif quantize:
        problem = replace(problem, metric_name="fidelity")
    if problem.variable_length and problem.length is None:
        raise EdgeseqError(f"{where}: input shape {tensors[0]['shape']} has a variable length; give "
                           "--sequence-length N (TFLite is fixed at one length) or --calibration-file")
    described = " → ".join(type(layer).__name__ for layer in model.layers
                           if type(layer).__name__ != "InputLayer")
    return UserModel(name=name, path=path, unsafe=unsafe, keras_model=model, problem=problem,
                     model=described, source_format=source,
                     io_specs={"inputs": tensors, "outputs": [o["name"] for o in outputs]})


def _check_options(calibration, labels, metric, quantize) -> None:
    if metric is not None and metric not in METRICS:
        raise EdgeseqError(f"unknown --metric {metric!r}; expected one of {', '.join(METRICS)}")
    if (labels is None) != (metric is None):
        raise EdgeseqError("--labels and --metric go together (labels y.npy, metric accuracy or mae)")
    if labels is not None and calibration is None:
        raise EdgeseqError("--labels needs --calibration-file: the labels are those inputs' targets")
    if quantize and calibration is None:
        raise EdgeseqError("quantizing your own model needs --calibration-file inputs.npy|.npz: "
                           "representative inputs calibrate it, and held-out rows gate it")


def _with_calibration(problem: UserInputs, path: Path, sequence_length: int | None) -> UserInputs:
    arrays = read_arrays(path)
    names = problem.input_names
    if isinstance(arrays, np.ndarray):
        if len(names) != 1:
            raise EdgeseqError(f"{path}: this model takes {len(names)} inputs ({', '.join(names)}); "
                               "give an .npz with one array per input name")
        arrays = {names[0]: arrays}
    elif len(names) == 1 and len(arrays) == 1:
        arrays = {names[0]: next(iter(arrays.values()))}
    if set(arrays) != set(names):
        raise EdgeseqError(f"{path} holds {', '.join(sorted(arrays))}; the model takes {', '.join(names)}")
    data = {}
    for spec in problem.specs:
        array = arrays[spec["name"]]
        if array.ndim != len(spec["shape"]) + 1:
            raise EdgeseqError(f"{path}: {spec['name']!r} has shape {array.shape}; expected "
                               f"(N, {', '.join(map(str, spec['shape']))})")
        data[spec["name"]] = problem.check_array(array, spec)
    if len({len(a) for a in data.values()}) != 1:
        raise EdgeseqError(f"{path}: the inputs hold different numbers of rows")
    length = sequence_length
    if problem.variable_length:
        found = {a.shape[1 + spec["shape"].index(None)] for spec, a in zip(problem.specs, data.values(), strict=True)
                 if None in spec["shape"]}
        if len(found) != 1 or (sequence_length is not None and found != {sequence_length}):
            raise EdgeseqError(f"{path}: calibration rows have length {sorted(found)}; "
                               + (f"--sequence-length is {sequence_length}" if sequence_length else
                                  "give rows of one length"))
        length = found.pop()
    return replace(problem, calibration=data if problem.tensors and len(names) > 1 else data[names[0]],
                   length=length)


def _with_labels(problem: UserInputs, path: Path, metric: str) -> UserInputs:
    labels = read_arrays(path)
    outputs = [o["name"] for o in problem.outputs]
    if isinstance(labels, np.ndarray):
        if len(outputs) != 1:
            raise EdgeseqError(f"{path}: this model has {len(outputs)} outputs; give an .npz with one "
                               f"array per output name ({', '.join(outputs)})")
        labels = {outputs[0]: labels}
    if set(labels) != set(outputs):
        raise EdgeseqError(f"{path} holds {', '.join(sorted(labels))}; the outputs are {', '.join(outputs)}")
    rows = len(problem.calibration if isinstance(problem.calibration, np.ndarray)
               else next(iter(problem.calibration.values())))
    if any(len(v) != rows for v in labels.values()):
        raise EdgeseqError(f"{path}: labels need one row per calibration row ({rows})")
    return replace(problem, labels=labels, metric_name=metric)


def _kind(model, tensor) -> str:
    """classes (softmax), binary (sigmoid) or regression, from the activation that made it."""
    layer = tensor._keras_history[0] if hasattr(tensor, "_keras_history") else model.layers[-1]
    inner = getattr(layer, "layer", layer)  # TimeDistributed(Dense(…, softmax))
    activation = getattr(getattr(inner, "activation", None), "__name__", "")
    return {"softmax": "classes", "sigmoid": "binary"}.get(activation, "regression")


def _vocab_of(model, tensor, layers) -> int | None:
    """The input_dim of the Embedding this input feeds (the first Embedding, for one input)."""
    embeddings = [layer for layer in layers if type(layer).__name__ == "Embedding"]
    if len(model.inputs) == 1:
        return embeddings[0].input_dim if embeddings else None
    for layer in embeddings:
        for node in getattr(layer, "_inbound_nodes", []):
            if any(t is tensor or getattr(t, "name", None) == tensor.name for t in node.input_tensors):
                return layer.input_dim
    return None
