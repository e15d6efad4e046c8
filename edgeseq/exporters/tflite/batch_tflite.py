"""The TFLite batch-N variant (`model.b64.tflite`): batch throughput for `bench` and for
`predict --input-file` on big files.

Why a second file: the fused batch-1 model cannot be resized (TOOLCHAIN.md), so a batch runs
row by row. Why unrolled and not fused at batch N: TFLite's float LSTM kernel multiplies
weights by one batch row at a time, so a fused batch-64 file gained little here (stacked 3.8k
→ 4.8k samples/s, 0.10× onnxruntime), while the same twin with `unroll=True` becomes
FULLY_CONNECTED, ADD, MUL, LOGISTIC and TANH ops, which XNNPACK runs as batch-64 GEMMs
(stacked 81k/s, 1.9× onnxruntime; vanilla 2.0×, bidirectional 1.2×, measured side by side).
The price is size (stacked 252 KB against 25 KB fused), which a throughput file can pay.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from . import to_tflite

DEFAULT_BATCH = 64
ROUTE = "tf_keras twin at batch {n}, LSTMs unrolled → TFLiteConverter (XNNPACK GEMMs)"


def variant(batch: int) -> str:
    """fp32 at a fixed batch: held to the fp32 tolerance gate, not to the quantized gates."""
    return f"fp32-b{batch}"


def file_name(batch: int) -> str:
    return f"model.b{batch}.tflite"


def save_unrolled_twin(arch, model, problem, batch: int, scratch: Path, for_tflm: bool = False) -> None:
    """The tf_keras twin at `batch` with every LSTM unrolled, as a SavedModel in `scratch`.
    for_tflm: with the layers TFLite Micro lacks lowered, as the fused twin has them (the
    batch-1 route candidate may become model.tflite, which `edgeseq mcu` packs)."""
    import tf_keras  # noqa: PLC0415

    from . import tf_keras_twin  # noqa: PLC0415

    twin = arch.build(tf_keras_twin.for_tflm(tf_keras, lowered=for_tflm, unroll=True),
                      batch_size=batch, problem=problem)
    twin.set_weights(model.get_weights())  # the layouts match 1:1, as for the fused twin
    with contextlib.redirect_stdout(io.StringIO()):  # export() announces itself on stdout
        twin.export(str(scratch))


def convert(arch, model, problem, batch: int, out_dir: Path, scratch: Path) -> tuple[Path, dict]:
    """Write out_dir/model.bN.tflite from the trained Keras 3 `model`: (path, manifest info)."""
    save_unrolled_twin(arch, model, problem, batch, scratch)
    path = Path(out_dir) / file_name(batch)
    route = ROUTE.format(n=batch)
    info = to_tflite.convert(scratch, problem, path, route=route)
    return path, info | {"variant": variant(batch), "batch": batch}
