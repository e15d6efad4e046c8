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

    def __init__(self, path: Path, arena_size: int, input_names=("input",), output_names=("output",)):
        """`input_names`/`output_names`: by position, as the file's signature names them (TFLM
        reads no names; targets/mcu/flatbuffer.py does). A step model has two of each."""
        from tflite_micro.python.tflite_micro import runtime  # noqa: PLC0415 - the [mcu] extra

        self.path = Path(path)
        self.arena_size = arena_size
        try:
            self.interpreter = runtime.Interpreter.from_file(str(self.path), arena_size=arena_size)
        except (ValueError, RuntimeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(f"{self.path.name}: TFLM cannot load it with a {arena_size:,}-byte arena "
                             f"({first})") from None
        self._in = [self.interpreter.get_input_details(i) for i in range(len(input_names))]
        self._out = [self.interpreter.get_output_details(i) for i in range(len(output_names))]
        self.inputs = [_spec(d, name) for d, name in zip(self._in, input_names, strict=True)]
        self.outputs = [_spec(d, name) for d, name in zip(self._out, output_names, strict=True)]

    def infer(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows = []
        for r in range(len(feed[self.inputs[0].name])):
            for index, (spec, detail) in enumerate(zip(self.inputs, self._in, strict=True)):
                row = feed[spec.name][r:r + 1]
                self.interpreter.set_input(quantize(row, detail["dtype"], *_scale(detail)), index)
            self.interpreter.invoke()
            rows.append([dequantize(self.interpreter.get_output(i), *_scale(d)) for i, d in enumerate(self._out)])
            # The fused LSTM keeps its state in variable tensors that survive invoke(): every
            # window is a new sequence, as it is for LiteRT's reset_all_variables(). (A step
            # model keeps none: its state is an input.)
            self.interpreter.reset()
        return {spec.name: np.concatenate([row[i] for row in rows]) for i, spec in enumerate(self.outputs)}
