"""edgeseq from Python: the same jobs as the CLI, as functions that take models and arrays and
return values, raising `edgeseq.errors` exceptions instead of exiting.

    import edgeseq
    exp = edgeseq.export(model, out="exported/echo", quantize=("int8",))
    exp.parity()["passed"], exp.predict(x), exp.stream().step(x_t)
    exp = edgeseq.load("exported/vanilla")

`edgeseq export`, `parity`, `bench` and `mcu` call these same functions, so a manifest
written through either door is the same file. Importing this module imports no TensorFlow:
`load`, `predict` and `stream` run on the device install; `export`, and `parity` against
Keras, load it when called.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from . import manifest as manifest_file
from .artifacts import Artifact, of_manifest
from .errors import CheckFailed, EdgeseqError, InputError

__all__ = ["Export", "export", "load"]

#: the `quantize` names, as the CLI's --quantize takes them → the manifest's variant names
QUANTIZE = {"none": None, "float16": "float16", "dynamic": "dynamic-int8", "int8": "int8",
            "int16x8": "int16x8"}
FORMATS = ("onnx", "tflite", "ort", "openvino")
OPTIMIZE = ("latency", "size", "none")  # routes.OPTIMIZE, named here so that checking it imports no TF
#: a model of the user's: Keras 3, legacy HDF5, or a TF SavedModel (its directory or its .pb)
USER_SUFFIXES = (".keras", ".h5", ".hdf5", ".pb")


def _quiet(_: str) -> None:
    pass


def export(model, out: str | os.PathLike | None = None, *, formats=("onnx", "tflite"), quantize=(),
           calibration: str | os.PathLike | None = None, labels: str | os.PathLike | None = None,
           metric: str | None = None, sequence_length: int | None = None,
           custom_objects: str | os.PathLike | None = None, unsafe: bool = False,
           optimize: str = "latency", seed: int = 0, batch: int = 64, force: bool = False,
           log: Callable[[str], None] = _quiet) -> Export:
    """Convert a model to ONNX and TFLite, check parity with Keras, write manifest.json.

    `model`: a Keras model object, a model file (.keras, .h5, a SavedModel directory), or the
    name of a built-in architecture (trained first when `out` holds no model.keras).
    `out`: the artifact directory (default `exported/<name>`). `formats`: onnx, tflite, ort,
    openvino. `quantize`: float16, dynamic, int8, int16x8 — each kept only if it passes its
    gate (a model of your own needs `calibration` inputs: .npy or .npz). `optimize`: latency,
    size or none (the route search's rule). Raises InputError or EdgeseqError on bad input,
    CheckFailed when an fp32 file differs from Keras (nothing is then published)."""
    variants = _variants(quantize)
    formats = _formats(formats)
    if optimize not in OPTIMIZE:
        raise EdgeseqError(f"unknown --optimize {optimize!r}; expected one of {', '.join(OPTIMIZE)}")
    from . import registry  # noqa: PLC0415
    from .cli import validate  # noqa: PLC0415 - the export target checks, shared with the CLI
    from .quiet_tensorflow import require_train  # noqa: PLC0415

    require_train("export")  # first: on the device install, the one thing to say
    user_options = (calibration, labels, metric, sequence_length, custom_objects)
    in_memory = not isinstance(model, (str, os.PathLike))
    user_file = None if in_memory else _user_file(str(model))
    if in_memory:
        name = _keras_model(model).name
    elif user_file is not None:
        if not (user_file.is_dir() and (user_file / "saved_model.pb").is_file()):
            validate.input_file(user_file, "ARCH", suffixes=USER_SUFFIXES)
        for path, option, suffixes in ((calibration, "--calibration-file", (".npy", ".npz")),
                                       (labels, "--labels", (".npy", ".npz")),
                                       (custom_objects, "--custom-objects", (".py",))):
            if path is not None:
                validate.input_file(Path(path), option, suffixes=suffixes)
        saved_model = user_file if user_file.is_dir() else user_file.parent
        name = saved_model.name if user_file.name == "saved_model.pb" or user_file.is_dir() else user_file.stem
    else:
        registry.get(str(model))
        if any(o is not None for o in user_options) or unsafe:
            raise EdgeseqError("--calibration-file, --labels, --metric, --sequence-length, "
                               "--custom-objects and --unsafe apply to a model of your own, not to "
                               f"the built-in architecture {model!r}")
        name = str(model)
    directory = Path("exported") / name if out is None else Path(out)
    # Before a model is trained or converted: what `out` holds that would be lost.
    replace_model = validate.export_target(directory, name, force, user_model=user_file)
    from .exporters import user_model  # noqa: PLC0415 - imports Keras
    from .exporters.pipeline import export as run_export  # noqa: PLC0415

    options = {"calibration": calibration, "sequence_length": sequence_length, "labels": labels,
               "metric": metric, "quantize": bool(variants)}
    if in_memory:
        subject = user_model.of_model(model, name, **options)
    elif user_file is not None:
        subject = user_model.load(user_file, unsafe=unsafe, custom_objects=custom_objects, **options)
    else:
        subject = registry.get(str(model))
    document = run_export(subject, directory, formats=formats, quantize=variants, seed=seed,
                          batch=batch, replace_model=replace_model, optimize=optimize, log=log)
    return Export(directory, document)


def load(directory: str | os.PathLike) -> Export:
    """An exported directory (its manifest.json is read; nothing is run)."""
    return Export(Path(directory))


class Export:
    """An exported directory: its manifest, its artifacts, and the jobs that run on them."""

    def __init__(self, directory: str | os.PathLike, manifest: dict | None = None):
        self.directory = Path(directory)
        self.manifest = manifest if manifest is not None else manifest_file.load(self.directory)

    def __repr__(self) -> str:
        return f"Export({str(self.directory)!r}: {self.manifest['architecture']}, {len(self.artifacts)} files)"

    @property
    def artifacts(self) -> list[Artifact]:
        return of_manifest(self.directory, self.manifest)

    @property
    def rejected(self) -> list[dict]:
        """Variants that did not convert or missed their gate, each with its reason."""
        return list(self.manifest.get("rejected", []))

    def parity(self, samples: int = 1000, seed: int = 1234, reference: str = "auto",
               log: Callable[[str], None] = _quiet) -> dict:
        """Every artifact against Keras on fresh inputs (`reference`: keras, stored — the
        outputs saved at export, no TensorFlow — or auto). The report's `passed` says whether
        every gated row passed; `edgeseq parity` exits 1 where this says False."""
        from . import registry  # noqa: PLC0415
        from .checks import export_parity  # noqa: PLC0415
        from .cli import validate  # noqa: PLC0415

        validate.inputs_fit(samples, registry.problem_from_manifest(self.manifest).input_shape, "samples")
        return export_parity.parity_of(self.directory, self.manifest, samples, seed, reference, log)

    def predict(self, x, runtime: str = "auto"):
        """Model inputs (an array, or name → array for several) through one artifact: the
        export's ONNX file by default, or `runtime` onnx, tflite, ort, openvino. An array
        back, or name → array for several outputs."""
        from .runtimes import open_runner  # noqa: PLC0415

        runner = open_runner(self.directory, runtime)
        feed = dict(x) if isinstance(x, Mapping) else {runner.inputs[0].name: np.asarray(x)}
        outputs = runner.run(feed)
        return next(iter(outputs.values())) if len(outputs) == 1 else outputs

    def stream(self, runtime: str = "auto", batch: int = 1):
        """The step model, state kept between calls: `.step(x)` feeds one time step (batch,
        *frame) and answers for it, `.reset()` returns to the zero state, `.run(seq)` feeds
        a whole (batch, T, *frame) sequence."""
        from .streaming import open_stream  # noqa: PLC0415

        return open_stream(self.directory, runtime, batch=batch)

    def bench(self, calls: int = 1000, batch: int = 64, keras_calls: int = 100,
              log: Callable[[str], None] = _quiet) -> dict:
        """Latency, throughput, size and memory of every runtime, one process per row."""
        from .measure import bench  # noqa: PLC0415

        return bench.run(self.directory, calls=calls, batch=batch, keras_calls=keras_calls, log=log)

    def mcu(self, margin: str = "25%", samples: int = 1000, seed: int = 1234, reference: str = "auto",
            artifact: str | None = None, log: Callable[[str], None] = _quiet) -> dict:
        """The microcontroller target: every TFLite file on TFLM, the arena, a C pack under
        mcu/ (needs the [mcu] extra). Raises CheckFailed when a file fails TFLM parity."""
        from .targets.mcu import build  # noqa: PLC0415

        document = build.check_export(self.directory, margin, samples, seed, reference, artifact, log)
        self.manifest = manifest_file.load(self.directory)
        failed = [r for r in build.results(document) if not r["passed"]]
        if failed:
            raise CheckFailed(f"TFLM parity failed: {failed[0]['artifact']}: {failed[0]['reason']}")
        return document

    def _repr_html_(self) -> str:
        from .html_report import export_html  # noqa: PLC0415

        return export_html(self)


def _variants(names) -> tuple[str, ...]:
    names = [names] if isinstance(names, str) else list(names)
    unknown = [n for n in names if n not in QUANTIZE]
    if unknown:
        raise EdgeseqError(f"unknown quantization {unknown[0]!r}; expected one of {', '.join(QUANTIZE)}")
    return tuple(dict.fromkeys(QUANTIZE[n] for n in names if QUANTIZE[n]))


def _formats(names) -> tuple[str, ...]:
    names = [names] if isinstance(names, str) else list(names)
    unknown = [n for n in names if n not in FORMATS]
    if unknown or not names:
        raise EdgeseqError(f"unknown format {(unknown or [''])[0]!r}; expected one of {', '.join(FORMATS)}")
    if "openvino" in names:
        from .exporters.onnx import to_openvino  # noqa: PLC0415 - imports neither TF nor openvino

        if not to_openvino.available():
            raise EdgeseqError(to_openvino.missing_extra("--format openvino"))
    return tuple(dict.fromkeys(names))


def _user_file(text: str) -> Path | None:
    """A model file of the user's, or None for a built-in architecture's name."""
    from . import registry  # noqa: PLC0415

    if text not in registry.ARCHITECTURES and (Path(text).suffix in USER_SUFFIXES
                                               or Path(text).exists() or "/" in text):
        return Path(text)
    return None


def _keras_model(model):
    """`model` itself when it is a Keras model; InputError naming what it is otherwise."""
    from .quiet_tensorflow import import_tensorflow  # noqa: PLC0415

    import_tensorflow()
    import keras  # noqa: PLC0415

    if not isinstance(model, keras.Model):
        raise InputError(f"expected a Keras model, a model file or an architecture name; got "
                         f"{type(model).__name__}")
    return model


__all__ += ["CheckFailed", "EdgeseqError", "InputError"]
