"""One interface for every runtime, after Polygraphy's runners: named tensors in, named
tensors out, so that parity and bench know nothing of the runtime behind it, and a model
with several inputs or outputs (or explicit recurrent state) is the same case as one with
one."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple  # None for a dynamic dimension
    dtype: str

    def to_json(self) -> dict:
        return asdict(self) | {"shape": list(self.shape)}


Feed = Mapping[str, np.ndarray]


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
    """A loaded model: `run` maps input name → batch to output name → batch."""

    runtime: str
    path: Path
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]

    @abstractmethod
    def infer(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Outputs for a feed keyed by this runner's own input names, batches of any size
        (runners of fixed-batch models loop)."""

    def run(self, feed: Feed) -> dict[str, np.ndarray]:
        return self.infer(self.bind(feed))

    def bind(self, feed: Feed) -> dict[str, np.ndarray]:
        """The feed keyed by this runner's input names. Keys are matched by name; a feed with
        none of them (another runtime's names for the same inputs, as when a TFLite
        signature says `sequence` where ONNX says `input`) is bound by position."""
        names = [spec.name for spec in self.inputs]
        if set(feed) == set(names):
            return dict(feed)
        if not set(feed) & set(names) and len(feed) == len(names):
            return dict(zip(names, feed.values(), strict=True))
        missing = sorted(set(names) - set(feed))
        unknown = sorted(set(feed) - set(names))
        raise InputError(f"{self.path.name} takes inputs {', '.join(names)}; "
                         + (f"missing {', '.join(missing)}" if missing else "")
                         + ("; " if missing and unknown else "")
                         + (f"unknown {', '.join(unknown)}" if unknown else ""))

    def run_array(self, batch: np.ndarray) -> np.ndarray:
        """One array in, one out: the helper for one-input, one-output models."""
        if len(self.inputs) != 1 or len(self.outputs) != 1:
            raise InputError(f"{self.path.name} has {len(self.inputs)} inputs and "
                             f"{len(self.outputs)} outputs; give named arrays (an .npz)")
        return self.infer({self.inputs[0].name: batch})[self.outputs[0].name]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path}>"
