"""`edgeseq predict`: run an artifact on the device runtimes, in the problem's terms."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer

from ..errors import InputError
from ..runtimes import DEVICE_RUNTIMES, open_runner, resolve
from .app import (
    JsonOption,
    RuntimeOption,
    command,
    emit_json,
    problem_for,
)


@command()
def predict(
    model: Annotated[Path, typer.Argument(help="An exported .onnx or .tflite file, or its directory.")],
    runtime: RuntimeOption = "auto",
    text: Annotated[Optional[str], typer.Option(
        "--input", "-i", help="The input as you would write it, e.g. 4,3,6,6,6 for vanilla.")] = None,
    input_file: Annotated[Optional[Path], typer.Option(
        "--input-file", help="A .npy array (one example or a batch), or for a model with several inputs "
                             "an .npz with one array per input name.")] = None,
    example: Annotated[bool, typer.Option(
        "--example", help="Draw a fresh example; print input, expected and predicted.")] = False,
    seed: Annotated[Optional[int], typer.Option(help="Seed for --example (default: random).")] = None,
    as_json: JsonOption = False,
):
    """Run an exported model on the device runtimes and answer in the problem's own terms.

    Inputs by architecture: vanilla 4,3,6,6,6 · stacked 50 comma-separated values (or --input-file series.npy) · cnn_lstm --input-file frames.npy · encoder_decoder 10+3+7 · bidirectional 10 values in [0,1) · generative a corner x,y · your own model --input-file x.npy (one input) or x.npz (one array per input name)
    """  # noqa: E501 - typer keeps a docstring's line breaks
    if sum(x is not None and x is not False for x in (text, input_file, example)) != 1:
        raise typer.BadParameter("give exactly one of --input, --input-file, --example")
    path, runtime = resolve(model, runtime)
    if runtime not in DEVICE_RUNTIMES:
        raise InputError(f"predict runs {' and '.join(DEVICE_RUNTIMES)} artifacts, not {path.name}")
    problem = problem_for(path)
    expected = None
    if example:
        batch, targets = problem.generate(1, np.random.default_rng(seed))
        expected = problem.decode(targets)
    elif input_file is not None:
        batch = problem.load_feed(input_file)
    else:
        batch = problem.encode(text)
    runner = open_runner(path, runtime)
    if problem.name == "user_inputs":  # a user's model: every output, by name
        return _predict_named(path, runtime, runner, problem, batch, as_json)
    outputs = runner.run_array(batch)
    answers = problem.decode(outputs)
    inputs = [problem.show_input(x) for x in batch]

    if as_json:
        document = {"model": str(path), "runtime": runtime}
        if len(answers) == 1:
            document |= {"input": inputs[0], "prediction": answers[0], "output": outputs[0].tolist()}
            if expected is not None:
                document["expected"] = expected[0]
        else:
            document |= {"inputs": inputs, "predictions": answers}
        return emit_json(document)
    if example:
        width = max(len(problem.input_label), len("Predicted")) + 2
        for label, value in ((problem.input_label, inputs[0]),
                             ("Expected", problem.show_answer(expected[0])),
                             ("Predicted", problem.show_answer(answers[0]))):
            print(f"{label + ':':<{width}}{value}")
        return
    for answer in answers:
        print(problem.show_answer(answer))


def _predict_named(path: Path, runtime: str, runner, problem, batch, as_json: bool):
    """A user's model may take several inputs (an .npz by input name) and give several
    outputs: answers are keyed by the model's own output names."""
    feed = batch if isinstance(batch, dict) else {runner.inputs[0].name: batch}
    outputs = runner.run(feed)
    answers = {name: problem.decode(value) for name, value in outputs.items()}
    rows = len(next(iter(feed.values())))
    if as_json:
        document = {"model": str(path), "runtime": runtime, "outputs": answers}
        if len(outputs) == 1:  # as before for one output: a prediction per input row
            predictions = next(iter(answers.values()))
            document |= ({"input": problem.show_input(next(iter(feed.values()))[0]), "prediction": predictions[0],
                          "output": next(iter(outputs.values()))[0].tolist()}
                         if rows == 1 else {"predictions": predictions})
        return emit_json(document)
    for i in range(rows):
        if len(outputs) == 1:
            print(problem.show_answer(next(iter(answers.values()))[i]))
        else:
            print("  ".join(f"{name}={problem.show_answer(values[i])}" for name, values in answers.items()))
