"""Stage 6 of an export: what is published beside the models but not gated — bench's floor
models (one Reshape per format) and Keras's outputs on seeded inputs (reference.npz), for
parity on a device without TensorFlow."""

from __future__ import annotations

import numpy as np

from ..artifacts import Artifact
from ..runtimes import stored_reference
from . import floor
from .job import Job


def floors(job: Job) -> list[Artifact]:
    return [Artifact.staged(path, info) for path, info in floor.write(job.problem.input_shape, job.staging, job.device)]


def keras_outputs(job: Job) -> Artifact:
    inputs, targets = job.problem.generate(stored_reference.SAMPLES, np.random.default_rng(stored_reference.SEED))
    path = job.staging / stored_reference.FILE
    feed = inputs if isinstance(inputs, dict) else {job.keras_runner.inputs[0].name: inputs}
    outputs = job.keras_runner.run(feed)
    return Artifact.staged(path, stored_reference.write(
        path, inputs, targets, outputs if len(outputs) > 1 else next(iter(outputs.values()))))
