"""`edgeseq mcu`: every TFLite artifact of an export checked and measured for TFLM, window
and step models; one window model packed as C sources under DIR/mcu/ and, where a step model
passed, one step model under DIR/mcu/step/ (the PACK_RULE, or --artifact); the report written
into the manifest's `mcu` section.

Reads exported files only (no TensorFlow here): the parity reference is whatever Runner the
caller passes, Keras or the outputs stored at export.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from ... import manifest as manifest_file
from ...atomic import write_json
from ...checks.parity import Tolerance, check
from ...checks.stream_parity import SEQUENCES
from ...errors import EdgeseqError, InputError
from ...measure import flops
from . import PACK_RULE, arena, compatibility, flatbuffer, pack, step, step_pack, tflm_worker, vela

#: variants in the order they are tried and packed: int8 is what a microcontroller runs
ORDER = ("int8", "int16x8", "fp32")
INTEGER = ("int8", "int16x8")
#: a Cortex-M4-class part (the issue's yardstick): 64 KB RAM, 256 KB flash
BUDGET = {"device": "Cortex-M4 class", "ram_bytes": 64 * 1024, "flash_bytes": 256 * 1024}
PACK_DIR = "mcu"
STEP_DIR = "step"
CURRENT = "current"  # export/publish.py: the symlink to the published generation


def _rank(variant: str | None) -> int:
    return ORDER.index(variant) if variant in ORDER else len(ORDER)


def tflite_artifacts(manifest: dict) -> list[dict]:
    """The export's TFLite models a microcontroller would run: window models (one window per
    Invoke()), then step models (one step per Invoke(), the state carried by the caller)."""
    windows = [a for a in manifest.get("artifacts", [])
               if a.get("format") == "tflite" and manifest_file.is_window_model(a)]
    return (sorted(windows, key=lambda a: (_rank(a.get("variant")), a["file"]))
            + sorted(step.artifacts(manifest), key=lambda a: (_rank(a.get("variant")), a["file"])))


def named_artifact(directory: Path, manifest: dict, name: str) -> str:
    """--artifact: the file name of a listed TFLite model of this export (given by name or by
    path); InputError naming the choices otherwise."""
    choices = [a["file"] for a in tflite_artifacts(manifest)]
    given = Path(name) if ("/" in name or Path(name).is_absolute()) else Path(directory) / name
    found = next((file for file in choices if name and given.exists()
                  and given.resolve() == (Path(directory) / file).resolve()), None)
    if found is None:
        raise InputError(f"--artifact {name[:200]!r}: not a TFLite model of {directory}; expected one of "
                         f"{', '.join(choices) or '(none: export it with --format tflite)'}")
    return found


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


def _budget(path: Path, variant: str, graph, ops: list[str], found: dict, is_step: bool) -> dict:
    flash, ram = path.stat().st_size, found["pack_bytes"]
    # integer inside: the int8 step files keep a float interface (QUANTIZE/DEQUANTIZE at the
    # edges, which Vela leaves on the CPU) and are integer everywhere else
    integer = graph.inputs[0].type == "INT8" or variant in INTEGER
    return {
        "artifact": path.name,
        "variant": variant,
        "step": is_step,  # a step model: flash, arena and MACs are per step, not per window
        "ops": ops,
        "flash_bytes": flash,  # the model array; the TFLM library's code is on top
        "ram_bytes": ram,
        "arena": found,
        "cost": flops.count(path, "tflite").to_json(),  # MACs, FLOPs per inference (batch-1 file)
        # Vela compiles integer models only; an fp32 file would stay on the CPU entirely
        "vela": vela.estimates(path) if integer else [],
        "fits": {"ram": ram <= BUDGET["ram_bytes"], "flash": flash <= BUDGET["flash_bytes"]},
    }


def _pack_directory(directory: Path, create: bool = True) -> Path:
    """Where the pack goes. In a published export (generations, export/publish.py) it lives
    inside the current generation and DIR/mcu links to it: a re-export switches it away with
    the artifacts it was made from, instead of leaving a pack of an older model. `create`
    False: only where it is, to remove what an earlier run left."""
    current = directory / CURRENT
    if not current.is_symlink():
        return directory / PACK_DIR
    target = current.resolve() / PACK_DIR
    if not create:
        return target
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


def _remove_unwritten(pack_dir: Path, window: bool, stepper: bool) -> None:
    """A pack this run does not write goes: left from an earlier run (a step model that
    passed then, a window model TFLM ran then), it would describe another run's file while
    the manifest's report says nothing was packed."""
    if not stepper:
        shutil.rmtree(pack_dir / STEP_DIR, ignore_errors=True)
    if not window:
        for name in pack.FILES:
            (pack_dir / name).unlink(missing_ok=True)


