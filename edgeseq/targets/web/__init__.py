"""The browser target: onnxruntime-web (wasm) running an export in a static page.

One job a file: `runtime_files` finds onnxruntime-web's dist files on this machine, `pack`
writes DIR/web/ (page, module, runtime, models, page.json), `serve` serves a pack on loopback,
`browser` drives headless Chromium through playwright (a Runner and a Streamer over the page),
`check` is parity and latency in the browser, `parity_row` the `web` row of `edgeseq parity`.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

from ...errors import EdgeseqError

#: the onnxruntime-web release edgeseq.js is written and checked against (package.json pins it)
ORT_WEB_VERSION = "1.31.1"
PACK_DIR = "web"
#: where `edgeseq web` looks for a browser when EDGESEQ_CHROMIUM does not name one
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium() -> Path | None:
    named = os.environ.get("EDGESEQ_CHROMIUM")
    if named:
        return Path(named) if Path(named).is_file() else None
    found = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    return Path(found) if found else None


def browser_missing() -> str | None:
    """Why the browser checks cannot run here, in one line, or None."""
    if importlib.util.find_spec("playwright") is None:
        return "the browser checks need the [web] extra (playwright missing): pip install 'edgeseq[web]'"
    if chromium() is None:
        return ("the browser checks need Chromium (none of " + ", ".join(BROWSERS) + " on PATH; "
                "EDGESEQ_CHROMIUM may name one): apt-get install chromium")
    return None


def require_browser() -> Path:
    reason = browser_missing()
    if reason:
        raise EdgeseqError(reason)
    return chromium()
