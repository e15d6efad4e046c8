"""`edgeseq generate`: roll a generative model out from its start."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer

from ..errors import InputError
from ..runtimes import DEVICE_RUNTIMES, open_runner, resolve
from ..streaming import open_stream, window_through_steps
from . import validate
from .app import JsonOption, RuntimeOption, command, emit_json, err, problem_for


@command()
def generate(
    model: Annotated[Path, typer.Argument(help="An exported generative .onnx or .tflite file, or its directory.")],
    runtime: RuntimeOption = "auto",
    plot: Annotated[Optional[Path], typer.Option(
        "--plot", help="Save the generated rectangle beside a true one (PNG).")] = None,
    seed: Annotated[int, typer.Option(min=0, max=validate.SEED_MAX,
                                      help="Seed of the true rectangle drawn for --plot.")] = 0,
    as_json: JsonOption = False,
):
    """Draw a rectangle from (0,0), corner by corner, feeding each prediction back in."""
    validate.plot_path(plot)
    path, runtime = resolve(model, runtime)
    if runtime not in DEVICE_RUNTIMES:
        raise InputError(f"generate runs {' and '.join(DEVICE_RUNTIMES)} artifacts, not {path.name}")
    problem = problem_for(path)
    if not hasattr(problem, "rollout"):
        raise InputError(f"{path} solves {problem.name}, which generates nothing; "
                         "use a generative model (exported/generative)")
    try:  # the step model when the export has one: each new corner is one step
        stream = open_stream(path, runtime)
        driver, step = stream.runner.path, window_through_steps(stream, problem.input_shape[0])
    except InputError:  # exported before streaming existed
        driver, step = path, open_runner(path, runtime).run_array
    corners = problem.rollout(step)
    score = problem.rollout_score(corners)
    if as_json:
        emit_json({"model": str(path), "runtime": runtime, "ran": driver.name,
                   "corners": [[round(float(v), 6) for v in c] for c in corners],
                   problem.metric.name: score})
    else:
        for x, y in corners:
            print(f"{x:.4f},{y:.4f}")
        err.print(f"{problem.metric.name} {score:.4f} (0 is a perfect rectangle)")
    if plot is not None:  # after the answer: a plot that fails to save loses nothing computed
        from .. import plots  # noqa: PLC0415

        rng = np.random.default_rng(seed)
        validate.save_plot(lambda: plots.rectangles(
            corners, problem.outline(rng.random(), rng.random()), plot,
            f"{runtime}: {problem.metric.name} {score:.4f}"), plot)
