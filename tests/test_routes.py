"""The route search (export --optimize): every candidate form recorded, the rule applied to
the recorded numbers, the chosen file the one published, and a failing form never chosen."""

from __future__ import annotations

import json

import pytest

from edgeseq import manifest, registry
from edgeseq.checks.parity import Tolerance
from edgeseq.exporters import route_forms, routes
from edgeseq.exporters.tflite import to_tflite
from edgeseq.runtimes.keras_runner import KerasRunner


def _check_rule(document: dict, directory, optimize: str) -> None:
    section = document["routes"]
    assert section["optimize"] == optimize and section["rule"] == routes.RULES[optimize]
    for fmt in ("onnx", "tflite"):
        found = section[fmt]
        built = [c for c in found["candidates"] if not c.get("skipped")]
        for c in built:  # every built candidate went through parity and the timing
            assert c["p50_us"] > 0 and c["bytes"] > 0 and c["max_abs"] is not None
            assert isinstance(c["passed"], bool) and c["why"]
        best = routes.choose(found["candidates"], optimize)
        assert best["passed"] and best["chosen"] and found["chosen"] == best["route"]
        assert [c["route"] for c in found["candidates"] if c["chosen"]] == [best["route"]]
        key = routes.OPTIMIZE[optimize]
        first = next(c for c in built if c["passed"])
        if optimize == "size":
            assert all(best[key] <= c[key] for c in built if c["passed"])
        else:  # the fastest, unless within the margin of the first form, which then stays
            fastest = min(c[key] for c in built if c["passed"])
            assert best[key] == fastest or (best is first and fastest >= (1 - routes.LATENCY_MARGIN) * first[key])
        # the published file is that candidate's, and its route text says what it holds
        published = manifest.entry(document, f"model.{fmt}")
        assert (published["sha256"], published["bytes"]) == (best["sha256"], best["bytes"])
        assert manifest.sha256(directory / f"model.{fmt}") == best["sha256"]
        assert published["route_form"] == best["route"] and published["route"].startswith(best["how"])


@pytest.mark.parametrize("arch", ["vanilla", "stacked"])
def test_every_candidate_is_recorded_and_the_smallest_passing_one_is_published(untrained, arch):
    directory = untrained(arch)  # exported with --optimize size (conftest)
    document = manifest.load(directory)
    _check_rule(document, directory, "size")
    names = {fmt: [c["route"] for c in document["routes"][fmt]["candidates"]] for fmt in ("onnx", "tflite")}
    assert names == {"onnx": ["native", "unrolled"], "tflite": ["fused", "unrolled", "while"]}
    unrolled = document["routes"]["tflite"]["candidates"][1]
    if arch == "stacked":  # 50 steps × 2 LSTMs: above the bound, skipped with the reason
        assert unrolled["skipped"] and "100 cell copies" in unrolled["why"]
    else:
        assert not unrolled.get("skipped") and unrolled["passed"]


def test_optimize_latency_publishes_the_fastest_passing_form(tmp_path):
    from edgeseq.exporters.pipeline import export_untrained

    document = export_untrained(registry.get("generative"), tmp_path, batch=1)  # latency: the default
    _check_rule(document, tmp_path, "latency")


def test_optimize_none_converts_and_publishes_the_first_form_only(quantized_vanilla):
    document = manifest.load(quantized_vanilla)  # exported with --optimize none (conftest)
    section = document["routes"]
    assert section["optimize"] == "none" and section["rule"] == routes.RULES["none"]
    for fmt, first in (("onnx", "native"), ("tflite", "fused")):
        today, *others = section[fmt]["candidates"]
        assert today["route"] == first and today["passed"] and today["chosen"] and today["p50_us"] > 0
        assert section[fmt]["chosen"] == first and routes.choose(section[fmt]["candidates"], "none") is today
        assert others and all(c["skipped"] and c["why"] == routes.NOT_SEARCHED and not c.get("sha256")
                              for c in others)
        assert manifest.sha256(quantized_vanilla / f"model.{fmt}") == today["sha256"]


def test_chooser_never_picks_a_candidate_that_failed_parity():
    failing = {"route": "wrong", "p50_us": 1.0, "bytes": 10, "passed": False}
    slow = {"route": "slow", "p50_us": 9.0, "bytes": 90, "passed": True}
    fast = {"route": "fast", "p50_us": 5.0, "bytes": 95, "passed": True}
    skipped = {"route": "skipped", "p50_us": None, "bytes": None, "passed": None, "skipped": True}
    candidates = [failing, slow, skipped, fast]
    assert routes.choose(candidates, "latency") is fast
    assert routes.choose(candidates, "size") is slow
    assert routes.choose([failing, skipped], "latency") is None
    # within the timing margin the first form that passed (today's route) stays
    near = {"route": "near", "p50_us": 8.5, "bytes": 50, "passed": True}
    assert routes.choose([failing, slow, near], "latency") is slow
    assert routes.choose([failing, slow, near, fast], "latency") is fast
    # none: the first form or nothing, never another that passed
    assert routes.choose([slow, fast], "none") is slow and routes.choose([failing, slow], "none") is None


def test_search_records_a_wrong_form_as_failed_and_publishes_the_right_one(tmp_path):
    """A real candidate that differs from Keras (another seed's weights) through the real
    gate: it is converted, timed and recorded as failing, and never published."""
    import keras

    arch = registry.get("generative")
    problem = arch.problem
    keras.utils.set_random_seed(0)
    model = arch.build(keras)
    keras.utils.set_random_seed(1)
    other = arch.build(keras)

    def form_of(name, keras_model):
        def build(path):
            twin = tmp_path / f"twin-{name}"
            route = to_tflite.save_twin(arch, keras_model, problem, twin)
            return to_tflite.convert(twin, problem, path, route=route)
        return route_forms.Form("tflite", name, build)

    staging, scratch = tmp_path / "staging", tmp_path / "scratch"
    staging.mkdir()
    scratch.mkdir()
    chosen, _, section = routes.search(
        "generative", {"tflite": [form_of("right", model), form_of("wrong", other)]}, staging, scratch,
        problem, KerasRunner(model=model), 200, Tolerance(atol=arch.training.atol), "latency",
        lambda _: None)
    right, wrong = section["tflite"]["candidates"]
    assert right["passed"] and not wrong["passed"] and wrong["why"].startswith("failed parity")
    assert wrong["p50_us"] > 0  # timed and recorded all the same
    assert section["tflite"]["chosen"] == "right" and chosen["tflite"]["route_form"] == "right"
    assert manifest.sha256(staging / "model.tflite") == right["sha256"]


def test_info_shows_each_formats_route_choice_and_why(untrained):
    from typer.testing import CliRunner

    from edgeseq.cli import app

    directory = untrained("vanilla")
    result = CliRunner().invoke(app, ["info", str(directory)])
    assert result.exit_code == 0, result.output
    routes_section = manifest.load(directory)["routes"]
    for fmt in ("onnx", "tflite"):
        lines = [line for line in result.stdout.splitlines() if line.startswith(f"{fmt} route (size): ")]
        assert len(lines) == 1, result.stdout
        assert f": {routes_section[fmt]['chosen']}: {routes_section[fmt]['why']}" in lines[0]
    document = CliRunner().invoke(app, ["info", str(directory), "--json"])
    assert json.loads(document.stdout)["routes"] == routes_section
