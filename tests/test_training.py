"""Real training: the skill is the point here, so these train for real (once per session)."""

import numpy as np
import pytest

from edgeseq import manifest, registry
from edgeseq.runtimes import open_runner

from .conftest import ARCHS


@pytest.mark.slow
@pytest.mark.parametrize("arch", ARCHS)
def test_trained_model_reaches_its_skill_on_1000_fresh_examples(trained, arch):
    document = manifest.load(trained(arch))
    metric = registry.get(arch).problem.metric
    assert document["metric"]["name"] == metric.name
    assert metric.reached(document["metric"]["value"]), document["metric"]
    # and the exported artifacts keep the skill on the device runtimes
    for result in document["parity"]["results"]:
        assert metric.reached(result["metric"]["value"]), result


@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["onnx", "tflite"])
def test_generated_rectangle_is_a_rectangle(trained, runtime):
    problem = registry.get("generative").problem
    corners = problem.rollout(open_runner(trained("generative") / f"model.{runtime}").run_array)
    assert problem.rollout_score(corners) <= problem.metric.target
    width, height = corners[2]
    assert 0.1 < width < 1 and 0.1 < height < 1
    assert np.allclose(corners[0], 0)
