"""`edgeseq info`: what an artifact holds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .. import flops, graph
from .. import manifest as manifest_file
from ..runtimes import DEVICE_RUNTIMES, open_runner
from .app import (
    JsonOption,
    command,
    emit_json,
    out,
)


@command()
def info(
    model: Annotated[Path, typer.Argument(help="An .onnx or .tflite file, or an exported directory.")],
    as_json: JsonOption = False,
):
    """Inputs, outputs, op counts (loops flagged), MACs and FLOPs per sample, bytes and sha256;
    for a directory, also the microcontroller budget `edgeseq mcu` recorded."""
    mcu_section = routes = None
    if model.is_dir():
        document = manifest_file.load(model)
        listed, mcu_section, routes = document["artifacts"], document.get("mcu"), document.get("routes")
        # Not manifest.is_window_model: the batch-N file is a model predict loads (big
        # --input-file), so info describes it too; bench's floor and the step models (kept out
        # since the streaming work, issue 11) are not described.
        paths = [model / a["file"] for a in listed
                 if a["format"] in DEVICE_RUNTIMES and a.get("variant") != "floor"
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
        } | graph.summary(path, runner.runtime)
          | {k: v for k, v in flops.count(path, runner.runtime).to_json().items() if k != "by_op"})
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
        table.add_row("per sample", f"{d['macs']:,} MACs, {d['flops']:,} FLOPs{uncounted}")
        table.add_row("recurrent", ", ".join(d["recurrent_ops"]) or "none")
        table.add_row("recurrence", d["recurrence"])
        table.add_row("loops", "[red]" + ", ".join(d["loop_ops"]) + "[/]" if d["loop_ops"] else "none")
        table.add_row("bytes", f"{d['bytes']:,}")
        table.add_row("sha256", d["sha256"])
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
