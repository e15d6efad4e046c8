"""Runners by name. Importing this package imports no runtime: each is loaded on first use,
so a device with only onnxruntime, or only LiteRT, still works."""

from __future__ import annotations

import importlib
from pathlib import Path

from .. import manifest as manifest_file
from ..errors import EdgeseqError, InputError
from .base import Runner, TensorSpec

#: runtime name → (artifact suffix, "module:Class")
RUNTIMES = {
    "onnx": (".onnx", "onnx_runner:OnnxRunner"),
    "tflite": (".tflite", "tflite_runner:TfliteRunner"),
    "keras": (".keras", "keras_runner:KerasRunner"),
    "openvino": (".xml", "openvino_runner:OpenvinoRunner"),  # the IR; also reads .onnx, by name
    "ort": (".ort", "ort_runner:OrtRunner"),
}
#: Other suffixes a runtime reads when asked by name (`--runtime openvino` on model.onnx).
ALSO_READS = {"openvino": (".onnx",)}
#: Files an artifact is loaded with: checked against the manifest with it (the IR's weights).
COMPANIONS = {".xml": ".bin"}
DEVICE_RUNTIMES = ("onnx", "tflite")
#: The extra that installs a runtime the device install lacks.
EXTRAS = {"keras": "train", "openvino": "openvino"}


def runtime_for(path: Path) -> str:
    for name, (suffix, _) in RUNTIMES.items():
        if Path(path).suffix == suffix:
            return name
    raise InputError(f"cannot tell the runtime of {path}: expected a "
                     f"{', '.join(dict.fromkeys(s for s, _ in RUNTIMES.values()))} file")


def resolve(model: Path, runtime: str = "auto") -> tuple[Path, str]:
    """An artifact path and its runtime from a file or an exported directory."""
    model = Path(model)
    if runtime != "auto" and runtime not in RUNTIMES:
        raise InputError(f"unknown runtime {runtime!r}; expected auto, {', '.join(RUNTIMES)}")
    if model.is_dir():
        manifest_file.load(model)  # a directory must be an export
        runtime = "onnx" if runtime == "auto" else runtime
        model = model / f"model{RUNTIMES[runtime][0]}"
        if not model.exists() and ALSO_READS.get(runtime):  # an export without the IR
            model = model.with_suffix(ALSO_READS[runtime][0])
    if not model.exists():
        raise InputError(f"model file not found: {model}")
    if not model.is_file():
        raise InputError(f"{model} is not a file")
    by_suffix = runtime_for(model)
    if runtime not in ("auto", by_suffix) and model.suffix not in (RUNTIMES[runtime][0], *ALSO_READS.get(runtime, ())):
        raise InputError(f"--runtime {runtime} cannot run {model.name} (a {by_suffix} file)")
    return model, by_suffix if runtime == "auto" else runtime


#: Manifest variants that are not the trained model: bench's floor models are one Reshape,
#: so a prediction from one is the input echoed back, with exit 0.
NOT_THE_MODEL = {"floor": "bench's floor model (one Reshape of the input), not the trained model"}


def open_runner(model: Path, runtime: str = "auto", *, floor_ok: bool = False, **options) -> Runner:
    """Load an artifact after checking it against its manifest: listed, same sha256, and the
    model itself (bench alone opens floor models, with floor_ok)."""
    path, runtime = resolve(model, runtime)
    manifest = manifest_file.find(path)
    listed = manifest_file.verify(path, manifest)
    if listed is not None and path.suffix in COMPANIONS:
        manifest_file.verify(path.with_suffix(COMPANIONS[path.suffix]), manifest)
    variant = (listed or {}).get("variant")
    if variant in NOT_THE_MODEL and not floor_ok:
        raise InputError(f"{path} is {NOT_THE_MODEL[variant]}; use "
                         f"{path.with_name('model' + path.suffix)}")
    module_name, class_name = RUNTIMES[runtime][1].split(":")
    try:
        module = importlib.import_module(f"{__name__}.{module_name}")
        return getattr(module, class_name)(path, **options)
    except ModuleNotFoundError as exc:
        extra = EXTRAS.get(runtime, runtime)
        raise EdgeseqError(f"the {runtime} runtime needs the [{extra}] extra ({exc.name} is not "
                           f"installed): pip install 'edgeseq[{extra}]'") from None


__all__ = ["DEVICE_RUNTIMES", "EXTRAS", "RUNTIMES", "Runner", "TensorSpec", "open_runner", "resolve"]
