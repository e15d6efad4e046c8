"""`edgeseq parity`'s stream rows: each step model streamed against Keras, shown under the
window table, against Keras itself or, with `--reference stored`, against the streamed Keras
answers stored at export (runtimes/stored_stream_reference.py)."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from rich.table import Table

from .. import manifest as manifest_file
from .app import fmt, out


def stream_report(directory: Path, manifest: dict, problem, tolerance, sequences: int, seed: int,
                  stored: bool = False) -> dict | None:
    """The stream parity of every step model in the export, or None when it has none (or,
    with the `stored` reference, when the export stored no streamed Keras answers)."""
    streaming = manifest.get("streaming") or {}
    if not streaming.get("streams"):
        return None
    from .. import stream_parity  # noqa: PLC0415
    from ..runtimes import open_runner  # noqa: PLC0415
    from ..streaming import step_runner  # noqa: PLC0415

    runners = [("fp32", step_runner(directory / file, streaming)) for file in streaming["artifacts"].values()]
    runners += [(variant, open_runner(directory / file))
                for variant, file in streaming.get("variants", {}).get("tflite", {}).items()]
    if stored:  # Keras's answers as stored at export: no TensorFlow on this path
        from ..runtimes import stored_stream_reference  # noqa: PLC0415

        if manifest_file.entry(manifest, stored_stream_reference.FILE) is None:
            return None  # exported before the stream reference was stored
        path = directory / stored_stream_reference.FILE
        manifest_file.verify(path, manifest)
        return stream_parity.compare(problem, streaming, stored_stream_reference.read(path),
                                     runners, tolerance)
    import keras  # noqa: PLC0415 - the Keras reference

    from ..export import step_export, step_model  # noqa: PLC0415

    model = keras.saving.load_model(directory / "model.keras", compile=False)
    return stream_parity.check(problem, streaming, candidates=runners, sequences=sequences,
                               seed=seed, tolerance=tolerance,
                               **step_export.references(model, step_model.plan(model)))


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
                      "[green]yes[/]" if r["passed"] else f"[red]no[/] {escape(r.get('reason', ''))}")
    out.print(table)
