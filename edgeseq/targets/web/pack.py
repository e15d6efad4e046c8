"""DIR/web/: a static page and an ES module that run the export in a browser, with the
onnxruntime-web files and the models copied in, so the folder works from any static host
with no network. page.json carries what the page needs from the manifest (tensor names and
shapes, the streaming section) and the problem's own declaration of its input and answer
(Problem.page_io), so neither the page nor the module has code per architecture.

The pack is built in a temporary folder beside its place and swapped in when complete: a
reader sees the previous pack or the new one. In a published export (generations,
export/publish.py) that place is inside the current generation and DIR/web links to it, as
DIR/mcu does: a re-export switches the pack away with the models it was made from.
"""

from __future__ import annotations

import json
import os
import shutil
from importlib import resources
from pathlib import Path

from ... import manifest as manifest_file
from ... import registry
from ...errors import EdgeseqError, InputError
from . import ORT_WEB_VERSION, PACK_DIR, runtime_files, standalone

ASSETS = ("index.html", "edgeseq.js")
PAGE_JSON = "page.json"
RUNTIME_DIR = "ort"
CURRENT = "current"  # export/publish.py: the symlink to the published generation


def window_model(manifest: dict) -> dict:
    """The fp32 ONNX window model the page runs (onnxruntime-web reads ONNX only)."""
    found = next((a for a in manifest["artifacts"] if a["format"] == "onnx" and a.get("variant") == "fp32"
                  and manifest_file.is_window_model(a)), None)
    if found is None:
        raise InputError(f"the {manifest['architecture']} export has no fp32 model.onnx: the browser "
                         "runs ONNX (export it with --format onnx)")
    return found


def streaming_section(manifest: dict) -> dict:
    """The manifest's streaming section as the page drives it: the ONNX step model (and
    decoder), or why the export does not stream."""
    streaming = manifest.get("streaming")
    if not streaming or not streaming.get("streams"):
        reason = (streaming or {}).get("reason", "has no step model (exported before streaming existed)")
        return {"streams": False, "reason": f"{manifest['architecture']} {reason}"}
    artifact = streaming["artifacts"].get("onnx")
    if artifact is None:
        return {"streams": False, "reason": "no ONNX step model in this export (only "
                                            f"{', '.join(streaming['artifacts'])})"}
    section = {"streams": True, "artifact": artifact, "inputs": streaming["inputs"],
               "outputs": streaming["outputs"], "state": streaming["state"], "drive": streaming["drive"],
               "window_steps": streaming.get("window_steps")}
    if streaming.get("decoder"):
        decoder = streaming["decoder"]
        section["decoder"] = {"artifact": decoder["artifacts"]["onnx"], "inputs": decoder["inputs"],
                              "outputs": decoder["outputs"]}
    return section


def page_document(manifest: dict) -> dict:
    problem = registry.problem_from_manifest(manifest)
    return {
        "architecture": manifest["architecture"],
        "summary": manifest["problem"].get("summary", problem.summary),
        "model": window_model(manifest)["file"],
        "inputs": manifest["inputs"],
        "outputs": manifest["outputs"],
        "streaming": streaming_section(manifest),
        "io": problem.page_io(),
        "runtime": {"name": "onnxruntime-web", "version": ORT_WEB_VERSION, "backend": "wasm"},
        "generation": manifest.get("generation"),
    }


def models(page: dict) -> list[str]:
    streaming = page["streaming"]
    names = [page["model"]]
    if streaming["streams"]:
        names.append(streaming["artifact"])
        if "decoder" in streaming:
            names.append(streaming["decoder"]["artifact"])
    return names


def check_models(directory: Path, manifest: dict) -> dict:
    """page.json's document, once every model the page runs is listed with these bytes
    (InputError otherwise): before anything is written."""
    page = page_document(manifest)
    for name in models(page):
        manifest_file.verify(Path(directory) / name, manifest)
    return page


def write(directory: Path, dist: Path, into: Path | None = None, with_standalone: bool = True) -> tuple[Path, dict]:
    """Write DIR/web/ (or the folder `into`) from the export in DIR and onnxruntime-web's
    `dist`; returns the pack's folder and page.json's document. Every model is checked
    against the manifest first. `with_standalone`: also standalone.html (20 MB; the browser
    checks load index.html and do without it)."""
    directory = Path(directory)
    page = check_models(directory, manifest_file.load(directory))
    final = Path(into) if into is not None else _place(directory)
    building = final.with_name(f".{final.name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    try:
        (building / RUNTIME_DIR).mkdir(parents=True)
        assets = resources.files(__package__) / "assets"
        for name in ASSETS:
            (building / name).write_bytes((assets / name).read_bytes())
        for name in runtime_files.FILES:
            shutil.copyfile(dist / name, building / RUNTIME_DIR / name)
        for name in models(page):
            shutil.copyfile(directory / name, building / name)  # the bytes, not the generation's symlink
        (building / PAGE_JSON).write_text(json.dumps(page, indent=2) + "\n")
        if with_standalone:
            standalone.write(building, models(page))
        _swap(building, final)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    if into is None and final != directory / PACK_DIR:
        _link(directory)
    return final, page


def _place(directory: Path) -> Path:
    current = directory / CURRENT
    if not current.is_symlink():
        return directory / PACK_DIR
    link = directory / PACK_DIR
    if link.exists() and not link.is_symlink():
        raise EdgeseqError(f"{link} is a directory of its own; move it away to write the pack")
    return current.resolve() / PACK_DIR


def _link(directory: Path) -> None:
    """DIR/web → current/web, replaced atomically unless it is that link already."""
    link, target = directory / PACK_DIR, f"{CURRENT}/{PACK_DIR}"
    if link.is_symlink() and os.readlink(link) == target:
        return
    tmp = directory / f".{PACK_DIR}.{os.getpid()}.link"
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, link)


def _swap(building: Path, final: Path) -> None:
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    if final.exists():
        os.replace(final, old)
    os.replace(building, final)
    shutil.rmtree(old, ignore_errors=True)


def files(pack: Path) -> list[dict]:
    """Every file of the pack with bytes and sha256, named relative to the export (web/...)."""
    return [manifest_file.describe_file(f) | {"file": f.relative_to(pack.parent).as_posix()}
            for f in sorted(pack.rglob("*")) if f.is_file()]
