"""Train (when needed), convert, gate on parity, then publish artifacts and the manifest.

Every artifact is converted into a new generation directory, manifest last. Only when the
parity gate passes does that generation become current, in one atomic switch (publish.py),
so a failed or interrupted export leaves the previous artifacts in place and loadable.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np

from .. import __version__, graph
from .. import manifest as manifest_file
from ..atomic import write_json
from ..errors import CheckFailed, EdgeseqError
from ..parity import RTOL, Tolerance, check
from ..registry import Architecture
from ..runtimes import open_runner, stored_reference
from ..runtimes.keras_runner import KerasRunner
from . import (
    floor,
    pause_points,
    publish,
    step_export,
    tflite_worker,
    to_onnx,
    to_onnx_quantized,
    to_tflite,
)

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
    if hasattr(arch, "keras_model"):  # a user's own model: keep a copy beside its exports
        if not (path.is_file() and path.samefile(arch.path)):
            training.save(arch.keras_model, path)
        return arch.keras_model
    if path.is_file():
        return keras.saving.load_model(path, compile=False)
    result = training.train(arch, seed=seed, epochs=epochs)
    target = arch.problem.metric.describe_target()
    if not result.reached:
        raise CheckFailed(f"{arch.name}: {result.metric} {result.value:.4f} misses the skill "
                          f"({target}); nothing written")
    training.save(result.model, path)
    return result.model


def _convert_variants(arch: Architecture, saved_twin: Path, route: str, staging: Path, formats,
                      quantize, log) -> tuple[list, list]:
    """Quantized variants that converted, as (path, info), and the reports of those that did
    not. TFLite conversions run in child processes (a converter crash is a reported failure)."""
    converted, rejected = [], []
    for fmt in formats:
        supported = to_tflite.VARIANTS if fmt == "tflite" else to_onnx_quantized.VARIANTS
        wanted = [v for v in quantize if v in supported and v != "fp32"]
        for variant in (v for v in quantize if v not in supported):
            log(f"{arch.name}: {fmt} has no {variant} variant here; skipped")
        if not wanted:
            continue
        log(f"{arch.name}: {fmt} variants {', '.join(wanted)}")
        if fmt == "tflite":
            outcomes = tflite_worker.convert_isolated(arch.name, saved_twin, route, staging, wanted, log)
        else:
            outcomes = {}
            for variant in wanted:
                path = staging / f"model.{variant}.onnx"
                try:
                    info = to_onnx_quantized.convert(staging / "model.onnx", arch.problem, path, variant)
                    outcomes[variant] = {"ok": True, "path": str(path), "info": info}
                except Exception as exc:  # onnxruntime.quantization's errors vary by op
                    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                    outcomes[variant] = {"ok": False, "reason": f"quantizer error: {first[:300]}"}
        for variant in wanted:
            outcome = outcomes[variant]
            if outcome["ok"]:
                converted.append((Path(outcome["path"]), outcome["info"]))
            else:
                log(f"{arch.name}: {fmt} {variant} not converted: {outcome['reason']}")
                rejected.append({"runtime": fmt, "variant": variant, "artifact": None,
                                 "passed": False, "reason": outcome["reason"]})
    return converted, rejected


def _gate_variants(report: dict, fp32: list, staging: Path, rejected: list, name: str, log) -> set[str]:
    """Apply the variant gates to a parity report: moves failed results to `rejected` and
    returns the artifact names that may be published."""
    # A quantized variant is worth shipping only if it is smaller than fp32 (the TFLite
    # converter leaves weight tensors under 1024 elements in float, and onnxruntime's QDQ
    # keeps LSTMs float, so a "quantized" file can be the fp32 one or larger).
    fp32_bytes = {info["format"]: path.stat().st_size for path, info in fp32}
    for result in report["results"]:
        size = result["bytes"] = (staging / result["artifact"]).stat().st_size
        if result["variant"] != "fp32" and size >= fp32_bytes[result["runtime"]]:
            result["passed"] = False
            result["reason"] = (f"no smaller than fp32 ({size:,} vs "
                                f"{fp32_bytes[result['runtime']]:,} bytes): quantization saved nothing")
    # A variant that misses a gate is reported, never published.
    for result in [r for r in report["results"] if not r["passed"]]:
        log(f"{name}: {result['runtime']} {result['variant']} rejected: {result['reason']}")
        rejected.append(result)
    report["results"] = [r for r in report["results"] if r["passed"]]
    report["passed"] = True
    return {r["artifact"] for r in report["results"]}


def export(arch: Architecture, out_dir: Path, formats=FORMATS, quantize=(), seed: int = 0,
           samples: int = PARITY_SAMPLES, log=print) -> dict:
    from ..training import evaluate  # noqa: PLC0415

    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise EdgeseqError(f"unknown format {sorted(unknown)[0]!r}; expected one of {FORMATS}")
    if quantize and hasattr(arch, "keras_model"):
        raise EdgeseqError("quantized variants are gated on a task metric, which a user model "
                           "does not have: export it without --quantize")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = load_or_train(arch, out_dir, seed=seed)
    problem = arch.problem
    metric_value = evaluate(arch, model, seed)

    staging = publish.new_generation(out_dir)
    twin_dir = Path(tempfile.mkdtemp(prefix="edgeseq-tflite-twin-")) / "saved_model"
    try:
        converted, route = [], None  # route: how the TFLite twin converts, once it is saved
        for fmt in formats:
            path = staging / f"model.{fmt}"
            log(f"{arch.name}: converting to {fmt}")
            try:
                if fmt == "onnx":
                    info = to_onnx.convert(model, problem.input_shape, path,
                                           getattr(problem, "dtype", "float32"))
                else:
                    route = to_tflite.save_twin(arch, model, problem, twin_dir)
                    info = to_tflite.convert(twin_dir, problem, path, route=route)
            except Exception as exc:  # the converters' own errors, first line
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
                raise EdgeseqError(f"{arch.name}: {fmt} conversion failed: {first}") from None
            converted.append((path, info | {"variant": "fp32"}))
        pause_points.reach("staged")
        variants, rejected = _convert_variants(arch, twin_dir, route, staging, formats, quantize, log)
        runners = [(info["variant"], open_runner(path)) for path, info in converted + variants]
        log(f"{arch.name}: parity on {samples} inputs")
        keras_runner = KerasRunner(model=model)
        report = check(problem, keras_runner, runners, samples=samples,
                       tolerance=Tolerance(atol=arch.training.atol))
        failed_fp32 = [r for r in report["results"] if r["variant"] == "fp32" and not r["passed"]]
        if failed_fp32:
            # A user's model that converts but differs is bad input (exit 2); one of edgeseq's
            # own architectures failing is a failed check (exit 1).
            error = EdgeseqError if hasattr(arch, "keras_model") else CheckFailed
            raise error(f"{arch.name}: {failed_fp32[0]['runtime']} output "
                        f"'{to_onnx.OUTPUT_NAME}' ({failed_fp32[0]['artifact']}) differs from "
                        f"Keras: {failed_fp32[0]['reason']}; previous artifacts left in place")
        published = _gate_variants(report, converted, staging, rejected, arch.name, log)
        converted += [(path, info) for path, info in variants if path.name in published]
        steps, streaming = step_export.write(arch, model, staging, formats,
                                             Tolerance(atol=arch.training.atol), log,
                                             quantize=quantize, keras_file=out_dir / "model.keras")
        converted += steps
        # Floor models for `edgeseq bench` (one Reshape per format), published but not gated.
        converted += floor.write(problem.input_shape, staging, formats)
        # Keras outputs on seeded inputs, for parity on devices without TensorFlow.
        ref_inputs, ref_targets = problem.generate(stored_reference.SAMPLES,
                                                   np.random.default_rng(stored_reference.SEED))
        ref_path = staging / stored_reference.FILE
        converted.append((ref_path, stored_reference.write(
            ref_path, ref_inputs, ref_targets, keras_runner.run_array(ref_inputs))))
        artifacts = [manifest_file.describe_file(out_dir / "model.keras") | {"format": "keras"}]
        for path, info in converted:
            runtime = info["format"]
            ops = graph.summary(path, runtime) if runtime in graph.RECURRENT_OPS else {}
            artifacts.append(manifest_file.describe_file(path) | info | ops)

        document = {
            "manifest_version": 1,
            "architecture": arch.name,
            "model": arch.model,
            "problem": {"name": problem.name, "summary": problem.summary,
                        "params": problem.params()},
            "parameters": int(model.count_params()),
            "inputs": [dict(s.to_json(), name=to_onnx.INPUT_NAME) for s in keras_runner.inputs],
            "outputs": [dict(s.to_json(), name=to_onnx.OUTPUT_NAME) for s in keras_runner.outputs],
            "metric": {"name": problem.metric.name, "value": metric_value,
                       "target": problem.metric.target,
                       "higher_is_better": problem.metric.higher_is_better},
            "artifacts": artifacts,
            "tolerance": {"atol": arch.training.atol, "rtol": RTOL},
            "source": "user model" if hasattr(arch, "keras_model") else "edgeseq architecture",
            "parity": report,
            "streaming": streaming,  # step models: how to drive them, their stream parity
            # quantized variants that failed conversion or the task-metric gate; not written
            "rejected": rejected,
            "versions": versions(),
            "generation": staging.name,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        write_json(staging / manifest_file.MANIFEST, document)
        publish.activate(out_dir, staging, keep={a["file"] for a in artifacts} | {manifest_file.MANIFEST})
    except BaseException:
        publish.discard(staging)
        raise
    finally:
        shutil.rmtree(twin_dir.parent, ignore_errors=True)
    return document


def export_untrained(arch: Architecture, out_dir: Path, seed: int = 0, **options) -> dict:
    """Export a seeded, untrained model: conversion and parity do not depend on training, so
    tests and device fixtures use these to stay fast."""
    import keras  # noqa: PLC0415

    from ..training import save  # noqa: PLC0415

    keras.utils.set_random_seed(seed)
    save(arch.build(keras), Path(out_dir) / "model.keras")
    return export(arch, out_dir, seed=seed, log=lambda _: None, **options)
