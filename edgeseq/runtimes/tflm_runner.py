"""TensorFlow Lite Micro's interpreter on the host (tflite-micro, the [mcu] extra): the
kernels and arena planner a microcontroller runs, compiled for x86.

A too-small arena or a kernel fault can take the whole process down (TOOLCHAIN.md: tiny
arenas segfault), so edgeseq opens this runner only inside a child process
(targets/mcu/tflm_worker.py). Not in the RUNTIMES registry: `.tflite` files belong to LiteRT
there, and TFLM is a check of a target, not a host runtime.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from .base import Runner, TensorSpec, dequantize, quantize


def _spec(detail: dict, name: str) -> TensorSpec:
    return TensorSpec(name, tuple(int(d) for d in detail["shape"]), np.dtype(detail["dtype"]).name)


def _scale(detail: dict) -> tuple[float, int]:
    params = detail["quantization_parameters"]
    if len(params["scales"]) == 0:
        return 0.0, 0
    return float(params["scales"][0]), int(params["zero_points"][0])


class TflmRunner(Runner):
    runtime = "tflm"

    def __init__(self, path: Path, arena_size: int):
        from tflite_micro.python.tflite_micro import runtime  # noqa: PLC0415 - the [mcu] extra

        self.path = Path(path)
        self.arena_size = arena_size
        try:
            self.interpreter = runtime.Interpreter.from_file(str(self.path), arena_size=arena_size)
        except (ValueError, RuntimeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(f"{self.path.name}: TFLM cannot load it with a {arena_size:,}-byte arena "
                             f"({first})") from None
        # TFLM's details carry no tensor names, and edgeseq's models have one input and one
        # output: parity pairs them by position.
        self._in, self._out = self.interpreter.get_input_details(0), self.interpreter.get_output_details(0)
        self.inputs = [_spec(self._in, "input")]
        self.outputs = [_spec(self._out, "output")]

    def infer(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows = []
        for row in feed[self.inputs[0].name]:
            self.interpreter.set_input(quantize(row[np.newaxis], self._in["dtype"], *_scale(self._in)), 0)
            self.interpreter.invoke()
            rows.append(dequantize(self.interpreter.get_output(0), *_scale(self._out)))
            # The fused LSTM keeps its state in variable tensors that survive invoke(): every
            # window is a new sequence, as it is for LiteRT's reset_all_variables().
            self.interpreter.reset()
        return {self.outputs[0].name: np.concatenate(rows)}
