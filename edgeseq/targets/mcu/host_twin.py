"""The check firmware's loops on the host: the same in.bin through the same .tflite on the
host's TFLM (tflite-micro) or LiteRT, raw output tensors out, so that the board's outputs
can be compared with the host's byte for byte. Window: every window from a reset state.
Step: the state carried in a float buffer from step to step and zeroed at each sequence's
start, converted to and from the state tensors exactly as check_step.cc does.

TFLM runs in a child process (`python -m edgeseq.targets.mcu.host_twin tflm MODEL ARENA
IN OUT`): a kernel fault must not take the CLI down (tflm_worker.py says why).
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np

from ...errors import CheckFailed
from .qemu_run import MAGIC

TIMEOUT_S = 900


def _lround(x: np.ndarray) -> np.ndarray:
    """C's lround: halves away from zero (numpy's round goes to even)."""
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def _to_tensor(values: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero = _quantization(detail)
    if np.dtype(detail["dtype"]) == np.int8 and scale:
        return np.clip(_lround(values.astype(np.float32) / np.float32(scale)) + zero, -128, 127).astype(np.int8)
    return values.astype(detail["dtype"])


def _from_tensor(raw: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero = _quantization(detail)
    if raw.dtype == np.int8 and scale:
        return ((raw.astype(np.int32) - zero).astype(np.float32) * np.float32(scale)).astype(np.float32)
    return raw.astype(np.float32)


def _quantization(detail: dict) -> tuple[float, int]:
    scales = detail.get("quantization_parameters", {}).get("scales", [])
    if len(scales):
        return float(scales[0]), int(detail["quantization_parameters"]["zero_points"][0])
    scale, zero = detail.get("quantization", (0.0, 0))
    return float(scale), int(zero)


def read_input(data: bytes) -> tuple[int, int, int, int, bytes]:
    magic, count, arena, item_bytes, steps = struct.unpack_from("<5I", data)
    assert magic == MAGIC
    return count, arena, item_bytes, steps, data[20:]


class _Tflm:
    def __init__(self, model: Path, arena: int):
        from tflite_micro.python.tflite_micro import runtime  # noqa: PLC0415 - the [mcu] extra

        self.interpreter = runtime.Interpreter.from_file(str(model), arena_size=arena)
        self.inputs = [self.interpreter.get_input_details(i) for i in range(self._count("input"))]
        self.outputs = [self.interpreter.get_output_details(i) for i in range(self._count("output"))]

    def _count(self, kind: str) -> int:
        n = 0
        while True:
            try:
                getattr(self.interpreter, f"get_{kind}_details")(n)
            except (IndexError, RuntimeError, ValueError):
                return n
            n += 1

    def set(self, index: int, value: np.ndarray) -> None:
        self.interpreter.set_input(value.reshape(self.inputs[index]["shape"]), index)

    def invoke(self) -> None:
        self.interpreter.invoke()

    def get(self, index: int) -> np.ndarray:
        return np.array(self.interpreter.get_output(index))

    def reset(self) -> None:
        self.interpreter.reset()


class _Litert:
    def __init__(self, model: Path):
        from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415

        self.interpreter = Interpreter(model_path=str(model))
        self.interpreter.allocate_tensors()
        self.inputs = self.interpreter.get_input_details()
        self.outputs = self.interpreter.get_output_details()

    def set(self, index: int, value: np.ndarray) -> None:
        self.interpreter.set_tensor(self.inputs[index]["index"], value.reshape(self.inputs[index]["shape"]))

    def invoke(self) -> None:
        self.interpreter.invoke()

    def get(self, index: int) -> np.ndarray:
        return np.array(self.interpreter.get_tensor(self.outputs[index]["index"]))

    def reset(self) -> None:
        self.interpreter.reset_all_variables()


def run(runtime, data: bytes, step: dict | None) -> bytes:
    """out.bin's bytes for in.bin's `data`. `step`: the positions (check_step.cc's kStepIndex
    and the rest) for a step model, None for a window model."""
    count, _, item_bytes, steps, body = read_input(data)
    out = []
    if step is None:
        detail = runtime.inputs[0]
        for n in range(count):
            runtime.set(0, np.frombuffer(body, detail["dtype"], item_bytes // np.dtype(detail["dtype"]).itemsize,
                                         n * item_bytes))
            runtime.invoke()
            out.append(runtime.get(0).tobytes())
            runtime.reset()
        return b"".join(out)
    step_detail, state_detail = runtime.inputs[step["step"]], runtime.inputs[step["state"]]
    next_detail = runtime.outputs[step["next_state"]]
    state = None
    for n in range(count):
        if n % steps == 0:
            state = np.zeros(int(np.prod(state_detail["shape"])), np.float32)
        elements = item_bytes // np.dtype(step_detail["dtype"]).itemsize
        runtime.set(step["step"], np.frombuffer(body, step_detail["dtype"], elements, n * item_bytes))
        runtime.set(step["state"], _to_tensor(state, state_detail))
        runtime.invoke()
        out.append(runtime.get(step["output"]).tobytes())
        state = _from_tensor(runtime.get(step["next_state"]).reshape(-1), next_detail)
    return b"".join(out)


def litert(model: Path, data: bytes, step: dict | None) -> bytes:
    return run(_Litert(model), data, step)


class HostFailed(CheckFailed):
    """The host's TFLM refused or crashed; one line."""


def tflm(model: Path, arena: int, data: bytes, step: dict | None, work: Path) -> bytes:
    """The host TFLM's out.bin, from a child process."""
    inputs, outputs = work / "host-in.bin", work / "host-out.bin"
    inputs.write_bytes(data)
    outputs.unlink(missing_ok=True)
    command = [sys.executable, "-m", __name__, str(model), str(arena), str(inputs), str(outputs), json.dumps(step)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise HostFailed(f"host TFLM did not finish within {TIMEOUT_S} s") from None
    if done.returncode != 0 or not outputs.exists():
        said = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        raise HostFailed(f"host TFLM failed on {model.name}: {said}")
    return outputs.read_bytes()


if __name__ == "__main__":
    model, arena, inputs, outputs, step = sys.argv[1:6]
    Path(outputs).write_bytes(run(_Tflm(Path(model), int(arena)), Path(inputs).read_bytes(), json.loads(step)))
