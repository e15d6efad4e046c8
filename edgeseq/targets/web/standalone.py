"""standalone.html: the page with every file inside it, for file://. Browsers refuse module
scripts and fetch() of file:// URLs (the page's origin is opaque), so index.html needs a
server; this one carries the module, the runtime, page.json and the models as base64, turns
them into blob: URLs in the page and loads from those. It is about 1.35× the pack's bytes
(base64), one file a person can open or send.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

NAME = "standalone.html"
BUNDLE = "ort/ort.wasm.bundle.min.mjs"
WASM = "ort/ort-wasm-simd-threaded.wasm"
TYPES = {".json": "application/json", ".wasm": "application/wasm", ".onnx": "application/octet-stream"}

LOADER = """<script>
// Every file of the pack, as blob: URLs (standalone.py): edgeseq.js imports the runtime from
// its blob, load() reads page.json, the models and the wasm from theirs.
(() => {
  const bytes = (b64) => { const s = atob(b64); const u = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i += 1) u[i] = s.charCodeAt(i); return u; };
  const url = (data, type) => URL.createObjectURL(new Blob([data], { type }));
  const files = {};
  for (const [name, [b64, type]] of Object.entries(FILES)) files[name] = url(bytes(b64), type);
  const runtime = url(BUNDLE_TEXT, 'text/javascript');
  files['edgeseq.js'] = url(EDGESEQ_TEXT.replace(RUNTIME_IMPORT, JSON.stringify(runtime)), 'text/javascript');
  window.edgeseqFiles = files;
})();
</script>
"""


def _js(value) -> str:
    """A JSON value safe inside <script>: no `</script` or `<!--` can end or bend the element."""
    return json.dumps(value, ensure_ascii=True).replace("</", "<\\/").replace("<!--", "<\\!--")


def write(folder: Path, models: list[str]) -> Path:
    """folder/standalone.html from the pack's own files (index.html, edgeseq.js, the runtime,
    page.json and `models`)."""
    folder = Path(folder)
    names = ["page.json", *models, WASM]
    files = {name: [base64.b64encode((folder / name).read_bytes()).decode("ascii"),
                    TYPES.get(Path(name).suffix, "application/octet-stream")] for name in names}
    module = (folder / "edgeseq.js").read_text()
    specifier = f"'./{BUNDLE}'"
    if specifier not in module:
        raise RuntimeError(f"edgeseq.js does not import {specifier}: standalone.py must follow it")
    loader = (LOADER.replace("FILES", _js(files)).replace("BUNDLE_TEXT", _js((folder / BUNDLE).read_text()))
              .replace("EDGESEQ_TEXT", _js(module)).replace("RUNTIME_IMPORT", _js(specifier)))
    page = (folder / "index.html").read_text()
    page = re.sub(r'<script data-edgeseq="file-warning">.*?</script>\n', "", page, flags=re.S)
    marker = '<script type="module">'
    if marker not in page:
        raise RuntimeError("index.html has no module script: standalone.py must follow it")
    page = page.replace(marker, loader + marker, 1)
    (folder / NAME).write_text(page)
    return folder / NAME
