"""The `web` row of `edgeseq parity`: the export's page in headless Chromium, beside the other
runtimes and under the same gate. edgeseq adds this runtime on its own initiative, so when it
cannot run here (no [web] extra, no Chromium, no onnxruntime-web files, a page that does not
start) the row is reported with the reason and never turns a passing check into a failure;
when it runs, its parity counts like any row's.

The window row runs the same inputs as the other rows (parity.check with the run's reference
and seed); the step model streams the Keras answers stored at export (stream_reference.npz).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ...errors import EdgeseqError
from . import browser_missing, pack, runtime_files


def web_parity(directory: Path, manifest: dict, problem, reference, tolerance, samples: int,
               seed: int) -> dict:
    """{"ran": True, "results": [window result], "streaming": [stream results], "passed"}, or
    {"ran": False, "reason": one line}."""
    reason = browser_missing()
    try:
        dist = None if reason else runtime_files.find()[0]
        pack.check_models(directory, manifest)
    except EdgeseqError as exc:
        reason = reason or str(exc)
    if reason:
        return {"ran": False, "reason": reason}
    from . import check  # noqa: PLC0415 - playwright, only when it runs
    from .browser import BrowserPage  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="edgeseq-web-") as scratch:
        folder, page = pack.write(directory, dist, into=Path(scratch) / "web", with_standalone=False)
        try:
            with BrowserPage(folder) as browser:
                window = check.window_parity(browser, problem, reference, tolerance, samples, seed)
                refs = check.stored_stream(directory, manifest) if page["streaming"]["streams"] else None
                streams = (check.stream_parity_in_page(browser, problem, manifest, refs, tolerance)
                           if refs is not None else None)
        except EdgeseqError as exc:  # the page could not start or run here: a reported row
            return {"ran": False, "reason": f"web: {exc}"}
    results = window["results"]
    stream_results = streams["results"] if streams else []
    return {"ran": True, "results": results, "streaming": stream_results,
            "passed": all(r["passed"] for r in results + stream_results)}


def merge(report: dict, web: dict, gated: bool = True) -> dict:
    """The parity report with the web rows added (window rows to `results`, step rows to
    `streaming`), and `web` saying whether they ran and why not. `gated` False: rows edgeseq
    added on its own (the export has a page, --web was not given) are reported with
    `gated: false` and never fail the check."""
    report = report | {"web": {k: v for k, v in web.items() if k in ("ran", "reason", "passed")}}
    if not web["ran"]:
        return report
    rows = [r | ({} if gated else {"gated": False}) for r in web["results"]]
    steps = [r | ({} if gated else {"gated": False}) for r in web["streaming"]]
    report["results"] = report["results"] + rows
    if steps and report.get("streaming"):
        report["streaming"] = report["streaming"] | {
            "results": report["streaming"]["results"] + steps,
            "passed": report["streaming"]["passed"] and (not gated or all(r["passed"] for r in steps))}
    report["passed"] = report["passed"] and (not gated or web["passed"])
    return report
