"""The edgeseq command line: one module per command, each registering on the app when it is
imported. The table below is the wiring: `--help` lists the commands in its order, and a
command's module is imported only when that command runs (or help lists it), so
`edgeseq predict` loads neither the other commands nor what they import. Nothing here imports
TensorFlow: train and export load it when they run."""

from __future__ import annotations

import os
import sys

from .app import app
from .quick_exit import exit_now

#: command name → the module that registers it
COMMANDS = {name: f"{__name__}.{module}" for name, module in (
    ("list", "listing"), ("train", "train"), ("export", "export"), ("predict", "predict"),
    ("parity", "parity"), ("generate", "generate"), ("stream", "stream"), ("info", "info"),
    ("bench", "bench"), ("mcu", "mcu"), ("web", "web"), ("serve", "web"),
    ("compare", "compare"))}

#: Commands that use numpy only for small arrays around a runtime call. OpenBLAS starts its
#: thread pool when numpy is imported, about a third of numpy's import here; these commands
#: never reach BLAS, so their process asks for one thread (a value the user set is kept).
_NO_BLAS = ("predict", "stream")


def main() -> None:
    """The console script: run the command, then end the process without the interpreter's
    teardown (quick_exit.py)."""
    if sys.argv[1:2] and sys.argv[1] in _NO_BLAS:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        app()
        code = 0
    except SystemExit as done:
        code = done.code
    exit_now(code)


__all__ = ["COMMANDS", "app", "main"]
