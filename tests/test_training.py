"""Real training: the skill is the point here, so these train for real."""

import pytest

from edgeseq import manifest


@pytest.mark.slow
def test_vanilla_reaches_99_percent_on_fresh_examples(trained_vanilla):
    metric = manifest.load(trained_vanilla)["metric"]
    assert metric["name"] == "accuracy" and metric["value"] >= 0.99
