"""`edgeseq info`: what an artifact holds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .. import manifest as manifest_file
from ..measure import flops, graph
from ..runtimes import COMPANIONS, DEVICE_RUNTIMES, open_runner
from .app import JsonOption, command, emit_json, out

#: the formats described: the device runtimes' and the OpenVINO IR (ort's op listing would
#: need its flatbuffer read; its model.onnx is described)
DESCRIBED = (*DEVICE_RUNTIMES, "openvino")


@command()
def info(
    model: Annotated[Path, typer.Argument(help="An .onnx or .tflite file, or an exported directory.")],
    as_json: JsonOption = False,
):
    """Inputs, outputs, op counts (loops flagged), MACs and FLOPs per sample, bytes and sha256
    of each .onnx, .tflite and OpenVINO IR (.xml, with its .bin weights); for a directory, also
    the form each file was converted from, the route search's choice and the microcontroller
    budget `edgeseq mcu` recorded."""
    mcu_section = routes = document = None
    if model.is_dir():
        document = manifest_file.load(model)
        listed, mcu_section, routes = document["artifacts"], document.get("mcu"), document.get("routes")
        # Not manifest.is_window_model: the batch-N file is a model predict loads (big
        # --input-file), so info describes it too; bench's floor and the step models (kept out
        # since the streaming work, issue 11) are not described.
        paths = [model / a["file"] for a in listed
                 if a["format"] in DESCRIBED and a.get("variant") != "floor"
                 and not a.get("step")]
    else:
        paths = [model]
    documents = []
    for path in paths:
        runner = open_runner(path)
        documents.append(manifest_file.describe_file(path) | {
            "runtime": runner.runtime,
            "inputs": [s.to_json() for s in runner.inputs],
            "outputs": [s.to_json() for s in runner.outputs],
        } | graph.summary(path, runner.runtime) | _cost(path, runner.runtime)
          | _weights(path) | (_form(document, path.name, runner.runtime) if document else {}))
    if as_json:
        if not model.is_dir():
            return emit_json(documents[0])
        return emit_json({"artifacts": documents} | ({"mcu": mcu_section} if mcu_section else {})
                         | ({"routes": routes} if routes else {}))
    from rich.table import Table  # noqa: PLC0415 - the table only; --json and predict need no rich

    for d in documents:
        table = Table(show_header=False, title=f"{d['file']} ({d['runtime']})", title_justify="left")
        for spec in d["inputs"]:
            table.add_row("input", f"{spec['name']} {spec['shape']} {spec['dtype']}")
        for spec in d["outputs"]:
            table.add_row("output", f"{spec['name']} {spec['shape']} {spec['dtype']}")
        table.add_row("ops", ", ".join(f"{op}×{n}" for op, n in d["ops"].items()))
        uncounted = f" (not counted: {', '.join(d['uncounted'])})" if d["uncounted"] else ""
        counted_on = f" (counted on {d['counted_on']}, the graph it was saved from)" if d.get("counted_on") else ""
        table.add_row("per sample", f"{d['macs']:,} MACs, {d['flops']:,} FLOPs{uncounted}{counted_on}"
                      if d["macs"] is not None else f"not counted ({d['not_counted']})")
        table.add_row("recurrent", ", ".join(d["recurrent_ops"]) or "none")
        table.add_row("recurrence", d["recurrence"])
        table.add_row("loops", "[red]" + ", ".join(d["loop_ops"]) + "[/]" if d["loop_ops"] else "none")
        if d.get("route_form"):
            table.add_row("form", _form_text(d))
        table.add_row("bytes", f"{d['bytes']:,}")
        table.add_row("sha256", d["sha256"])
        if d.get("weights"):
            table.add_row("weights", f"{d['weights']['file']}: {d['weights']['bytes']:,} bytes, "
                                     f"sha256 {d['weights']['sha256']}")
        out.print(table)
    for line in route_lines(routes):
        out.print(line, highlight=False, markup=False, soft_wrap=True)
    if mcu_section:
        from .mcu import show  # noqa: PLC0415

        show(model, mcu_section)


def route_lines(routes: dict | None) -> list[str]:
    """One line per format: the form export published and why (the manifest's routes)."""
    if not isinstance(routes, dict):
        return []
    lines = []
    for fmt, found in routes.items():
        if isinstance(found, dict) and "candidates" in found:
            tried = ", ".join(f"{c['route']} {_cell(c)}" for c in found["candidates"])
            lines.append(f"{fmt} route ({routes.get('optimize')}): {found['chosen']}: {found['why']} "
                         f"[{tried}]")
    return lines


def _cell(candidate: dict) -> str:
    if candidate.get("skipped"):
        return "skipped"
    if not candidate.get("passed"):
        return "failed parity"
    return f"{candidate['p50_us']:g} µs {candidate['bytes']:,} B"


def _cost(path: Path, runtime: str) -> dict:
    """MACs and FLOPs per sample. The OpenVINO IR is model.onnx as OpenVINO read and saved it
    (export/to_openvino.py): counted on that ONNX file when it is beside it."""
    counted_on = None
    if runtime == "openvino":
        onnx_file = path.with_suffix(".onnx")
        if not onnx_file.is_file():
            return {"macs": None, "flops": None, "uncounted": {},
                    "not_counted": f"no {onnx_file.name} beside it to count on"}
        path, runtime, counted_on = onnx_file, "onnx", onnx_file.name
    cost = {k: v for k, v in flops.count(path, runtime).to_json().items() if k != "by_op"}
    return cost | ({"counted_on": counted_on} if counted_on else {})


def _weights(path: Path) -> dict:
    """The file an artifact loads with it (the IR's .bin), described as the artifact is."""
    companion = COMPANIONS.get(path.suffix)
    return {"weights": manifest_file.describe_file(path.with_suffix(companion))} if companion else {}


def _form(document: dict, name: str, runtime: str) -> dict:
    """The route-search form a listed file was converted from (manifest `route_form`) and, for a
    quantized variant, its size against that fp32 form (not against model.<format>, which may
    be another form: generative's unrolled model.tflite is smaller than the fused twin its
    int8 file is quantized from)."""
    listed = manifest_file.entry(document, name) or {}
    if not listed.get("route_form"):
        return {}
    found = {"route_form": listed["route_form"], "variant": listed.get("variant")}
    if runtime in DEVICE_RUNTIMES and listed.get("variant") != "fp32":
        found["bytes_vs_form"] = manifest_file.variant_bytes(document, {"artifact": name, "runtime": runtime})[1]
    return found


def _form_text(d: dict) -> str:
    if d.get("bytes_vs_form"):
        return (f"{d['variant']} converted from the {d['route_form']} fp32 form: "
                f"{d['bytes_vs_form']:.2f}× its bytes")
    return f"{d['route_form']} (route search)"
