"""`edgeseq parity`'s stream rows: each step model streamed against Keras, shown under the
window table, against Keras itself or, with `--reference stored`, against the streamed Keras
answers stored at export (runtimes/stored_stream_reference.py)."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from .app import fmt, out


def long_cell(stats: dict) -> str:
    """The free run: reported, gated only against another artifact (stream_parity's docstring)."""
    if stats.get("well_conditioned") is False:  # see stream_parity.ILL_CONDITIONED
        return f"{stats['max_abs']:.1e} ill-conditioned (Keras fp32 vs fp64 {stats['keras_vs_float64']:.1e})"
    return fmt(stats["max_abs"], ".1e")


def anchored_cell(anchored: dict | None) -> str:
    if anchored is None:
        return "-"
    return fmt(max(anchored["output"]["max_abs"], anchored["state"]["max_abs"]), ".1e")


def show(report: dict) -> None:
    table = Table("runtime", "step model", "every step\nmax abs", "window\nmax abs",
                  f"{report['long_steps']}-step from\nKeras states", f"{report['long_steps']}-step\nfree run",
                  "reset\nexact", "agree",
                  report["reference"]["metric"]["name"], "passed",
                  title=f"stream parity: {report['sequences']} sequences from zero state")
    for r in report["results"]:
        table.add_row(r["runtime"], r["artifact"], fmt(r["every_step"]["max_abs"], ".1e"),
                      fmt(r["window"]["max_abs"], ".1e"), anchored_cell(r.get("anchored")),
                      long_cell(r["long_stream"]),
                      "yes" if r["reset_exact"] else "[red]no[/]", fmt(r["decision_agreement"], ".3f"),
                      fmt(r["metric"]["value"], ".4f"),
                      ("[green]yes[/]" if r["passed"] else f"[red]no[/] {escape(r.get('reason', ''))}")
                      + (" [yellow](not gated)[/]" if r.get("gated") is False else ""))
    out.print(table)
