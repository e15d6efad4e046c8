"""An export checked as `edgeseq parity` and the Python API's `Export.parity()` check it: every
window model and variant against Keras (model.keras, or the Keras outputs stored at export),
OpenVINO beside onnxruntime when it is installed, and every step model streamed."""

from __future__ import annotations

from pathlib import Path

from .. import manifest as manifest_file
from .. import registry
from ..errors import EdgeseqError, InputError
from ..quiet_tensorflow import import_tensorflow
from ..runtimes import DEVICE_RUNTIMES, open_runner


def _quiet(_: str) -> None:
    pass


def keras_installed() -> bool:
    import importlib.util  # noqa: PLC0415

    return importlib.util.find_spec("keras") is not None and importlib.util.find_spec("tensorflow") is not None


def openvino_installed() -> bool:
    import importlib.util  # noqa: PLC0415

    return importlib.util.find_spec("openvino") is not None


def reference_runner(directory: Path, manifest: dict, reference: str, log=_quiet):
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
        log(f"reference: Keras outputs stored at export ({FILE}, {len(ref.data()[0])} inputs); "
            "TensorFlow is not used")
        return ref
    if not keras_installed():
        raise EdgeseqError("--reference keras needs TensorFlow: pip install 'edgeseq[train]'")
    import_tensorflow()
    return open_runner(directory / "model.keras", "keras")


def parity_of(directory: Path, manifest: dict, samples: int, seed: int, reference: str, log=_quiet,
              web: bool | None = None) -> dict:
    """Every artifact of the export against Keras (or its stored outputs), step models streamed too.
    `web`: True runs the export's page in Chromium as a gated row, False never; None (auto)
    runs it when the export has a page (`edgeseq web DIR` wrote DIR/web), reported, not gated."""
    from ..checks.parity import Tolerance, check  # noqa: PLC0415

    problem = registry.problem_from_manifest(manifest)
    tolerance = Tolerance(**manifest.get("tolerance", {}))
    windows = [a for a in manifest["artifacts"] if manifest_file.is_window_model(a) or a.get("batch")]
    ir = [a for a in windows if a["format"] == "openvino"]
    if ir and not openvino_installed():
        raise EdgeseqError(f"{directory} holds an OpenVINO IR ({ir[0]['file']}): "
                           "parity needs the [openvino] extra: pip install 'edgeseq[openvino]'")
    candidates = [(a["variant"], open_runner(directory / a["file"]))
                  for a in windows if a["format"] in (*DEVICE_RUNTIMES, "ort", "openvino")]
    optional, not_run = _openvino_beside(directory, windows) if openvino_installed() else ([], [])
    ref = reference_runner(directory, manifest, reference, log)
    report = check(problem, ref, candidates, samples=samples, seed=seed, tolerance=tolerance,
                   optional=optional, not_run=not_run)
    # Step models stream against Keras itself, or against its streamed answers stored at export.
    streams = stream_report(directory, manifest, problem, tolerance,
                                                max(samples, 200), seed, stored=ref.runtime != "keras")
    if streams is not None:  # step models beside the window ones; both must pass
        report |= {"streaming": streams, "passed": report["passed"] and streams["passed"]}
    if web is False or (web is None and not (Path(directory) / "web").exists()):
        return report
    from ..targets.web import parity_row  # noqa: PLC0415 - the browser row (reported when it cannot run)

    return parity_row.merge(report, parity_row.web_parity(directory, manifest, problem, ref, tolerance,
                                                          samples, seed), gated=web is True)


