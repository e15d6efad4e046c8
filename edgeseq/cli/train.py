"""`edgeseq train`: fit a built-in architecture to its skill."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .. import registry
from .app import (
    command,
    err,
    out,
    out_dir_for,
    require_train_extra,
)


@command()
def train(
    arch: Annotated[str, typer.Argument(help="Architecture name (see `edgeseq list`).")],
    out_dir: Annotated[Optional[Path], typer.Option(
        "--out", help="Directory for model.keras; default exported/ARCH.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for data, weights and shuffling.")] = 0,
    epochs: Annotated[Optional[int], typer.Option(min=1, help="Override the recipe's epochs.")] = None,
):
    """Train ARCH to its skill and save model.keras (exit 1 when the skill is not reached)."""
    architecture = registry.get(arch)
    require_train_extra("train")
    from .. import training  # noqa: PLC0415 - imports Keras

    result = training.train(architecture, seed=seed, epochs=epochs)
    target = architecture.problem.metric.describe_target()
    line = f"{arch}: {result.metric} {result.value:.4f} on {training.EVAL_SAMPLES} fresh examples (skill: {target})"
    if not result.reached:
        err.print(f"[red]skill not reached[/] — {line}; model not saved")
        raise typer.Exit(1)
    path = out_dir_for(arch, out_dir) / "model.keras"
    training.save(result.model, path)
    err.print(f"[green]skill reached[/] — {line}")
    out.print(str(path))
