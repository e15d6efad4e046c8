"""The edgeseq command line: one module per command, each registering on the app when it is
imported, in the order `--help` lists them. Imports no TensorFlow at module level: train and
export load it when they run, so predict, info and parity of exported artifacts stay light."""

# isort: skip_file
from __future__ import annotations

from .app import app
from . import listing, train, export, predict, parity, generate, stream, info, bench, mcu, compare  # noqa: F401, E402


def main() -> None:
    app()


__all__ = ["app", "main"]
