"""`edgeseq train`: fit a built-in architecture to its skill."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .. import manifest as manifest_file
from .. import registry
from . import validate
from .app import command, err, out, out_dir_for, require_train_extra


@command(interrupted="nothing saved")
def train(
    arch: Annotated[str, typer.Argument(help="Architecture name (see `edgeseq list`).")],
    out_dir: Annotated[Optional[Path], typer.Option(
        "--out", help="Directory for model.keras; default exported/ARCH.")] = None,
    seed: Annotated[int, typer.Option(min=0, max=validate.SEED_MAX,
                                      help="Seed for data, weights and shuffling.")] = 0,
    epochs: Annotated[Optional[int], typer.Option(
        min=1, max=validate.MAX_EPOCHS, help="Override the recipe's epochs.")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace a model.keras in --out that edgeseq did not train for ARCH.")] = False,
):
    """Train ARCH to its skill and save model.keras (exit 1 when the skill is not reached)."""
    architecture = registry.get(arch)
    require_train_extra("train")  # first: on the device install, the one thing to say
    directory = out_dir_for(arch, out_dir)
    validate.train_target(directory, arch, force)  # before the training, not after it
    from .. import training  # noqa: PLC0415 - imports Keras

    result = training.train(architecture, seed=seed, epochs=epochs)
    target = architecture.problem.metric.describe_target()
    line = f"{arch}: {result.metric} {result.value:.4f} on {training.EVAL_SAMPLES} fresh examples (skill: {target})"
    if not result.reached:
        err.print(f"[red]skill not reached[/] — {line}; model not saved")
        raise typer.Exit(1)
    path = directory / "model.keras"
    training.save(result.model, path)
    manifest_file.write_model_record(path, arch, "edgeseq train")
    err.print(f"[green]skill reached[/] — {line}")
    out.print(str(path))
