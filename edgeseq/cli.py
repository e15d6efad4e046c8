"""The edgeseq command line. Imports no TensorFlow at module level: train and export load it
when they run, so predict, info and parity of exported artifacts stay light."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from . import graph, registry
from . import manifest as manifest_file
from .errors import EdgeseqError, InputError
from .runtimes import DEVICE_RUNTIMES, open_runner, resolve


class _OneLineErrors(TyperGroup):
    """Usage errors (unknown option, missing argument, bad value) as one line on stderr,
    like every other edgeseq error; typer would draw a multi-line panel."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except Exception as exc:  # click's (or typer's vendored click's) exception classes
            name = type(exc).__name__
            if name == "Abort":
                sys.exit(1)
            if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
                raise
            if name == "NoArgsIsHelpError":  # `edgeseq` alone: show the help
                print(exc.format_message())
                sys.exit(0)
            ctx = getattr(exc, "ctx", None)
            where = f"{ctx.command_path}: " if ctx is not None else ""
            err.print(f"[red]error:[/] {escape(where + exc.format_message())} (see --help)",
                      highlight=False, soft_wrap=True)
            sys.exit(exc.exit_code)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=_OneLineErrors,
    help="Ship Keras LSTM sequence models to edge devices: train, export to ONNX and TFLite, "
         "run them without TensorFlow, and check parity with Keras.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # reflows the docstrings' paragraphs to the terminal width
)
# Tables and answers. Piped output gets room for the wide parity tables instead of rich's 80.
out = Console(width=None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", 150)))
err = Console(stderr=True)  # progress, logs and errors

EXPORTED = Path("exported")
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
RuntimeOption = Annotated[str, typer.Option(
    "--runtime", "-r", help="auto (by file suffix; a directory means onnx), onnx or tflite.")]


def command(*args, **kwargs):
    """app.command, turning EdgeseqError into a one-line message and its exit code."""
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*a, **kw):
            try:
                return fn(*a, **kw)
            except EdgeseqError as exc:
                err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
                raise typer.Exit(exc.exit_code) from None
        return app.command(*args, **kwargs)(wrapper)
    return decorate


def emit_json(document) -> None:
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


def fmt(value: float | None, spec: str = ".2e") -> str:
    return "-" if value is None else format(value, spec)


@command("list")
def list_(as_json: JsonOption = False):
    """List the architectures and the problems they solve."""
    rows = [{"architecture": a.name, "problem": a.problem.name, "summary": a.problem.summary,
             "input_shape": list(a.problem.input_shape), "model": a.model,
             "skill": a.problem.metric.describe_target()}
            for a in registry.ARCHITECTURES.values()]
    if as_json:
        return emit_json({"architectures": rows})
    table = Table("architecture", "problem", "input", "model", "skill")
    for r in rows:
        table.add_row(r["architecture"], f"{r['problem']}: {r['summary']}",
                      str(tuple(r["input_shape"])), r["model"], r["skill"])
    out.print(table)


def _out_dir(arch: str, out_dir: Optional[Path]) -> Path:
    return out_dir if out_dir is not None else EXPORTED / arch


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
    _require_train_extra("train")
    from . import training  # noqa: PLC0415 - imports Keras

    result = training.train(architecture, seed=seed, epochs=epochs)
    target = architecture.problem.metric.describe_target()
    line = f"{arch}: {result.metric} {result.value:.4f} on {training.EVAL_SAMPLES} fresh examples (skill: {target})"
    if not result.reached:
        err.print(f"[red]skill not reached[/] — {line}; model not saved")
        raise typer.Exit(1)
    path = _out_dir(arch, out_dir) / "model.keras"
    training.save(result.model, path)
    err.print(f"[green]skill reached[/] — {line}")
    out.print(str(path))


