"""Keras 3 → TFLite with fused LSTM kernels, in fp32 or a quantized variant.

Why a tf_keras twin: the TFLite converter fuses an LSTM into UNIDIRECTIONAL_SEQUENCE_LSTM only
when the function it converts declares itself a Keras LSTM implementation
(`api_implements` "lstm_…"), which tf_keras's (Keras 2) LSTM layer does and Keras 3's does
not. Keras 3 through `from_keras_model` either fails (dynamic batch: TensorListReserve needs a
static element shape) or, at batch 1, leaves a WHILE loop of unfused math that many device
runtimes reject. So the same builder makes the architecture in tf_keras at batch 1, the
trained weights are copied in (the layouts match 1:1), and that twin is converted.
The result takes batch 1 only; runners loop over larger batches.
"""

from __future__ import annotations

import contextlib
import importlib
import io
from pathlib import Path

import numpy as np

from ...atomic import atomic_path
from ..quantize import lstm_state_scale

#: variant → what the converter is asked for (recorded in the manifest)
VARIANTS = {
    "fp32": {},
    "float16": {"optimizations": ["DEFAULT"], "supported_types": ["float16"]},
    "dynamic-int8": {"optimizations": ["DEFAULT"]},
    "int8": {"optimizations": ["DEFAULT"], "supported_ops": ["TFLITE_BUILTINS_INT8"],
             "inference_input_type": "int8", "inference_output_type": "int8"},
    "int16x8": {"optimizations": ["DEFAULT"],
                "supported_ops": ["EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8"]},
}
#: how a conversion twin reaches the converter (recorded per artifact in the manifest)
#: (the pipeline appends what the converted graph holds: graph.describe_route)
TF_KERAS_ROUTE = "tf_keras twin at batch 1 → TFLiteConverter"
KERAS3_ROUTE = "Keras 3 model at batch 1 → TFLiteConverter"
#: calibration inputs drawn from the problem's generator for full-integer variants
REPRESENTATIVE_SAMPLES = 256
CALIBRATION_SEED = 2024
#: the dynamic-range quantizer choice's rows (for edgeseq's own problems; a user's model has
#: only its calibration rows): neither the calibration nor the parity seed
SELECTION_SEED = 7


def save_twin(arch, model, problem, directory: Path) -> str:
    """Export the conversion twin as a SavedModel once; every variant converts from it.
    Returns the route the twin takes (tf_keras, fused; or Keras 3, WHILE loops).

    The converter fuses while lowering a SavedModel; from_keras_model would export one per
    conversion (about 10 s each here), from_saved_model reuses this one (about 1 s)."""
    # arch.tflite_twin: the tf_keras twin for edgeseq's architectures (fused), a batch-1
    # Keras 3 clone for a user's own model (see user_model.py)
    twin = arch.tflite_twin(model, problem)
    fused = type(twin).__module__.startswith("tf_keras")
    route = TF_KERAS_ROUTE if fused else getattr(arch, "twin_route", KERAS3_ROUTE)
    io_specs = getattr(arch, "io_specs", None)
    if io_specs:  # a user's model: its own names in the signature, a variable axis fixed
        export_named(twin, directory, io_specs, problem)
        return route
    if not fused:
        save_at_batch_1(twin, directory)
        return route
    with contextlib.redirect_stdout(io.StringIO()):  # export() announces itself on stdout
        twin.export(str(directory))
    return route


def save_at_batch_1(model, directory: Path) -> None:
    """A Keras 3 model as a SavedModel with its batch fixed at 1: the form the converter
    lowers to builtin WHILE loops (a dynamic batch needs Flex ops, TOOLCHAIN.md)."""
    import tensorflow as tf  # noqa: PLC0415

    spec = model.inputs[0]
    with contextlib.redirect_stdout(io.StringIO()):  # export() announces itself on stdout
        model.export(str(directory), input_signature=[tf.TensorSpec((1, *spec.shape[1:]), spec.dtype)])


def export_named(twin, directory: Path, io_specs: dict, problem) -> None:
    """A batch-1 serving signature whose inputs and outputs carry the Keras model's names, so
    the TFLite signature (what runners read) names them as ONNX and Keras do."""
    import tensorflow as tf  # noqa: PLC0415

    specs = [tf.TensorSpec((1, *problem.concrete_shape(s)), tf.as_dtype(s["dtype"]), name=s["name"])
             for s in io_specs["inputs"]]
    names = io_specs["outputs"]

    def serve(*xs):
        result = twin(list(xs) if len(xs) > 1 else xs[0], training=False)
        result = result if isinstance(result, (list, tuple)) else [result]
        return dict(zip(names, result, strict=True))

    # Keras's own ExportArchive, not tf.saved_model.save of a tf.Module: with the latter the
    # Keras 3 variables stayed variables in the .tflite (READ_VARIABLE failed at invoke).
    package = importlib.import_module("tf_keras" if type(twin).__module__.startswith("tf_keras") else "keras")
    archive = package.export.ExportArchive()
    archive.track(twin)
    archive.add_endpoint("serve", serve, input_signature=specs)
    with contextlib.redirect_stdout(io.StringIO()):
        archive.write_out(str(directory))


