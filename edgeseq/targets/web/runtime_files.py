"""Where onnxruntime-web's dist files are on this machine. They are not part of edgeseq (14 MB
of wasm, an npm package): `npm ci` in a checkout (package.json pins the version) or
`npm install onnxruntime-web@VERSION` anywhere up the tree from the working directory, or
--ort-web / EDGESEQ_ORT_WEB naming the package (or its dist/ folder)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ...errors import EdgeseqError
from . import ORT_WEB_VERSION

#: the wasm backend only: the bundle has the emscripten glue built in, so it needs one .wasm
#: (SIMD and threads in one build; 1.31 ships no non-SIMD wasm). The WebGPU/WebNN files
#: (jsep, jspi, asyncify: another 76 MB) are not copied.
FILES = ("ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.wasm")
INSTALL = f"npm install onnxruntime-web@{ORT_WEB_VERSION}"


def _candidates(start: Path):
    for folder in (start, *start.parents):
        yield folder / "node_modules" / "onnxruntime-web"


def _package_dir(named: Path) -> Path:
    return named.parent if named.name == "dist" else named


def find(named: Path | None = None) -> tuple[Path, str]:
    """The dist folder and the package's version; EdgeseqError (one line) when absent."""
    if named is None and os.environ.get("EDGESEQ_ORT_WEB"):
        named = Path(os.environ["EDGESEQ_ORT_WEB"])
    if named is not None:
        packages = [_package_dir(Path(named))]
    else:
        # the working directory's tree, then the checkout edgeseq runs from (an editable install)
        packages = [*_candidates(Path.cwd().resolve()), *_candidates(Path(__file__).resolve().parent)]
    for package in packages:
        dist = package / "dist"
        if all((dist / f).is_file() for f in FILES):
            return dist, _version(package)
    where = f"in {named}" if named is not None else "in node_modules/ up from here or from edgeseq"
    raise EdgeseqError(f"onnxruntime-web's dist files ({', '.join(FILES)}) not found {where}: "
                       f"{INSTALL} (or `npm ci` in an edgeseq checkout; --ort-web DIR names another)")


def _version(package: Path) -> str:
    try:
        version = json.loads((package / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        raise EdgeseqError(f"{package}/package.json does not say which onnxruntime-web this is") from None
    if version != ORT_WEB_VERSION:
        raise EdgeseqError(f"{package} is onnxruntime-web {version}; edgeseq.js is checked with "
                           f"{ORT_WEB_VERSION}: {INSTALL}")
    return version
