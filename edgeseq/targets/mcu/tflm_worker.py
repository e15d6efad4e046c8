"""TFLM in a child process. A too-small arena raises, a very small one (or a kernel fault)
kills the process with a signal (TOOLCHAIN.md): in a child, either is a reported failure
and the CLI lives on.

Child: `python -m edgeseq.targets.mcu.tflm_worker MODEL ARENA [MODE INPUTS.npy OUTPUTS.npy
[SECTION.json]]`. Without a mode it is an arena try: load, allocate, and invoke twice with a
reset between (zeros in), which is everything a device does with the arena. `run` runs
windows (state reset between them) and saves the outputs; `stream` feeds a step model's
sequences step by step from the zero state, the state carried as a device would, and saves
every step's output; `reset` is stream parity's exact-reset check in one interpreter. The
last stdout line is one JSON object.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from ...checks.stream_parity import Streamer
from ...runtimes.base import Runner, TensorSpec

TIMEOUT_S = 900


class TflmFailed(Exception):
    """TFLM refused or crashed; the message is one line."""


def _run_child(model: Path, arena: int, *job) -> dict:
    command = [sys.executable, "-m", __name__, str(model), str(arena), *map(str, job)]
    try:
        child = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise TflmFailed(f"TFLM did not finish within {TIMEOUT_S} s") from None
    if child.returncode < 0:
        name = signal.Signals(-child.returncode).name
        raise TflmFailed(f"TFLM crashed ({name}) with a {arena:,}-byte arena")
    lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
    outcome = json.loads(lines[-1]) if lines else {"ok": False}
    if not outcome["ok"]:
        # TFLM's own words (MicroPrintf) come before our JSON line, on stdout or stderr.
        said = [line.strip() for line in (child.stdout + "\n" + child.stderr).split("Traceback")[0].splitlines()
                if line.strip() and not line.startswith("{")]
        reason = outcome.get("reason") or f"TFLM child exited with code {child.returncode}"
        raise TflmFailed(reason + (f"; TFLM: {said[0]}" if said else ""))
    return outcome


def failure(model: Path, arena: int) -> str | None:
    """Why the model does not load and run with an arena of `arena` bytes (in a child), or
    None when it does."""
    try:
        _run_child(model, arena)
    except TflmFailed as exc:
        return str(exc)
    return None


def fits(model: Path, arena: int) -> bool:
    return failure(model, arena) is None


class IsolatedTflm(Runner):
    """A Runner for parity whose every call runs TFLM in a child; TflmFailed on a crash."""

    runtime = "tflm"

    def __init__(self, path: Path, arena_size: int):
        self.path, self.arena_size = Path(path), arena_size
        # one input and one output, as TflmRunner has; their shapes are the child's to read
        self.inputs = [TensorSpec("input", (None,), "float32")]
        self.outputs = [TensorSpec("output", (None,), "float32")]

    def infer(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        with tempfile.TemporaryDirectory(prefix="edgeseq-tflm-") as tmp:
            inputs, outputs = Path(tmp) / "inputs.npy", Path(tmp) / "outputs.npy"
            np.save(inputs, feed["input"])
            _run_child(self.path, self.arena_size, "run", inputs, outputs)
            return {"output": np.load(outputs)}


class IsolatedTflmStream(Streamer):
    """Stream parity's view of a step model on TFLM: each whole stream runs in one child (a
    child per step would cost a process start per step); TflmFailed on a crash."""

    runtime = "tflm"

    def __init__(self, path: Path, arena_size: int, section: dict):
        self.path, self.arena_size, self.section = Path(path), arena_size, section
        self.artifact = self.path.name

    def _child(self, mode: str, sequences: np.ndarray) -> tuple[dict, np.ndarray]:
        with tempfile.TemporaryDirectory(prefix="edgeseq-tflm-") as tmp:
            inputs, outputs, section = (Path(tmp) / name for name in ("in.npy", "out.npy", "section.json"))
            np.save(inputs, sequences)
            section.write_text(json.dumps(self.section))
            outcome = _run_child(self.path, self.arena_size, mode, inputs, outputs, section)
            return outcome, (np.load(outputs) if outputs.exists() else None)

    def run(self, sequences: np.ndarray) -> np.ndarray:
        return self._child("stream", sequences)[1]

    def reset_is_exact(self, pair: np.ndarray) -> bool:
        return bool(self._child("reset", pair)[0]["reset_exact"])


def _child(argv: list[str]) -> int:
    from ...checks.stream_parity import reset_is_exact  # noqa: PLC0415
    from ...errors import EdgeseqError  # noqa: PLC0415
    from ...runtimes.tflm_runner import TflmRunner  # noqa: PLC0415
    from .flatbuffer import read  # noqa: PLC0415

    model, arena = Path(argv[0]), int(argv[1])
    outcome = {"ok": True}
    try:
        graph = read(model)
        runner = TflmRunner(model, arena, graph.input_names, graph.output_names)
        mode = argv[2] if len(argv) > 2 else "try"
        if mode == "try":
            runner.infer({spec.name: np.zeros((2, *spec.shape[1:]), spec.dtype) for spec in runner.inputs})
        elif mode == "run":
            np.save(argv[4], runner.run_array(np.load(argv[3])))
        else:
            section = json.loads(Path(argv[5]).read_text())
            sequences = np.load(argv[3])
            if mode == "stream":
                np.save(argv[4], Streamer(runner, section).run(sequences))
            else:
                outcome["reset_exact"] = reset_is_exact(runner, section, sequences)
    except (EdgeseqError, RuntimeError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(json.dumps({"ok": False, "reason": first}), flush=True)
        return 3
    print(json.dumps(outcome), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
