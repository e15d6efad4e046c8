"""The parity report as tables: one export in full, or several side by side."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from .. import manifest as manifest_file
from .app import fmt, out


def show_parity(report: dict, title: str, rejected: list[dict] = ()) -> None:
    metric = report["reference"]["metric"]
    table = Table("runtime", "variant", "max abs", "p99 abs", "min atol", "agree",
                  metric["name"], "passed", title=title)
    table.add_row(report["reference"]["runtime"], "fp32", "", "", "", "",
                  fmt(metric["value"], ".4f"), "reference")
    for r in report["results"]:
        table.add_row(r["runtime"], r["variant"], fmt(r["max_abs"], ".1e"), fmt(r["p99_abs"], ".1e"),
                      fmt(r["min_atol"], ".1e"), fmt(r["argmax_agreement"], ".3f"),
                      fmt(r["metric"]["value"], ".4f"), _passed_cell(r))
    for r in report.get("not_run", []):  # an optional runtime that cannot run the model
        table.add_row(r["runtime"], r["variant"], "-", "-", "-", "-", "-", "[yellow]not gated[/]")
    for r in rejected:
        has_stats = r.get("max_abs") is not None
        table.add_row(r["runtime"], r["variant"], fmt(r.get("max_abs"), ".1e"),
                      fmt(r.get("p99_abs"), ".1e"), fmt(r.get("min_atol"), ".1e"),
                      fmt(r.get("argmax_agreement"), ".3f"),
                      fmt(r["metric"]["value"], ".4f") if has_stats else "-", "[red]rejected[/]")
    out.print(table)
    for r in rejected:
        out.print(f"[red]rejected[/] {r['runtime']} {r['variant']}: {escape(r['reason'])}",
                  highlight=False)
    for r in report.get("not_run", []):
        out.print(f"{r['runtime']}: {escape(r['reason'])} (not gated: edgeseq adds {r['runtime']} "
                  "on its own when it is installed)", highlight=False)
    source = f"seed {report['seed']}" if report["seed"] is not None else "stored inputs"
    out.print(f"{report['samples']} inputs ({source}); tolerance atol "
              f"{report['results'][0]['atol']:g}, rtol {report['results'][0]['rtol']:g}")


def _passed_cell(r: dict) -> str:
    verdict = "[green]yes[/]" if r["passed"] else f"[red]no[/] {escape(r.get('reason', ''))}"
    return verdict if r.get("gated", True) else f"{verdict} [yellow](not gated)[/]"


def show_parity_summary(reports: dict[str, dict], manifests: dict[str, dict]) -> None:
    """One row per architecture (fp32 on each runtime), then one per quantized variant."""
    found = {r["runtime"] for report in reports.values() for r in report["results"]}
    runtimes = ["onnx", "tflite"] + [rt for rt in ("openvino",) if rt in found]
    table = Table("architecture", "metric", "keras",
                  *[f"{rt} {col}" for rt in runtimes for col in ("metric", "max abs")],
                  "passed", title="parity with Keras, fp32")
    # "from": the fp32 form (route search) a variant was converted from; "× fp32" is against it
    variants = Table("architecture", "runtime", "variant", "from", "bytes", "× fp32", "metric",
                     "max abs", "passed", title="quantized variants (gate: task metric)")
    reasons, not_gated = [], []
    for name, report in reports.items():
        by_runtime = {r["runtime"]: r for r in report["results"] if r["variant"] == "fp32"}
        cells = []
        for rt in runtimes:
            r = by_runtime.get(rt)
            cells += ([fmt(r["metric"]["value"], ".4f"), fmt(r["max_abs"], ".1e")] if r else ["-", "-"])
        table.add_row(name, report["reference"]["metric"]["name"],
                      fmt(report["reference"]["metric"]["value"], ".4f"), *cells,
                      "[green]yes[/]" if report["passed"] else "[red]no[/]")
        for r in report.get("not_run", []):
            not_gated.append(f"{name} {r['runtime']} (not gated): {r['reason']}")
        for r in [r for r in report["results"] if r["variant"] != "fp32"] + manifests[name].get("rejected", []):
            size, ratio, form = manifest_file.variant_bytes(manifests[name], r)
            variants.add_row(name, r["runtime"], r["variant"], form or "-", f"{size:,}" if size else "-",
                             f"{ratio:.2f}" if ratio else "-",
                             fmt(r["metric"]["value"], ".4f") if r.get("metric") else "-",
                             fmt(r.get("max_abs"), ".1e"),
                             "[green]yes[/]" if r["passed"] else "[red]rejected[/]")
            if not r["passed"]:
                reasons.append(f"{name} {r['runtime']} {r['variant']}: {r['reason']}")
    out.print(table)
    if variants.row_count:
        out.print(variants)
    for reason in reasons:
        out.print(f"[red]rejected[/] {escape(reason)}", highlight=False)
    for line in not_gated:
        out.print(escape(line), highlight=False)
