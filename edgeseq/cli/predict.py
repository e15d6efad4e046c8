"""`edgeseq predict`: run an artifact on the device runtimes, in the problem's terms."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer

from .. import feeds
from .. import manifest as manifest_file
from ..errors import InputError
from ..runtimes import DEVICE_RUNTIMES, open_runner, resolve
from . import validate
from .app import JsonOption, RuntimeOption, command, emit_json, err, problem_for

#: Runtimes predict answers with: the device's, the ORT format, and OpenVINO on the ONNX file.
RUNNABLE = (*DEVICE_RUNTIMES, "ort", "openvino")


@command()
def predict(
    model: Annotated[Path, typer.Argument(help="An exported .onnx or .tflite file, or its directory.")],
    runtime: RuntimeOption = "auto",
    text: Annotated[Optional[str], typer.Option(
        "--input", "-i", help="The input as you would write it, e.g. 4,3,6,6,6 for vanilla.")] = None,
    input_file: Annotated[Optional[Path], typer.Option(
        "--input-file", help="A .npy array (one example or a batch), or an .npz with one array per "
                             "input name (a model with several inputs; `compare --save-inputs` writes one).")] = None,
    example: Annotated[bool, typer.Option(
        "--example", help="Draw a fresh example; print input, expected and predicted.")] = False,
    seed: Annotated[Optional[int], typer.Option(
        min=0, max=validate.SEED_MAX, help="Seed for --example (default: random).")] = None,
    save_outputs: Annotated[Optional[Path], typer.Option(
        "--save-outputs", help="Write the raw outputs, one array per output name (.npz), for "
                               "`edgeseq compare --load-outputs` on another machine.")] = None,
    as_json: JsonOption = False,
):
    """Run an exported model on the device runtimes and answer in the problem's own terms.

    Inputs by architecture: vanilla 4,3,6,6,6 · stacked 50 comma-separated values (or --input-file series.npy) · cnn_lstm --input-file frames.npy · encoder_decoder 10+3+7 · bidirectional 10 values in [0,1) · generative a corner x,y · your own model --input-file x.npy (one input) or x.npz (one array per input name)
    """  # noqa: E501 - typer keeps a docstring's line breaks
    if sum(x is not None and x is not False for x in (text, input_file, example)) != 1:
        raise typer.BadParameter("give exactly one of --input, --input-file, --example")
    path, runtime = resolve(model, runtime)
    if runtime not in RUNNABLE:
        raise InputError(f"predict runs {', '.join(RUNNABLE)} artifacts, not {path.name}")
    if save_outputs is not None:
        validate.output_file(save_outputs, "--save-outputs", suffixes=(".npz",))
    named = input_file is not None and input_file.suffix == ".npz"
    if named and manifest_file.find(path) is None:
        # Any model, no problem to decode with: a golden-file run of a user's artifact.
        return _predict_raw(open_runner(path, runtime), feeds.load(input_file, "inputs"), save_outputs, as_json)
    problem = problem_for(path)
    runner = open_runner(path, runtime)
    expected = None
    if example:
        batch, targets = problem.generate(1, np.random.default_rng(seed))
        expected = problem.decode(targets)
    elif named and problem.name != "user_inputs":  # a built-in's input, by name (from compare)
        loaded = runner.bind(feeds.load(input_file, "inputs"))
        if len(loaded) != 1:
            raise InputError(f"{input_file} holds {len(loaded)} inputs; {path.name} takes one")
        batch = problem.encode_array(next(iter(loaded.values())))
    elif input_file is not None:
        batch = (problem.load_feed(validate.input_file(input_file, "--input-file", suffixes=(".npy", ".npz")))
                 if problem.name == "user_inputs"
                 else problem.load_array(validate.input_file(input_file, "--input-file")))
    else:
        batch = problem.encode(text)
    if problem.name == "user_inputs":  # a user's model: every output, by name
        return _predict_named(path, runtime, runner, problem, batch, save_outputs, as_json)
    if len(runner.inputs) != 1:
        raise InputError(f"{path.name} takes {len(runner.inputs)} inputs; give them as an .npz")
    batch = validate.fits_runner(batch, runner)
    if input_file is not None:  # a big file runs through the batch-N file when there is one
        big = manifest_file.batch_file(path, len(batch))
        if big is not None:
            path, runner = big, open_runner(big, runtime)
    named_outputs = runner.run({runner.inputs[0].name: batch})
    _save(save_outputs, named_outputs)
    outputs = named_outputs[runner.outputs[0].name]
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


def _save(path: Optional[Path], outputs: dict) -> None:
    if path is not None:
        feeds.save(path, outputs)
        err.print(f"wrote {', '.join(outputs)} to {path}", highlight=False, markup=False)


def _predict_raw(runner, loaded: dict, save_outputs: Optional[Path], as_json: bool) -> None:
    outputs = runner.run(loaded)
    _save(save_outputs, outputs)
    if as_json:
        return emit_json({"model": str(runner.path), "runtime": runner.runtime,
                          "outputs": {name: a.tolist() for name, a in outputs.items()}})
    for name, array in outputs.items():
        print(f"{name}: shape {list(array.shape)} {array.dtype}")


def _predict_named(path: Path, runtime: str, runner, problem, batch, save_outputs: Optional[Path],
                   as_json: bool):
    """A user's model may take several inputs (an .npz by input name) and give several
    outputs: answers are keyed by the model's own output names."""
    feed = batch if isinstance(batch, dict) else {runner.inputs[0].name: batch}
    outputs = runner.run(feed)
    _save(save_outputs, outputs)
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
