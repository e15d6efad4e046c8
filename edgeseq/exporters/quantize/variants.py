"""Stage 3 of an export: the quantized variants of each device format, and TFLite's batch-N
file. TFLite conversions run in child processes (a converter crash is a reported failure);
full-integer ones from an unrolled form when the published one loops (integer_source.py).
What does not convert is a rejected row, never the end of the export."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ... import error_text
from ...artifacts import Artifact
from ..forms import Routes
from ..job import Job
from ..tflite import batch_tflite, tflite_worker, to_tflite
from . import integer_source, to_onnx_quantized


@dataclass
class Variants:
    artifacts: list[Artifact] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)  # manifest rows: converter errors, then gates
    integer_from: dict | None = None  # the unrolled integer source, when one was prepared

    def fp32_bytes(self, artifact: Artifact) -> int | None:
        """The fp32 size of the unrolled form a full-integer variant came from."""
        if self.integer_from and artifact.form == "unrolled":
            return self.integer_from["fp32_bytes"]
        return None


def convert(job: Job, routes: Routes) -> Variants:
    arch, found = job.arch, Variants()
    worker = (tflite_worker.store_representative(job.problem, job.scratch / "representative.npz")
              if job.io_specs and job.quantize and "tflite" in job.formats else arch.name)
    if "tflite" in job.device:
        found.integer_from = integer_source.prepare(
            arch, job.model, job.problem, job.quantize,
            routes.candidates / f"{routes.forms['tflite'][0].name}.tflite",
            job.scratch / "unrolled-integer", job.log)
    for fmt in job.device:
        supported = to_tflite.VARIANTS if fmt == "tflite" else to_onnx_quantized.VARIANTS
        wanted = [v for v in job.quantize if v in supported and v != "fp32"]
        for variant in (v for v in job.quantize if v not in supported):
            job.log(f"{arch.name}: {fmt} has no {variant} variant here; skipped")
        if not wanted:
            continue
        job.log(f"{arch.name}: {fmt} variants {', '.join(wanted)}")
        outcomes = (_tflite(job, routes, wanted, worker, found.integer_from) if fmt == "tflite"
                    else _onnx(job, wanted))
        for variant in wanted:
            outcome = outcomes[variant]
            if outcome["ok"]:
                outcome["info"].setdefault("route_form", routes.source_form(fmt))
                found.artifacts.append(Artifact.staged(Path(outcome["path"]), outcome["info"]))
            else:
                job.log(f"{arch.name}: {fmt} {variant} not converted: {outcome['reason']}")
                found.rejected.append({"runtime": fmt, "variant": variant, "artifact": None,
                                       "passed": False, "reason": outcome["reason"]})
    if "tflite" in job.formats and job.batch > 1 and not arch.is_user_model:
        _batch(job, found)
    return found


def _tflite(job: Job, routes: Routes, wanted: list[str], worker: str, integer_from: dict | None) -> dict:
    """variant → outcome: today's twin for most, the unrolled form for the full-integer
    variants it covers."""
    unrolled = [v for v in wanted if "dir" in (integer_from or {}) and v in integer_from["variants"]]
    groups = [(job.twin_dir, routes.twin_route, [v for v in wanted if v not in unrolled], None)]
    if unrolled:
        groups.append((integer_from["dir"], integer_from["route"], unrolled, "unrolled"))
    outcomes = {}
    for directory, how, group, form in groups:
        found = (tflite_worker.convert_isolated(worker, directory, how, job.staging, group, job.log)
                 if group else {})
        for variant, outcome in found.items():
            if outcome["ok"] and form:
                outcome["info"] |= {"route_form": form, "why_this_form": integer_source.WHY}
            elif not outcome["ok"]:
                outcome["reason"] = integer_source.crash_reason(outcome["reason"], integer_from, variant)
        outcomes |= found
    return outcomes


def _onnx(job: Job, wanted: list[str]) -> dict:
    outcomes = {}
    for variant in wanted:
        path = job.staging / f"model.{variant}.onnx"
        try:
            info = to_onnx_quantized.convert(job.staging / "model.onnx", job.problem, path, variant)
            outcomes[variant] = {"ok": True, "path": str(path), "info": info}
        except Exception as exc:  # onnxruntime.quantization's errors vary by op
            outcomes[variant] = {"ok": False, "reason": f"quantizer error: {error_text.cause(exc)}"}
    return outcomes


def _batch(job: Job, found: Variants) -> None:
    variant = batch_tflite.variant(job.batch)
    job.log(f"{job.arch.name}: tflite batch-{job.batch} variant")
    try:
        path, info = batch_tflite.convert(job.arch, job.model, job.problem, job.batch, job.staging,
                                          job.scratch / f"batch{job.batch}")
        found.artifacts.append(Artifact.staged(path, info))
    except Exception as exc:  # the converter's own errors: reported, export goes on
        first = error_text.cause(exc)
        job.log(f"{job.arch.name}: tflite {variant} not converted: {first}")
        found.rejected.append({"runtime": "tflite", "variant": variant, "artifact": None,
                               "passed": False, "reason": f"converter error: {first}"})
