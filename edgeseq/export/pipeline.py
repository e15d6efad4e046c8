"""Train (when needed), convert, gate on parity, then publish artifacts and the manifest.

Every artifact is converted into a new generation directory, manifest last. Only when the
parity gate passes does that generation become current, in one atomic switch (publish.py),
so a failed or interrupted export leaves the previous artifacts in place and loadable.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Mapping
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np

from .. import __version__, error_text, graph
from .. import manifest as manifest_file
from ..atomic import write_json
from ..errors import CheckFailed, EdgeseqError
from ..parity import RTOL, Tolerance, check, is_fp32
from ..registry import Architecture
from ..runtimes import DEVICE_RUNTIMES, open_runner, stored_reference
from ..runtimes.keras_runner import KerasRunner
from . import (
    batch_tflite,
    floor,
    integer_source,
    layer_walk,
    pause_points,
    publish,
    route_forms,
    routes,
    step_export,
    tflite_worker,
    to_onnx,
    to_onnx_quantized,
    to_openvino,
    to_ort,
    to_tflite,
)

FORMATS = DEVICE_RUNTIMES  # one format per runtime a device runs
#: Written only on request. ort and openvino (the IR) are made from model.onnx: they bring onnx.
OPTIONAL_FORMATS = ("ort", "openvino")
LOCK = ".export.lock"
PARITY_SAMPLES = 1000
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


def load_or_train(arch: Architecture, out_dir: Path, seed: int = 0, epochs: int | None = None,
                  replace_model: bool = False):
    """The trained Keras model in out_dir, training it first when there is none (or when
    replace_model says the one there belongs to another model and may go)."""
    import keras  # noqa: PLC0415

    from .. import training  # noqa: PLC0415

    path = out_dir / "model.keras"
    if arch.is_user_model:  # a user's own model: keep a copy beside its exports
        if arch.source_format == "saved_model":
            # a TFSMLayer wrapper saves only a pointer to the SavedModel: no copy; parity on a
            # device uses the stored Keras outputs (reference.npz)
            return arch.keras_model
        if not (path.is_file() and path.samefile(arch.path)):
            training.save(arch.keras_model, path)
            manifest_file.write_model_record(path, arch.name, "edgeseq export (a copy of your model)")
        return arch.keras_model
    if path.is_file() and not replace_model:
        try:
            model = keras.saving.load_model(path, compile=False)
        except Exception as exc:  # zip, h5 and deserialization errors of every kind
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise EdgeseqError(f"{path} is not a loadable Keras model ({first}); move it away "
                               "or pass --force to train anew") from None
        _check_fits(arch, model, path)
        return model
    result = training.train(arch, seed=seed, epochs=epochs)
    target = arch.problem.metric.describe_target()
    if not result.reached:
        raise CheckFailed(f"{arch.name}: {result.metric} {result.value:.4f} misses the skill "
                          f"({target}); nothing written")
    training.save(result.model, path)
    manifest_file.write_model_record(path, arch.name, "edgeseq export (trained)")
    return result.model


def _check_fits(arch: Architecture, model, path: Path) -> None:
    """A model.keras placed by hand must be this architecture's: another model of other
    shapes would convert, then fail parity with a traceback or answer another problem."""
    import keras  # noqa: PLC0415

    expected = arch.build(keras)
    shapes = [tuple(t.shape[1:]) for t in (*model.inputs, *model.outputs)]
    wanted = [tuple(t.shape[1:]) for t in (*expected.inputs, *expected.outputs)]
    if shapes != wanted:
        raise EdgeseqError(f"{path} maps {shapes[0]} → {shapes[-1]}, but {arch.name} maps "
                           f"{wanted[0]} → {wanted[-1]}: not a {arch.name} model; move it away "
                           "or pass --force to train anew")


def _convert_variants(arch: Architecture, saved_twin: Path, route: str, staging: Path, formats,
                      quantize, log, worker: str | None = None, integer_from: dict | None = None) -> tuple[list, list]:
    """Quantized variants that converted, as (path, info), and the reports of those that did
    not. TFLite conversions run in child processes (a converter crash is a reported failure);
    full-integer ones from `integer_from`'s unrolled form when it has one (integer_source.py)."""
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
            unrolled = [v for v in wanted if "dir" in (integer_from or {}) and v in integer_from["variants"]]
            groups = [(saved_twin, route, [v for v in wanted if v not in unrolled], None)]
            if unrolled:
                groups.append((integer_from["dir"], integer_from["route"], unrolled, "unrolled"))
            outcomes = {}
            for directory, how, group, form in groups:
                found = tflite_worker.convert_isolated(worker or arch.name, directory, how, staging,
                                                       group, log) if group else {}
                for variant, outcome in found.items():
                    if outcome["ok"] and form:
                        outcome["info"] |= {"route_form": form, "why_this_form": integer_source.WHY}
                    elif not outcome["ok"]:
                        outcome["reason"] = integer_source.crash_reason(outcome["reason"], integer_from, variant)
                outcomes |= found
        else:
            outcomes = {}
            for variant in wanted:
                path = staging / f"model.{variant}.onnx"
                try:
                    info = to_onnx_quantized.convert(staging / "model.onnx", arch.problem, path, variant)
                    outcomes[variant] = {"ok": True, "path": str(path), "info": info}
                except Exception as exc:  # onnxruntime.quantization's errors vary by op
                    outcomes[variant] = {"ok": False, "reason": f"quantizer error: {error_text.cause(exc)}"}
        for variant in wanted:
            outcome = outcomes[variant]
            if outcome["ok"]:
                converted.append((Path(outcome["path"]), outcome["info"]))
            else:
                log(f"{arch.name}: {fmt} {variant} not converted: {outcome['reason']}")
                rejected.append({"runtime": fmt, "variant": variant, "artifact": None,
                                 "passed": False, "reason": outcome["reason"]})
    return converted, rejected


