"""manifest.json: what an exported directory holds, with checksums. Read on the device too,
so this module imports nothing heavy."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .errors import InputError

MANIFEST = "manifest.json"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_file(path: Path) -> dict:
    return {"file": path.name, "bytes": path.stat().st_size, "sha256": sha256(path)}


def load(directory: Path) -> dict:
    """The manifest of an exported directory; InputError when absent or unreadable."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise InputError(f"no {MANIFEST} in {directory}: not an exported directory "
                         "(run `edgeseq export ARCH` first)")
    try:
        manifest = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or "architecture" not in manifest:
        raise InputError(f"{path} is not an edgeseq manifest (no 'architecture')")
    return manifest


def find(artifact: Path) -> dict | None:
    """The manifest beside an artifact, if there is one."""
    if (Path(artifact).parent / MANIFEST).is_file():
        return load(Path(artifact).parent)
    return None


def entry(manifest: dict, name: str) -> dict | None:
    return next((a for a in manifest.get("artifacts", []) if a["file"] == name), None)


def variant_bytes(manifest: dict, result: dict) -> tuple[int | None, float | None]:
    """A parity result's file size and its ratio to the same format's fp32 file. A rejected
    variant was never written: its size is the one recorded when it was gated."""
    size = next((a["bytes"] for a in manifest.get("artifacts", []) if a["file"] == result.get("artifact")),
                result.get("bytes"))
    fp32 = next((a["bytes"] for a in manifest.get("artifacts", [])
                 if a.get("format") == result["runtime"] and a.get("variant") == "fp32"), None)
    return size, (size / fp32 if size and fp32 else None)


def batch_file(artifact: Path, rows: int) -> Path | None:
    """The fixed-batch variant (export --batch N) to run `rows` rows of `artifact` through:
    listed beside it, of the same format, for an fp32 artifact and at least N rows (fewer
    would be mostly padding); None otherwise."""
    manifest = find(artifact)
    listed = entry(manifest, Path(artifact).name) if manifest else None
    if listed is None or listed.get("variant", "fp32") != "fp32":
        return None
    fitting = [a for a in manifest.get("artifacts", [])
               if a.get("format") == listed.get("format") and a.get("batch") and rows >= a["batch"]]
    best = max(fitting, key=lambda a: a["batch"], default=None)
    return Path(artifact).parent / best["file"] if best else None


def verify(artifact: Path, manifest: dict | None) -> None:
    """Refuse an artifact whose bytes differ from what its manifest recorded."""
    if manifest is None:
        return
    listed = entry(manifest, Path(artifact).name)
    if listed is not None and sha256(artifact) != listed["sha256"]:
        raise InputError(f"{artifact}: sha256 does not match {MANIFEST}; "
                         "the file changed since export (re-export it)")
