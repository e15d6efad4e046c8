"""OpenVINO on the CPU (the [openvino] extra): edgeseq's model.onnx read directly, or the
OpenVINO IR (model.xml + model.bin) that `export --format openvino` saves from it.

Precision, measured with openvino 2026.4.1 on the six architectures' ONNX files (untrained
and trained weights, 200 stored inputs against Keras): on a CPU with bf16 support
(AVX512-BF16 / AMX) OpenVINO's default inference precision is bf16, which puts outputs
2e-5 to 8e-4 off Keras (trained bidirectional 3.1e-2). INFERENCE_PRECISION_HINT f32 brings
every architecture to ≤ 1.2e-7 (trained ≤ 7.2e-7),
the same with a dynamic or a static batch, batch 1 or 200; EXECUTION_MODE_HINT ACCURACY
gives the same numbers (it implies f32). So f32 is the default here; `precision="default"`
keeps OpenVINO's own choice, to measure it.

Shapes: the ONNX LSTM imports as LSTMSequence. With a dynamic batch the CPU plugin runs a
bidirectional one as two TensorIterator loops (batch 1: 2.3 ms, against 33 µs in
onnxruntime); reshaped to a static batch it takes 150 µs (stacked: 150 → 87 µs, one fused
RNNSeq per layer either way). Numbers are the same both ways. So the runner compiles one
static-shape model per feed shape it meets (parity and bench each use one or two).

Calls (batch-1 p50, measured side by side in one process, openvino 2026.4.1, 1 thread,
untrained exports; onnxruntime vanilla 15.8 µs, stacked 46 µs): `request.infer(feed)`
84 / 129 µs (5.3× / 2.8× onnxruntime): it copies every input into the request's own
tensor and every output into a new dict. `infer(feed, share_inputs=True,
share_outputs=True)` 38 / 83 µs. Binding each input as a zero-copy `ov.Tensor` with
`set_input_tensor` and calling `infer()` with no inputs, then copying the output tensor
once: 25 / 69 µs (1.5× onnxruntime on both), what `infer` below does. `start_async` +
`wait` was slower (39 / 81 µs); NUM_STREAMS 1 and CPU pinning changed nothing measurable
(the LATENCY hint already gives one stream).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import openvino as ov

from ..errors import InputError
from .base import Runner, TensorSpec


def _spec(port) -> TensorSpec:
    shape = tuple(d.get_length() if d.is_static else None for d in port.get_partial_shape())
    return TensorSpec(port.get_any_name(), shape, np.dtype(port.get_element_type().to_dtype()).name)


#: Lines of OpenVINO's errors that name its own source files, not the model's problem.
_WHERE = re.compile(r"^(Exception from |Check '|While validating|FrontEnd API failed|Summary:)")


def _reason(exc: Exception) -> str:
    """OpenVINO's message in one line: its first lines locate the check in OpenVINO's sources
    ("Exception from src/inference/src/cpp/core.cpp:84:"); the cause comes after them."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    said = [line for line in lines if not _WHERE.match(line)] or lines or [type(exc).__name__]
    return " ".join(said[:3])[:300]


class OpenvinoRunner(Runner):
    runtime = "openvino"

    def __init__(self, path: Path, threads: int = 1, precision: str = "f32"):
        self.path = Path(path)
        # One thread and the latency hint: batch-1 latency on one core is what a device sees.
        # No CPU pinning (OpenVINO pins by default), as onnxruntime's calling thread is not
        # pinned: on a machine whose cores other processes share, a pinned thread waits for
        # its core. Stacked, 16k calls side by side: p99 1,779 µs pinned, 147 unpinned
        # (onnxruntime 105); p50 68 vs 66 µs.
        config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY",
                  "ENABLE_CPU_PINNING": False}
        if precision != "default":
            config["INFERENCE_PRECISION_HINT"] = precision
        self._config, self._core = config, ov.Core()
        try:
            self.model = self._core.read_model(str(self.path))
            compiled = self._core.compile_model(self.model, "CPU", config)
        except RuntimeError as exc:
            raise InputError(f"{self.path} is not a model OpenVINO can load ({_reason(exc)})") from None
        self.precision = str(compiled.get_property("INFERENCE_PRECISION_HINT"))
        self.inputs = [_spec(p) for p in compiled.inputs]
        self.outputs = [_spec(p) for p in compiled.outputs]
        self._requests: dict[tuple, tuple] = {}

    def expose(self, ports: list) -> list[str]:
        """Make intermediate tensors (ports of self.model) outputs too, for per_layer.py: the
        names they come back under from `infer`."""
        added = self.model.add_outputs(ports)
        self.outputs = [_spec(port) for port in self.model.outputs]
        self._requests.clear()
        return [port.get_any_name() for port in added]

    def _request(self, feed: dict[str, np.ndarray]):
        key = tuple(feed[spec.name].shape for spec in self.inputs)
        if key not in self._requests:
            model = self.model.clone()
            try:
                model.reshape({spec.name: list(shape) for spec, shape in zip(self.inputs, key, strict=True)})
                compiled = self._core.compile_model(model, "CPU", self._config)
            except RuntimeError as exc:  # a graph that loads dynamic but not at this shape
                raise InputError(f"{self.path} is not a model OpenVINO can run at input shapes "
                                 f"{', '.join(map(str, key))} ({_reason(exc)})") from None
            self._requests[key] = (compiled, compiled.create_infer_request())
        return self._requests[key]

    def infer(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        _, request = self._request(feed)
        for index, spec in enumerate(self.inputs):
            # Zero-copy: the tensor views the caller's array (made contiguous and of the
            # input's type first, a no-op for a well-formed feed) for this call only.
            array = np.ascontiguousarray(feed[spec.name], dtype=spec.dtype)
            request.set_input_tensor(index, ov.Tensor(array, shared_memory=True))
        request.infer()
        # The request reuses its output buffers on the next call: one copy each.
        return {spec.name: request.get_output_tensor(index).data.copy()
                for index, spec in enumerate(self.outputs)}
