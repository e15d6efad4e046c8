"""Which standard Keras layers a user's model may contain: one small seeded model per layer
type, each through `edgeseq export PATH.keras`, reported per format as a markdown table.

    .venv/bin/python tools/user_layer_sweep.py > layers.md

Each model is exported by the real CLI in its own process (the same parity gate as any user
model); the table gives, per format, whether it passed, its max abs error against Keras, and
whether its recurrent layers became fused ops, or the one-line error the CLI printed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path


def models(keras):
    L = keras.layers  # noqa: N806

    def seq(shape, *layers, dtype="float32"):
        inputs = keras.Input(shape, dtype=dtype)
        x = inputs
        for layer in layers:
            x = layer(x)
        return keras.Model(inputs, x)

    return {
        "LSTM": seq((8, 3), L.LSTM(6), L.Dense(2)),
        "LSTM (return_sequences, stacked)": seq((8, 3), L.LSTM(6, return_sequences=True), L.LSTM(4), L.Dense(1)),
        "GRU": seq((8, 3), L.GRU(6), L.Dense(2)),
        "SimpleRNN": seq((8, 3), L.SimpleRNN(6), L.Dense(2)),
        "Bidirectional(LSTM)": seq((8, 3), L.Bidirectional(L.LSTM(5)), L.Dense(1)),
        "Conv1D + MaxPooling1D": seq((16, 3), L.Conv1D(4, 3, activation="relu"), L.MaxPooling1D(2),
                                     L.LSTM(4), L.Dense(1)),
        "TimeDistributed(Conv2D, MaxPooling2D, Flatten)": seq(
            (4, 8, 8, 1), L.TimeDistributed(L.Conv2D(2, 3)), L.TimeDistributed(L.MaxPooling2D(2)),
            L.TimeDistributed(L.Flatten()), L.LSTM(4), L.Dense(1)),
        "Conv2D + AveragePooling2D + Flatten": seq((8, 8, 1), L.Conv2D(3, 3), L.AveragePooling2D(2),
                                                   L.Flatten(), L.Dense(2)),
        "RepeatVector + TimeDistributed(Dense)": seq((6, 2), L.LSTM(5), L.RepeatVector(3),
                                                     L.LSTM(4, return_sequences=True),
                                                     L.TimeDistributed(L.Dense(3, activation="softmax"))),
        "Masking": seq((6, 3), L.Masking(0.0), L.LSTM(4), L.Dense(1)),
        "Dropout + BatchNormalization": seq((6, 3), L.LSTM(6), L.Dropout(0.3), L.BatchNormalization(),
                                            L.Dense(1)),
        "Embedding": seq((9,), L.Embedding(40, 4), L.LSTM(4), L.Dense(1, activation="sigmoid"), dtype="int32"),
        "GlobalAveragePooling1D": seq((8, 3), L.Conv1D(4, 2), L.GlobalAveragePooling1D(), L.Dense(1)),
        "Lambda": seq((5, 2), L.Lambda(lambda x: x * 2), L.LSTM(4), L.Dense(1)),
    }


def row(name: str, path: Path, out: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "edgeseq", "export", str(path), "--out", str(out), "--json"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        error = (done.stderr.strip().splitlines() or ["?"])[-1]
        return f"| {name} | refused (exit {done.returncode}): {error} | |"
    document = json.loads(done.stdout)
    cells = []
    for fmt in ("onnx", "tflite"):
        result = next(r for r in document["parity"]["results"] if r["runtime"] == fmt)
        entry = next(a for a in document["artifacts"] if a["file"] == f"model.{fmt}")
        recurrent = ("fused" if entry.get("fused") else "loop") if entry.get("recurrent_ops") or \
            entry.get("loop_ops") else "no recurrence"
        cells.append(f"{'passes' if result['passed'] else 'FAILS'}, max abs {result['max_abs']:.1e}, {recurrent}")
    return f"| {name} | {cells[0]} | {cells[1]} |"


def main() -> None:
    import keras

    keras.utils.set_random_seed(0)
    print("| layers | ONNX | TFLite |\n|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, model) in enumerate(models(keras).items()):
            path = Path(tmp) / f"m{i}.keras"
            model.save(path)
            print(row(name, path, Path(tmp) / f"out{i}"), flush=True)


if __name__ == "__main__":
    main()
