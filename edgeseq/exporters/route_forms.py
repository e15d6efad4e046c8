"""The candidate forms of one model per format, for the route search (routes.py).

TFLite: the tf_keras twin (fused LSTM kernels, today's route), the same twin with its LSTMs
unrolled at batch 1 (plain FULLY_CONNECTED/ADD/MUL/LOGISTIC/TANH ops: no per-call state reset,
XNNPACK runs them; vanilla 13 µs against 19 µs fused, TOOLCHAIN.md), and the Keras 3 model at
batch 1 (WHILE loops). ONNX: tf2onnx's native LSTM op (today's route) and the graph of an
unroll=True Keras 3 clone (MatMuls). The first form of each format is today's route: its
conversion error stops the export as before; another form's error is recorded as a skip.

Not a candidate: onnxruntime intra-op threads 2. At batch 1 it was no faster here, measured
side by side in one run (interleaved, µs p50, 1 vs 2 threads): vanilla native LSTM 15.9 vs
15.9, stacked native 46.5 vs 47.1, vanilla unrolled 36.6 vs 38.6, stacked unrolled 554 vs 595.
The LSTM op runs its steps in sequence and these GEMMs are too small to split.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .onnx import to_onnx
from .tflite import batch_tflite, to_tflite

#: Unrolling copies the cell once per time step and recurrent layer. Above this many copies
#: the file grows about that many times (stacked, 50 steps × 2 layers: TFLite 252 KB against
#: 24 KB fused, ONNX 286 KB against 24 KB), conversion takes 8–12 s more per format, and the
#: unrolled graph was slower anyway (stacked ONNX 554 µs against 47 µs).
MAX_UNROLLED_STEPS = 64
UNROLLED_TFLITE_ROUTE = "tf_keras twin at batch 1, LSTMs unrolled → TFLiteConverter"
UNROLLED_ONNX_ROUTE = "tf2onnx.convert.from_function (Keras 3 clone, LSTMs unrolled)"


@dataclass
class Form:
    """One candidate: `build(path)` writes the file and returns its manifest info; a form
    that does not apply has `skipped`, the reason, instead."""
    format: str
    name: str
    build: Callable[[Path], dict] | None = None
    skipped: str | None = None


RECURRENT = ("LSTM", "GRU", "SimpleRNN")


def _layer_configs(config):
    """Every layer config in a model config, wrapped ones (Bidirectional, TimeDistributed) too.
    The config, not the layer objects (layer_walk.py): unroll() edits it to build the clone."""
    if isinstance(config, dict):
        if "class_name" in config:
            yield config
        for value in config.values():
            yield from _layer_configs(value)
    elif isinstance(config, list):
        for value in config:
            yield from _layer_configs(value)


def unrolled_steps(model, length: int | None = None) -> int:
    """Time steps × recurrent layers: the cell copies an unrolled graph holds (`length`: the
    steps a variable time axis is fixed at)."""
    configs = list(_layer_configs(model.get_config()))
    # a Bidirectional's config holds its backward layer only when it was given one
    layers = (sum(c["class_name"] in RECURRENT for c in configs)
              + sum(c["class_name"] == "Bidirectional" and "backward_layer" not in c["config"] for c in configs))
    steps = model.inputs[0].shape[1] if len(model.inputs[0].shape) > 1 else None
    return int(steps or length or 0) * layers


def unroll(config, classes=("LSTM",)) -> None:
    """Set unroll=True on every layer config of those classes in a model config."""
    for layer in _layer_configs(config):
        if layer["class_name"] in classes:
            layer["config"]["unroll"] = True


def unrolled_keras(model, every_recurrence: bool = False, length: int | None = None):
    """A Keras 3 clone of `model` with every LSTM (every_recurrence: every LSTM, GRU and
    SimpleRNN) unrolled, same weights; a variable time axis fixed at `length` (Keras cannot
    unroll an undefined number of steps)."""
    config = model.get_config()
    unroll(config, RECURRENT if every_recurrence else ("LSTM",))
    for layer in _layer_configs(config):
        shape = layer["config"].get("batch_shape") if layer["class_name"] == "InputLayer" else None
        if length and shape and len(shape) > 2 and shape[1] is None:
            layer["config"]["batch_shape"] = [shape[0], length, *shape[2:]]
    clone = type(model).from_config(config)
    clone.set_weights(model.get_weights())
    return clone


def forms(arch, model, problem, twin_dir: Path, scratch: Path) -> dict[str, list[Form]]:
    """format → its forms, today's route first. `twin_dir` receives today's TFLite twin (the
    quantized variants convert from it); the other forms use their own folders in `scratch`."""
    io_specs = getattr(arch, "io_specs", None)
    dtype = getattr(problem, "dtype", "float32")

    def onnx_native(path):
        return to_onnx.convert(model, problem.input_shape, path, dtype,
                               inputs=io_specs["inputs"] if io_specs else None,
                               output_names=io_specs["outputs"] if io_specs else None)

    def onnx_unrolled(path):
        info = to_onnx.convert(unrolled_keras(model), problem.input_shape, path, dtype)
        return info | {"route": UNROLLED_ONNX_ROUTE}

    def tflite_twin(path):
        route = to_tflite.save_twin(arch, model, problem, twin_dir)
        info = to_tflite.convert(twin_dir, problem, path, route=route)
        # a user's model without a tf_keras twin goes through Keras 3: WHILE loops
        return info | ({} if route == to_tflite.TF_KERAS_ROUTE else {"form": "while"})

    def tflite_unrolled(path):
        batch_tflite.save_unrolled_twin(arch, model, problem, 1, scratch / "unrolled", for_tflm=True)
        return to_tflite.convert(scratch / "unrolled", problem, path, route=UNROLLED_TFLITE_ROUTE)

    def tflite_while(path):
        to_tflite.save_at_batch_1(model, scratch / "keras3")
        return to_tflite.convert(scratch / "keras3", problem, path, route=to_tflite.KERAS3_ROUTE)

    steps = unrolled_steps(model)
    skip = None
    if io_specs:  # a user's model: no builder to rebuild it in another form
        skip = "a model of your own takes today's route only (no builder to rebuild it unrolled)"
    elif steps > MAX_UNROLLED_STEPS:
        skip = (f"{steps} cell copies (time steps × recurrent layers) exceed {MAX_UNROLLED_STEPS}: "
                "large and slow unrolled")
    found = {
        "onnx": [Form("onnx", "native", onnx_native),
                 Form("onnx", "unrolled", None if skip else onnx_unrolled, skip)],
        "tflite": [Form("tflite", "fused", tflite_twin),
                   Form("tflite", "unrolled", None if skip else tflite_unrolled, skip)],
    }
    if not io_specs:  # a user's model without a tf_keras twin takes this route as today's
        found["tflite"].append(Form("tflite", "while", tflite_while))
    return found
