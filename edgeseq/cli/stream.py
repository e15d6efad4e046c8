"""`edgeseq stream`: one time step in, one answer out, carrying the recurrent state between
steps (the export's step model). Reads stdin line by line and flushes every answer, so it
works inside a pipe: `sensor | edgeseq stream exported/stacked`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer

from ..array_files import read_npy
from ..errors import InputError
from ..streaming import open_stream, step_path
from . import validate
from .app import JsonOption, RuntimeOption, command, problem_for


def _lines(problem) -> Iterator[tuple[int, np.ndarray]]:
    # readline, not iteration over sys.stdin: each line is answered as soon as it arrives
    for number, line in enumerate(iter(sys.stdin.readline, ""), start=1):
        try:
            yield number, problem.encode_step(line.strip())
        except InputError as exc:
            raise InputError(f"line {number}: {exc}") from None


def _file_steps(problem, path: Path) -> Iterator[tuple[int, np.ndarray]]:
    frame = problem.input_shape[1:]
    array = read_npy(path)
    if array.dtype.kind not in "fiub":
        raise InputError(f"{path} must hold one numeric .npy array")
    if array.ndim == 1 and frame == (1,):  # a plain series of one-feature steps
        array = array[:, np.newaxis]
    if array.ndim < 1 or array.shape[1:] != frame or not len(array):
        raise InputError(f"{path} has shape {array.shape}; expected (T, {', '.join(map(str, frame))})")
    with np.errstate(over="ignore", invalid="ignore"):
        array = array.astype(np.float32)
    bad = np.flatnonzero(~np.isfinite(array.reshape(len(array), -1)).all(axis=1))
    if len(bad):
        raise InputError(f"{path}: step {bad[0] + 1} has NaN or infinity")
    array = problem.check_steps(array)
    yield from enumerate(array, start=1)


@command()
def stream(
    model: Annotated[Path, typer.Argument(help="An exported directory, or any artifact in it.")],
    runtime: RuntimeOption = "auto",
    input_file: Annotated[Optional[Path], typer.Option(
        "--input-file", help="A .npy array of steps, shape (T, features...), instead of stdin.")] = None,
    reset_every: Annotated[Optional[int], typer.Option(
        "--reset-every", min=1, max=validate.MAX_CALLS,
        help="Reset the state to zeros every N steps (N = the window "
                                     "length reproduces window answers).")] = None,
    as_json: JsonOption = False,
):
    """Answer one time step at a time, keeping the model's state between steps.

    stdin: one step a line, e.g. vanilla a digit 4 · stacked one value · generative a corner x,y · cnn_lstm a frame's 400 values · encoder_decoder one character of the sum (an empty line: a space), answered with the decoded answer to the question so far (questions are right-aligned in 8 characters: "  10+3+7" gives predict's answer). --json prints one JSON line per step.
    """  # noqa: E501 - typer keeps a docstring's line breaks
    path, runtime, section = step_path(model, runtime)
    problem = problem_for(path)
    streamer = open_stream(model, runtime)
    steps = _file_steps(problem, input_file) if input_file is not None else _lines(problem)
    since_reset = 0
    try:
        for number, x in steps:
            if reset_every is not None and since_reset == reset_every:
                streamer.reset()
                since_reset = 0
            output = streamer.step(x[np.newaxis])
            since_reset += 1
            answer = problem.decode(output)[0]
            line = (json.dumps({"step": number, "answer": answer, "since_reset": since_reset,
                                "output": [round(float(v), 7) for v in output[0].ravel()]})
                    if as_json else problem.show_answer(answer))
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as cat does
        sys.stderr.close()
        raise typer.Exit(0) from None
