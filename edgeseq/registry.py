"""The architectures edgeseq knows: one line each, pairing a problem with its builder.

Importing this module imports no Keras and no problem: builders are loaded by name when a
model is built, a problem's module when its architecture's problem is first asked for.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cached_property
from types import ModuleType
from typing import TYPE_CHECKING, ClassVar

from .errors import EdgeseqError

if TYPE_CHECKING:
    from .problems import Problem


@dataclass(frozen=True)
class Architecture:
    name: str
    problem_class: str  # class name in edgeseq.problems
    builder: str  # module under edgeseq.architectures
    model: str  # one-line description of the layers
    #: What export asks of a subject (DESIGN "Interfaces"): an edgeseq architecture, trained
    #: here to its skill; export/user_model.UserModel says True.
    is_user_model: ClassVar[bool] = False

    @cached_property  # writes the instance __dict__ directly, so a frozen dataclass takes it
    def problem(self) -> Problem:
        """The problem with its default parameters."""
        from . import problems  # noqa: PLC0415

        return getattr(problems, self.problem_class)()

    @property
    def module(self) -> ModuleType:
        return importlib.import_module(f"edgeseq.architectures.{self.builder}")

    @property
    def training(self):
        return self.module.TRAINING

    def build(self, keras, batch_size=None, problem: Problem | None = None):
        return self.module.build(keras, problem or self.problem, batch_size=batch_size)

    def tflite_twin(self, model, problem: Problem | None = None):
        """The architecture rebuilt in tf_keras at batch 1 with the Keras 3 model's weights
        (the layouts match 1:1): the form the TFLite converter fuses (export/to_tflite.py),
        with layers TFLite Micro cannot run lowered (export/tf_keras_twin.py)."""
        import tf_keras  # noqa: PLC0415

        from .exporters.tflite.tf_keras_twin import for_tflm  # noqa: PLC0415

        twin = self.build(for_tflm(tf_keras), batch_size=1, problem=problem)
        twin.set_weights(model.get_weights())
        return twin


ARCHITECTURES: dict[str, Architecture] = {
    a.name: a
    for a in [
        Architecture("vanilla", "Echo", "vanilla", "LSTM(25) → Dense(10, softmax)"),
        Architecture("stacked", "DampedSine", "stacked", "LSTM(20, seq) → LSTM(20) → Dense(5)"),
        Architecture("cnn_lstm", "MovingLine", "cnn_lstm",
                     "TD(Conv2D(2, 2×2) → MaxPool → Flatten) → LSTM(50) → Dense(1, sigmoid)"),
        Architecture("encoder_decoder", "Addition", "encoder_decoder",
                     "LSTM(75) → RepeatVector(2) → LSTM(50, seq) → TD(Dense(12, softmax))"),
        Architecture("bidirectional", "CumulativeSum", "bidirectional",
                     "Bidirectional(LSTM(50, seq)) → TD(Dense(1, sigmoid))"),
        Architecture("generative", "Rectangles", "generative", "LSTM(10) → Dense(2)"),
    ]
}


def get(name: str) -> Architecture:
    try:
        return ARCHITECTURES[name]
    except KeyError:
        known = ", ".join(ARCHITECTURES)
        raise EdgeseqError(f"unknown architecture {name!r}; known: {known}") from None


def problem_from_manifest(manifest: dict) -> Problem:
    """The problem an exported directory was trained on, with its recorded parameters."""
    from .problems.user_inputs import UserInputs  # noqa: PLC0415

    params = manifest["problem"]["params"]
    try:
        if manifest["problem"]["name"] == UserInputs.name:
            return UserInputs(**params | {"shape": tuple(params["shape"])})
        from . import problems  # noqa: PLC0415

        return getattr(problems, get(manifest["architecture"]).problem_class)(**params)
    except (KeyError, TypeError, ValueError) as exc:  # a hand-edited manifest's parameters
        raise EdgeseqError(f"manifest.json: the problem's parameters {params} do not fit "
                           f"{manifest['problem']['name']} ({exc})") from None