def _gate_variants(report: dict, fp32_bytes: dict, staging: Path, rejected: list, name: str, log) -> set[str]:
    """Apply the variant gates to a parity report: moves failed results to `rejected` and
    returns the artifact names that may be published. fp32_bytes: format (or an artifact
    name, for a variant from another form) → the size of the fp32 form it was quantized from."""
    # A quantized variant is worth shipping only if it is smaller than fp32 (the TFLite
    # converter leaves weight tensors under 1024 elements in float, and onnxruntime's QDQ
    # keeps LSTMs float, so a "quantized" file can be the fp32 one or larger). Except a
    # full-integer TFLite file: it is for integer-only hardware (NPUs, MCUs without an FPU),
    # where no fp32 file runs at all; an unrolled one can be larger than its fp32 form (its
    # weights shrink 4×, but every one of its many tensors gains quantization parameters:
    # GRU(32), 10 steps: weights 13,988 → 3,617 bytes, file 42,620 → 47,112), so its size
    # is recorded beside its form's fp32 size, not held against it.
    for result in report["results"]:
        size = result["bytes"] = (staging / result["artifact"]).stat().st_size
        fp32 = fp32_bytes.get(result["artifact"], fp32_bytes.get(result["runtime"]))
        if result["runtime"] == "tflite" and result["variant"] in integer_source.FULL_INTEGER:
            result["fp32_bytes"] = fp32
        elif not is_fp32(result["variant"]) and size >= fp32:
            result["passed"] = False
            result["reason"] = f"no smaller than fp32 ({size:,} vs {fp32:,} bytes): quantization saved nothing"
    # A variant that misses a gate is reported, never published.
    for result in [r for r in report["results"] if not r["passed"]]:
        log(f"{name}: {result['runtime']} {result['variant']} rejected: {result['reason']}")
        rejected.append(result)
    report["results"] = [r for r in report["results"] if r["passed"]]
    report["passed"] = True
    return {r["artifact"] for r in report["results"]}


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

    known = FORMATS + OPTIONAL_FORMATS
    unknown = set(formats) - set(known)
    if unknown:
        raise EdgeseqError(f"unknown format {sorted(unknown)[0]!r}; expected one of {known}")
    formats = tuple(f for f in known if f in formats or (f == "onnx" and set(OPTIONAL_FORMATS) & set(formats)))
    if "openvino" in formats and not to_openvino.available():  # before any training or conversion
        raise EdgeseqError(to_openvino.missing_extra("--format openvino"))
    if quantize and arch.is_user_model and arch.problem.metric.name == "none":
        raise EdgeseqError("quantizing your own model needs a gate: load it with calibration data "
                           "(--calibration-file) so held-out rows can judge the variants")
    model = load_or_train(arch, out_dir, seed=seed, replace_model=replace_model)
    problem = arch.problem
    # a user's model has no task of its own: its metric, if any, is in the parity report
    metric_value = None if arch.is_user_model else evaluate(arch, model, seed)

    staging = publish.new_generation(out_dir)
    twin_dir = Path(tempfile.mkdtemp(prefix="edgeseq-tflite-twin-")) / "saved_model"
    try:
        converted = []
        io_specs = getattr(arch, "io_specs", None)  # a user's model: its Keras names everywhere
        keras_runner = KerasRunner(model=model)
        tolerance = Tolerance(atol=arch.training.atol)
        # The route search: every form of each device format, gated and timed; the chosen
        # one is staged as model.<format>.
        device = [f for f in formats if f in FORMATS]
        log(f"{arch.name}: converting to {', '.join(device)} (route search: {optimize})")
        candidates = twin_dir.parent / "routes"
        candidates.mkdir()
        forms = route_forms.forms(arch, model, problem, twin_dir, candidates)
        chosen, today, route_section = routes.search(
            arch.name, {f: forms[f] for f in device}, staging, candidates, problem, keras_runner,
            samples, tolerance, optimize, log)
        converted += [(staging / f"model.{f}", chosen[f]) for f in device]
        route = today["tflite"]["route"] if "tflite" in today else None  # the twin's, for variants
        # Forms of model.onnx written on request, each with a companion file that is listed
        # but not run alone (ort: the operator list for a reduced build; the IR: its weights).
        companions = []
        for fmt, path, convert, companion_info in (
                ("ort", staging / "model.ort", to_ort.convert,
                 {"format": "ort-operators", "variant": "config"}),
                ("openvino", staging / "model.xml", to_openvino.convert,
                 {"format": to_openvino.WEIGHTS_FORMAT, "variant": "weights"})):
            if fmt not in formats:
                continue
            log(f"{arch.name}: converting to {fmt}")
            try:
                info, companion = convert(staging / "model.onnx", path)
            except EdgeseqError:
                raise
            except Exception as exc:  # the converter's own errors, cut around their cause
                raise EdgeseqError(f"{arch.name}: {fmt} conversion failed: {error_text.cause(exc)}") from None
            converted.append((path, info | {"variant": "fp32", "route_form": chosen["onnx"]["route_form"]}))
            companions.append((companion, companion_info))
        pause_points.reach("staged")
        worker = (tflite_worker.store_representative(problem, twin_dir.parent / "representative.npz")
                  if io_specs and quantize and "tflite" in formats else arch.name)
        # Full-integer TFLite variants of a WHILE form convert from an unrolled one (the
        # calibrator crashes on WHILE): integer_source.py
        integer_from = (integer_source.prepare(arch, model, problem, quantize,
                                               candidates / f"{forms['tflite'][0].name}.tflite",
                                               twin_dir.parent / "unrolled-integer", log)
                        if "tflite" in device else None)
        variants, rejected = _convert_variants(arch, twin_dir, route, staging,
                                               [f for f in formats if f in FORMATS], quantize, log,
                                               worker=worker, integer_from=integer_from)
        # Quantized TFLite variants convert from today's twin (or the unrolled form above);
        # ONNX ones from model.onnx.
        source = {"tflite": today.get("tflite", {}).get("route_form"),
                  "onnx": chosen.get("onnx", {}).get("route_form")}
        for _, info in variants:
            info.setdefault("route_form", source[info["format"]])
        if "tflite" in formats and batch > 1 and not arch.is_user_model:
            log(f"{arch.name}: tflite batch-{batch} variant")
            try:
                variants.append(batch_tflite.convert(arch, model, problem, batch, staging,
                                                     twin_dir.parent / f"batch{batch}"))
            except Exception as exc:  # the converter's own errors: reported, export goes on
                first = error_text.cause(exc)
                log(f"{arch.name}: tflite {batch_tflite.variant(batch)} not converted: {first}")
                rejected.append({"runtime": "tflite", "variant": batch_tflite.variant(batch),
                                 "artifact": None, "passed": False,
                                 "reason": f"converter error: {first}"})
        runners = [(info["variant"], open_runner(path)) for path, info in converted + variants]
        log(f"{arch.name}: parity on {samples} inputs")
        report = check(problem, keras_runner, runners, samples=samples, tolerance=tolerance)
        if getattr(problem, "variable_length", False):
            report["lengths"] = _dynamic_length_parity(problem, keras_runner, runners, arch.training.atol)
            report["results"] += [r for r in report["lengths"] if not r["passed"]]
        failed_fp32 = [r for r in report["results"] if r["variant"] == "fp32" and not r["passed"]]
        if failed_fp32:
            # A user's model that converts but differs is bad input (exit 2); one of edgeseq's
            # own architectures failing is a failed check (exit 1).
            error = EdgeseqError if arch.is_user_model else CheckFailed
            output = next(iter(keras_runner.outputs)).name if io_specs else to_onnx.OUTPUT_NAME
            raise error(f"{arch.name}: {failed_fp32[0]['runtime']} output "
                        f"'{output}' ({failed_fp32[0]['artifact']}) differs from "
                        f"Keras: {failed_fp32[0]['reason']}; previous artifacts left in place")
        # Against the fp32 form a variant came from: TFLite's quantize the fused twin, which
        # can be smaller than the unrolled model.tflite the search chose.
        fp32_bytes = {fmt: next(c["bytes"] for c in route_section[fmt]["candidates"]
                                if c["route"] == source[fmt]) for fmt in device}
        fp32_bytes |= {path.name: integer_from["fp32_bytes"] for path, info in variants
                       if info.get("route_form") == "unrolled" and integer_from}
        published = _gate_variants(report, fp32_bytes, staging, rejected, arch.name, log)
        forms_of = {path.name: info["route_form"] for path, info in variants if info.get("route_form")}
        for result in rejected:  # the form a rejected variant came from, as the kept ones record
            if not is_fp32(result["variant"]):
                named = Path(result["artifact"]).name if result.get("artifact") else None
                result.setdefault("route_form", forms_of.get(named, source.get(result["runtime"])))
        converted += [(path, info) for path, info in variants if path.name in published]
        # Step models exist for the device formats; ort is a form of model.onnx, not its own.
        steps, streaming = step_export.write(arch, model, staging, [f for f in formats if f in FORMATS],
                                             Tolerance(atol=arch.training.atol), log,
                                             quantize=quantize, keras_file=out_dir / "model.keras")
        converted += steps
        # Floor models for `edgeseq bench` (one Reshape per format), published but not gated.
        converted += floor.write(problem.input_shape, staging, [f for f in formats if f in FORMATS])
        converted += companions
        # Keras outputs on seeded inputs, for parity on devices without TensorFlow.
        ref_inputs, ref_targets = problem.generate(stored_reference.SAMPLES,
                                                   np.random.default_rng(stored_reference.SEED))
        ref_path = staging / stored_reference.FILE
        ref_feed = ref_inputs if isinstance(ref_inputs, dict) else {keras_runner.inputs[0].name: ref_inputs}
        ref_outputs = keras_runner.run(ref_feed)
        converted.append((ref_path, stored_reference.write(
            ref_path, ref_inputs, ref_targets,
            ref_outputs if len(ref_outputs) > 1 else next(iter(ref_outputs.values())))))
        artifacts = ([manifest_file.describe_file(out_dir / "model.keras") | {"format": "keras"}]
                     if (out_dir / "model.keras").is_file() else [])
        for path, info in converted:
            runtime = info["format"]
            ops = graph.summary(path, runtime) if runtime in graph.RECURRENT_OPS else {}
            if ops and info.get("variant") != "floor":
                info = info | {"route": graph.describe_route(info["route"], ops, _has_recurrence(model))}
            artifacts.append(manifest_file.describe_file(path) | info | ops)

        document = {
            "manifest_version": 1,
            "architecture": arch.name,
            "model": arch.model,
            "problem": {"name": problem.name, "summary": problem.summary,
                        "params": problem.params()},
            "parameters": int(model.count_params()),
            "inputs": [s.to_json() if io_specs else dict(s.to_json(), name=to_onnx.INPUT_NAME)
                       for s in keras_runner.inputs],
            "outputs": [s.to_json() if io_specs else dict(s.to_json(), name=to_onnx.OUTPUT_NAME)
                        for s in keras_runner.outputs],
            "metric": {"name": problem.metric.name, "value": metric_value,
                       "target": problem.metric.target,
                       "higher_is_better": problem.metric.higher_is_better},
            "artifacts": artifacts,
            "tolerance": {"atol": arch.training.atol, "rtol": RTOL},
            "source": "user model" if arch.is_user_model else "edgeseq architecture",
            **({"source_format": arch.source_format} if io_specs else {}),
            **({"sequence_length": problem.length, "variable_length": True}
               if getattr(problem, "variable_length", False) else {}),
            "parity": report,
            "routes": route_section,  # every candidate form per format, and why one was chosen
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


def _dynamic_length_parity(problem, keras_runner, runners, atol: float) -> list[dict]:
    """ONNX keeps a variable time axis: check it at the shortest length the model takes, at
    the exported length and at more steps than any calibration row, on random inputs in the
    calibration's range. A failure at one of them is a failed row in one line."""
    onnx = [(v, r) for v, r in runners if r.runtime == "onnx" and v == "fp32"]
    if not onnx:
        return []
    results = []
    for length in sorted({_shortest_length(problem, [keras_runner] + [r for _, r in onnx]),
                          problem.length, 2 * problem.length + 3}):
        try:
            report = check(problem.at_length(length), keras_runner, onnx, samples=64, seed=length,
                           tolerance=Tolerance(atol=atol))
        except Exception as exc:  # the runtimes' own errors at a length the model takes
            results += [{"length": length, "runtime": r.runtime, "variant": v, "artifact": r.path.name,
                         "passed": False, "reason": f"at length {length}: {error_text.cause(exc)}"}
                        for v, r in onnx]
            continue
        for result in report["results"]:
            results.append({"length": length} | {k: result[k] for k in (
                "runtime", "variant", "artifact", "max_abs", "min_atol", "passed", "atol", "rtol")}
                | ({"reason": f"at length {length}: {result['reason']}"} if not result["passed"] else {}))
    return results


def _shortest_length(problem, runners) -> int:
    """The fewest steps the model takes, found by running Keras and the ONNX file on them
    from one step up: a Conv1D of kernel k needs k steps. Both must answer, because neither
    alone can say: on a kernel-3 Conv1D Keras refuses 1 step but answers 2 with a 2-step
    convolution output (TensorFlow's oneDNN Conv2D, where the output should be empty),
    which onnxruntime rightly refuses ("Invalid input shape")."""
    for length in range(1, problem.length):
        inputs, _ = problem.at_length(length).generate(1, np.random.default_rng(length))
        try:
            for runner in runners:
                runner.run(dict(inputs) if isinstance(inputs, Mapping) else {runner.inputs[0].name: inputs})
            return length
        except Exception:  # noqa: BLE001 - a runtime refusing this length, whatever it says
            continue
    return problem.length


def _has_recurrence(model) -> bool:
    """Whether the Keras model holds a recurrent layer (inside wrappers and submodels too),
    so that a graph without loops or recurrent ops reads as unrolled rather than as none."""
    import keras  # noqa: PLC0415

    return any(isinstance(layer, keras.layers.RNN) or type(layer).__name__.startswith("ConvLSTM")
               for layer in layer_walk.layers(model))


def export_untrained(arch: Architecture, out_dir: Path, seed: int = 0, **options) -> dict:
    """Export a seeded, untrained model: conversion and parity do not depend on training, so
    tests and device fixtures use these to stay fast."""
    import keras  # noqa: PLC0415

    from ..training import save  # noqa: PLC0415

    keras.utils.set_random_seed(seed)
    save(arch.build(keras), Path(out_dir) / "model.keras")
    return export(arch, out_dir, seed=seed, log=lambda _: None, **options)
