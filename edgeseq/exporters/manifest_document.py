"""Stage 7 of an export: the manifest — every artifact described (bytes, sha256, what its
converter said, its graph's recurrent ops), the problem, the parity report, the routes, the
streaming section, what was rejected and the versions it was made with."""

from __future__ import annotations

from datetime import datetime, timezone
from importlib import metadata

from .. import __version__
from .. import manifest as manifest_file
from ..artifacts import Artifact
from ..checks.parity import RTOL
from ..measure import graph
from .forms import Routes
from .job import Job
from .layer_walk import has_recurrence
from .onnx import to_onnx

VERSIONED = ("tensorflow", "keras", "tf-keras", "tf2onnx", "onnx", "onnxruntime",
             "ai-edge-litert", "openvino", "numpy")


def versions() -> dict:
    found = {"edgeseq": __version__}
    for package in VERSIONED:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    return found


def describe(job: Job, artifacts: list[Artifact]) -> list[dict]:
    """The manifest's `artifacts`: model.keras first (when the export has one), then each file."""
    keras_file = job.out_dir / "model.keras"
    described = [manifest_file.describe_file(keras_file) | {"format": "keras"}] if keras_file.is_file() else []
    for artifact in artifacts:
        info, runtime = artifact.info, artifact.format
        ops = graph.summary(artifact.path, runtime) if runtime in graph.RECURRENT_OPS else {}
        if ops and info.get("variant") != "floor":
            info = info | {"route": graph.describe_route(info["route"], ops, has_recurrence(job.model))}
        described.append(manifest_file.describe_file(artifact.path) | info | ops)
    return described


def build(job: Job, described: list[dict], report: dict, routes: Routes, streaming: dict,
          rejected: list[dict], metric_value: float | None) -> dict:
    arch, problem, model, io_specs = job.arch, job.problem, job.model, job.io_specs
    runner = job.keras_runner
    return {
        "manifest_version": 1,
        "architecture": arch.name,
        "model": arch.model,
        "problem": {"name": problem.name, "summary": problem.summary,
                    "params": problem.params()},
        "parameters": int(model.count_params()),
        "inputs": [s.to_json() if io_specs else dict(s.to_json(), name=to_onnx.INPUT_NAME)
                   for s in runner.inputs],
        "outputs": [s.to_json() if io_specs else dict(s.to_json(), name=to_onnx.OUTPUT_NAME)
                    for s in runner.outputs],
        "metric": {"name": problem.metric.name, "value": metric_value,
                   "target": problem.metric.target,
                   "higher_is_better": problem.metric.higher_is_better},
        "artifacts": described,
        "tolerance": {"atol": arch.training.atol, "rtol": RTOL},
        "source": "user model" if arch.is_user_model else "edgeseq architecture",
        **({"source_format": arch.source_format} if io_specs else {}),
        **({"sequence_length": problem.length, "variable_length": True}
           if getattr(problem, "variable_length", False) else {}),
        "parity": report,
        "routes": routes.section,  # every candidate form per format, and why one was chosen
        "streaming": streaming,  # step models: how to drive them, their stream parity
        # quantized variants that failed conversion or the task-metric gate; not written
        "rejected": rejected,
        "versions": versions(),
        "generation": job.staging.name,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
