"""What an export produces, as values: one `Artifact` per file, the same description for the
export pipeline that writes them, the manifest that lists them and the Python API that hands
them to a user. Numpy-free and TensorFlow-free: a device reads it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

#: what a file is for, by its manifest fields (`kind`)
KINDS = ("model", "variant", "step", "decoder", "floor", "reference", "companion", "keras")
#: formats of files a runtime runs (the rest are references and companions of those)
MODEL_FORMATS = ("onnx", "tflite", "ort", "openvino")


@dataclass(frozen=True)
class Artifact:
    """One file of an export. `form` is the route the fp32 file took (fused, unrolled, native,
    loop …) or, for a quantized variant, the fp32 form it was converted from; `gate` says how
    parity judged it (tolerance for fp32 files, the task metric for quantized ones, None for
    files that are not models)."""

    path: Path
    format: str
    variant: str | None = None
    form: str | None = None
    route: str | None = None
    gate: str | None = None
    info: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def file(self) -> str:
        return self.path.name

    @property
    def bytes(self) -> int | None:
        return self.info.get("bytes")

    @property
    def kind(self) -> str:
        if self.format in ("keras", "reference"):
            return self.format
        if self.format not in MODEL_FORMATS:
            return "companion"  # the IR's weights, ORT's operator list
        if self.variant == "floor":
            return "floor"
        if self.info.get("decoder"):
            return "decoder"
        if self.info.get("step"):
            return "step"
        return "model" if self.variant in (None, "fp32") else "variant"

    @classmethod
    def staged(cls, path: Path, info: dict) -> Artifact:
        """A file the export pipeline has just written, with what its converter said of it
        (the manifest entry, less the file's own bytes and sha256)."""
        return cls(path=Path(path), format=info["format"], variant=info.get("variant"),
                   form=info.get("route_form"), route=info.get("route"), info=dict(info))

    def with_info(self, **changes) -> Artifact:
        return Artifact.staged(self.path, self.info | changes)

    @classmethod
    def from_manifest(cls, directory: Path, entry: dict) -> Artifact:
        variant = entry.get("variant")
        gate = None
        if entry.get("format") in MODEL_FORMATS and variant not in ("floor", None):
            gate = "tolerance" if variant.split("-", 1)[0] == "fp32" else "metric"
        return cls(path=Path(directory) / entry["file"], format=entry["format"], variant=variant,
                   form=entry.get("route_form"), route=entry.get("route"), gate=gate, info=dict(entry))

    def to_json(self) -> dict:
        return {"file": self.file, "format": self.format, "variant": self.variant, "kind": self.kind,
                "bytes": self.bytes, "form": self.form, "route": self.route, "gate": self.gate}


def of_manifest(directory: Path, manifest: dict) -> list[Artifact]:
    """The artifacts a manifest lists, in its order."""
    return [Artifact.from_manifest(directory, entry) for entry in manifest.get("artifacts", [])]
