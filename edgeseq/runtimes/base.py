"""One interface for every runtime, after Polygraphy's runners: parity and bench know
nothing of the runtime behind it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple  # None for a dynamic dimension
    dtype: str

    def to_json(self) -> dict:
        return asdict(self) | {"shape": list(self.shape)}


def quantize(batch: np.ndarray, dtype, scale: float, zero_point: int) -> np.ndarray:
    """Float input → a tensor's type; integer tensors (full-int8 models) use its scale."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iu" and scale:
        info = np.iinfo(dtype)
        return np.clip(np.round(batch / scale + zero_point), info.min, info.max).astype(dtype)
    return batch.astype(dtype, copy=False)


def dequantize(output: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    if output.dtype.kind in "iu" and scale:
        return ((output.astype(np.float32) - zero_point) * scale).astype(np.float32)
    return output.astype(np.float32, copy=True)


class Runner(ABC):
    """A loaded model that maps one float32 input batch to one output batch."""

    runtime: str
    path: Path
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]

    @abstractmethod
    def run(self, batch: np.ndarray) -> np.ndarray:
        """Outputs for a batch of any size (runners of fixed-batch models loop)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path}>"
