"""tools/user_layer_sweep.py: at least 20 models edgeseq has never seen, each exported with fp32
parity on both formats or refused in one line. The whole sweep takes minutes (the tool runs
it); here its list is checked and a representative few run end to end."""

import importlib.util
import sys
from pathlib import Path

import pytest

SWEEP = Path(__file__).resolve().parents[1] / "tools" / "user_layer_sweep.py"


@pytest.fixture(scope="module")
def sweep():
    spec = importlib.util.spec_from_file_location("user_layer_sweep", SWEEP)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_sweep_covers_twenty_kinds_of_user_model(sweep):
    names = " | ".join(e.name for e in sweep.entries()).lower()
    assert len(sweep.entries()) >= 20
    for kind in ("lstm", "gru", "simplernn", "conv1d", "attention", "masking", "two inputs",
                 "two outputs", "variable length", ".h5", "savedmodel", "custom"):
        assert kind in names, kind


@pytest.mark.parametrize("name", ["GRU → dot-product Attention → pooling", "Masking → LSTM",
                                  "custom layer, module not given"])
def test_sweep_models_export_within_tolerance_or_are_refused_in_one_line(sweep, tmp_path, name):
    entry = next(e for e in sweep.entries() if e.name == name)
    path, options = sweep.prepare(entry, tmp_path / "model")
    row = sweep.row(entry, sweep.export(path, options, tmp_path / "out", quantize=False))
    assert row["expected"], row
    if entry.expect == "refuse":
        assert row["stderr_lines"] == 1 and row["exit"] == 2
    else:
        for fmt in ("onnx", "tflite"):
            assert row[fmt]["passed"] and row[fmt]["max_abs"] <= 1e-5, row
