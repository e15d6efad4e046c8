"""`edgeseq compare`: any artifacts against the first, no manifest needed (Polygraphy's
`run --onnxrt --trt` for the runtimes edgeseq has)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer

from .. import feeds, registry
from .. import manifest as manifest_file
from ..errors import EdgeseqError, InputError
from ..runtimes import RUNTIMES, Runner, open_runner
from . import validate
from .app import JsonOption, command, emit_json, err, escape, fmt, out


def _source(text: str) -> tuple[Path, str]:
    """PATH, or RUNTIME:PATH for a runtime other than the suffix's (openvino:model.onnx)."""
    runtime, sep, rest = text.partition(":")
    if sep and runtime in RUNTIMES and not Path(text).exists():
        return Path(rest), runtime
    return Path(text), "auto"


def _open(text: str) -> Runner:
    path, runtime = _source(text)
    return open_runner(path, runtime)


def _problem(runner: Runner) -> tuple[object, dict]:
    """The edgeseq problem of an exported artifact (for its inputs, decisions and metric) and
    the tolerance its export was gated on, so that compare and parity agree by default."""
    manifest = manifest_file.find(runner.path) if runner.path.is_file() else None
    if not manifest or "problem" not in manifest:
        return None, {}
    try:
        return registry.problem_from_manifest(manifest), manifest.get("tolerance", {})
    except (EdgeseqError, KeyError, TypeError):
        return None, {}  # a manifest from another edgeseq version: compare without a problem


def _fit(runner: Runner, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The feed under the runner's names and in its dtypes (an .npz of float64 would make
    onnxruntime refuse a float32 input); quantized TFLite inputs stay float, the runner
    quantizes them."""
    bound = runner.bind(feed)
    specs = {s.name: s for s in runner.inputs}
    fitted = {}
    for name, array in bound.items():
        array = np.asarray(array)
        want = np.dtype(specs[name].dtype) if specs[name].dtype in np.sctypeDict else array.dtype
        same_kind = (want.kind == "f") == (array.dtype.kind == "f")
        fitted[name] = array.astype(want) if same_kind and want != array.dtype else array
    return fitted


def _run(runner: Runner, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    try:
        return runner.infer(_fit(runner, feed))
    except EdgeseqError:
        raise
    except Exception as exc:  # each runtime raises its own types for a feed it refuses
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise InputError(f"{runner.path.name} ({runner.runtime}) failed on these inputs: {first}") from None


#: Rows a per-layer run takes: enough to find a divergence, cheap with every tensor kept.
PER_LAYER_ROWS = 200


def _per_layer(runners: list[Runner], feed: dict, atol: float, rtol: float) -> list[dict]:
    if not runners or runners[0].runtime != "keras":
        raise InputError("--per-layer needs a .keras model first: it compares against Keras's layers")
    if len(runners[0].inputs) != 1:
        raise InputError("--per-layer takes one-input models")
    from ..checks.per_layer import per_layer  # noqa: PLC0415 - imports Keras

    batch = next(iter(_fit(runners[0], feed).values()))[:PER_LAYER_ROWS]
    return [per_layer(runners[0].model, runner.path, runner.runtime, batch, atol, rtol)
            for runner in runners[1:]]


def show_layers(found: dict) -> None:
    """One artifact's layers in Keras order, and the first over tolerance."""
    if "skipped" in found:
        out.print(f"per layer: {escape(found['artifact'])} skipped: {escape(found['skipped'])}", highlight=False)
        return
    from rich.table import Table  # noqa: PLC0415 - rich only when a table is printed

    table = Table("layer", "shape", "max abs", "mean abs", "min atol", "passed",
                  title=f"per layer: {found['artifact']} ({found['runtime']}) against Keras")
    for row in found["layers"]:
        if not row["matched"]:
            table.add_row(row["layer"], str(row["shape"]), "", "", "", f"no tensor {row.get('reason', '')}")
            continue
        table.add_row(row["layer"], str(row["shape"]), fmt(row["max_abs"], ".1e"), fmt(row["mean_abs"], ".1e"),
                      fmt(row["min_atol"], ".1e"), "[green]yes[/]" if row["passed"] else "[red]no[/]")
    out.print(table)
    first = found["first_diverging"]
    if first is None:
        out.print(f"no layer over atol {found['atol']:g} (rtol {found['rtol']:g})", highlight=False)
    else:
        row = next(r for r in found["layers"] if r["layer"] == first)
        out.print(f"[red]first diverging layer[/]: {escape(first)} (max abs {row['max_abs']:.2e}, "
                  f"needs atol {row['min_atol']:.2e} > {found['atol']:g})", highlight=False)


def _describe(runner: Runner) -> dict:
    return {"runtime": runner.runtime, "artifact": str(runner.path)}


MAX_TOP_K = 1000