def _openvino_beside(directory: Path, windows: list[dict]) -> tuple[list, list]:
    """OpenVINO on the fp32 ONNX file beside onnxruntime (the quantized ONNX variants use
    onnxruntime's own com.microsoft ops), when the [openvino] extra is installed. edgeseq adds
    it on its own initiative, so it reports and never gates: a model OpenVINO cannot load (a
    GRU's Loop, say) is a row saying so, not a failed check. An exported IR (--format
    openvino) is the export's own artifact and gated like the others."""
    from ..checks.parity import unavailable  # noqa: PLC0415

    runners, not_run = [], []
    for a in windows:
        if a["format"] == "onnx" and a.get("variant") == "fp32":
            try:
                runners.append(("fp32", open_runner(directory / a["file"], "openvino")))
            except EdgeseqError as exc:
                not_run.append(unavailable("openvino", "fp32", directory / a["file"], f"cannot load: {exc}"))
    return runners, not_run


def per_layer_of(directory: Path, manifest: dict, samples: int, seed: int, log=_quiet) -> list[dict]:
    import numpy as np  # noqa: PLC0415

    from ..checks.parity import Tolerance  # noqa: PLC0415
    from ..checks.per_layer import per_layer  # noqa: PLC0415
    from ..cli.compare import PER_LAYER_ROWS  # noqa: PLC0415

    if not keras_installed():
        raise EdgeseqError("--per-layer runs Keras's layers and needs TensorFlow: pip install 'edgeseq[train]'")
    tolerance = Tolerance(**manifest.get("tolerance", {}))
    keras_model = open_runner(directory / "model.keras", "keras").model
    batch, _ = registry.problem_from_manifest(manifest).generate(min(samples, PER_LAYER_ROWS),
                                                                  np.random.default_rng(seed))
    fp32 = [a for a in manifest["artifacts"] if a["format"] in (*DEVICE_RUNTIMES, "ort", "openvino")
            and a.get("variant") == "fp32" and manifest_file.is_window_model(a)]
    checked = [(directory / a["file"], a["format"], True) for a in fp32]
    if openvino_installed():  # as in _parity_of: OpenVINO on model.onnx too, never failing the command
        checked += [(directory / a["file"], "openvino", False) for a in fp32 if a["format"] == "onnx"]
    found = []
    for path, runtime, required in checked:
        try:
            found.append(per_layer(keras_model, path, runtime, batch, tolerance.atol, tolerance.rtol))
        except EdgeseqError as exc:
            if required:
                raise
            log(f"per-layer: {runtime} skipped: {exc}")
    return found


def stream_report(directory: Path, manifest: dict, problem, tolerance, sequences: int, seed: int,
                  stored: bool = False) -> dict | None:
    """The stream parity of every step model in the export, or None when it has none (or,
    with the `stored` reference, when the export stored no streamed Keras answers)."""
    streaming = manifest.get("streaming") or {}
    if not streaming.get("streams"):
        return None
    from ..checks import stream_parity  # noqa: PLC0415
    from ..runtimes import open_runner  # noqa: PLC0415
    from ..streaming import step_runner  # noqa: PLC0415

    runners = [("fp32", step_runner(directory / file, streaming)) for file in streaming["artifacts"].values()]
    runners += [(variant, open_runner(directory / file))
                for variant, file in streaming.get("variants", {}).get("tflite", {}).items()]
    if stored:  # Keras's answers as stored at export: no TensorFlow on this path
        from ..runtimes import stored_stream_reference  # noqa: PLC0415

        if manifest_file.entry(manifest, stored_stream_reference.FILE) is None:
            return None  # exported before the stream reference was stored
        path = directory / stored_stream_reference.FILE
        manifest_file.verify(path, manifest)
        return stream_parity.compare(problem, streaming, stored_stream_reference.read(path),
                                     runners, tolerance)
    import keras  # noqa: PLC0415 - the Keras reference

    from ..exporters.step import step_export, step_model  # noqa: PLC0415

    model = keras.saving.load_model(directory / "model.keras", compile=False)
    return stream_parity.check(problem, streaming, candidates=runners, sequences=sequences,
                               seed=seed, tolerance=tolerance,
                               **step_export.references(model, step_model.plan(model)))
