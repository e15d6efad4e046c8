"""Fit an architecture to its problem's skill: seeded, batched, with progress on the terminal."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .atomic import atomic_path
from .registry import Architecture

#: held-out examples the skill is measured on, drawn from a stream the training data never uses
EVAL_SAMPLES = 1000
EVAL_SEED_OFFSET = 10_007

console = Console(stderr=True)


def epoch_lines(console: Console) -> bool:
    """One plain line per epoch instead of a live bar: off a terminal (piped, CI) rich draws
    only the bar's last frame, at the end; under make (EDGESEQ_PROGRESS=lines) two trainings
    share one terminal."""
    return os.environ.get("EDGESEQ_PROGRESS") == "lines" or not console.is_terminal


@dataclass
class TrainResult:
    model: keras.Model
    metric: str
    value: float
    reached: bool
    epochs: int


class _RichProgress(keras.callbacks.Callback):
    """One bar over all batches, with the running loss: Keras's own bar floods logs."""

    def __init__(self, progress: Progress, epochs: int, steps: int, name: str):
        super().__init__()
        self.progress, self.epochs, self.name = progress, epochs, name
        self.task = progress.add_task("training", total=epochs * steps, loss=float("nan"), epoch=0)

    def on_epoch_begin(self, epoch, logs=None):
        self.progress.update(self.task, epoch=epoch + 1)

    def on_train_batch_end(self, batch, logs=None):
        self.progress.update(self.task, advance=1, loss=(logs or {}).get("loss", float("nan")))

    def on_epoch_end(self, epoch, logs=None):
        if epoch_lines(self.progress.console):
            task = self.progress.tasks[self.task]
            self.progress.console.print(
                f"{self.name} epoch {epoch + 1}/{self.epochs} loss "
                f"{(logs or {}).get('loss', float('nan')):.4f} {task.elapsed or 0:.0f}s",
                markup=False, highlight=False)


def train(arch: Architecture, seed: int = 0, epochs: int | None = None) -> TrainResult:
    recipe = arch.training
    epochs = epochs or recipe.epochs
    keras.utils.set_random_seed(seed)
    x, y = arch.problem.generate(recipe.samples, np.random.default_rng(seed))
    model = arch.build(keras)
    model.compile(optimizer=keras.optimizers.Adam(recipe.learning_rate), loss=recipe.loss)
    steps = -(-recipe.samples // recipe.batch_size)
    with Progress(TextColumn(f"[bold]{arch.name}[/] epoch {{task.fields[epoch]}}/{epochs}"),
                  BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]:.4f}"),
                  TimeElapsedColumn(), console=console, transient=False,
                  disable=epoch_lines(console) and console.is_terminal) as progress:
        model.fit(x, y, epochs=epochs, batch_size=recipe.batch_size, shuffle=True, verbose=0,
                  callbacks=[_RichProgress(progress, epochs, steps, arch.name)])
    value = evaluate(arch, model, seed)
    return TrainResult(model, arch.problem.metric.name, value,
                       arch.problem.metric.reached(value), epochs)


def evaluate(arch: Architecture, model: keras.Model, seed: int = 0) -> float:
    x, y = arch.problem.generate(EVAL_SAMPLES, np.random.default_rng(seed + EVAL_SEED_OFFSET))
    return arch.problem.score(x, y, np.asarray(model.predict(x, verbose=0, batch_size=256)))


def save(model: keras.Model, path: Path) -> None:
    with atomic_path(path) as tmp:
        model.save(tmp)
