"""An export as HTML, for Jupyter (`Export._repr_html_`): the artifacts (format, variant, kind,
bytes, route), the parity recorded at export and the rejected variants with their reasons."""

from __future__ import annotations

from html import escape


def _table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th style='text-align:left'>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{escape(_cell(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def export_html(export) -> str:
    manifest = export.manifest
    parts = [f"<h4>{escape(manifest['architecture'])}: {escape(str(export.directory))}</h4>"]
    parts.append(_table(["file", "format", "variant", "kind", "bytes", "route"],
                        [[a.file, a.format, a.variant, a.kind, a.bytes, a.route] for a in export.artifacts]))
    parity = manifest.get("parity") or {}
    if parity.get("results"):
        metric = parity["reference"]["metric"]
        parts.append(f"<p>parity with Keras at export ({parity['samples']} inputs):</p>")
        parts.append(_table(["runtime", "variant", "max abs", metric["name"], "passed"],
                            [[r["runtime"], r["variant"], r.get("max_abs"), (r.get("metric") or {}).get("value"),
                              "yes" if r["passed"] else "no"] for r in parity["results"]]))
    if manifest.get("rejected"):
        parts.append("<p>rejected variants:</p>")
        parts.append(_table(["runtime", "variant", "reason"],
                            [[r["runtime"], r["variant"], r.get("reason")] for r in manifest["rejected"]]))
    return "\n".join(parts)
