"""Batch-1 latency of fused against unfused recurrent kernels, in one run.

For each architecture: TFLite fused (UNIDIRECTIONAL_SEQUENCE_LSTM, edgeseq's export) against
TFLite unfused (the Keras 3 model at batch 1 through from_keras_model: a WHILE loop), and
onnxruntime's native LSTM against the Keras eager call and model.predict.

    .venv/bin/python tools/bench_fusion.py vanilla stacked [--calls 2000] [--markdown out.md]

Uses exported/ARCH/model.keras when present, else a seeded untrained model (latency does
not depend on the weights' values).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edgeseq import registry  # noqa: E402
from edgeseq.exporters.onnx import to_onnx
from edgeseq.exporters.tflite import to_tflite  # noqa: E402
from edgeseq.measure import graph
from edgeseq.measure.bench_worker import latency, time_calls  # noqa: E402
from edgeseq.runtimes.onnx_runner import OnnxRunner  # noqa: E402
from edgeseq.runtimes.tflite_runner import TfliteRunner  # noqa: E402


def unfused_tflite(arch, model, path: Path) -> None:
    """The route edgeseq does not take: Keras 3 at batch 1 → WHILE loop of unfused math."""
    import keras
    import tensorflow as tf

    fixed = arch.build(keras, batch_size=1)
    fixed.set_weights(model.get_weights())
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(fixed).convert())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("archs", nargs="*", default=["vanilla", "stacked"])
    parser.add_argument("--calls", type=int, default=2000, help="timed calls per device runtime")
    parser.add_argument("--keras-calls", type=int, default=100, help="timed calls for Keras")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    args = parser.parse_args()

    import keras

    rows = []
    for name in args.archs:
        arch = registry.get(name)
        saved = Path("exported") / name / "model.keras"
        if saved.is_file():
            model = keras.saving.load_model(saved, compile=False)
        else:
            keras.utils.set_random_seed(0)
            model = arch.build(keras)
        x, _ = arch.problem.generate(1, np.random.default_rng(0))
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            to_tflite.save_twin(arch, model, arch.problem, tmp / "twin")
            to_tflite.convert(tmp / "twin", arch.problem, tmp / "fused.tflite")
            unfused_tflite(arch, model, tmp / "unfused.tflite")
            to_onnx.convert(model, arch.problem.input_shape, tmp / "model.onnx")
            fused, unfused = TfliteRunner(tmp / "fused.tflite"), TfliteRunner(tmp / "unfused.tflite")
            onnx = OnnxRunner(tmp / "model.onnx")
            assert np.allclose(fused.run_array(x), unfused.run_array(x), atol=1e-5)
            ops = {k: graph.summary(tmp / f, "tflite") for k, f in
                   (("fused", "fused.tflite"), ("unfused", "unfused.tflite"))}
            sizes = {k: (tmp / f).stat().st_size for k, f in
                     (("fused", "fused.tflite"), ("unfused", "unfused.tflite"))}
            timings = {
                "tflite fused": latency(time_calls(lambda: fused.run_array(x), args.calls)),
                "tflite unfused (WHILE)": latency(time_calls(lambda: unfused.run_array(x), args.calls)),
                "onnx native LSTM": latency(time_calls(lambda: onnx.run_array(x), args.calls)),
                "keras call": latency(time_calls(lambda: model(x, training=False), args.keras_calls, 5)),
                "keras predict": latency(time_calls(lambda: model.predict(x, verbose=0), args.keras_calls, 5)),
            }
        p50 = {k: v["p50_us"] for k, v in timings.items()}
        rows.append((name, p50, sizes, ops))

    lines = ["| arch | TFLite fused µs | TFLite WHILE µs | WHILE / fused | ONNX LSTM µs | "
             "Keras call µs | Keras call / ONNX | model.predict µs | predict / ONNX | "
             "fused / WHILE bytes |", "|" + "---|" * 10]
    for name, p50, sizes, _ops in rows:
        lines.append(
            f"| {name} | {p50['tflite fused']:.1f} | {p50['tflite unfused (WHILE)']:.1f} | "
            f"{p50['tflite unfused (WHILE)'] / p50['tflite fused']:.1f}× | "
            f"{p50['onnx native LSTM']:.1f} | {p50['keras call']:.0f} | "
            f"{p50['keras call'] / p50['onnx native LSTM']:.0f}× | {p50['keras predict']:.0f} | "
            f"{p50['keras predict'] / p50['onnx native LSTM']:.0f}× | "
            f"{sizes['fused']:,} / {sizes['unfused']:,} |")
    for name, _, _, ops in rows:
        lines.append(f"\n{name}: fused ops {ops['fused']['ops']}; unfused ops {ops['unfused']['ops']}")
    table = "\n".join(lines)
    print(table)
    if args.markdown:
        args.markdown.write_text(table + "\n")


if __name__ == "__main__":
    main()
