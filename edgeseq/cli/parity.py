"""`edgeseq parity`: every artifact of an export against Keras."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .. import manifest as manifest_file
from .. import registry
from ..errors import EdgeseqError, InputError
from ..quiet_tensorflow import import_tensorflow
from ..runtimes import DEVICE_RUNTIMES, open_runner
from . import validate
from .app import (
    JsonOption,
    command,
    emit_json,
    err,
    keras_installed,
)


def openvino_installed() -> bool:
    import importlib.util  # noqa: PLC0415

    return importlib.util.find_spec("openvino") is not None


def reference_runner(directory: Path, manifest: dict, reference: str):
    """The Keras reference of an export: model.keras itself (needs TensorFlow), or the Keras
    outputs stored at export (reference.npz); `auto` is Keras when it is installed."""
    from ..runtimes.stored_reference import FILE, StoredReference  # noqa: PLC0415

    if reference not in ("auto", "keras", "stored"):
        raise EdgeseqError(f"unknown reference {reference!r}; expected auto, keras or stored")
    if reference == "auto":
        # an export without model.keras (a user's SavedModel) has only its stored outputs
        reference = "keras" if keras_installed() and (directory / "model.keras").is_file() else "stored"
    if reference == "stored":
        if manifest_file.entry(manifest, FILE) is None:
            raise InputError(f"{directory} has no stored {FILE}; re-export it, or install "
                             "the [train] extra to compare with Keras itself")
        manifest_file.verify(directory / FILE, manifest)
        ref = StoredReference(directory / FILE)
        err.print(f"reference: Keras outputs stored at export ({FILE}, {len(ref.data()[0])} inputs); "
                  "TensorFlow is not used", highlight=False)
        return ref
    if not keras_installed():
        raise EdgeseqError("--reference keras needs TensorFlow: pip install 'edgeseq[train]'")
    import_tensorflow()
    return open_runner(directory / "model.keras", "keras")


def _parity_of(directory: Path, manifest: dict, samples: int, seed: int, reference: str,
               web: bool = False) -> dict:
    from ..parity import Tolerance, check  # noqa: PLC0415

    problem = registry.problem_from_manifest(manifest)
    tolerance = Tolerance(**manifest.get("tolerance", {}))
    windows = [a for a in manifest["artifacts"] if manifest_file.is_window_model(a) or a.get("batch")]
    ir = [a for a in windows if a["format"] == "openvino"]
    if ir and not openvino_installed():
        raise EdgeseqError(f"{directory} holds an OpenVINO IR ({ir[0]['file']}): "
                           "parity needs the [openvino] extra: pip install 'edgeseq[openvino]'")
    candidates = [(a["variant"], open_runner(directory / a["file"]))
                  for a in windows if a["format"] in (*DEVICE_RUNTIMES, "ort", "openvino")]
    if openvino_installed():
        # OpenVINO runs the fp32 ONNX file beside onnxruntime (the quantized ONNX variants use
        # onnxruntime's own com.microsoft ops), and is gated like any fp32 artifact.
        candidates += [("fp32", open_runner(directory / a["file"], "openvino"))
                       for a in windows if a["format"] == "onnx" and a.get("variant") == "fp32"]
    ref = reference_runner(directory, manifest, reference)
    report = check(problem, ref, candidates, samples=samples, seed=seed, tolerance=tolerance)
    # Step models stream against Keras itself, or against its streamed answers stored at export.
    from . import stream_parity_table  # noqa: PLC0415 - rich, only when parity runs

    streams = stream_parity_table.stream_report(directory, manifest, problem, tolerance,
                                                max(samples, 200), seed, stored=ref.runtime != "keras")
    if streams is not None:  # step models beside the window ones; both must pass
        report |= {"streaming": streams, "passed": report["passed"] and streams["passed"]}
    if not web:
        return report
    from ..targets.web import parity_row  # noqa: PLC0415 - the browser row (reported when it cannot run)

    return parity_row.merge(report, parity_row.web_parity(directory, manifest, problem, ref, tolerance,
                                                          samples, seed))


def _per_layer_of(directory: Path, manifest: dict, samples: int, seed: int) -> list[dict]:
    import numpy as np  # noqa: PLC0415

    from ..parity import Tolerance  # noqa: PLC0415
    from ..per_layer import per_layer  # noqa: PLC0415
    from .compare import PER_LAYER_ROWS  # noqa: PLC0415

    if not keras_installed():
        raise EdgeseqError("--per-layer runs Keras's layers and needs TensorFlow: pip install 'edgeseq[train]'")
    tolerance = Tolerance(**manifest.get("tolerance", {}))
    keras_model = open_runner(directory / "model.keras", "keras").model
    batch, _ = registry.problem_from_manifest(manifest).generate(min(samples, PER_LAYER_ROWS),
                                                                  np.random.default_rng(seed))
    fp32 = [a for a in manifest["artifacts"] if a["format"] in (*DEVICE_RUNTIMES, "ort", "openvino")
            and a.get("variant") == "fp32" and manifest_file.is_window_model(a)]
    checked = [(directory / a["file"], a["format"]) for a in fp32]
    if openvino_installed():  # as in _parity_of: OpenVINO on model.onnx too
        checked += [(directory / a["file"], "openvino") for a in fp32 if a["format"] == "onnx"]
    return [per_layer(keras_model, path, runtime, batch, tolerance.atol, tolerance.rtol)
            for path, runtime in checked]


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
    web: Annotated[bool, typer.Option(
        "--web", help="Also the export's page in headless Chromium (onnxruntime-web; the [web] extra, a "
                      "Chromium and onnxruntime-web's files): a web row, or one line saying why it did not run "
                      "(never a failure).")] = False,
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
                        else _parity_of(directory, manifest, samples, seed, reference, web))
        manifests[key] = manifest
        if per_layer:
            reports[key]["per_layer"] = _per_layer_of(directory, manifest, samples, seed)
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
