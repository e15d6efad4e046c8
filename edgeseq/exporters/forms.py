"""Stage 1 of an export: every form of each device format converted, gated and timed (the
route search, routes.py), the chosen one staged as model.<format>."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..artifacts import Artifact
from . import route_forms, routes
from .job import Job


@dataclass
class Routes:
    chosen: dict  # format → what its converter said of the staged model.<format>
    today: dict  # format → the form quantized variants convert from (the fused twin for TFLite)
    section: dict  # the manifest's `routes`: every candidate, and why one was chosen
    forms: dict  # format → its candidate forms, in route_forms' order
    candidates: Path  # where the candidate files were written

    @property
    def twin_route(self) -> str | None:
        """The TFLite twin's route, which the quantized TFLite variants convert through."""
        return self.today["tflite"]["route"] if "tflite" in self.today else None

    def source_form(self, fmt: str) -> str | None:
        """The fp32 form a quantized variant of `fmt` converts from: TFLite's quantize today's
        twin (or, full-integer ones, the unrolled form); ONNX ones model.onnx."""
        found = self.today if fmt == "tflite" else self.chosen
        return found.get(fmt, {}).get("route_form")

    def fp32_bytes(self, fmt: str) -> int:
        """The size of the fp32 form a variant of `fmt` came from (it can be smaller than the
        unrolled model.tflite the search chose)."""
        return next(c["bytes"] for c in self.section[fmt]["candidates"] if c["route"] == self.source_form(fmt))


def search(job: Job) -> tuple[list[Artifact], Routes]:
    job.log(f"{job.arch.name}: converting to {', '.join(job.device)} (route search: {job.optimize})")
    candidates = job.scratch / "routes"
    candidates.mkdir()
    forms = route_forms.forms(job.arch, job.model, job.problem, job.twin_dir, candidates)
    chosen, today, section = routes.search(
        job.arch.name, {f: forms[f] for f in job.device}, job.staging, candidates, job.problem,
        job.keras_runner, job.samples, job.tolerance, job.optimize, job.log)
    staged = [Artifact.staged(job.staging / f"model.{f}", chosen[f]) for f in job.device]
    return staged, Routes(chosen, today, section, forms, candidates)
