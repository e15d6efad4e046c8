"""An export, stage by stage: the trained model; its forms converted and the fastest (or
smallest) chosen per format; the forms of model.onnx asked for; the quantized variants; the
parity gate; the step models; the floors and stored references; the manifest; publish.

Every artifact is written into a new generation directory, manifest last. Only when the
parity gate passes does that generation become current, in one atomic switch (publish.py),
so a failed or interrupted export leaves the previous artifacts in place and loadable.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

from .. import manifest as manifest_file
from ..artifacts import Artifact
from ..atomic import write_json
from ..errors import EdgeseqError
from ..registry import Architecture
from ..runtimes.keras_runner import KerasRunner
from . import forms, gate, manifest_document, pause_points, publish, references, routes
from .job import FORMATS, OPTIONAL_FORMATS, Job
from .onnx import companions, to_openvino
from .quantize import variants as quantized
from .step import step_export
from .tflite import batch_tflite
from .trained_model import load_or_train

LOCK = ".export.lock"
PARITY_SAMPLES = 1000
__all__ = ["FORMATS", "OPTIONAL_FORMATS", "export", "export_untrained"]


def export(arch: Architecture, out_dir: Path, formats=FORMATS, quantize=(), seed: int = 0,
           samples: int = PARITY_SAMPLES, batch: int = batch_tflite.DEFAULT_BATCH, log=print,
           replace_model: bool = False, optimize: str = "latency") -> dict:
    """Convert, gate and publish. `batch` > 1 adds the TFLite batch-N variant (edgeseq's own
    architectures: a user's model has no builder to rebuild at batch N). `optimize` is the
    route search's rule (routes.py): the fastest or the smallest form that passes parity."""
    routes.check_optimize(optimize)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with _only_export_into(out_dir):
        return _export(arch, out_dir, formats, quantize, seed, samples, batch, log, replace_model,
                       optimize)


@contextlib.contextmanager
def _only_export_into(out_dir: Path):
    """One export at a time per directory. Two at once ended consistent, but the loser
    failed on a generation the winner had just cleared, naming an internal path; now the
    second one is told at once, before it trains or converts anything."""
    import fcntl  # noqa: PLC0415 - POSIX, as the symlink switch is

    with open(out_dir / LOCK, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise EdgeseqError(f"another export into {out_dir} is running; nothing was changed "
                               "(run this one again when it ends)") from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _export(arch: Architecture, out_dir: Path, formats, quantize, seed: int, samples: int,
            batch: int, log, replace_model: bool, optimize: str) -> dict:
    from ..training import evaluate  # noqa: PLC0415

    formats = _formats_asked(arch, formats, quantize)
    model = load_or_train(arch, out_dir, seed=seed, replace_model=replace_model)
    # a user's model has no task of its own: its metric, if any, is in the parity report
    metric_value = None if arch.is_user_model else evaluate(arch, model, seed)
    staging = publish.new_generation(out_dir)
    scratch = Path(tempfile.mkdtemp(prefix="edgeseq-tflite-twin-"))
    try:
        job = Job(arch, model, out_dir, staging, scratch, formats, tuple(quantize), samples, batch,
                  optimize, log, KerasRunner(model=model))
        models, found = forms.search(job)
        onnx_forms, companion_files = companions.convert(job, found)
        pause_points.reach("staged")
        variants = quantized.convert(job, found)
        report, kept = gate.judge(job, models + onnx_forms, variants, found)
        steps, streaming = step_export.write(arch, model, staging, job.device, job.tolerance, log,
                                             quantize=quantize, keras_file=out_dir / "model.keras")
        artifacts = (models + onnx_forms + kept + [Artifact.staged(path, info) for path, info in steps]
                     + references.floors(job) + companion_files + [references.keras_outputs(job)])
        described = manifest_document.describe(job, artifacts)
        document = manifest_document.build(job, described, report, found, streaming,
                                           variants.rejected, metric_value)
        write_json(staging / manifest_file.MANIFEST, document)
        publish.activate(out_dir, staging, keep={a["file"] for a in described} | {manifest_file.MANIFEST})
    except BaseException:
        publish.discard(staging)
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return document


def _formats_asked(arch: Architecture, formats, quantize) -> tuple:
    """The formats in their order (onnx too when a form of it is asked for); refusals that
    need no training or conversion come before any."""
    known = FORMATS + OPTIONAL_FORMATS
    unknown = set(formats) - set(known)
    if unknown:
        raise EdgeseqError(f"unknown format {sorted(unknown)[0]!r}; expected one of {known}")
    formats = tuple(f for f in known if f in formats or (f == "onnx" and set(OPTIONAL_FORMATS) & set(formats)))
    if "openvino" in formats and not to_openvino.available():
        raise EdgeseqError(to_openvino.missing_extra("--format openvino"))
    if quantize and arch.is_user_model and arch.problem.metric.name == "none":
        raise EdgeseqError("quantizing your own model needs a gate: load it with calibration data "
                           "(--calibration-file) so held-out rows can judge the variants")
    return formats


def export_untrained(arch: Architecture, out_dir: Path, seed: int = 0, **options) -> dict:
    """Export a seeded, untrained model: conversion and parity do not depend on training, so
    tests and device fixtures use these to stay fast."""
    import keras  # noqa: PLC0415

    from ..training import save  # noqa: PLC0415

    keras.utils.set_random_seed(seed)
    save(arch.build(keras), Path(out_dir) / "model.keras")
    return export(arch, out_dir, seed=seed, log=lambda _: None, **options)
