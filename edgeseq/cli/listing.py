"""`edgeseq list`: the architectures and their problems."""

from __future__ import annotations

from .. import registry
from .app import JsonOption, command, emit_json, out


@command("list")
def list_(as_json: JsonOption = False):
    """List the architectures and the problems they solve."""
    rows = [{"architecture": a.name, "problem": a.problem.name, "summary": a.problem.summary,
             "input_shape": list(a.problem.input_shape), "model": a.model,
             "skill": a.problem.metric.describe_target()}
            for a in registry.ARCHITECTURES.values()]
    if as_json:
        return emit_json({"architectures": rows})
    from rich.table import Table  # noqa: PLC0415 - rich only when a table is printed

    table = Table("architecture", "problem", "input", "model", "skill")
    for r in rows:
        table.add_row(r["architecture"], f"{r['problem']}: {r['summary']}",
                      str(tuple(r["input_shape"])), r["model"], r["skill"])
    out.print(table)