def _versions() -> dict:
    found = {}
    for package in ("tflite-micro", "ethos-u-vela"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    return found


@dataclass(frozen=True)
class Candidate:
    """A TFLite file that passed the compatibility check."""

    variant: str
    path: Path
    graph: flatbuffer.Graph
    ops: list
    is_step: bool


def screen(directory: Path, log=print, artifact: str | None = None) -> tuple[list[Candidate], list[dict]]:
    """The compatibility check, before anything runs: (runnable, refused), runnable in
    tflite_artifacts' order; Refused (exit 2) when nothing is runnable or when `artifact`
    (the file --artifact named) is refused."""
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
        if entry.get("step") and step.refusal(manifest):
            refused.append({"artifact": path.name, "variant": entry["variant"],
                            "reason": f"{path.name}: {step.refusal(manifest)}"})
            continue
        graph = flatbuffer.read(path)
        try:
            runnable.append(Candidate(entry["variant"], path, graph, compatibility.check(graph, path.name),
                                      bool(entry.get("step"))))
        except compatibility.Refused as exc:
            refused.append({"artifact": path.name, "variant": entry["variant"], "reason": str(exc)})
    named = next((r for r in refused if r["artifact"] == artifact), None)
    if not runnable or named:  # the first refusal (or the named file's) is the error's one line
        raise compatibility.Refused((named or refused[0])["reason"])
    for refusal in refused:
        log(f"not for TFLM: {refusal['reason']}")
    return runnable, refused


def _merged(reports: list[dict]) -> dict | None:
    """Several one-artifact parity reports as one: the first's settings, every result."""
    if not reports:
        return None
    results = [r for report in reports for r in report["results"]]
    return ({k: v for k, v in reports[0].items() if k != "results"}
            | {"results": results, "passed": all(r["passed"] for r in results)})


def choose(budgets: list[dict], results: dict, artifact: str | None, step: bool) -> str | None:
    """The file to pack among the window (or step) models measured: `artifact` if it is one of
    them, else PACK_RULE; None when it (or every file of the kind) failed TFLM parity."""
    kind = [b for b in budgets if b["step"] == step]
    passed = [b for b in kind if results[b["artifact"]]["passed"]]
    if artifact in {b["artifact"] for b in kind}:
        return artifact if artifact in {b["artifact"] for b in passed} else None
    best = min(passed, key=lambda b: (_rank(b["variant"]), b["flash_bytes"]), default=None)
    return best["artifact"] if best else None


def run(directory: Path, problem, reference, tolerance: Tolerance, samples: int = 1000,
        seed: int = 1234, margin: str = arena.DEFAULT_MARGIN, log=print, screened=None,
        artifact: str | None = None) -> dict:
    """The `mcu` section, also written into the manifest (a pack of an earlier run that this
    one does not rewrite is removed, see _remove_unwritten). `screened`:
    screen()'s result when the caller already has it; `artifact`: the file to pack in place
    of PACK_RULE's (named_artifact's answer)."""
    directory = Path(directory)
    arena.parse_margin(margin)  # a bad margin is bad input before minutes of work
    runnable, refused = screened or screen(directory, log, artifact)
    manifest = manifest_file.load(directory)

    budgets, windows, streams, ran, references = {}, [], [], [], None
    for candidate in runnable:
        path, variant = candidate.path, candidate.variant
        log(f"{path.name}: smallest TFLM arena (bisection, a child process per try)")
        try:
            found = arena.smallest(path)
        except EdgeseqError as exc:  # TFLM itself refused it: one more refused file
            log(f"not for TFLM: {exc}")
            refused.append({"artifact": path.name, "variant": variant, "reason": str(exc)})
            continue
        ran.append(candidate)
        found |= {"margin": margin, "pack_bytes": arena.with_margin(found["minimum_bytes"], margin)}
        if candidate.is_step:
            log(f"{path.name}: TFLM stream parity with a {found['pack_bytes']:,}-byte arena")
            references = references or step.references(directory, manifest, reference)
            streams.append(step.parity(problem, manifest["streaming"], path, variant, found["pack_bytes"],
                                       references, min(samples, SEQUENCES), seed, tolerance))
        else:
            log(f"{path.name}: TFLM parity with a {found['pack_bytes']:,}-byte arena")
            windows.append(_parity(problem, reference, path, variant, found["pack_bytes"], samples, seed, tolerance))
        log(f"{path.name}: MACs and Vela estimates")
        budgets[path.name] = _budget(path, variant, candidate.graph, candidate.ops, found, candidate.is_step)

    if not ran:
        raise compatibility.Refused(refused[-1]["reason"])
    document = {
        "packed": None,
        "packed_step": None,
        "pack_rule": PACK_RULE if artifact is None else f"--artifact {artifact}",
        "budget_limits": BUDGET,
        "artifacts": list(budgets.values()),
        "refused": refused,
        "parity": _merged(windows) or {"results": [], "passed": True},
        "streaming": _merged(streams),
        "versions": _versions(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    results = {r["artifact"]: r for report in windows + streams for r in report["results"]}
    by_name = {c.path.name: c for c in ran}
    window, stepper = (by_name.get(choose(document["artifacts"], results, artifact, is_step))
                       for is_step in (False, True))
    pack_dir = _pack_directory(directory, create=bool(window or stepper))
    _remove_unwritten(pack_dir, window is not None, stepper is not None)
    document["files"] = []
    architecture = manifest["architecture"]
    for chosen, key, where in ((window, "packed", PACK_DIR), (stepper, "packed_step", f"{PACK_DIR}/{STEP_DIR}")):
        if chosen is None:
            continue
        found = budgets[chosen.path.name]["arena"]
        if chosen.is_step:
            files = step_pack.write(pack_dir / STEP_DIR, chosen.path, chosen.graph, chosen.ops, found,
                                    architecture, manifest["streaming"])
        else:
            files = pack.write(pack_dir, chosen.path, chosen.graph, chosen.ops, found, architecture)
        document[key] = {"artifact": chosen.path.name, "variant": chosen.variant, "directory": where,
                         "arena_bytes": found["pack_bytes"]}
        document["files"] += [manifest_file.describe_file(f) | {"file": f"{where}/{f.name}"} for f in files]
    # The manifest name is a symlink into the current generation: write through it, so the
    # generation's own manifest is the one that changes and the link stays a link.
    manifest = manifest_file.load(directory)
    manifest["mcu"] = document
    write_json((directory / manifest_file.MANIFEST).resolve(), manifest)
    return document


def check_export(directory: Path, margin: str = arena.DEFAULT_MARGIN, samples: int = 1000, seed: int = 1234,
                 reference: str = "auto", artifact: str | None = None, log=print) -> dict:
    """`edgeseq mcu DIR` and `Export.mcu()`: the checks, the pack and the report, from an
    exported directory and the CLI's options."""
    from ... import registry  # noqa: PLC0415
    from ...checks import export_parity  # noqa: PLC0415
    from ...cli import validate  # noqa: PLC0415
    from .. import mcu as target  # noqa: PLC0415

    target.require_extra()
    arena.parse_margin(margin)
    directory = Path(directory)
    manifest = manifest_file.load(directory)
    problem = registry.problem_from_manifest(manifest)
    validate.inputs_fit(samples, problem.input_shape, "--samples")
    named = None if artifact is None else named_artifact(directory, manifest, artifact)
    screened = screen(directory, log, named)  # refusals before the reference loads TensorFlow
    ref = export_parity.reference_runner(directory, manifest, reference, log)
    return run(directory, problem, ref, Tolerance(**manifest.get("tolerance", {})), samples=samples,
               seed=seed, margin=margin, log=log, screened=screened, artifact=named)


def results(document: dict) -> list[dict]:
    """Window and step models' TFLM results (a report from before step models has no streaming)."""
    return document["parity"]["results"] + (document.get("streaming") or {}).get("results", [])