@command()
def export(
    arch: Annotated[str, typer.Argument(help="Architecture name (see `edgeseq list`), or a .keras file of your own.")],
    out_dir: Annotated[Optional[Path], typer.Option(
        "--out", help="Artifact directory; default exported/ARCH (exported/<file stem> for a .keras file).")] = None,
    formats: Annotated[Optional[list[str]], typer.Option(
        "--format", help="onnx and/or tflite (repeatable); default both.")] = None,
    quantize: Annotated[Optional[list[str]], typer.Option(
        "--quantize", "-q",
        help="Also write quantized variants (repeatable): none, float16 (TFLite), dynamic "
             "(dynamic-range int8), int8 (full integer / static QDQ), int16x8 (TFLite). A variant "
             "is kept only if its task metric stays within the gate.")] = None,
    seed: Annotated[int, typer.Option(help="Training seed, used when there is no model.keras yet.")] = 0,
    calibration_file: Annotated[Optional[Path], typer.Option(
        "--calibration-file", help="A .keras model's parity inputs: a .npy of example inputs "
                                   "(default: uniform [0,1) floats, or token ids below the Embedding's "
                                   "input_dim).")] = None,
    unsafe: Annotated[bool, typer.Option(
        "--unsafe", help="Load a .keras file even if it carries Python code (Lambda layers). "
                         "Only for files you trust.")] = False,
    as_json: JsonOption = False,
):
    """Convert ARCH to ONNX and TFLite, check parity with Keras, write manifest.json.

    Uses OUT/model.keras when present and trains it first otherwise. A .keras file of your own
    is exported the same way, gated on the fp32 tolerance. Artifacts are converted into a new
    generation and replace the previous ones, in one switch, only when parity passes.
    """
    variants = _variants(quantize or [])
    _require_train_extra("export")
    if arch.endswith(".keras") or Path(arch).is_file():
        from .export import user_model  # noqa: PLC0415 - imports Keras

        subject = user_model.load(Path(arch), unsafe=unsafe, calibration=calibration_file)
    else:
        subject = registry.get(arch)
        if calibration_file is not None or unsafe:
            raise EdgeseqError("--calibration-file and --unsafe apply to a .keras file, not to "
                               f"the built-in architecture {arch!r}")
    from .export.pipeline import FORMATS  # noqa: PLC0415 - imports TF
    from .export.pipeline import export as run_export

    directory = _out_dir(subject.name, out_dir)
    # Converters print to stdout (Keras's export() announces its SavedModel): keep stdout
    # for the answer, as the CLI contract says.
    with contextlib.redirect_stdout(sys.stderr):
        document = run_export(subject, directory, formats=tuple(formats or FORMATS),
                              quantize=variants, seed=seed,
                              log=lambda m: err.print(m, highlight=False, markup=False))
    if as_json:
        return emit_json(document)
    show_parity(document["parity"], f"{subject.name}: parity with Keras", document["rejected"])
    out.print(f"wrote {', '.join(a['file'] for a in document['artifacts'])} and manifest.json "
              f"to {directory}")


QUANTIZE = {"none": None, "float16": "float16", "dynamic": "dynamic-int8", "int8": "int8",
            "int16x8": "int16x8"}


def _variants(names: list[str]) -> tuple[str, ...]:
    unknown = [n for n in names if n not in QUANTIZE]
    if unknown:
        raise EdgeseqError(f"unknown quantization {unknown[0]!r}; expected one of {', '.join(QUANTIZE)}")
    return tuple(dict.fromkeys(QUANTIZE[n] for n in names if QUANTIZE[n]))


def _problem_for(path: Path):
    manifest = manifest_file.find(path)
    if manifest is None:
        raise InputError(f"no manifest.json beside {path}: edgeseq needs it to know the problem")
    return registry.problem_from_manifest(manifest)


