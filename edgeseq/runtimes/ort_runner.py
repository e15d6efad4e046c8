"""onnxruntime on an ORT format file (model.ort): the format of its minimal builds."""

from __future__ import annotations

from .onnx_runner import OnnxRunner


class OrtRunner(OnnxRunner):
    runtime = "ort"
