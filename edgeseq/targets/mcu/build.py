"""`edgeseq mcu`: every TFLite artifact of an export checked and measured for TFLM, int8
first; the first one that passes TFLM parity packed as C sources under DIR/mcu/; the report
written into the manifest's `mcu` section.

Reads exported files only (no TensorFlow here): the parity reference is whatever Runner the
caller passes, Keras or the outputs stored at export.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from ... import flops
from ... import manifest as manifest_file
from ...atomic import write_json
from ...errors import EdgeseqError
from ...parity import Tolerance, check
from . import arena, compatibility, flatbuffer, pack, tflm_worker, vela

#: variants in the order they are tried and packed: int8 is what a microcontroller runs
ORDER = ("int8", "fp32")
#: a Cortex-M4-class part (the issue's yardstick): 64 KB RAM, 256 KB flash
BUDGET = {"device": "Cortex-M4 class", "ram_bytes": 64 * 1024, "flash_bytes": 256 * 1024}
PACK_DIR = "mcu"
CURRENT = "current"  # export/publish.py: the symlink to the published generation


def tflite_artifacts(manifest: dict) -> list[dict]:
    """The export's TFLite window models a microcontroller would run (a device runs one
    window at a time; step models are not packed yet)."""
    entries = [a for a in manifest.get("artifacts", [])
               if a.get("format") == "tflite" and manifest_file.is_window_model(a)]
    return sorted(entries, key=lambda a: (ORDER.index(a["variant"]) if a.get("variant") in ORDER
                                          else len(ORDER), a["file"]))


def _parity(problem, reference, path: Path, variant: str, arena_bytes: int, samples: int,
            seed: int, tolerance: Tolerance) -> dict:
    """The parity report for one artifact on TFLM; a TFLM crash is a failed result."""
    runner = tflm_worker.IsolatedTflm(path, arena_bytes)
    try:
        return check(problem, reference, [(variant, runner)], samples=samples, seed=seed, tolerance=tolerance)
    except tflm_worker.TflmFailed as exc:
        return {"samples": samples, "seed": seed, "reference": {"runtime": reference.runtime},
                "results": [{"runtime": "tflm", "variant": variant, "artifact": path.name,
                             "passed": False, "reason": f"TFLM failed: {exc}"}],
                "passed": False}


def _budget(path: Path, variant: str, graph, ops: list[str], found: dict) -> dict:
    flash, ram = path.stat().st_size, found["pack_bytes"]
    full_integer = graph.inputs[0].type == "INT8"
    return {
        "artifact": path.name,
        "variant": variant,
        "ops": ops,
        "flash_bytes": flash,  # the model array; the TFLM library's code is on top
        "ram_bytes": ram,
        "arena": found,
        "cost": flops.count(path, "tflite").to_json(),  # MACs, FLOPs per inference (batch-1 file)
        # Vela compiles integer models only; an fp32 file would stay on the CPU entirely
        "vela": vela.estimates(path) if full_integer else [],
        "fits": {"ram": ram <= BUDGET["ram_bytes"], "flash": flash <= BUDGET["flash_bytes"]},
    }


def _pack_directory(directory: Path) -> Path:
    """Where the pack goes. In a published export (generations, export/publish.py) it lives
    inside the current generation and DIR/mcu links to it: a re-export switches it away with
    the artifacts it was made from, instead of leaving a pack of an older model."""
    current = directory / CURRENT
    if not current.is_symlink():
        return directory / PACK_DIR
    target = current.resolve() / PACK_DIR
    target.mkdir(parents=True, exist_ok=True)
    link = directory / PACK_DIR
    if not (link.is_symlink() and os.readlink(link) == f"{CURRENT}/{PACK_DIR}"):
        if link.exists() and not link.is_symlink():
            raise EdgeseqError(f"{link} is a directory of its own; move it away to write the pack")
        tmp = directory / f".{PACK_DIR}.{os.getpid()}.link"
        tmp.unlink(missing_ok=True)
        os.symlink(f"{CURRENT}/{PACK_DIR}", tmp)
        os.replace(tmp, link)
    return target


def _versions() -> dict:
    found = {}
    for package in ("tflite-micro", "ethos-u-vela"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    return found


def screen(directory: Path, log=print) -> tuple[list, list[dict]]:
    """The compatibility check, before anything runs: (runnable, refused). `runnable` holds
    (variant, path, graph, ops) in ORDER; Refused (exit 2) when nothing is runnable."""
    directory = Path(directory)
    manifest = manifest_file.load(directory)
    entries = tflite_artifacts(manifest)
    if not entries:
        raise EdgeseqError(f"{directory} has no TFLite artifact: export it with --format tflite")
    # The pack is written into this export: refuse one whose files no longer match it, even
    # those TFLM will not read.
    for listed in manifest.get("artifacts", []):
        manifest_file.verify(directory / listed["file"], manifest)
    refused, runnable = [], []
    for entry in entries:
        path = directory / entry["file"]
        graph = flatbuffer.read(path)
        try:
            runnable.append((entry["variant"], path, graph, compatibility.check(graph, path.name)))
        except compatibility.Refused as exc:
            refused.append({"artifact": path.name, "variant": entry["variant"], "reason": str(exc)})
    if not runnable:  # the first refusal is the error's one line
        raise compatibility.Refused(refused[0]["reason"])
    for refusal in refused:
        log(f"not for TFLM: {refusal['reason']}")
    return runnable, refused


def run(directory: Path, problem, reference, tolerance: Tolerance, samples: int = 1000,
        seed: int = 1234, margin: str = arena.DEFAULT_MARGIN, log=print, screened=None) -> dict:
    """The `mcu` section (also written into the manifest when a pack was made). `screened`:
    screen()'s result when the caller already has it."""
    directory = Path(directory)
    arena.parse_margin(margin)  # a bad margin is bad input before minutes of work
    runnable, refused = screened or screen(directory, log)
    manifest = manifest_file.load(directory)

    budgets, reports, ran = [], [], []
    for variant, path, graph, ops in runnable:
        log(f"{path.name}: smallest TFLM arena (bisection, a child process per try)")
        try:
            found = arena.smallest(path)
        except EdgeseqError as exc:  # TFLM itself refused it: one more refused file
            log(f"not for TFLM: {exc}")
            refused.append({"artifact": path.name, "variant": variant, "reason": str(exc)})
            continue
        ran.append((variant, path, graph, ops))
        found |= {"margin": margin, "pack_bytes": arena.with_margin(found["minimum_bytes"], margin)}
        log(f"{path.name}: TFLM parity with a {found['pack_bytes']:,}-byte arena")
        reports.append(_parity(problem, reference, path, variant, found["pack_bytes"], samples, seed, tolerance))
        log(f"{path.name}: MACs and Vela estimates")
        budgets.append(_budget(path, variant, graph, ops, found))

    if not ran:
        raise compatibility.Refused(refused[-1]["reason"])
    results = [r for report in reports for r in report["results"]]
    document = {
        "packed": None,
        "budget_limits": BUDGET,
        "artifacts": budgets,
        "refused": refused,
        "parity": {k: v for k, v in reports[0].items() if k != "results"}
        | {"results": results, "passed": all(r["passed"] for r in results)},
        "versions": _versions(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    packed = next(((variant, path, graph, ops, budget) for (variant, path, graph, ops), budget, result
                   in zip(ran, budgets, results, strict=True) if result["passed"]), None)
    if packed is None:
        return document
    variant, path, graph, ops, budget = packed
    pack_dir = _pack_directory(directory)
    files = pack.write(pack_dir, path, graph, ops, budget["arena"], manifest["architecture"])
    document["packed"] = {"artifact": path.name, "variant": variant, "directory": PACK_DIR,
                          "arena_bytes": budget["ram_bytes"]}
    document["files"] = [manifest_file.describe_file(f) | {"file": f"{PACK_DIR}/{f.name}"} for f in files]
    # The manifest name is a symlink into the current generation: write through it, so the
    # generation's own manifest is the one that changes and the link stays a link.
    manifest = manifest_file.load(directory)
    manifest["mcu"] = document
    write_json((directory / manifest_file.MANIFEST).resolve(), manifest)
    return document
