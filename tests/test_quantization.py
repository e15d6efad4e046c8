"""Quantized variants: real converters and runtimes, gated on the task metric."""

import numpy as np
import pytest

from edgeseq import manifest, registry
from edgeseq.checks import parity
from edgeseq.exporters.pipeline import export_untrained
from edgeseq.runtimes import open_runner


@pytest.fixture(scope="module")
def quantized(quantized_vanilla):
    """Untrained seeded vanilla with every variant: conversion does not need skill."""
    return quantized_vanilla


def test_every_published_variant_is_listed_checksummed_and_runs(quantized):
    document = manifest.load(quantized)
    variants = [a for a in document["artifacts"]  # quantized window models (integer step models:
                if a["format"] in ("onnx", "tflite") and a["variant"] != "fp32"  # tests/test_streaming.py)
                and manifest.is_window_model(a)]
    assert {(a["format"], a["variant"]) for a in variants} >= {("tflite", "int8"), ("tflite", "float16"),
                                                               ("onnx", "dynamic-int8")}
    for entry in variants:
        path = quantized / entry["file"]
        assert entry["sha256"] == manifest.sha256(path)
        assert entry["quantization"]
        x, _ = registry.get("vanilla").problem.generate(3, np.random.default_rng(0))
        assert open_runner(path).run_array(x).shape == (3, 10)
    results = {(r["runtime"], r["variant"]): r for r in document["parity"]["results"]}
    assert all(r["passed"] for r in results.values())
    assert results[("tflite", "int8")]["gate"] == "metric"


def test_full_integer_tflite_has_int8_io_and_is_smaller(quantized):
    runner = open_runner(quantized / "model.int8.tflite")
    assert runner.inputs[0].dtype == "int8" and runner.outputs[0].dtype == "int8"
    assert (quantized / "model.int8.tflite").stat().st_size < 0.6 * (quantized / "model.tflite").stat().st_size


def test_unsupported_or_useless_variants_are_reported_and_not_written(quantized):
    document = manifest.load(quantized)
    rejected = {(r["runtime"], r["variant"]): r["reason"] for r in document["rejected"]}
    # The converter refuses 16x8 for the fused LSTM ("not yet supported"): int16x8 comes from
    # the unrolled form instead (export/integer_source.py), and the manifest says so
    assert ("tflite", "int16x8") not in rejected, rejected.get(("tflite", "int16x8"))
    int16 = manifest.entry(document, "model.int16x8.tflite")
    assert int16["route_form"] == "unrolled" and "16x8" in int16["why_this_form"]
    assert int16["recurrence"] == "none"
    for (runtime, variant), reason in rejected.items():
        assert not (quantized / f"model.{variant}.{runtime}").exists(), reason


def test_a_variant_that_fails_the_metric_gate_is_not_written(tmp_path, monkeypatch):
    directory = tmp_path / "strict"
    # A gate no quantized model can pass: it must be at least 1.0 better than Keras.
    monkeypatch.setattr(parity, "MAX_METRIC_DROP", -1.0)
    export_untrained(registry.get("vanilla"), directory, quantize=("float16", "int8"), optimize="none")
    document = manifest.load(directory)
    assert {r["variant"] for r in document["rejected"]} == {"float16", "int8"}
    assert all("below Keras" in r["reason"] for r in document["rejected"]
               if r["variant"] == "float16")
    assert not list(directory.glob("model.float16.*")) and not list(directory.glob("model.int8.*"))
    # fp32 artifacts are never affected: exported, listed, gated on tolerance as always
    fp32 = [r for r in document["parity"]["results"] if r["variant"] == "fp32"]
    assert {r["artifact"] for r in fp32} == {"model.onnx", "model.tflite"}
    assert all(r["passed"] and r["gate"] == "tolerance" for r in fp32)
    for name in ("model.onnx", "model.tflite"):
        assert manifest.entry(document, name)["sha256"] == manifest.sha256(directory / name)


def test_metric_gate_rules():
    acc = registry.get("vanilla").problem.metric
    mae = registry.get("stacked").problem.metric
    assert parity.metric_gate(acc, 1.0, 0.99) is None
    assert parity.metric_gate(acc, 1.0, 0.985) is not None
    assert parity.metric_gate(mae, 0.010, 0.0109) is None
    assert parity.metric_gate(mae, 0.010, 0.0111) is not None


def test_a_converter_crash_is_a_reported_failure_and_the_other_variants_go_on(tmp_path):
    from edgeseq.exporters.tflite.tflite_worker import convert_isolated

    outcomes = convert_isolated("vanilla", tmp_path / "model.keras", "route", tmp_path,
                                ["first", "crash", "last"], log=lambda _: None,
                                worker="tests.crashing_worker")
    assert outcomes["first"]["ok"] and outcomes["last"]["ok"]
    assert outcomes["crash"] == {"ok": False, "reason": "converter crashed (SIGSEGV)"}
    assert (tmp_path / "model.last.tflite").exists()
