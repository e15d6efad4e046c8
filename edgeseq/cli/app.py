"""The typer app every command registers on, the consoles, and the decorator that turns
edgeseq's errors into one line and an exit code (see the CLI contract).

rich is imported on first use, not here: `edgeseq predict` answers with print(), and rich's
console and markup cost about a tenth of its cold start (`python -X importtime`)."""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from .. import manifest as manifest_file
from .. import registry
from ..errors import EdgeseqError, InputError
from ..quiet_tensorflow import quiet_environment, require_train
from .commands_on_demand import CommandsOnDemand

quiet_environment()  # inherited by every child process a command starts


class _OneLineErrors(TyperGroup):
    """Usage errors (unknown option, missing argument, bad value) as one line on stderr,
    like every other edgeseq error; typer would draw a multi-line panel. Commands are
    imported when first asked for (commands_on_demand.py)."""

    def __init__(self, *, commands=None, **kwargs):
        from . import COMMANDS  # noqa: PLC0415 - the package's table; it imports this module

        super().__init__(commands=CommandsOnDemand(COMMANDS, commands or {}, _click_command), **kwargs)

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except Exception as exc:  # click's (or typer's vendored click's) exception classes
            name = type(exc).__name__
            if name == "Abort":  # click's word for Ctrl-C (or EOF) outside a command's body
                err.print("interrupted", highlight=False)
                sys.exit(INTERRUPTED)
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


def _click_command(name: str):
    """The click command for `name`, once its module has registered it on the app."""
    info = next(i for i in app.registered_commands
                if (i.name or typer.main.get_command_name(i.callback.__name__)) == name)
    return typer.main.get_command_from_info(info, pretty_exceptions_short=app.pretty_exceptions_short,
                                            rich_markup_mode=app.rich_markup_mode)


def escape(text: str) -> str:
    """rich markup escaped (rich imported when there is something to print)."""
    from rich.markup import escape as rich_escape  # noqa: PLC0415

    return rich_escape(text)


class _LazyConsole:
    """A rich Console made on first use, with the options given here."""

    def __init__(self, **options):
        self._options = options
        self._console = None

    def __getattr__(self, name):
        if self._console is None:
            from rich.console import Console  # noqa: PLC0415

            options = {k: v() if callable(v) else v for k, v in self._options.items()}
            self._console = Console(**options)
        return getattr(self._console, name)


app = typer.Typer(
    cls=_OneLineErrors,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Ship Keras LSTM sequence models to edge devices: train, export to ONNX and TFLite, "
         "run them without TensorFlow, and check parity with Keras.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # reflows the docstrings' paragraphs to the terminal width
)
# Tables and answers. Piped output gets room for the wide parity tables instead of rich's 80.
out = _LazyConsole(width=lambda: None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", 150)))
err = _LazyConsole(stderr=True)  # progress, logs and errors

EXPORTED = Path("exported")
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
RuntimeOption = Annotated[str, typer.Option(
    "--runtime", "-r", help="auto (by file suffix; a directory means onnx), onnx, tflite, ort (predict: "
         "the .ort file of export --format ort), or openvino (the IR model.xml, else the .onnx; needs "
         "the [openvino] extra).")]


def _version(value: bool) -> None:
    if value:
        from .. import __version__  # noqa: PLC0415

        print(f"edgeseq {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False):
    """Ship Keras LSTM sequence models to edge devices: train, export to ONNX and TFLite, run
    them without TensorFlow, and check parity with Keras."""


#: Exit code of a process stopped by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130


def command(*args, interrupted: str = "stopped", **kwargs):
    """app.command, turning EdgeseqError into a one-line message and its exit code, and
    Ctrl-C into one line saying what was kept (`interrupted`) and exit 130."""
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*a, **kw):
            try:
                return fn(*a, **kw)
            except EdgeseqError as exc:
                err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
                raise typer.Exit(exc.exit_code) from None
            except KeyboardInterrupt:
                err.print(f"interrupted; {escape(interrupted)}", highlight=False, soft_wrap=True)
                raise typer.Exit(INTERRUPTED) from None
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
    require_train(f"`edgeseq {command}`")
