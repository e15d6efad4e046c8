"""Integer TFLite step models (float state and step at the interface, integer inside): int8,
and int16x8 (16-bit activations, 8-bit weights), made in a child process: full-integer
conversion has crashed the converter's process before (TOOLCHAIN.md), and a crash must be a
reported failure, not a lost export.

Calibration covers the state as well as the step: the representative (step, state) pairs
come from streaming the problem's own sequences through the Keras step model, so the
quantization ranges of h and c are those a real stream visits.

Why int16x8 too: with int8 activations the state is re-quantized to 8 bits at every step and
the error compounds (trained stacked: streamed MAE 0.0248 against Keras 0.0104, rejected);
16-bit activations keep it (0.0106). The fused window LSTM keeps its cell state in 16 bits
internally, which is why its int8 file does not show this.

    python -m edgeseq.exporters.step.step_integer ARCH MODEL.keras OUT.tflite VARIANT  → one JSON line
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from ...atomic import atomic_path
from . import step_model

#: variant → the converter's op set
VARIANTS = {"int8": "TFLITE_BUILTINS_INT8",
            "int16x8": "EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8"}
CALIBRATION_SEQUENCES = 64
CALIBRATION_SEED = 2024
ROUTE = "tf_keras step model at batch 1 → TFLiteConverter, integer inside, float step and state"
TIMEOUT_S = 900


def convert_isolated(arch_name: str, keras_file: Path, path: Path, variant: str) -> dict:
    """{"ok": True, "info": {...}} or {"ok": False, "reason": ...}."""
    command = [sys.executable, "-m", __name__, arch_name, str(keras_file), str(path), variant]
    try:
        child = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"ok": False, "reason": "converter timed out"}
    lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
    if child.returncode != 0 or not lines:
        tail = (child.stderr.strip().splitlines() or [f"exit {child.returncode}"])[-1]
        return {"ok": False, "reason": f"converter failed ({child.returncode}): {tail[:300]}"}
    return json.loads(lines[-1])


def _calibration(keras, plan, problem):
    inputs, _ = problem.generate(CALIBRATION_SEQUENCES, np.random.default_rng(CALIBRATION_SEED))
    step = step_model.build(keras, plan)
    state = np.zeros((len(inputs), plan.state_size), np.float32)
    pairs = []
    for t in range(inputs.shape[1]):
        pairs.append((inputs[:, t], state))
        state = np.asarray(step([inputs[:, t], state], training=False)[1])
    return [(x[i:i + 1], s[i:i + 1]) for x, s in pairs for i in range(len(x))]


def _main(arch_name: str, keras_file: str, out: str, variant: str) -> None:
    import keras  # noqa: PLC0415
    import tensorflow as tf  # noqa: PLC0415
    import tf_keras  # noqa: PLC0415

    from ... import registry  # noqa: PLC0415

    problem = registry.get(arch_name).problem
    model = keras.saving.load_model(keras_file, compile=False)
    plan = step_model.plan(model)
    with contextlib.redirect_stdout(sys.stderr):  # converter chatter off the JSON line
        pairs = _calibration(keras, plan, problem)
        twin = step_model.build(tf_keras, plan, batch_size=1)
        converter = tf.lite.TFLiteConverter.from_keras_model(twin)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_ops = [getattr(tf.lite.OpsSet, VARIANTS[variant])]
        # by name: the signature orders its inputs alphabetically (state before step), so a
        # list in the Keras model's order fed the state to the step ("[80,80] and [0,80]
        # are not broadcastable" at calibration)
        converter.representative_dataset = lambda: (
            {step_model.STEP_INPUT: x, step_model.STATE_INPUT: state} for x, state in pairs)
        flatbuffer = converter.convert()
    with atomic_path(Path(out)) as tmp:
        tmp.write_bytes(flatbuffer)
    info = {"format": "tflite", "variant": variant, "route": ROUTE, "step": True,
            "representative_pairs": len(pairs),
            "quantization": {"optimizations": ["DEFAULT"], "supported_ops": [VARIANTS[variant]],
                             "interface": "float32 step and state"}}
    print(json.dumps({"ok": True, "info": info}), flush=True)


if __name__ == "__main__":
    _main(*sys.argv[1:])
