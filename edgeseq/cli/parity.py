"""`edgeseq parity`: every artifact of an export against Keras."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .. import manifest as manifest_file
from .. import registry
from ..errors import EdgeseqError, InputError
from ..runtimes import DEVICE_RUNTIMES, open_runner
from . import stream_parity_table
from .app import (
    JsonOption,
    command,
    emit_json,
    err,
    keras_installed,
)
from .parity_tables import show_parity, show_parity_summary


def _parity_of(directory: Path, manifest: dict, samples: int, seed: int, reference: str) -> dict:
    from ..parity import Tolerance, check  # noqa: PLC0415
    from ..runtimes.stored_reference import FILE, StoredReference  # noqa: PLC0415

    problem = registry.problem_from_manifest(manifest)
    tolerance = Tolerance(**manifest.get("tolerance", {}))
    candidates = [(a["variant"], open_runner(directory / a["file"]))
                  for a in manifest["artifacts"]
                  if a["format"] in DEVICE_RUNTIMES and a.get("variant") != "floor"
                  and not a.get("step")]
    if reference == "auto":
        reference = "keras" if keras_installed() else "stored"
    if reference == "stored":
        if manifest_file.entry(manifest, FILE) is None:
            raise InputError(f"{directory} has no stored {FILE}; re-export it, or install "
                             "the [train] extra to compare with Keras itself")
        manifest_file.verify(directory / FILE, manifest)
        ref = StoredReference(directory / FILE)
        err.print(f"reference: Keras outputs stored at export ({FILE}, {len(ref.data()[0])} inputs); "
                  "TensorFlow is not used", highlight=False)
    elif not keras_installed():
        raise EdgeseqError("--reference keras needs TensorFlow: pip install 'edgeseq[train]'")
    else:
        ref = open_runner(directory / "model.keras", "keras")
    report = check(problem, ref, candidates, samples=samples, seed=seed, tolerance=tolerance)
    streams = (stream_parity_table.stream_report(directory, manifest, problem, tolerance,
                                                 max(samples, 200), seed)
               if reference == "keras" else None)
    if streams is not None:  # step models beside the window ones; both must pass
        report |= {"streaming": streams, "passed": report["passed"] and streams["passed"]}
    return report


@command()
def parity(
    directories: Annotated[list[Path], typer.Argument(help="Exported directories, e.g. exported/vanilla.")],
    samples: Annotated[int, typer.Option(min=1, help="Number of generated inputs.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed for the generated inputs.")] = 1234,
    recorded: Annotated[bool, typer.Option(
        "--recorded", help="Show the parity recorded in each manifest at export; run nothing.")] = False,
    reference: Annotated[str, typer.Option(
        "--reference", help="keras (run model.keras; needs TensorFlow), stored (Keras outputs "
                            "saved at export in reference.npz), or auto: keras when installed.")] = "auto",
    as_json: JsonOption = False,
):
    """Compare every exported artifact with Keras on the same generated inputs.

    Exit 1 if an fp32 artifact differs beyond tolerance (atol 1e-5, rtol 1e-5 unless the
    architecture states more) or disagrees on any decision (argmax or 0.5 threshold).
    With several directories, prints one summary table (JSON: reports by architecture).
    """
    if reference not in ("auto", "keras", "stored"):
        raise EdgeseqError(f"unknown reference {reference!r}; expected auto, keras or stored")
    reports, manifests = {}, {}
    for directory in directories:
        manifest = manifest_file.load(directory)
        key = manifest["architecture"] if len(directories) > 1 else str(directory)
        reports[key] = (manifest["parity"] if recorded
                        else _parity_of(directory, manifest, samples, seed, reference))
        manifests[key] = manifest
    if as_json:
        emit_json(next(iter(reports.values())) if len(reports) == 1 else {"architectures": reports})
    elif len(reports) == 1:
        show_parity(next(iter(reports.values())), f"{directories[0]}: parity with Keras")
        if "streaming" in next(iter(reports.values())):
            stream_parity_table.show(next(iter(reports.values()))["streaming"])
    else:
        show_parity_summary(reports, manifests)
    if not all(r["passed"] for r in reports.values()):
        raise typer.Exit(1)