@command()
def compare(
    models: Annotated[Optional[list[str]], typer.Argument(
        help="Artifacts (.keras, .onnx, .tflite; RUNTIME:PATH for another runtime, e.g. "
             "openvino:model.onnx). The first is the reference.", show_default=False)] = None,
    load_inputs: Annotated[Optional[Path], typer.Option(
        "--load-inputs", help="Inputs: an .npz with one array per input name (.npy: one input).")] = None,
    save_inputs: Annotated[Optional[Path], typer.Option("--save-inputs", help="Write the inputs used (.npz).")] = None,
    save_outputs: Annotated[Optional[Path], typer.Option(
        "--save-outputs", help="Write the reference's outputs (.npz): a golden file for --load-outputs.")] = None,
    load_outputs: Annotated[Optional[list[Path]], typer.Option(
        "--load-outputs", help="Outputs of a run made elsewhere (.npz, e.g. from `predict --save-outputs` on "
                               "a device), compared as one more run (repeatable). Needs --load-inputs "
                               "with the inputs that run used, when a model runs here too.")] = None,
    atol: Annotated[Optional[list[str]], typer.Option(
        "--atol", help="Absolute tolerance, V for every output or NAME:V for one (repeatable); default 1e-5.")] = None,
    rtol: Annotated[Optional[list[str]], typer.Option(
        "--rtol", help="Relative tolerance, V or NAME:V (repeatable); default 1e-5.")] = None,
    check_error_stat: Annotated[str, typer.Option(
        "--check-error-stat", help="Which statistic of the per-element error must fit the tolerance: "
                                   "max (every element), mean, median or quantile:Q.")] = "max",
    top_k: Annotated[Optional[int], typer.Option(
        "--top-k", min=1, max=MAX_TOP_K,
        help="Also require the same top-K classes on every row of classifier outputs.")] = None,
    samples: Annotated[int, typer.Option(min=1, max=validate.MAX_SAMPLES, help="Number of generated inputs.")] = 1000,
    seed: Annotated[int, typer.Option(min=0, max=validate.SEED_MAX, help="Seed for the generated inputs.")] = 1234,
    per_layer: Annotated[bool, typer.Option(
        "--per-layer", help="With a .keras reference: every layer's output against the .onnx/.tflite "
                            "tensors of the same layer, and the first layer over tolerance.")] = False,
    as_json: JsonOption = False,
):
    """Run the same inputs through every artifact and compare each with the first.

    Per output: max / mean / median / p99 absolute error, max relative error, the smallest
    atol that would pass, NaN/Inf (a failure), top-k agreement; for an edgeseq export also
    its decisions and task metric. Inputs: --load-inputs, else generated (an export's own
    problem, or from the input specs: floats in [0, 1), ids below an Embedding's input_dim).
    Exit 1 when a comparison fails.
    """
    from ..checks.compare import compare_runs, nonfinite, parse_error_stat, parse_per_output  # noqa: PLC0415
    from ..checks.parity import ATOL, RTOL  # noqa: PLC0415

    models, load_outputs = models or [], load_outputs or []
    stat = parse_error_stat(check_error_stat)
    parse_per_output(atol or [], ATOL, "--atol"), parse_per_output(rtol or [], RTOL, "--rtol")  # fail early
    if not models and not load_outputs:
        raise InputError("give at least one model (the reference first), or --load-outputs files")
    if models and load_outputs and load_inputs is None:
        raise InputError("--load-outputs with a model to run needs --load-inputs: the inputs the "
                         "loaded outputs were made from")
    for path, option in ((save_inputs, "--save-inputs"), (save_outputs, "--save-outputs")):
        if path is not None:  # before any model runs: a bad path must not cost the run
            validate.output_file(path, option, suffixes=(".npz",))

    runners = [_open(m) for m in models]
    if runners:
        names = {spec.name for spec in runners[0].outputs}
        named = {spec.split(":", 1)[0] for spec in (atol or []) + (rtol or []) if ":" in spec}
        if named - names:
            raise InputError(f"--atol/--rtol name output {sorted(named - names)[0]!r}; the reference's "
                             f"outputs are {', '.join(sorted(names))}")
        if load_inputs is None:
            shape = tuple(d or 1 for d in runners[0].inputs[0].shape[1:])
            validate.inputs_fit(samples, shape, "--samples")
    loaded = [({"runtime": "loaded", "artifact": str(p)}, feeds.load(p, "outputs")) for p in load_outputs]
    problem, gated = _problem(runners[0]) if runners else (None, {})
    atols = parse_per_output(atol or [], gated.get("atol", ATOL), "--atol")
    rtols = parse_per_output(rtol or [], gated.get("rtol", RTOL), "--rtol")
    targets = inputs_for_metric = None
    if load_inputs is not None:
        feed = feeds.load(load_inputs, "inputs")
        source, used_seed = str(load_inputs), None
    elif runners and problem is not None:
        inputs_for_metric, targets = problem.generate(samples, np.random.default_rng(seed))
        feed = {runners[0].inputs[0].name: inputs_for_metric}
        source, used_seed = f"generated by the {problem.name} problem", seed
    elif runners:
        feed = feeds.generate(runners[0].inputs, samples, seed, feeds.vocabularies(runners[0]))
        source, used_seed = "generated from the input specs", seed
    else:
        feed, source, used_seed = {}, None, None
    count = feeds.batch_size(feed) if feed else None

    runs = []
    for runner in runners:
        runs.append((_describe(runner), _run(runner, feed)))
        err.print(f"ran {runner.path.name} ({runner.runtime})", highlight=False, markup=False)
    runs += loaded
    reference_info, reference_outputs = runs[0]
    if count is None:
        count = feeds.batch_size(reference_outputs)
    if save_inputs is not None:
        feeds.save(save_inputs, _fit(runners[0], feed) if runners else feed)
    if save_outputs is not None:
        feeds.save(save_outputs, reference_outputs)

    metric = {"name": problem.metric.name if problem else None, "value": None}
    if problem is not None and targets is not None and len(reference_outputs) == 1:
        metric["value"] = problem.score(inputs_for_metric, targets, next(iter(reference_outputs.values())))
    header = {"samples": count, "seed": used_seed, "inputs": source}
    if len(runs) == 1:
        # One run: nothing to compare, but its outputs are still checked for NaN/Inf.
        checked = {name: {"shape": list(a.shape), "dtype": str(a.dtype)} | nonfinite(a)
                   for name, a in reference_outputs.items()}
        bad = [name for name, c in checked.items() if c["nan"] or c["inf"]]
        report = header | {"reference": reference_info | {"metric": metric, "outputs": checked},
                           "results": [], "passed": not bad}
        if bad:
            report["reason"] = f"NaN or Inf in {', '.join(bad)}"
    else:
        report = header | compare_runs(runs, atol=atols, rtol=rtols, stat=stat, top_k=top_k,
                                       problem=problem, inputs=inputs_for_metric, targets=targets)
        report["reference"]["metric"] = metric
    report |= {"atol": atols.to_json(), "rtol": rtols.to_json(), "error_stat": check_error_stat}
    if per_layer:
        report["per_layer"] = _per_layer(runners, feed, atols.default, rtols.default)
    if as_json:
        emit_json(report)
    else:
        _show(report, reference_outputs)
        for found in report.get("per_layer", []):
            show_layers(found)
    if not report["passed"]:
        raise typer.Exit(1)