@command()
def predict(
    model: Annotated[Path, typer.Argument(help="An exported .onnx or .tflite file, or its directory.")],
    runtime: RuntimeOption = "auto",
    text: Annotated[Optional[str], typer.Option(
        "--input", "-i", help="The input as you would write it, e.g. 4,3,6,6,6 for vanilla.")] = None,
    input_file: Annotated[Optional[Path], typer.Option(
        "--input-file", help="A .npy array: one example or a batch.")] = None,
    example: Annotated[bool, typer.Option(
        "--example", help="Draw a fresh example; print input, expected and predicted.")] = False,
    seed: Annotated[Optional[int], typer.Option(help="Seed for --example (default: random).")] = None,
    as_json: JsonOption = False,
):
    """Run an exported model on the device runtimes and answer in the problem's own terms.

    Inputs by architecture: vanilla 4,3,6,6,6 · stacked 50 comma-separated values (or --input-file series.npy) · cnn_lstm --input-file frames.npy · encoder_decoder 10+3+7 · bidirectional 10 values in [0,1) · generative a corner x,y · your own model --input-file x.npy
    """  # noqa: E501 - typer keeps a docstring's line breaks
    if sum(x is not None and x is not False for x in (text, input_file, example)) != 1:
        raise typer.BadParameter("give exactly one of --input, --input-file, --example")
    path, runtime = resolve(model, runtime)
    if runtime not in DEVICE_RUNTIMES:
        raise InputError(f"predict runs {' and '.join(DEVICE_RUNTIMES)} artifacts, not {path.name}")
    problem = _problem_for(path)
    expected = None
    if example:
        batch, targets = problem.generate(1, np.random.default_rng(seed))
        expected = problem.decode(targets)
    elif input_file is not None:
        batch = problem.load_array(input_file)
    else:
        batch = problem.encode(text)
    outputs = open_runner(path, runtime).run(batch)
    answers = problem.decode(outputs)
    inputs = [problem.show_input(x) for x in batch]

    if as_json:
        document = {"model": str(path), "runtime": runtime}
        if len(answers) == 1:
            document |= {"input": inputs[0], "prediction": answers[0], "output": outputs[0].tolist()}
            if expected is not None:
                document["expected"] = expected[0]
        else:
            document |= {"inputs": inputs, "predictions": answers}
        return emit_json(document)
    if example:
        width = max(len(problem.input_label), len("Predicted")) + 2
        for label, value in ((problem.input_label, inputs[0]),
                             ("Expected", problem.show_answer(expected[0])),
                             ("Predicted", problem.show_answer(answers[0]))):
            print(f"{label + ':':<{width}}{value}")
        return
    for answer in answers:
        print(problem.show_answer(answer))


def show_parity(report: dict, title: str, rejected: list[dict] = ()) -> None:
    metric = report["reference"]["metric"]
    table = Table("runtime", "variant", "max abs", "p99 abs", "min atol", "agree",
                  metric["name"], "passed", title=title)
    table.add_row(report["reference"]["runtime"], "fp32", "", "", "", "",
                  fmt(metric["value"], ".4f"), "reference")
    for r in report["results"]:
        table.add_row(r["runtime"], r["variant"], fmt(r["max_abs"], ".1e"), fmt(r["p99_abs"], ".1e"),
                      fmt(r["min_atol"], ".1e"), fmt(r["argmax_agreement"], ".3f"),
                      fmt(r["metric"]["value"], ".4f"),
                      "[green]yes[/]" if r["passed"] else f"[red]no[/] {r.get('reason', '')}")
    for r in rejected:
        has_stats = r.get("max_abs") is not None
        table.add_row(r["runtime"], r["variant"], fmt(r.get("max_abs"), ".1e"),
                      fmt(r.get("p99_abs"), ".1e"), fmt(r.get("min_atol"), ".1e"),
                      fmt(r.get("argmax_agreement"), ".3f"),
                      fmt(r["metric"]["value"], ".4f") if has_stats else "-", "[red]rejected[/]")
    out.print(table)
    for r in rejected:
        out.print(f"[red]rejected[/] {r['runtime']} {r['variant']}: {escape(r['reason'])}",
                  highlight=False)
    source = f"seed {report['seed']}" if report["seed"] is not None else "stored inputs"
    out.print(f"{report['samples']} inputs ({source}); tolerance atol "
              f"{report['results'][0]['atol']:g}, rtol {report['results'][0]['rtol']:g}")


