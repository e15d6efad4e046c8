"""Drive a step model: keep the packed state between calls, zeros to reset. Numpy only, so it
runs on the device install (onnxruntime or LiteRT, no TensorFlow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import manifest as manifest_file
from .errors import InputError
from .runtimes import Runner, TensorSpec, open_runner

STEP_FILE = "model.step{suffix}"
SUFFIXES = {"onnx": ".onnx", "tflite": ".tflite"}


class Stream:
    """One or more streams (the batch) through a step runner. The feed dict is built once and
    only its state entry changes, so a call costs the runner's own call and little else."""

    def __init__(self, runner: Runner, section: dict, batch: int = 1):
        self.runner = runner
        state = section["state"]
        self._step_name, self._state_name = section["inputs"][0]["name"], state["input"]
        self._output_name, self._next_name = section["outputs"][0]["name"], state["output"]
        self.size = state["size"]
        self.batch = batch
        self.reset()

    def reset(self) -> None:
        self.state = np.zeros((self.batch, self.size), np.float32)

    def step(self, x: np.ndarray) -> np.ndarray:
        """One time step (batch, *frame) → that step's output (batch, ...)."""
        outputs = self.runner.infer({self._step_name: x, self._state_name: self.state})
        self.state = outputs[self._next_name]
        return outputs[self._output_name]

    def run(self, sequences: np.ndarray) -> np.ndarray:
        """Sequences (batch, T, *frame) fed step by step from the current state; the output
        of every step, (batch, T, ...)."""
        return np.stack([self.step(sequences[:, t]) for t in range(sequences.shape[1])], axis=1)


class DecodedStep(Runner):
    """An encoder-decoder's step model followed by its decoder, seen as one step runner whose
    output is the answer on the steps fed so far (the section's `decoder`): what Stream,
    stream parity and `edgeseq stream` need, with nothing of their own changed. The state
    is the encoder's; the decoder has none."""

    def __init__(self, encoder: Runner, decoder: Runner, section: dict):
        self.encoder, self.decoder = encoder, decoder
        self.runtime, self.path, self.inputs = encoder.runtime, encoder.path, encoder.inputs
        self._output, self._next = section["outputs"][0]["name"], section["state"]["output"]
        self._encoded = section["decoder"]["inputs"][0]["name"]
        self._answer = section["decoder"]["outputs"][0]["name"]
        self.outputs = [TensorSpec(self._output, decoder.outputs[0].shape, "float32"),
                        next(s for s in encoder.outputs if s.name == self._next)]

    def infer(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        encoded = self.encoder.infer(feed)
        answer = self.decoder.infer({self._encoded: encoded[self._output]})[self._answer]
        return {self._output: answer, self._next: encoded[self._next]}


def step_runner(path: Path, section: dict, runtime: str = "auto") -> Runner:
    """The runner of a step artifact as a stream drives it: for an encoder-decoder, its step
    model and the decoder of the same format, answering at every step."""
    runner = open_runner(path, runtime)
    decoder = section.get("decoder")
    if decoder is None:
        return runner
    decoder_file = Path(path).parent / decoder["artifacts"][runner.runtime]
    return DecodedStep(runner, open_runner(decoder_file, runner.runtime), section)


def section(manifest: dict) -> dict:
    """The manifest's streaming section; InputError saying why when the export has no step
    model."""
    streaming = manifest.get("streaming")
    if streaming is None:
        raise InputError(f"the {manifest['architecture']} export has no step model (exported "
                         "before streaming existed): re-export it")
    if not streaming["streams"]:
        raise InputError(f"{manifest['architecture']} {streaming['reason']}")
    return streaming


def step_path(model: Path, runtime: str = "auto") -> tuple[Path, str, dict]:
    """The step artifact for a directory or any artifact of an export, its runtime, and the
    export's streaming section."""
    model = Path(model)
    directory = model if model.is_dir() else model.parent
    if not model.is_dir():
        # A file names the export and the runtime: it must be one of the export's models, as
        # it is for predict (a stray, changed or floor file would otherwise pass unnoticed).
        from .runtimes import resolve  # noqa: PLC0415

        model, runtime = resolve(model, runtime)
        listed = manifest_file.verify(model, manifest_file.find(model))
        if listed is None or listed.get("variant") == "floor":
            raise InputError(f"{model} is not a model of an export (stream takes an exported "
                             "directory or one of its model files)")
    if runtime == "auto":
        runtime = "onnx" if model.is_dir() else next(
            (name for name, suffix in SUFFIXES.items() if model.suffix == suffix), "onnx")
    if runtime not in SUFFIXES:
        raise InputError(f"unknown runtime {runtime!r}; expected auto, {', '.join(SUFFIXES)}")
    streaming = section(manifest_file.load(directory))
    file = streaming["artifacts"].get(runtime)
    if file is None:
        raise InputError(f"{directory} has no {runtime} step model (exported formats: "
                         f"{', '.join(streaming['artifacts']) or 'none'})")
    return directory / file, runtime, streaming


def open_stream(model: Path, runtime: str = "auto", batch: int = 1) -> Stream:
    path, runtime, streaming = step_path(model, runtime)
    return Stream(step_runner(path, streaming, runtime), streaming, batch=batch)


def window_through_steps(stream: Stream, window_steps: int):
    """A window model's `run_array` made of the step model: reset, feed the window's steps,
    answer with the last step's output (the manifest's rule: after `window_steps` steps from a
    reset the step model's output is the window model's)."""
    def run_array(batch: np.ndarray) -> np.ndarray:
        if batch.shape[1] != window_steps:
            raise InputError(f"expected windows of {window_steps} steps, got {batch.shape[1]}")
        stream.batch = len(batch)
        stream.reset()
        return stream.run(batch)[:, -1]
    return run_array
