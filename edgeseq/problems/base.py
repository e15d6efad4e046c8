"""What every problem provides. Problems are pure numpy: the device install uses them to turn
human input into tensors and model outputs back into answers, without TensorFlow."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..array_files import read_npy
from ..errors import InputError


@dataclass(frozen=True)
class Metric:
    """A task metric and the skill a trained model must reach on it."""

    name: str
    higher_is_better: bool
    target: float
    #: an absolute bound for quantized variants, instead of a margin around Keras's own score
    #: (a user model's fidelity to Keras: Keras scores itself perfectly)
    threshold: float | None = None

    def reached(self, value: float) -> bool:
        return value >= self.target if self.higher_is_better else value <= self.target

    def describe_target(self) -> str:
        return f"{self.name} {'≥' if self.higher_is_better else '≤'} {self.target:g}"


OutputKind = Literal["classes", "binary", "regression"]


class Problem(ABC):
    """A toy sequence problem: generator, encoder, decoder and metric.

    Subclasses are frozen dataclasses whose fields are the problem's parameters, so that
    `params()` round-trips through the manifest.
    """

    name: str
    summary: str
    metric: Metric
    #: what a "decision" is in the outputs: argmax over the last axis, a 0.5 threshold, or none
    output_kind: OutputKind
    #: how `predict --example` labels the input line
    input_label = "Input"
    #: True for problems typed as discrete text (digits, sums): every valid encoded input is
    #: exactly what `encode` makes of its own `show_input`, so an array from a file is held
    #: to the typed input's rules by that round trip (a one-hot "++++++++" is refused).
    typed_round_trip = False

    @property
    @abstractmethod
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one example, without the batch axis."""

    @abstractmethod
    def generate(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """n examples as (inputs, targets), float32, batch first."""

    @abstractmethod
    def encode(self, text: str) -> np.ndarray:
        """One human-written input as a batch of one; raises InputError on anything else."""

    @abstractmethod
    def decode(self, outputs: np.ndarray) -> list[Any]:
        """Model outputs (batch first) as one JSON-able answer per example."""

    @abstractmethod
    def show_input(self, x: np.ndarray) -> str:
        """One encoded example (no batch axis) as the text a person would type."""

    def show_answer(self, answer: Any) -> str:
        if isinstance(answer, list):
            return ",".join(str(a) for a in answer)
        return str(answer)

    @abstractmethod
    def score(self, inputs: np.ndarray, targets: np.ndarray, outputs: np.ndarray) -> float:
        """The task metric of model outputs for these inputs and targets."""

    def decisions(self, outputs: np.ndarray) -> np.ndarray | None:
        """The discrete choices a model's outputs make, for agreement between runtimes."""
        if self.output_kind == "classes":
            return np.argmax(outputs, axis=-1)
        if self.output_kind == "binary":
            return outputs > 0.5
        return None

    def page_io(self) -> dict:
        """What the browser page (`edgeseq web`) needs to take an input in this problem's own
        terms and show the answer: declarations edgeseq.js interprets (its `encode` and
        `answer`), so the page has no code of its own per problem. By default every value of
        one example, comma-separated, and the raw outputs."""
        return {"input": {"kind": "numbers", "count": int(np.prod(self.input_shape)),
                          "what": "numbers", "label": f"{int(np.prod(self.input_shape))} numbers",
                          "example": ",".join(["0"] * int(np.prod(self.input_shape))),
                          "step_count": int(np.prod(self.input_shape[1:]))},
                "output": {"kind": "values"}}

    def for_output(self, name: str) -> Problem:
        """The problem as it judges one output (a model with several may judge each its own way)."""
        return self

    def reference_targets(self, targets, expected: dict):
        """The targets a metric compares with, given the reference's outputs by name."""
        return targets

    def representative(self, n: int, rng: np.random.Generator):
        """Inputs that calibrate full-integer quantization."""
        return self.generate(n, rng)

    def load_feed(self, path: Path):
        """An input file as a batch (or, for models with several inputs, name → batch)."""
        return self.load_array(path)

    def params(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    def encode_array(self, array: np.ndarray) -> np.ndarray:
        """An array given by the user (e.g. from .npy) as a float32 batch, checked for shape."""
        array = np.asarray(array)
        if array.dtype.kind not in "fiub":
            raise InputError(f"input array has dtype {array.dtype}; expected numbers")
        if array.shape == self.input_shape:
            array = array[np.newaxis]
        if array.ndim != len(self.input_shape) + 1 or array.shape[1:] != self.input_shape:
            raise InputError(
                f"input array has shape {array.shape}; expected {self.input_shape} "
                f"or (N, {', '.join(map(str, self.input_shape))})"
            )
        if array.shape[0] == 0:
            raise InputError("input array is empty")
        with np.errstate(over="ignore", invalid="ignore"):  # too large for float32 → inf
            array = array.astype(np.float32)
        if not np.isfinite(array).all():
            raise InputError("input array contains NaN or infinity (or values too large for float32)")
        return array

    def encode_step(self, text: str) -> np.ndarray:
        """One time step as a person writes it (a line of `edgeseq stream`): one frame, no
        batch axis. By default every value of the frame, comma-separated."""
        frame = self.input_shape[1:]
        values = parse_numbers(text, int(np.prod(frame)), what="numbers (one time step)")
        return self.check_steps(np.array(values, np.float32).reshape(1, *frame))[0]

    def check_steps(self, steps: np.ndarray) -> np.ndarray:
        """Steps (T, *frame), finite float32, checked as this problem's windows are."""
        return steps

    def load_array(self, path: Path) -> np.ndarray:
        """A .npy file as an encoded batch."""
        return self.check_as_typed(self.encode_array(read_npy(path)))

    def check_as_typed(self, batch: np.ndarray) -> np.ndarray:
        """Refuse rows that typed input would refuse (see typed_round_trip)."""
        if not self.typed_round_trip:
            return batch
        for i, row in enumerate(batch):
            text = self.show_input(row)
            try:
                again = self.encode(text)[0]
            except InputError as exc:
                raise InputError(f"input array row {i} reads {text!r}, which typed input "
                                 f"refuses: {exc}") from None
            if not np.array_equal(again, row):
                raise InputError(f"input array row {i} reads {text!r} but is not laid out as "
                                 f"edgeseq encodes it (compare `predict --input {text!r}`)")
        return batch


def parse_numbers(text: str, count: int, *, kind: type = float, what: str = "values") -> list:
    """Comma-separated numbers, exactly `count` of them, as `kind`; InputError otherwise."""
    parts = [p.strip() for p in text.replace(" ", ",").split(",") if p.strip()]
    if len(parts) != count:
        raise InputError(f"expected {count} comma-separated {what}, got {len(parts)}: {text!r}")
    values = []
    for part in parts:
        try:
            value = kind(part)
        except ValueError:
            raise InputError(f"{part!r} is not a valid {kind.__name__} in {text!r}") from None
        if kind is float and not np.isfinite(value):
            raise InputError(f"{part!r} is not a finite number in {text!r}")
        values.append(value)
    return values


def one_hot(indices: np.ndarray, depth: int) -> np.ndarray:
    return np.eye(depth, dtype=np.float32)[indices]


def check_one_hot(batch: np.ndarray) -> np.ndarray:
    if not (np.isin(batch, (0.0, 1.0)).all() and (batch.sum(axis=-1) == 1).all()):
        raise InputError("input array is not one-hot: each step needs exactly one 1")
    return batch


def check_range(batch: np.ndarray, low: float, high: float, *, closed: bool = False) -> np.ndarray:
    """Values outside what the model was trained on give confident nonsense: refuse them."""
    upper_ok = batch <= high if closed else batch < high
    if not ((batch >= low) & upper_ok).all():
        bad = batch[~((batch >= low) & upper_ok)].flat[0]
        raise InputError(f"value {bad:g} is outside [{low:g}, {high:g}{']' if closed else ')'}")
    return batch