def _require_train_extra(command: str) -> None:
    import importlib.util  # noqa: PLC0415

    missing = [m for m in ("tensorflow", "keras", "tf_keras", "tf2onnx")
               if importlib.util.find_spec(m) is None]
    if missing:
        raise EdgeseqError(f"`edgeseq {command}` needs the [train] extra ({', '.join(missing)} "
                           "missing): pip install 'edgeseq[train]'")


def _keras_installed() -> bool:
    import importlib.util  # noqa: PLC0415

    return importlib.util.find_spec("keras") is not None and importlib.util.find_spec("tensorflow") is not None


def _parity_of(directory: Path, manifest: dict, samples: int, seed: int, reference: str) -> dict:
    from .parity import Tolerance, check  # noqa: PLC0415
    from .runtimes.stored_reference import FILE, StoredReference  # noqa: PLC0415

    problem = registry.problem_from_manifest(manifest)
    tolerance = Tolerance(**manifest.get("tolerance", {}))
    candidates = [(a["variant"], open_runner(directory / a["file"]))
                  for a in manifest["artifacts"]
                  if a["format"] in DEVICE_RUNTIMES and a.get("variant") != "floor"]
    if reference == "auto":
        reference = "keras" if _keras_installed() else "stored"
    if reference == "stored":
        if manifest_file.entry(manifest, FILE) is None:
            raise InputError(f"{directory} has no stored {FILE}; re-export it, or install "
                             "the [train] extra to compare with Keras itself")
        manifest_file.verify(directory / FILE, manifest)
        ref = StoredReference(directory / FILE)
        err.print(f"reference: Keras outputs stored at export ({FILE}, {len(ref.data()[0])} inputs); "
                  "TensorFlow is not used", highlight=False)
    elif not _keras_installed():
        raise EdgeseqError("--reference keras needs TensorFlow: pip install 'edgeseq[train]'")
    else:
        ref = open_runner(directory / "model.keras", "keras")
    return check(problem, ref, candidates, samples=samples, seed=seed, tolerance=tolerance)


def show_parity_summary(reports: dict[str, dict], manifests: dict[str, dict]) -> None:
    """One row per architecture (fp32 on each runtime), then one per quantized variant."""
    runtimes = ["onnx", "tflite"]
    table = Table("architecture", "metric", "keras",
                  *[f"{rt} {col}" for rt in runtimes for col in ("metric", "max abs")],
                  "passed", title="parity with Keras, fp32")
    variants = Table("architecture", "runtime", "variant", "bytes", "× fp32", "metric",
                     "max abs", "passed", title="quantized variants (gate: task metric)")
    reasons = []
    for name, report in reports.items():
        by_runtime = {r["runtime"]: r for r in report["results"] if r["variant"] == "fp32"}
        cells = []
        for rt in runtimes:
            r = by_runtime.get(rt)
            cells += ([fmt(r["metric"]["value"], ".4f"), fmt(r["max_abs"], ".1e")] if r else ["-", "-"])
        table.add_row(name, report["reference"]["metric"]["name"],
                      fmt(report["reference"]["metric"]["value"], ".4f"), *cells,
                      "[green]yes[/]" if report["passed"] else "[red]no[/]")
        for r in [r for r in report["results"] if r["variant"] != "fp32"] + manifests[name].get("rejected", []):
            size, ratio = manifest_file.variant_bytes(manifests[name], r)
            variants.add_row(name, r["runtime"], r["variant"], f"{size:,}" if size else "-",
                             f"{ratio:.2f}" if ratio else "-",
                             fmt(r["metric"]["value"], ".4f") if r.get("metric") else "-",
                             fmt(r.get("max_abs"), ".1e"),
                             "[green]yes[/]" if r["passed"] else "[red]rejected[/]")
            if not r["passed"]:
                reasons.append(f"{name} {r['runtime']} {r['variant']}: {r['reason']}")
    out.print(table)
    if variants.row_count:
        out.print(variants)
    for reason in reasons:
        out.print(f"[red]rejected[/] {escape(reason)}", highlight=False)


