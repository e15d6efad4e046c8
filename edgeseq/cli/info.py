"""`edgeseq info`: what an artifact holds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .. import graph
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
    """Inputs, outputs, op counts (loops flagged), bytes and sha256 of artifacts."""
    if model.is_dir():
        listed = manifest_file.load(model)["artifacts"]
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
        } | graph.summary(path, runner.runtime))
    if as_json:
        return emit_json(documents[0] if not model.is_dir() else {"artifacts": documents})
    for d in documents:
        table = Table(show_header=False, title=f"{d['file']} ({d['runtime']})", title_justify="left")
        for spec in d["inputs"]:
            table.add_row("input", f"{spec['name']} {spec['shape']} {spec['dtype']}")
        for spec in d["outputs"]:
            table.add_row("output", f"{spec['name']} {spec['shape']} {spec['dtype']}")
        table.add_row("ops", ", ".join(f"{op}×{n}" for op, n in d["ops"].items()))
        table.add_row("recurrent", ", ".join(d["recurrent_ops"]) or "none")
        table.add_row("loops", "[red]" + ", ".join(d["loop_ops"]) + "[/]" if d["loop_ops"] else "none")
        table.add_row("bytes", f"{d['bytes']:,}")
        table.add_row("sha256", d["sha256"])
        out.print(table)
