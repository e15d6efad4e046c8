"""What every stage of an export reads: the subject and its trained model, the directories,
the options. Made once by the pipeline; stages take it and return artifact values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..checks.parity import Tolerance
from ..registry import Architecture
from ..runtimes import DEVICE_RUNTIMES
from ..runtimes.keras_runner import KerasRunner

FORMATS = DEVICE_RUNTIMES  # one format per runtime a device runs
#: Written only on request. ort and openvino (the IR) are made from model.onnx: they bring onnx.
OPTIONAL_FORMATS = ("ort", "openvino")


@dataclass
class Job:
    arch: Architecture
    model: object  # the trained Keras model
    out_dir: Path
    staging: Path  # the new generation: every artifact is written here
    scratch: Path  # converter work (twins, route candidates), removed when the export ends
    formats: tuple  # FORMATS and OPTIONAL_FORMATS asked for
    quantize: tuple
    samples: int
    batch: int
    optimize: str
    log: Callable[[str], None]
    keras_runner: KerasRunner

    @property
    def problem(self):
        return self.arch.problem

    @property
    def device(self) -> list[str]:
        """The formats a device runtime runs (ort and the IR are forms of model.onnx)."""
        return [f for f in self.formats if f in FORMATS]

    @property
    def tolerance(self) -> Tolerance:
        return Tolerance(atol=self.arch.training.atol)

    @property
    def io_specs(self) -> dict | None:
        """A user's model: its Keras names everywhere."""
        return getattr(self.arch, "io_specs", None)

    @property
    def twin_dir(self) -> Path:
        return self.scratch / "saved_model"