@command()
def parity(
    directories: Annotated[list[Path], typer.Argument(help="Exported directories, e.g. exported/vanilla.")],
    samples: Annotated[int, typer.Option(min=1, help="Number of generated inputs.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed for the generated inputs.")] = 1234,
    recorded: Annotated[bool, typer.Option(
        "--recorded", help="Show the parity recorded in each manifest at export; run nothing.")] = False,
    reference: Annotated[str, typer.Option(
        "--reference", help="keras (run model.keras; needs TensorFlow), stored (Keras outputs "
                            "saved at export in reference.npz), or auto: keras when installed.")] = "auto",
    as_json: JsonOption = False,
):
    """Compare every exported artifact with Keras on the same generated inputs.

    Exit 1 if an fp32 artifact differs beyond tolerance (atol 1e-5, rtol 1e-5 unless the
    architecture states more) or disagrees on any decision (argmax or 0.5 threshold).
    With several directories, prints one summary table (JSON: reports by architecture).
    """
    if reference not in ("auto", "keras", "stored"):
        raise EdgeseqError(f"unknown reference {reference!r}; expected auto, keras or stored")
    reports, manifests = {}, {}
    for directory in directories:
        manifest = manifest_file.load(directory)
        key = manifest["architecture"] if len(directories) > 1 else str(directory)
        reports[key] = (manifest["parity"] if recorded
                        else _parity_of(directory, manifest, samples, seed, reference))
        manifests[key] = manifest
    if as_json:
        emit_json(next(iter(reports.values())) if len(reports) == 1 else {"architectures": reports})
    elif len(reports) == 1:
        show_parity(next(iter(reports.values())), f"{directories[0]}: parity with Keras")
    else:
        show_parity_summary(reports, manifests)
    if not all(r["passed"] for r in reports.values()):
        raise typer.Exit(1)


@command()
def generate(
    model: Annotated[Path, typer.Argument(help="An exported generative .onnx or .tflite file, or its directory.")],
    runtime: RuntimeOption = "auto",
    plot: Annotated[Optional[Path], typer.Option(
        "--plot", help="Save the generated rectangle beside a true one (PNG).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the true rectangle drawn for --plot.")] = 0,
    as_json: JsonOption = False,
):
    """Draw a rectangle from (0,0), corner by corner, feeding each prediction back in."""
    path, runtime = resolve(model, runtime)
    if runtime not in DEVICE_RUNTIMES:
        raise InputError(f"generate runs {' and '.join(DEVICE_RUNTIMES)} artifacts, not {path.name}")
    problem = _problem_for(path)
    if not hasattr(problem, "rollout"):
        raise InputError(f"{path} solves {problem.name}, which generates nothing; "
                         "use a generative model (exported/generative)")
    corners = problem.rollout(open_runner(path, runtime).run)
    score = problem.rollout_score(corners)
    if plot is not None:
        from . import plots  # noqa: PLC0415

        rng = np.random.default_rng(seed)
        plots.rectangles(corners, problem.outline(rng.random(), rng.random()), plot,
                         f"{runtime}: {problem.metric.name} {score:.4f}")
    if as_json:
        return emit_json({"model": str(path), "runtime": runtime,
                          "corners": [[round(float(v), 6) for v in c] for c in corners],
                          problem.metric.name: score})
    for x, y in corners:
        print(f"{x:.4f},{y:.4f}")
    err.print(f"{problem.metric.name} {score:.4f} (0 is a perfect rectangle)")


