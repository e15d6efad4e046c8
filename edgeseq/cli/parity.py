"""`edgeseq parity`: every artifact of an export against Keras."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .. import manifest as manifest_file
from .. import registry
from ..checks import export_parity
from ..errors import EdgeseqError, InputError
from . import validate
from .app import JsonOption, command, emit_json, err


@command()
def parity(
    directories: Annotated[list[Path], typer.Argument(help="Exported directories, e.g. exported/vanilla.")],
    samples: Annotated[int, typer.Option(min=1, max=validate.MAX_SAMPLES,
                                         help="Number of generated inputs.")] = 1000,
    seed: Annotated[int, typer.Option(min=0, max=validate.SEED_MAX,
                                      help="Seed for the generated inputs.")] = 1234,
    recorded: Annotated[bool, typer.Option(
        "--recorded", help="Show the parity recorded in each manifest at export; run nothing.")] = False,
    reference: Annotated[str, typer.Option(
        "--reference", help="keras (run model.keras; needs TensorFlow), stored (Keras outputs "
                            "saved at export in reference.npz), or auto: keras when installed.")] = "auto",
    per_layer: Annotated[bool, typer.Option(
        "--per-layer", help="Also every Keras layer's output against the tensors of the same layer in each "
                            "fp32 artifact (onnx, tflite, ort, OpenVINO), and the first layer over "
                            "tolerance (needs TensorFlow).")] = False,
    web: Annotated[Optional[bool], typer.Option(
        "--web/--no-web", help="The export's page in headless Chromium (onnxruntime-web; the [web] extra, a "
                               "Chromium and onnxruntime-web's files) as a gated web row, or one line saying why "
                               "it did not run. Default: a reported, not gated, row when the export has a page "
                               "(`edgeseq web DIR`); --no-web: none.", show_default=False)] = None,
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
    log = lambda m: err.print(m, markup=False, highlight=False)  # noqa: E731
    loaded = [manifest_file.load(directory) for directory in directories]  # all, before any run
    if not recorded:
        for manifest in loaded:
            problem = registry.problem_from_manifest(manifest)
            validate.inputs_fit(samples, problem.input_shape, "--samples")
    for directory, manifest in zip(directories, loaded, strict=True):
        key = manifest["architecture"] if len(directories) > 1 else str(directory)
        if recorded and not isinstance(manifest.get("parity"), dict):
            raise InputError(f"{directory}/manifest.json records no parity report; run "
                             f"`edgeseq parity {directory}` instead of --recorded")
        reports[key] = (manifest["parity"] if recorded
                        else export_parity.parity_of(directory, manifest, samples, seed, reference, log, web))
        manifests[key] = manifest
        if per_layer:
            reports[key]["per_layer"] = export_parity.per_layer_of(directory, manifest, samples, seed, log)
    from .parity_tables import show_parity, show_parity_summary  # noqa: PLC0415 - rich on use

    if as_json:
        emit_json(next(iter(reports.values())) if len(reports) == 1 else {"architectures": reports})
    elif len(reports) == 1:
        show_parity(next(iter(reports.values())), f"{directories[0]}: parity with Keras")
        if "streaming" in next(iter(reports.values())):
            from . import stream_parity_table  # noqa: PLC0415

            stream_parity_table.show(next(iter(reports.values()))["streaming"])
    else:
        show_parity_summary(reports, manifests)
    if per_layer and not as_json:
        from .compare import show_layers  # noqa: PLC0415

        for report in reports.values():
            for found in report["per_layer"]:
                show_layers(found)
    for report in reports.values():
        if not (report.get("web") or {"ran": True})["ran"]:
            err.print(f"web row not run: {report['web']['reason']}", markup=False, highlight=False)
    if not all(r["passed"] for r in reports.values()):
        raise typer.Exit(1)
