"""`edgeseq bench`: latency, throughput and memory of every artifact."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from . import validate
from .app import JsonOption, command, emit_json, err, out


@command()
def bench(
    directory: Annotated[Path, typer.Argument(help="An exported directory, e.g. exported/vanilla.")],
    calls: Annotated[int, typer.Option(min=1, max=validate.MAX_CALLS,
                                       help="Timed batch-1 calls per onnx/tflite row, after warm-up.")] = 1000,
    keras_calls: Annotated[int, typer.Option(min=1, max=validate.MAX_KERAS_CALLS,
                                             help="Timed calls per Keras row (one takes ms).")] = 100,
    batch: Annotated[int, typer.Option(min=1, max=validate.MAX_BATCH,
                                       help="Batch size of the batch throughput.")] = 64,
    plot: Annotated[Optional[Path], typer.Option(
        "--plot", help="Save a bar chart of p50 latency (PNG, log scale).")] = None,
    web: Annotated[bool, typer.Option(
        "--web", help="Also a web row: the export's page in headless Chromium, timed in the page "
                      "(skipped with the reason when the browser cannot run).")] = False,
    as_json: JsonOption = False,
):
    """Latency, throughput, load time, peak RSS and bytes of every runtime and variant.

    p50/p99 of batch-1 calls, beside the runtime's floor (the same runtime on a one-Reshape
    model of the same input) and the roofline (floor + the model's FLOPs ÷ this machine's
    single-thread float32 GEMM peak, measured in the same run). Each row runs in its own process.
    """
    from ..measure import bench as benchmark  # noqa: PLC0415

    validate.plot_path(plot)  # before minutes of benchmarking, not after
    validate.bench_inputs(directory, batch)
    document = benchmark.run(directory, calls=calls, batch=batch, keras_calls=keras_calls, web=web,
                             log=lambda m: err.print(m, markup=False, highlight=False))
    for line in document["skipped"]:
        err.print(f"skipped {line}", markup=False, highlight=False)
    if as_json:
        emit_json(document)
    else:
        _show(document, directory, batch)
    if plot is not None:  # after the table: a plot that fails to save loses no measurement
        validate.save_plot(lambda: benchmark.plot(document, plot), plot)



def _show(document: dict, directory: Path, batch: int) -> None:
    from rich import box  # noqa: PLC0415
    from rich.table import Column, Table  # noqa: PLC0415

    from ..measure import bench as benchmark  # noqa: PLC0415

    us, rate, ratio = benchmark.format_us, benchmark.format_rate, benchmark.format_ratio
    numbers = ["p50 µs", "p99 µs", "floor\np50 µs", "roof\nµs", "p50/\nroof", "GFLOP/s\nb1",
               "per s\nb1", f"per s\nb{batch}", "load\nms", "RSS\nMB", "kB", "step\np50 µs", "window\n/step"]
    table = Table(Column("runtime variant", no_wrap=True),
                  *[Column(h, justify="right", no_wrap=True) for h in numbers],
                  box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True,
                  title=f"{directory}: {document['architecture']}, batch-1 latency and "
                        f"throughput, {document['machine']['cpus']} CPUs")
    for r in document["results"]:
        table.add_row(f"{r['runtime']:<6} {r['variant']}", us(r["p50_us"]), us(r["p99_us"]),
                      us(r["floor_p50_us"]), us(r["roofline_us"]), ratio(r["p50_over_roofline"]),
                      ratio(r["gflops_per_s"]), rate(r["throughput_per_s"]),
                      rate(r["batch_throughput_per_s"]), f"{r['load_ms']:.1f}",
                      "-" if r["peak_rss_mb"] is None else f"{r['peak_rss_mb']:.0f}", f"{r['bytes'] / 1e3:.1f}",
                      us(r.get("step_p50_us")), ratio(r.get("window_over_step")))
    out.print(table)
    peak = document["peak"]
    out.print(f"peak: {peak['gflops_per_s']:.1f} GFLOP/s ({peak['source']}, {peak['kernel']})",
              markup=False, highlight=False)
    for line in document["notes"]:
        out.print(line, markup=False, highlight=False)