@command()
def info(
    model: Annotated[Path, typer.Argument(help="An .onnx or .tflite file, or an exported directory.")],
    as_json: JsonOption = False,
):
    """Inputs, outputs, op counts (loops flagged), bytes and sha256 of artifacts."""
    if model.is_dir():
        listed = manifest_file.load(model)["artifacts"]
        paths = [model / a["file"] for a in listed
                 if a["format"] in DEVICE_RUNTIMES and a.get("variant") != "floor"]
    else:
        paths = [model]
    documents = []
    for path in paths:
        runner = open_runner(path)
        documents.append(manifest_file.describe_file(path) | {
            "runtime": runner.runtime,
            "inputs": [s.to_json() for s in runner.inputs],
            "outputs": [s.to_json() for s in runner.outputs],
        } | graph.summary(path, runner.runtime))
    if as_json:
        return emit_json(documents[0] if not model.is_dir() else {"artifacts": documents})
    for d in documents:
        table = Table(show_header=False, title=f"{d['file']} ({d['runtime']})", title_justify="left")
        for spec in d["inputs"]:
            table.add_row("input", f"{spec['name']} {spec['shape']} {spec['dtype']}")
        for spec in d["outputs"]:
            table.add_row("output", f"{spec['name']} {spec['shape']} {spec['dtype']}")
        table.add_row("ops", ", ".join(f"{op}×{n}" for op, n in d["ops"].items()))
        table.add_row("recurrent", ", ".join(d["recurrent_ops"]) or "none")
        table.add_row("loops", "[red]" + ", ".join(d["loop_ops"]) + "[/]" if d["loop_ops"] else "none")
        table.add_row("bytes", f"{d['bytes']:,}")
        table.add_row("sha256", d["sha256"])
        out.print(table)


@command()
def bench(
    directory: Annotated[Path, typer.Argument(help="An exported directory, e.g. exported/vanilla.")],
    calls: Annotated[int, typer.Option(min=1, help="Timed batch-1 calls per onnx/tflite row, after warm-up.")] = 1000,
    keras_calls: Annotated[int, typer.Option(min=1, help="Timed calls per Keras row (one takes ms).")] = 100,
    batch: Annotated[int, typer.Option(min=1, help="Batch size of the batch throughput.")] = 64,
    plot: Annotated[Optional[Path], typer.Option(
        "--plot", help="Save a bar chart of p50 latency (PNG, log scale).")] = None,
    as_json: JsonOption = False,
):
    """Latency, throughput, load time, peak RSS and bytes of every runtime and variant.

    p50/p99 of batch-1 calls, beside the runtime's floor (the same runtime on a one-Reshape
    model of the same input). Each row runs in its own process.
    """
    from . import bench as benchmark  # noqa: PLC0415

    document = benchmark.run(directory, calls=calls, batch=batch, keras_calls=keras_calls,
                             log=lambda m: err.print(m, markup=False, highlight=False))
    for line in document["skipped"]:
        err.print(f"skipped {line}", markup=False, highlight=False)
    if plot is not None:
        benchmark.plot(document, plot)
    if as_json:
        return emit_json(document)
    from rich import box  # noqa: PLC0415
    from rich.table import Column  # noqa: PLC0415

    us, rate = benchmark.format_us, benchmark.format_rate
    numbers = ["p50 µs", "p99 µs", "floor\np50 µs", "per s\nb1", f"per s\nb{batch}", "load\nms",
               "RSS\nMB", "kB"]
    table = Table(Column("runtime variant", no_wrap=True),
                  *[Column(h, justify="right", no_wrap=True) for h in numbers],
                  box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True,
                  title=f"{directory}: {document['architecture']}, batch-1 latency and "
                        f"throughput, {document['machine']['cpus']} CPUs")
    for r in document["results"]:
        table.add_row(f"{r['runtime']:<6} {r['variant']}", us(r["p50_us"]), us(r["p99_us"]),
                      us(r["floor_p50_us"]), rate(r["throughput_per_s"]),
                      rate(r["batch_throughput_per_s"]), f"{r['load_ms']:.1f}",
                      f"{r['peak_rss_mb']:.0f}", f"{r['bytes'] / 1e3:.1f}")
    out.print(table)
    for line in document["notes"]:
        out.print(line, markup=False, highlight=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