def _show(report: dict, reference_outputs: dict) -> None:
    ref = report["reference"]
    title = f"compare with {ref['artifact']} ({ref['runtime']})"
    from rich.table import Table  # noqa: PLC0415 - rich only when a table is printed

    table = Table("runtime", "artifact", "output", "max abs", "mean abs", "median abs", "p99 abs",
                  "max rel", f"min atol\n({report['error_stat']})", "NaN/Inf", "agree",
                  report["reference"]["metric"]["name"] or "metric", "passed", title=title)
    table.add_row(ref["runtime"], Path(ref["artifact"]).name, ", ".join(reference_outputs), "", "", "",
                  "", "", "", "", "", fmt(ref["metric"]["value"], ".4f"), "reference")
    for r in report["results"]:
        first = True
        for name, o in r["outputs"].items():
            bad = o["nonfinite"]["nan"] + o["nonfinite"]["inf"]
            agree = r["argmax_agreement"] if first else None
            if agree is None and o.get("top_k"):
                agree = o["top_k"]["agreement"]
            table.add_row(r["runtime"] if first else "", Path(r["artifact"]).name if first else "", name,
                          fmt(o.get("max_abs"), ".1e"), fmt(o.get("mean_abs"), ".1e"),
                          fmt(o.get("median_abs"), ".1e"), fmt(o.get("p99_abs"), ".1e"),
                          fmt(o.get("max_rel"), ".1e"), fmt(o.get("min_atol"), ".1e"),
                          f"[red]{bad}[/]" if bad else "0", fmt(agree, ".3f"),
                          fmt(r["metric"]["value"], ".4f") if first else "",
                          "[green]yes[/]" if o["passed"] else "[red]no[/]")
            first = False
    out.print(table)
    for r in report["results"]:
        if not r["passed"]:
            out.print(f"[red]failed[/] {escape(Path(r['artifact']).name)} ({r['runtime']}): "
                      f"{escape(r['reason'])}", highlight=False)
    if not report["results"]:
        for name, o in ref["outputs"].items():
            out.print(f"{name}: shape {o['shape']} {o['dtype']}, NaN {o['nan']}, Inf {o['inf']}",
                      highlight=False)
    source = report["inputs"] or "loaded outputs only"
    atol, rtol = report["atol"], report["rtol"]
    out.print(f"{report['samples']} inputs ({source}"
              + (f", seed {report['seed']}" if report["seed"] is not None else "") + "); "
              f"atol {atol['default']:g}" + "".join(f", {k}:{v:g}" for k, v in atol.get("outputs", {}).items())
              + f", rtol {rtol['default']:g}" + "".join(f", {k}:{v:g}" for k, v in rtol.get("outputs", {}).items())
              + f"; error stat {report['error_stat']}", highlight=False)
