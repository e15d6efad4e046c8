"""Addition: three integers in 1..10 written as characters ("10+3+7"), answer their sum ("20").

Characters are one-hot over "0123456789+ ", right-aligned with spaces as in the seed's
encoder-decoder problem: 8 input characters ("10+10+10"), 2 output characters ("30").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .base import Metric, Problem, check_one_hot, one_hot

ALPHABET = "0123456789+ "
_SUM = re.compile(r"^\s*(\d+)\s*\+\s*(\d+)\s*\+\s*(\d+)\s*$")


@dataclass(frozen=True)
class Addition(Problem):
    terms: int = 3
    largest: int = 10

    name = "addition"
    summary = "add three integers in 1..10 given as characters, e.g. 10+3+7 → 20"
    metric = Metric("exact_match", higher_is_better=True, target=0.99)
    output_kind = "classes"
    typed_round_trip = True

    @property
    def chars_in(self) -> int:
        return len("+".join([str(self.largest)] * self.terms))

    @property
    def chars_out(self) -> int:
        return len(str(self.largest * self.terms))

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.chars_in, len(ALPHABET))

    def _encode_strings(self, strings: list[str], width: int) -> np.ndarray:
        index = {c: i for i, c in enumerate(ALPHABET)}
        codes = np.array([[index[c] for c in s.rjust(width)] for s in strings])
        return one_hot(codes, len(ALPHABET))

    def generate(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        numbers = rng.integers(1, self.largest + 1, size=(n, self.terms))
        questions = ["+".join(map(str, row)) for row in numbers]
        answers = [str(s) for s in numbers.sum(axis=1)]
        return (self._encode_strings(questions, self.chars_in),
                self._encode_strings(answers, self.chars_out))

    def encode(self, text: str) -> np.ndarray:
        match = _SUM.match(text) if self.terms == 3 else None
        if match is None:
            raise InputError(f"expected {self.terms} integers joined by '+', e.g. 10+3+7; got {text!r}")
        numbers = [int(g) for g in match.groups()]
        for number in numbers:
            if not 1 <= number <= self.largest:
                raise InputError(f"{number} is outside 1..{self.largest} in {text!r}")
        return self._encode_strings(["+".join(map(str, numbers))], self.chars_in)

    def encode_array(self, array: np.ndarray) -> np.ndarray:
        return check_one_hot(super().encode_array(array))

    def encode_step(self, text: str) -> np.ndarray:
        # One character a step, as the encoder reads a question. An empty line is the space
        # the window's questions are padded with on the left ("  10+3+7" is 8 steps).
        char = text.strip() or " "
        if len(char) != 1 or char not in ALPHABET:
            raise InputError(f"expected one character of {ALPHABET.strip()!r} (an empty line "
                             f"for a space), got {text!r}")
        return self._encode_strings([char], 1)[0, 0]

    def check_steps(self, steps: np.ndarray) -> np.ndarray:
        return check_one_hot(steps)

    def page_io(self) -> dict:
        # _SUM as a JavaScript RegExp: the same syntax for these classes and groups
        return {"input": {"kind": "sum", "pattern": _SUM.pattern, "terms": self.terms, "min": 1,
                          "max": self.largest, "alphabet": ALPHABET, "width": self.chars_in,
                          "example": "10+3+7", "label": f"{self.terms} integers in 1..{self.largest} joined by +"},
                "output": {"kind": "chars", "alphabet": ALPHABET}}

    @staticmethod
    def _chars(x: np.ndarray) -> str:
        return "".join(ALPHABET[i] for i in np.argmax(x, axis=-1)).strip()

    def decode(self, outputs: np.ndarray) -> list[int | str]:
        # A well-trained model writes digits; anything else is shown as written, not hidden.
        return [int(s) if s.isdigit() else s for s in map(self._chars, outputs)]

    def show_input(self, x: np.ndarray) -> str:
        return self._chars(x)

    def score(self, inputs: np.ndarray, targets: np.ndarray, outputs: np.ndarray) -> float:
        return float(np.mean((np.argmax(targets, -1) == np.argmax(outputs, -1)).all(axis=-1)))
