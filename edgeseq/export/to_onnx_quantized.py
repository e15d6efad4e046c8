"""Quantized ONNX variants with onnxruntime.quantization (no TensorFlow needed).

- dynamic-int8: weights int8, activations quantized on the fly; LSTM becomes
  DynamicQuantizeLSTM (int8 weights inside the recurrent op).
- int8: static QDQ, calibrated on inputs drawn from the problem's generator, for everything
  but the LSTMs; onnxruntime's QDQ quantizer has no LSTM support (an LSTM stays float between
  Q/DQ pairs, and the file grew: vanilla 18.2 → 21.1 KB), so the LSTMs then get the dynamic
  quantizer's DynamicQuantizeLSTM (vanilla 11.5 KB).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from .to_onnx import INPUT_NAME
from .to_tflite import CALIBRATION_SEED, REPRESENTATIVE_SAMPLES

VARIANTS = ("dynamic-int8", "int8")


def convert(fp32_path: Path, problem, path: Path, variant: str) -> dict:
    from onnxruntime.quantization import (  # noqa: PLC0415
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process  # noqa: PLC0415

    class Calibration(CalibrationDataReader):
        def __init__(self):
            inputs, _ = problem.generate(REPRESENTATIVE_SAMPLES, np.random.default_rng(CALIBRATION_SEED))
            self.feeds = iter({INPUT_NAME: x[np.newaxis]} for x in inputs)

        def get_next(self):
            return next(self.feeds, None)

    with tempfile.TemporaryDirectory() as tmp, atomic_path(path) as out:
        # onnxruntime's recommended pre-processing (shape inference, graph optimisation);
        # the symbolic pass needs sympy, and these graphs have static shapes but the batch.
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=True)
        if variant == "dynamic-int8":
            quantize_dynamic(str(pre), str(out), weight_type=QuantType.QInt8)
            settings = {"method": "quantize_dynamic", "weight_type": "QInt8"}
        elif variant == "int8":
            qdq = Path(tmp) / "qdq.onnx"
            quantize_static(str(pre), str(qdq), Calibration(), quant_format=QuantFormat.QDQ,
                            activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
            quantize_dynamic(str(qdq), str(out), weight_type=QuantType.QInt8,
                             op_types_to_quantize=["LSTM"])
            settings = {"method": "quantize_static", "format": "QDQ", "activation_type": "QInt8",
                        "weight_type": "QInt8", "calibration_samples": REPRESENTATIVE_SAMPLES,
                        "lstm": "quantize_dynamic (DynamicQuantizeLSTM)"}
        else:
            raise ValueError(f"no ONNX variant {variant!r}")
    return {"format": "onnx", "variant": variant, "route": "onnxruntime.quantization",
            "quantization": settings}
