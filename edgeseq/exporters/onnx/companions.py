"""Stage 2 of an export: the forms of model.onnx written on request — the ORT file and the
OpenVINO IR — each with a companion file that is listed but not run alone (ort: the operator
list for a reduced build; the IR: its weights)."""

from __future__ import annotations

from ... import error_text
from ...artifacts import Artifact
from ...errors import EdgeseqError
from ..forms import Routes
from ..job import Job
from . import to_openvino, to_ort

#: format → (file, converter, what its companion file is)
FORMS = {"ort": ("model.ort", to_ort.convert, {"format": "ort-operators", "variant": "config"}),
         "openvino": ("model.xml", to_openvino.convert,
                      {"format": to_openvino.WEIGHTS_FORMAT, "variant": "weights"})}


def convert(job: Job, routes: Routes) -> tuple[list[Artifact], list[Artifact]]:
    """(the models, their companion files)."""
    models, companions = [], []
    for fmt, (name, converter, companion_info) in FORMS.items():
        if fmt not in job.formats:
            continue
        job.log(f"{job.arch.name}: converting to {fmt}")
        try:
            info, companion = converter(job.staging / "model.onnx", job.staging / name)
        except EdgeseqError:
            raise
        except Exception as exc:  # the converter's own errors, cut around their cause
            raise EdgeseqError(f"{job.arch.name}: {fmt} conversion failed: {error_text.cause(exc)}") from None
        models.append(Artifact.staged(job.staging / name, info | {
            "variant": "fp32", "route_form": routes.chosen["onnx"]["route_form"]}))
        companions.append(Artifact.staged(companion, companion_info))
    return models, companions
