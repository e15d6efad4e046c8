"""Train (when needed), convert, gate on parity, then publish artifacts and the manifest.

Every artifact is converted into a staging directory first. Only when the parity gate
passes are they renamed into place, and manifest.json is written last, so a failed or
interrupted export leaves the previous artifacts in place.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from .. import __version__, graph, manifest as manifest_file
from ..atomic import write_json
from ..errors import CheckFailed, EdgeseqError
from ..parity import Tolerance, check
from ..registry import Architecture
from ..runtimes import open_runner
from ..runtimes.keras_runner import KerasRunner
from . import to_onnx, to_tflite

FORMATS = ("onnx", "tflite")
PARITY_SAMPLES = 1000
VERSIONED = ("tensorflow", "keras", "tf-keras", "tf2onnx", "onnx", "onnxruntime",
             "ai-edge-litert", "numpy")


def versions() -> dict:
    found = {"edgeseq": __version__}
    for package in VERSIONED:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    return found


def load_or_train(arch: Architecture, out_dir: Path, seed: int = 0, epochs: int | None = None):
    """The trained Keras model in out_dir, training it first when there is none."""
    import keras  # noqa: PLC0415

    from .. import training  # noqa: PLC0415

    path = out_dir / "model.keras"
    if path.is_file():
        return keras.saving.load_model(path, compile=False)
    result = training.train(arch, seed=seed, epochs=epochs)
    target = arch.problem.metric.describe_target()
    if not result.reached:
        raise CheckFailed(f"{arch.name}: {result.metric} {result.value:.4f} misses the skill "
                          f"({target}); nothing written")
    training.save(result.model, path)
    return result.model


def export(arch: Architecture, out_dir: Path, formats=FORMATS, seed: int = 0,
           samples: int = PARITY_SAMPLES, log=print) -> dict:
    from ..training import evaluate  # noqa: PLC0415

    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise EdgeseqError(f"unknown format {sorted(unknown)[0]!r}; expected one of {FORMATS}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = load_or_train(arch, out_dir, seed=seed)
    problem = arch.problem
    metric_value = evaluate(arch, model, seed)

    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out_dir))
    try:
        converted = []
        for fmt in formats:
            path = staging / f"model.{fmt}"
            log(f"{arch.name}: converting to {fmt}")
            info = (to_onnx.convert(model, problem.input_shape, path) if fmt == "onnx"
                    else to_tflite.convert(arch, model, problem, path))
            converted.append((path, info | {"variant": "fp32"}))
        runners = [(info["variant"], open_runner(path)) for path, info in converted]
        log(f"{arch.name}: parity on {samples} inputs")
        report = check(problem, KerasRunner(model=model), runners, samples=samples,
                       tolerance=Tolerance(atol=arch.training.atol))
        if not report["passed"]:
            failed = next(r for r in report["results"] if not r["passed"])
            raise CheckFailed(f"{arch.name}: {failed['artifact']} fails parity: {failed['reason']}; "
                              "previous artifacts left in place")
        artifacts = [manifest_file.describe_file(out_dir / "model.keras") | {"format": "keras"}]
        for path, info in converted:
            runtime = info["format"]
            artifacts.append(manifest_file.describe_file(path) | info | graph.summary(path, runtime))
            os.replace(path, out_dir / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    keras_runner = KerasRunner(model=model)
    document = {
        "manifest_version": 1,
        "architecture": arch.name,
        "model": arch.model,
        "problem": {"name": problem.name, "summary": problem.summary, "params": problem.params()},
        "parameters": int(model.count_params()),
        "inputs": [dict(s.to_json(), name=to_onnx.INPUT_NAME) for s in keras_runner.inputs],
        "outputs": [dict(s.to_json(), name=to_onnx.OUTPUT_NAME) for s in keras_runner.outputs],
        "metric": {"name": problem.metric.name, "value": metric_value,
                   "target": problem.metric.target,
                   "higher_is_better": problem.metric.higher_is_better},
        "artifacts": artifacts,
        "parity": report,
        "versions": versions(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    write_json(out_dir / manifest_file.MANIFEST, document)
    return document
