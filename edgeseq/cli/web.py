"""`edgeseq web` (the browser target: DIR/web/ and its parity in headless Chromium) and
`edgeseq serve` (that page on loopback, for a quick look)."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer

from .. import manifest as manifest_file
from .. import registry
from ..atomic import write_json
from ..errors import InputError
from .app import JsonOption, command, emit_json, err, fmt, out

OrtWebOption = Annotated[Optional[Path], typer.Option(
    "--ort-web", help="onnxruntime-web's package folder (or its dist/); default: node_modules/onnxruntime-web "
                      "up from here or from edgeseq's checkout, or $EDGESEQ_ORT_WEB.")]


def _log(message: str) -> None:
    err.print(message, markup=False, highlight=False, soft_wrap=True)


def browser_report(directory: Path, manifest: dict, pack: Path, isolated: bool = False, threads: int = 1,
                   bench: bool = True) -> dict:
    """Parity (window and stream) and latency of the pack in headless Chromium, against the
    Keras outputs stored at export."""
    from ..checks.parity import Tolerance  # noqa: PLC0415
    from ..targets.web import check  # noqa: PLC0415
    from ..targets.web.browser import BrowserPage  # noqa: PLC0415

    problem = registry.problem_from_manifest(manifest)
    tolerance = Tolerance(**manifest.get("tolerance", {}))
    reference = check.stored_window_reference(directory, manifest)
    stream_refs = check.stored_stream(directory, manifest)
    _log(f"{pack}: loading the page in headless Chromium")
    started = time.perf_counter()
    with BrowserPage(pack, isolated=isolated, threads=threads) as page:
        document = {"load_s": round(time.perf_counter() - started, 2), "threads": threads,
                    "cross_origin_isolated": isolated}
        _log(f"window parity on {len(reference.data()[0])} stored inputs")
        document["parity"] = check.window_parity(page, problem, reference, tolerance)
        streams = page.page_json["streaming"]
        if streams["streams"] and stream_refs is not None:
            _log(f"stream parity on {len(stream_refs['inputs'])} stored sequences and a "
                 f"{stream_refs['stream'].shape[1]}-step stream")
            document["streaming"] = check.stream_parity_in_page(page, problem, manifest, stream_refs, tolerance)
        else:
            document["streaming"] = None
            document["streaming_reason"] = streams.get("reason") or "no stream_reference.npz stored at export"
        if bench:
            _log("latency in the page (performance.now)")
            document["latency"] = {"window": check.latency(page, problem, step=False)}
            if streams["streams"]:
                document["latency"]["step"] = check.latency(page, problem, step=True)
    document["passed"] = document["parity"]["passed"] and (document["streaming"] or {"passed": True})["passed"]
    return document


def _show(directory: Path, document: dict) -> None:
    out.print(f"{directory / 'web'}/: {len(document['files'])} files, "
              f"{sum(f['bytes'] for f in document['files']) / 1e6:.1f} MB (onnxruntime-web "
              f"{document['runtime']['version']}, wasm)", markup=False, highlight=False)
    browser = document.get("browser")
    if browser is None:
        out.print("browser parity: not run (--no-check)", markup=False, highlight=False)
        return
    w = browser["parity"]["results"][0]
    agree = "" if w["argmax_agreement"] is None else f", decisions agree {w['argmax_agreement']:.3f}"
    out.print(f"window parity in Chromium: {browser['parity']['samples']} stored inputs, max abs "
              f"{fmt(w['max_abs'])} (min atol {fmt(w['min_atol'])}, atol {w['atol']:g}){agree}: "
              + ("pass" if w["passed"] else f"FAIL {w.get('reason', '')}"), markup=False, highlight=False)
    s = browser["streaming"]
    if s:
        r = s["results"][0]
        out.print(f"stream parity in Chromium: {s['sequences']} sequences every step max abs "
                  f"{fmt(r['every_step']['max_abs'])}, window {fmt(r['window']['max_abs'])}, "
                  f"{s['long_steps']}-step stream {fmt(r['long_stream']['max_abs'])}, reset exact "
                  f"{'yes' if r['reset_exact'] else 'no'}: "
                  + ("pass" if r["passed"] else f"FAIL {r.get('reason', '')}"),
                  markup=False, highlight=False)
    else:
        out.print(f"stream parity: none ({browser['streaming_reason']})", markup=False, highlight=False)
    for kind, lat in (browser.get("latency") or {}).items():
        out.print(f"latency in the page, {kind} model: p50 {lat['p50_us']:.0f} µs a call, p90 {lat['p90_us']:.0f} "
                  f"({lat['rounds']} rounds of {lat['calls_per_round']} calls, {lat['threads']} thread"
                  f"{'s' if lat['threads'] != 1 else ''})", markup=False, highlight=False)


@command()
def web(
    directory: Annotated[Path, typer.Argument(help="An exported directory, e.g. exported/vanilla.")],
    ort_web: OrtWebOption = None,
    check_page: Annotated[bool, typer.Option(
        "--check/--no-check", help="Run the page's parity and latency in headless Chromium "
                                   "(needs the [web] extra and a Chromium).")] = True,
    as_json: JsonOption = False,
):
    """Write DIR/web/: a page that runs the export in a browser, and check it in Chromium.

    The folder holds index.html (input in the problem's own terms, the answer), edgeseq.js
    (an ES module: load, predict, stream), page.json (names, shapes, streaming, the problem's
    input and answer rules), the ONNX models and onnxruntime-web's wasm files: it works offline
    from any static host (`edgeseq serve DIR`). Then, in headless Chromium through playwright,
    the page's module runs reference.npz's inputs and streams stream_reference.npz, judged as
    every runtime is (atol/rtol of the manifest), and its per-call latency is timed. Files and
    report go to the manifest's `web` section. Exit 1 if parity fails; 2 if onnxruntime-web,
    playwright or Chromium is missing.
    """
    from ..targets import web as target  # noqa: PLC0415
    from ..targets.web import pack, runtime_files  # noqa: PLC0415

    manifest = manifest_file.load(directory)
    pack.check_models(directory, manifest)  # no ONNX, or a changed model: refused before anything is written
    dist, version = runtime_files.find(ort_web)
    if check_page:
        target.require_browser()  # before the pack is written: nothing half-done
    folder, page = pack.write(directory, dist)
    document = {"directory": target.PACK_DIR, "runtime": page["runtime"], "files": pack.files(folder),
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    if check_page:
        document["browser"] = browser_report(directory, manifest, folder)
    manifest = manifest_file.load(directory)
    manifest["web"] = document
    write_json((directory / manifest_file.MANIFEST).resolve(), manifest)
    if as_json:
        emit_json(document)
    else:
        _show(directory, document)
    if check_page and not document["browser"]["passed"]:
        raise typer.Exit(1)


@command()
def serve(
    directory: Annotated[Path, typer.Argument(help="An exported directory with a web/ pack, or the pack itself.")],
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1 (0: any free port).")] = 8000,
    seconds: Annotated[float, typer.Option(
        "--for", min=0.1, max=86400, help="Stop serving after this many seconds.")] = 600,
    isolated: Annotated[bool, typer.Option(
        "--isolated", help="Send the cross-origin isolation headers (COOP/COEP): wasm threads "
                           "then work (open index.html?threads=2).")] = False,
):
    """Serve DIR/web/ on 127.0.0.1 for a quick look in a browser (Ctrl-C or --for stops it)."""
    import threading  # noqa: PLC0415

    from ..targets.web import PACK_DIR  # noqa: PLC0415
    from ..targets.web import serve as serving
    from ..targets.web.pack import PAGE_JSON  # noqa: PLC0415

    root = directory if (directory / PAGE_JSON).is_file() else directory / PACK_DIR
    if not (root / PAGE_JSON).is_file():
        raise InputError(f"no web pack in {directory}: run `edgeseq web {directory}` first")
    try:
        httpd = serving.server(root, port, isolated)
    except OSError as exc:
        raise InputError(f"cannot listen on {serving.HOST}:{port} ({exc.strerror}); try --port 0") from None
    url = f"http://{serving.HOST}:{httpd.server_address[1]}/index.html"
    out.print(url, markup=False, highlight=False)
    err.print(f"serving {root} for {seconds:g} s{' (cross-origin isolated)' if isolated else ''}; Ctrl-C stops",
              markup=False, highlight=False)
    timer = threading.Timer(seconds, httpd.shutdown)
    timer.start()
    try:
        httpd.serve_forever()
    finally:
        timer.cancel()
        httpd.server_close()