def _converter(saved_twin: Path, settings: dict, route: str):
    """A converter for one variant's settings (a converter converts once: a second
    convert() of one built from a concrete function fails)."""
    import tensorflow as tf  # noqa: PLC0415

    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_twin))
    converter.target_spec.supported_ops = [
        getattr(tf.lite.OpsSet, op) for op in settings.get("supported_ops", ["TFLITE_BUILTINS"])]
    if settings.get("optimizations"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if settings.get("supported_types"):
        converter.target_spec.supported_types = [tf.float16]
    for io_type in ("inference_input_type", "inference_output_type"):
        if io_type in settings:
            setattr(converter, io_type, getattr(tf, settings[io_type]))
    if route != TF_KERAS_ROUTE:
        # A recurrence traced at a dynamic batch (a SavedModel's own functions) leaves its
        # TensorListReserve without a static element shape, which the converter refuses
        # ("requires element_shape to be static during TF Lite transformation pass"); this
        # flag lets it assume the batch-1 shape these twins are exported at.
        converter._experimental_default_to_single_batch_in_tensor_list_ops = True
    return converter


def convert(saved_twin: Path, problem, path: Path, variant: str = "fp32", route: str = "") -> dict:
    settings = VARIANTS[variant]
    converter = _converter(saved_twin, settings, route)
    info = {"format": "tflite", "variant": variant, "route": route}
    if "supported_ops" in settings:  # full-integer: calibrate on the problem's own inputs
        inputs, _ = problem.representative(REPRESENTATIVE_SAMPLES, np.random.default_rng(CALIBRATION_SEED))
        if isinstance(inputs, dict):  # several inputs: rows keyed by signature input name
            converter.representative_dataset = lambda: (
                {n: a[i:i + 1] for n, a in inputs.items()} for i in range(len(next(iter(inputs.values())))))
        else:
            converter.representative_dataset = lambda: ([x[np.newaxis]] for x in inputs)
        info["representative_samples"] = REPRESENTATIVE_SAMPLES
    flatbuffer = converter.convert()
    if "supported_ops" in settings:  # a fused LSTM's state at its re-scaled output's scale
        flatbuffer, aligned = lstm_state_scale.align(flatbuffer)
        if aligned:
            info["lstm_state_aligned_to_output"] = aligned
    if variant == "dynamic-int8":
        flatbuffer, info["dynamic_range_quantizer"] = dynamic_range_file(
            lambda: _converter(saved_twin, settings, route), flatbuffer,
            error=lambda: _error_to_fp32(saved_twin, problem, route))
    with atomic_path(path) as tmp:
        tmp.write_bytes(flatbuffer)
    if settings:
        info["quantization"] = settings
    return info


def _error_to_fp32(saved_twin: Path, problem, route: str):
    """flatbuffer → its mean abs difference to the same twin's fp32 file, over every output, on
    the representative rows (a user model's calibration rows, never the gate's held-out ones;
    fresh generated rows for edgeseq's own problems)."""
    import tempfile  # noqa: PLC0415

    from ...runtimes.tflite_runner import TfliteRunner  # noqa: PLC0415

    inputs, _ = problem.representative(REPRESENTATIVE_SAMPLES, np.random.default_rng(SELECTION_SEED))

    def run(flatbuffer: bytes) -> dict:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "candidate.tflite"
            path.write_bytes(flatbuffer)
            runner = TfliteRunner(path)
            return runner.run(inputs if isinstance(inputs, dict) else {runner.inputs[0].name: inputs})

    reference = run(_converter(saved_twin, VARIANTS["fp32"], route).convert())

    def error(flatbuffer: bytes) -> float:
        outputs = run(flatbuffer)
        return float(np.mean([np.abs(outputs[name] - want).mean() for name, want in reference.items()]))

    return error


class NothingQuantized(Exception):
    """A quantized variant whose weights all stayed float: refused with the reason, not
    published as the fp32 file under another name."""


def dynamic_range_file(make_converter, flatbuffer: bytes, error=None) -> tuple[bytes, str]:
    """The dynamic-range file, from the legacy quantizer when the default (MLIR) one left
    fused-LSTM weights float that it would quantize (tflite_weights.py), or when `error()`
    (made only then: flatbuffer → its mean abs difference to fp32 on the representative
    rows) says the legacy file is closer; which one is named. `make_converter()` gives a
    fresh converter set up for the variant.

    Why closer: the two differ where both quantize the same weights. On the sweep's
    SimpleRNN(32) (a WHILE loop, one 1,024-element weight quantized by both) the MLIR file
    (per-channel weights) was off the fp32 Keras outputs by up to 0.0127 with 97.5 % of the
    sigmoid decisions kept on its 200 calibration rows, the legacy one (per-tensor) by 0.0082
    with 99 %; the parity gate wants 98 %."""
    from ..quantize import tflite_weights  # noqa: PLC0415

    chosen = "mlir (default)"
    float_lstm = tflite_weights.float_lstm_weights(flatbuffer)
    if float_lstm or error is not None:
        converter = make_converter()
        converter.experimental_new_dynamic_range_quantizer = False
        try:
            legacy = converter.convert()
        except Exception:  # noqa: BLE001 - the default file stands; its weights are reported
            legacy = flatbuffer
        if float_lstm and len(legacy) < len(flatbuffer):
            flatbuffer, chosen = legacy, "legacy (the MLIR quantizer leaves fused LSTM weights float)"
        elif not float_lstm and legacy is not flatbuffer and not tflite_weights.nothing_quantized(legacy):
            measure = error()
            errors = measure(flatbuffer), measure(legacy)
            if errors[1] < errors[0]:
                flatbuffer = legacy
                chosen = (f"legacy (closer to fp32 on the representative rows: mean abs {errors[1]:.2e} "
                          f"against the MLIR file's {errors[0]:.2e})")
    why = tflite_weights.nothing_quantized(flatbuffer)
    if why:
        raise NothingQuantized(why)
    return flatbuffer, chosen
