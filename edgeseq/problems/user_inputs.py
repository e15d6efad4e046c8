"""Inputs for a user's own Keras model: no task, only the model's input and output specs.

Parity inputs are drawn at random from a documented range: floats uniform in [low, high)
(default [0, 1)), integers uniform in [0, vocab) where vocab is the input_dim of the
Embedding the input feeds. A calibration set (`--calibration-file`, an .npy for a one-input
model or an .npz with one array per input name) replaces them: a seeded quarter of its rows
is held out for parity and the quantization gate, the rest calibrates full-integer variants.

A model with several inputs is fed a mapping of input name → batch; `tensors` describes each
input and `outputs` each output (its name and whether it looks like a classifier). A variable
time axis (None) is drawn at `length` steps, the length TFLite is fixed at.

Quantized variants are gated on `metric`: with labels (`--labels`), accuracy or MAE against
them; without, fidelity to the fp32 Keras outputs on the held-out rows: top-1 agreement for
classifier-like outputs (softmax or sigmoid) and relative error for the others (thresholds:
AGREEMENT_MIN, RELATIVE_ERROR_MAX).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..array_files import read_arrays
from ..errors import InputError
from .base import Metric, Problem

#: fidelity gate of a quantized user model without labels, on held-out rows
AGREEMENT_MIN = 0.98  # top-1 (argmax, or the 0.5 threshold) agreement with fp32 Keras
RELATIVE_ERROR_MAX = 0.05  # mean |quantized − Keras| / mean |Keras|
#: a calibration set's rows held out for parity and the gate (the rest calibrates)
HELD_OUT = 0.25
SPLIT_SEED = 99
DEFAULT_LENGTH = 8  # a variable time axis with neither --sequence-length nor calibration data
METRICS = ("accuracy", "mae")


@dataclass(frozen=True)
class UserInputs(Problem):
    shape: tuple = ()  # the first input's shape, without the batch; None for a variable axis
    dtype: str = "float32"
    low: float = 0.0
    high: float = 1.0
    vocab: int | None = None
    kind: str = "regression"  # classes (softmax output), binary (sigmoid) or regression
    calibration: Any = None  # example inputs (array, or name → array); not in the manifest
    tensors: tuple = ()  # every input: {"name", "shape", "dtype", "vocab"}
    outputs: tuple = ()  # every output: {"name", "kind"}
    length: int | None = None  # steps drawn for a variable time axis
    metric_name: str = "none"  # none (fp32 only), fidelity, accuracy or mae
    labels: Any = None  # targets for accuracy/mae (array, or name → array); not in the manifest
    output: str | None = None  # the output this view judges (for_output)

    name = "user_inputs"
    summary = "a user's own model: random inputs in a documented range, or the user's own"

    # -- what the model takes and gives -------------------------------------------------
    @property
    def specs(self) -> list[dict]:
        if self.tensors:
            return [dict(t) for t in self.tensors]
        return [{"name": "input", "shape": list(self.shape), "dtype": self.dtype, "vocab": self.vocab}]

    @property
    def input_names(self) -> list[str]:
        return [s["name"] for s in self.specs]

    @property
    def variable_length(self) -> bool:
        return any(d is None for s in self.specs for d in s["shape"])

    def concrete_shape(self, spec: dict, length: int | None = None) -> tuple[int, ...]:
        steps = length or self.length or DEFAULT_LENGTH
        return tuple(steps if d is None else int(d) for d in spec["shape"])

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.concrete_shape(self.specs[0])

    @property
    def output_kind(self):
        if self.output is not None:
            return next((o["kind"] for o in self.outputs if o["name"] == self.output), self.kind)
        return self.kind

    def for_output(self, name: str) -> UserInputs:
        return replace(self, output=name)

    def at_length(self, length: int) -> UserInputs:
        """The same model's inputs at another length: random values in the calibration's
        range, for the dynamic-axis parity of ONNX."""
        low, high = self.low, self.high
        if self.calibration is not None:
            values = np.concatenate([np.ravel(a) for a in _arrays(self.calibration, self.input_names)])
            low, high = float(values.min()), float(values.max()) + 1e-6
        return replace(self, length=length, calibration=None, labels=None, low=low, high=high,
                       metric_name="none")

    # -- the gate -----------------------------------------------------------------------
    @property
    def metric(self) -> Metric:
        name = self.metric_name
        if name == "fidelity":
            if self.output_kind in ("classes", "binary"):
                return Metric("top1_agreement", higher_is_better=True, target=AGREEMENT_MIN,
                              threshold=AGREEMENT_MIN)
            return Metric("relative_error", higher_is_better=False, target=RELATIVE_ERROR_MAX,
                          threshold=RELATIVE_ERROR_MAX)
        if name == "accuracy":
            return Metric("accuracy", higher_is_better=True, target=0.0)
        if name == "mae":
            return Metric("mae", higher_is_better=False, target=float("inf"))
        return Metric("none", higher_is_better=True, target=0.0)

    def reference_targets(self, targets, expected: dict):
        # fidelity: the fp32 Keras outputs are the targets
        return expected if self.metric_name == "fidelity" else targets

    def score(self, inputs, targets, outputs) -> float | None:
        if self.metric_name == "none":
            return None
        name = self.output or (self.outputs[0]["name"] if self.outputs else None)
        target = targets.get(name) if isinstance(targets, dict) else targets
        if target is None or np.size(target) == 0:
            return None
        out, target = np.asarray(outputs, np.float64), np.asarray(target)
        metric = self.metric.name
        if metric == "top1_agreement":
            return float(np.mean(self.decisions(out) == self.decisions(target)))
        if metric == "relative_error":
            return float(np.abs(out - target).mean() / max(np.abs(target).mean(), 1e-12))
        if metric == "accuracy":
            if self.output_kind == "classes":
                truth = np.argmax(target, -1) if target.shape == out.shape else target.reshape(out.shape[:-1])
                return float(np.mean(np.argmax(out, -1) == truth))
            return float(np.mean((out > 0.5) == (target.reshape(out.shape) > 0.5)))
        return float(np.abs(out - target.reshape(out.shape)).mean())

    # -- inputs -------------------------------------------------------------------------
    def params(self) -> dict[str, Any]:
        params = super().params()
        for key in ("calibration", "labels", "output"):
            params.pop(key)
        params["shape"] = list(self.shape)
        params["tensors"] = [dict(t) for t in self.tensors]
        params["outputs"] = [dict(o) for o in self.outputs]
        return params

    def _rows(self, held_out: bool) -> np.ndarray:
        count = len(_arrays(self.calibration, self.input_names)[0])
        order = np.random.default_rng(SPLIT_SEED).permutation(count)
        cut = count - max(1, int(round(count * HELD_OUT))) if count > 1 else count
        return order[cut:] if held_out else (order[:cut] if cut else order)

    def generate(self, n: int, rng: np.random.Generator, held_out: bool = True):
        if self.calibration is not None:
            # Every row as often as the others (whole shuffled passes, the last one cut): drawn
            # with replacement, 1,000 samples of 50 held-out rows weighted some rows 10× and
            # others 30×, so one row near a decision boundary decided a gate by chance.
            rows = self._rows(held_out)
            pick = np.concatenate([rng.permutation(rows) for _ in range(-(-n // len(rows)))])[:n]
            arrays = [a[pick] for a in _arrays(self.calibration, self.input_names)]
            labels = (None if self.labels is None else
                      {k: v[pick] for k, v in self.labels.items()} if isinstance(self.labels, dict)
                      else self.labels[pick])
        else:
            arrays = []
            for spec in self.specs:
                shape = (n, *self.concrete_shape(spec))
                if np.dtype(spec["dtype"]).kind in "iu":
                    arrays.append(rng.integers(0, spec["vocab"] or 2, size=shape))
                else:
                    arrays.append(rng.uniform(self.low, self.high, size=shape))
            labels = None
        arrays = [a.astype(s["dtype"]) for a, s in zip(arrays, self.specs, strict=True)]
        targets = labels if labels is not None else np.zeros((n, 0), dtype=np.float32)
        if len(arrays) == 1:
            return arrays[0], targets
        return dict(zip(self.input_names, arrays, strict=True)), targets

    def representative(self, n: int, rng: np.random.Generator):
        """Calibration rows for full-integer quantization: not the held-out ones."""
        return self.generate(n, rng, held_out=False)

    def encode(self, text: str) -> np.ndarray:
        shapes = ", ".join(f"{s['name']} {tuple(s['shape'])}" for s in self.specs)
        raise InputError(f"a user model takes --input-file: an .npy for one input, or an .npz with "
                         f"one array per input name ({shapes})")

    def check_array(self, array: np.ndarray, spec: dict) -> np.ndarray:
        """One input's array as a batch of its dtype, checked against its shape (any length
        on a variable axis: the runtime says whether it takes it)."""
        array = np.asarray(array)
        shape = tuple(spec["shape"])

        def fits(got):
            return len(got) == len(shape) and all(d is None or d == g for d, g in zip(shape, got, strict=True))

        if fits(array.shape):
            array = array[np.newaxis]
        if array.ndim != len(shape) + 1 or not fits(array.shape[1:]) or len(array) == 0:
            raise InputError(f"input {spec['name']!r} has shape {array.shape}; expected "
                             f"{tuple(shape)} or (N, {', '.join(map(str, shape))}) (None: any length)")
        if np.dtype(spec["dtype"]).kind in "iu":
            if array.dtype.kind not in "iu":
                raise InputError(f"input {spec['name']!r} has dtype {array.dtype}; the model takes integers")
            vocab = spec.get("vocab")
            if vocab is not None and ((array < 0) | (array >= vocab)).any():
                raise InputError(f"input holds token ids outside the vocabulary 0..{vocab - 1}")
            return array.astype(spec["dtype"])
        if array.dtype.kind not in "fiub":
            raise InputError(f"input {spec['name']!r} has dtype {array.dtype}; expected numbers")
        with np.errstate(over="ignore", invalid="ignore"):
            array = array.astype(np.float32)
        if not np.isfinite(array).all():
            raise InputError("input array contains NaN or infinity (or values too large for float32)")
        return array

    def encode_array(self, array: np.ndarray) -> np.ndarray:
        if len(self.specs) != 1:
            raise InputError(f"this model takes {len(self.specs)} inputs ({', '.join(self.input_names)}): "
                             "give an .npz with one array per input name")
        return self.check_array(array, self.specs[0])

    def load_feed(self, path: Path):
        """An .npy (one-input models) or an .npz (one array per input name), checked."""
        arrays = read_arrays(path)
        if isinstance(arrays, np.ndarray):
            return self.encode_array(arrays)
        names = self.input_names
        if len(names) == 1 and set(arrays) != set(names) and len(arrays) == 1:
            return self.encode_array(next(iter(arrays.values())))
        if set(arrays) != set(names):
            raise InputError(f"{path} holds {', '.join(sorted(arrays)) or 'nothing'}; the model takes "
                             f"{', '.join(names)}")
        feed = {s["name"]: self.check_array(arrays[s["name"]], s) for s in self.specs}
        if len({len(a) for a in feed.values()}) != 1:
            raise InputError(f"{path}: the inputs hold different numbers of rows")
        return feed

    def decode(self, outputs: np.ndarray) -> list:
        return [np.round(row.astype(np.float64), 6).tolist() for row in outputs]

    def show_input(self, x: np.ndarray) -> str:
        return f"array {x.shape} {x.dtype}"


def _arrays(data, names: list[str]) -> list[np.ndarray]:
    if isinstance(data, dict):
        return [data[n] for n in names]
    return [data]
