"""manifest.json: what an exported directory holds, with checksums. Read on the device too,
so this module imports nothing heavy."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .atomic import write_json
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
    except OSError as exc:
        raise InputError(f"{path} cannot be read ({exc.strerror or type(exc).__name__})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or "architecture" not in manifest:
        raise InputError(f"{path} is not an edgeseq manifest (no 'architecture')")
    _check_shape(path, manifest)
    return manifest


def _check_shape(path: Path, manifest: dict) -> None:
    """Commands index these keys without asking: a hand-edited or truncated manifest is
    refused here, in one line, instead of as a KeyError deep inside a command."""
    problem = manifest.get("problem")
    if not (isinstance(problem, dict) and isinstance(problem.get("name"), str)
            and isinstance(problem.get("params"), dict)):
        raise InputError(f"{path} lacks a valid 'problem' (name and params); re-export the directory")
    artifacts = manifest.get("artifacts")
    if not (isinstance(artifacts, list) and all(
            isinstance(a, dict) and isinstance(a.get("file"), str) and isinstance(a.get("sha256"), str)
            and isinstance(a.get("format"), str) and Path(a["file"]).name == a["file"]
            for a in artifacts)):
        raise InputError(f"{path} lacks a valid 'artifacts' list (file, format, sha256 each); "
                         "re-export the directory")


def find(artifact: Path) -> dict | None:
    """The manifest beside an artifact, if there is one."""
    if (Path(artifact).parent / MANIFEST).is_file():
        return load(Path(artifact).parent)
    return None


def entry(manifest: dict, name: str) -> dict | None:
    return next((a for a in manifest.get("artifacts", []) if a["file"] == name), None)


def variant_bytes(manifest: dict, result: dict) -> tuple[int | None, float | None, str | None]:
    """A parity result's file size, its ratio to the fp32 file it was converted from, and
    that file's route-search form (`route_form`). TFLite variants quantize the fused twin, which
    need not be the form published as model.tflite (generative's unrolled one is smaller): a
    ratio to model.tflite would read int8 as larger than fp32. A rejected variant was never
    written: its size, form and fp32 size are the ones recorded when it was gated. Manifests from before
    the route search: the ratio to the same format's fp32 file."""
    listed = entry(manifest, result["artifact"]) if result.get("artifact") else None
    size = listed["bytes"] if listed else result.get("bytes")
    form = (listed or result).get("route_form")
    # A full-integer TFLite variant's gate recorded its form's exact fp32 size (the unrolled
    # integer source is not the route search's unrolled candidate file)
    gated = next((r for r in (manifest.get("parity") or {}).get("results", [])
                  if result.get("artifact") and r.get("artifact") == result["artifact"]), result)
    candidates = ((manifest.get("routes") or {}).get(result["runtime"]) or {}).get("candidates", [])
    fp32 = gated.get("fp32_bytes") or next(
        (c["bytes"] for c in candidates if form and c.get("route") == form and c.get("bytes")), None)
    if fp32 is None:
        fp32 = next((a["bytes"] for a in manifest.get("artifacts", [])
                     if a.get("format") == result["runtime"] and a.get("variant") == "fp32"), None)
    return size, (size / fp32 if size and fp32 else None), form


def is_window_model(entry: dict) -> bool:
    """A model that answers one whole window at batch 1: not bench's floor model, not the
    batch-N throughput file, not a streaming step model (each has its own path)."""
    return entry.get("variant") != "floor" and not entry.get("batch") and not entry.get("step")


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


def verify(artifact: Path, manifest: dict | None) -> dict | None:
    """Refuse an artifact beside a manifest unless the manifest lists it with these very
    bytes: a file dropped into an export directory (another model's .onnx) would otherwise
    run against this export's problem and answer wrongly. Returns its manifest entry."""
    if manifest is None:
        return None
    artifact = Path(artifact)
    listed = entry(manifest, artifact.name)
    if listed is None:
        raise InputError(f"{artifact} is not listed in {MANIFEST} beside it: not part of this "
                         "export (edgeseq runs only the files an export lists)")
    if not artifact.is_file():
        raise InputError(f"{artifact} is listed in {MANIFEST} but missing; re-export the directory")
    try:
        digest = sha256(artifact)
    except OSError as exc:
        raise InputError(f"{artifact} cannot be read ({exc.strerror or type(exc).__name__})") from None
    if digest != listed["sha256"]:
        raise InputError(f"{artifact}: sha256 does not match {MANIFEST}; "
                         "the file changed since export (re-export it)")
    return listed


#: Beside model.keras: which architecture edgeseq trained (or copied) it for, and its sha256,
#: so that export can tell edgeseq's own retrained model from one changed by hand.
MODEL_RECORD = "model.keras.json"


def model_record(directory: Path) -> dict | None:
    path = Path(directory) / MODEL_RECORD
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return record if isinstance(record, dict) else None


def write_model_record(model_keras: Path, architecture: str, written_by: str) -> None:
    model_keras = Path(model_keras)
    write_json(model_keras.parent / MODEL_RECORD,
               {"file": model_keras.name, "architecture": architecture,
                "sha256": sha256(model_keras), "written_by": written_by})
