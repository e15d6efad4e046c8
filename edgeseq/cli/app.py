"""The typer app every command registers on, the consoles, and the decorator that turns
edgeseq's errors into one line and an exit code (see the CLI contract)."""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from .. import manifest as manifest_file
from .. import registry
from ..errors import EdgeseqError, InputError
from ..quiet_tensorflow import import_tensorflow, quiet_environment

quiet_environment()  # inherited by every child process a command starts


class _OneLineErrors(TyperGroup):
    """Usage errors (unknown option, missing argument, bad value) as one line on stderr,
    like every other edgeseq error; typer would draw a multi-line panel."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except Exception as exc:  # click's (or typer's vendored click's) exception classes
            name = type(exc).__name__
            if name == "Abort":
                sys.exit(1)
            if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
                raise
            if name == "NoArgsIsHelpError":  # `edgeseq` alone: show the help
                print(exc.format_message())
                sys.exit(0)
            ctx = getattr(exc, "ctx", None)
            where = f"{ctx.command_path}: " if ctx is not None else ""
            err.print(f"[red]error:[/] {escape(where + exc.format_message())} (see --help)",
                      highlight=False, soft_wrap=True)
            sys.exit(exc.exit_code)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=_OneLineErrors,
    help="Ship Keras LSTM sequence models to edge devices: train, export to ONNX and TFLite, "
         "run them without TensorFlow, and check parity with Keras.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # reflows the docstrings' paragraphs to the terminal width
)
# Tables and answers. Piped output gets room for the wide parity tables instead of rich's 80.
out = Console(width=None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", 150)))
err = Console(stderr=True)  # progress, logs and errors

EXPORTED = Path("exported")
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
RuntimeOption = Annotated[str, typer.Option(
    "--runtime", "-r", help="auto (by file suffix; a directory means onnx), onnx or tflite.")]


def command(*args, **kwargs):
    """app.command, turning EdgeseqError into a one-line message and its exit code."""
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*a, **kw):
            try:
                return fn(*a, **kw)
            except EdgeseqError as exc:
                err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
                raise typer.Exit(exc.exit_code) from None
        return app.command(*args, **kwargs)(wrapper)
    return decorate


def emit_json(document) -> None:
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


def fmt(value: float | None, spec: str = ".2e") -> str:
    return "-" if value is None else format(value, spec)


def out_dir_for(arch: str, out_dir: Optional[Path]) -> Path:
    return out_dir if out_dir is not None else EXPORTED / arch


def problem_for(path: Path):
    manifest = manifest_file.find(path)
    if manifest is None:
        raise InputError(f"no manifest.json beside {path}: edgeseq needs it to know the problem")
    return registry.problem_from_manifest(manifest)


def require_train_extra(command: str) -> None:
    import importlib.util  # noqa: PLC0415

    missing = [m for m in ("tensorflow", "keras", "tf_keras", "tf2onnx")
               if importlib.util.find_spec(m) is None]
    if missing:
        raise EdgeseqError(f"`edgeseq {command}` needs the [train] extra ({', '.join(missing)} "
                           "missing): pip install 'edgeseq[train]'")
    # Before anything imports it: TensorFlow's start-up lines would precede any refusal.
    import_tensorflow()


def keras_installed() -> bool:
    import importlib.util  # noqa: PLC0415

    return importlib.util.find_spec("keras") is not None and importlib.util.find_spec("tensorflow") is not None
