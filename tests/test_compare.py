"""`edgeseq compare`: any artifacts, no manifest needed, one comparison mechanism with parity."""

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from edgeseq.checks.compare import compare_output, parse_error_stat, parse_per_output, topk_agreement
from edgeseq.cli import app
from edgeseq.errors import InputError

cli = CliRunner()
STATS = ("max_abs", "mean_abs", "p99_abs", "max_rel", "min_atol", "argmax_agreement")


def run(*args):
    return cli.invoke(app, [str(a) for a in args])


def onnx_model(path, nodes, inputs, outputs, initializers=()):
    """A small ONNX graph made with onnx.helper: real artifacts with known outputs, no TF."""
    import onnx
    from onnx import TensorProto, helper

    def value(name, elem, shape):
        return helper.make_tensor_value_info(name, elem, shape)

    graph = helper.make_graph(nodes, path.stem, [value(*i) for i in inputs], [value(*o) for o in outputs],
                              list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    assert TensorProto.FLOAT == 1
    return path


def two_output_model(path):
    """x (batch, 4) → probs = Softmax(x), score = Sigmoid(x)."""
    from onnx import TensorProto, helper

    f = TensorProto.FLOAT
    return onnx_model(path, [helper.make_node("Softmax", ["x"], ["probs"]),
                             helper.make_node("Sigmoid", ["x"], ["score"])],
                      [("x", f, ["batch", 4])], [("probs", f, ["batch", 4]), ("score", f, ["batch", 4])])


def nan_model(path):
    """sqrt(x − 0.5): NaN for every generated input below 0.5, on purpose."""
    from onnx import TensorProto, helper

    f = TensorProto.FLOAT
    half = helper.make_tensor("half", f, [], [0.5])
    return onnx_model(path, [helper.make_node("Sub", ["x", "half"], ["d"]),
                             helper.make_node("Sqrt", ["d"], ["y"])],
                      [("x", f, ["batch", 3])], [("y", f, ["batch", 3])], [half])


@pytest.mark.parametrize("arch", ["vanilla", "bidirectional"])
def test_compare_gives_the_same_statistics_as_parity_on_an_export(untrained, arch):
    directory = untrained(arch)
    parity = run("parity", directory, "--samples", 300, "--seed", 7, "--reference", "keras", "--json")
    compared = run("compare", directory / "model.keras", directory / "model.onnx",
                   directory / "model.tflite", "--samples", 300, "--seed", 7, "--json")
    assert parity.exit_code == 0 and compared.exit_code == 0, compared.output
    expected = {r["runtime"]: r for r in json.loads(parity.stdout)["results"] if r["variant"] == "fp32"}
    report = json.loads(compared.stdout)
    assert report["samples"] == 300 and report["passed"]
    assert [r["runtime"] for r in report["results"]] == ["onnx", "tflite"]
    for result in report["results"]:
        for key in STATS:
            assert result[key] == pytest.approx(expected[result["runtime"]][key], rel=1e-12, abs=0), key
        assert result["metric"] == expected[result["runtime"]]["metric"]
    assert report["reference"]["metric"] == json.loads(parity.stdout)["reference"]["metric"]


def test_compare_runs_a_users_onnx_tflite_pair_with_no_manifest(untrained, tmp_path):
    for name in ("model.onnx", "model.tflite"):
        shutil.copy(untrained("stacked") / name, tmp_path / name)
    result = run("compare", tmp_path / "model.onnx", tmp_path / "model.tflite", "--samples", 50, "--json",
                 "--save-inputs", tmp_path / "x.npz", "--save-outputs", tmp_path / "ref.npz")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["passed"] and report["inputs"] == "generated from the input specs"
    assert report["results"][0]["max_abs"] < 1e-5
    inputs, outputs = np.load(tmp_path / "x.npz"), np.load(tmp_path / "ref.npz")
    assert inputs["input"].shape == (50, 50, 1) and inputs["input"].dtype == np.float32
    assert 0 <= inputs["input"].min() and inputs["input"].max() < 1
    assert outputs["output"].shape == (50, 5)


def test_per_output_tolerances_on_a_two_output_model(tmp_path):
    model = two_output_model(tmp_path / "two.onnx")
    made = run("compare", model, "--samples", 20, "--save-inputs", tmp_path / "x.npz",
               "--save-outputs", tmp_path / "ref.npz")
    assert made.exit_code == 0, made.output
    golden = dict(np.load(tmp_path / "ref.npz"))
    assert set(golden) == {"probs", "score"}
    golden["score"] = golden["score"] + np.float32(1e-3)  # a candidate off on one output only
    np.savez(tmp_path / "off.npz", **golden)

    def compare(*options):
        result = run("compare", model, "--load-inputs", tmp_path / "x.npz",
                     "--load-outputs", tmp_path / "off.npz", "--json", *options)
        return result.exit_code, json.loads(result.stdout)

    code, report = compare()
    outputs = report["results"][0]["outputs"]
    assert code == 1 and outputs["probs"]["passed"] and not outputs["score"]["passed"]
    assert "score" in report["results"][0]["reason"] and "probs" not in report["results"][0]["reason"]
    assert outputs["score"]["min_atol"] == pytest.approx(1e-3, rel=0.05)
    assert compare("--atol", "score:2e-3")[0] == 0
    code, report = compare("--atol", "2e-3", "--atol", "probs:1e-9")
    assert code == 0 and report["atol"] == {"default": 2e-3, "outputs": {"probs": 1e-9}}
    assert compare("--atol", "2e-3", "--atol", "score:1e-4")[0] == 1
    assert compare("--rtol", "score:1e-2")[0] == 0  # 1e-3 is within 1 % of sigmoid ≥ 0.5


def test_a_nan_output_is_a_named_failure(tmp_path):
    model = nan_model(tmp_path / "nan.onnx")
    shutil.copy(model, tmp_path / "same.onnx")
    result = run("compare", model, tmp_path / "same.onnx", "--samples", 40, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    output = report["results"][0]["outputs"]["y"]
    assert output["nonfinite"]["nan"] > 0 and output["reference_nonfinite"]["nan"] > 0
    assert "y: candidate has" in report["results"][0]["reason"] and "NaN" in report["results"][0]["reason"]
    assert output["max_abs"] == 0.0  # the finite elements still agree, and are reported
    alone = run("compare", model, "--samples", 40)
    assert alone.exit_code == 1 and "NaN" in alone.stdout


def test_error_stat_decides_which_statistic_must_fit():
    ref = np.zeros(100, np.float32)
    cand = ref.copy()
    cand[0] = 1.0  # one outlier
    assert not compare_output("y", ref, cand, atol=1e-3, rtol=0.0)["passed"]
    assert compare_output("y", ref, cand, atol=1e-3, rtol=0.0, stat="median")["passed"]
    assert compare_output("y", ref, cand, atol=1e-3, rtol=0.0, stat=0.95)["passed"]
    assert not compare_output("y", ref, cand, atol=1e-3, rtol=0.0, stat=1.0)["passed"]
    assert compare_output("y", ref, cand, atol=1e-3, rtol=0.0, stat="mean")["min_atol"] == pytest.approx(0.01)


def test_top_k_compares_the_sets_of_the_k_largest_classes():
    ref = np.array([[0.5, 0.3, 0.2, 0.0], [0.1, 0.2, 0.3, 0.4]])
    swapped = np.array([[0.3, 0.5, 0.2, 0.0], [0.1, 0.2, 0.4, 0.3]])  # same top-2 sets
    assert topk_agreement(ref, swapped, 2) == 1.0
    assert topk_agreement(ref, swapped, 1) == 0.0
    report = compare_output("p", ref, swapped, atol=1.0, rtol=0.0, top_k=1)
    assert not report["passed"] and "top-1" in report["reason"]


def test_parsers_take_polygraphy_style_values():
    tol = parse_per_output(["1e-4", "Identity:0:1e-2"], 1e-5, "--atol")
    assert tol.of("other") == 1e-4 and tol.of("Identity:0") == 1e-2
    assert parse_error_stat("quantile:0.99") == 0.99 and parse_error_stat("median") == "median"
    for bad in ("x", "quantile:2", "quantile:"):
        with pytest.raises(InputError):
            parse_error_stat(bad)
    with pytest.raises(InputError):
        parse_per_output(["probs:abc"], 1e-5, "--atol")


def test_integer_inputs_are_drawn_below_the_gathered_vocabulary(tmp_path):
    from onnx import TensorProto, helper

    table = helper.make_tensor("table", TensorProto.FLOAT, [7, 2], np.arange(14, dtype=np.float32))
    model = onnx_model(tmp_path / "embed.onnx", [helper.make_node("Gather", ["table", "ids"], ["y"])],
                       [("ids", TensorProto.INT64, ["batch", 3])], [("y", TensorProto.FLOAT, ["batch", 3, 2])],
                       [table])
    shutil.copy(model, tmp_path / "same.onnx")
    result = run("compare", model, tmp_path / "same.onnx", "--samples", 200,
                 "--save-inputs", tmp_path / "ids.npz", "--json")
    assert result.exit_code == 0, result.output
    ids = np.load(tmp_path / "ids.npz")["ids"]
    assert ids.dtype == np.int64 and ids.min() == 0 and ids.max() == 6


@pytest.mark.parametrize("args, says", [
    (["--atol", "abc"], "--atol"),
    (["--check-error-stat", "quantile:2"], "--check-error-stat"),
    (["--load-outputs", "out.npz"], "--load-inputs"),
    (["--load-inputs", "missing.npz"], "not found"),
    (["--save-outputs", "out.npy"], ".npz"),
])
def test_bad_usage_is_one_line_and_exit_2(tmp_path, args, says):
    model = two_output_model(tmp_path / "two.onnx")
    result = run("compare", model, *args)
    assert result.exit_code == 2, result.output
    assert says in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_missing_model_is_exit_2(tmp_path):
    result = run("compare", tmp_path / "nothing.onnx")
    assert result.exit_code == 2 and "not found" in result.stderr
