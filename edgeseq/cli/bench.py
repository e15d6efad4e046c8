"""`edgeseq bench`: latency, throughput and memory of every artifact."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from .app import (
    JsonOption,
    command,
    emit_json,
    err,
    out,
)


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
    from .. import bench as benchmark  # noqa: PLC0415

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
    def ratio(value):  # noqa: E306
        return "-" if value is None else f"{value:.1f}×"
    numbers = ["p50 µs", "p99 µs", "floor\np50 µs", "per s\nb1", f"per s\nb{batch}", "load\nms",
               "RSS\nMB", "kB", "step\np50 µs", "window\n/step"]
    table = Table(Column("runtime variant", no_wrap=True),
                  *[Column(h, justify="right", no_wrap=True) for h in numbers],
                  box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True,
                  title=f"{directory}: {document['architecture']}, batch-1 latency and "
                        f"throughput, {document['machine']['cpus']} CPUs")
    for r in document["results"]:
        table.add_row(f"{r['runtime']:<6} {r['variant']}", us(r["p50_us"]), us(r["p99_us"]),
                      us(r["floor_p50_us"]), rate(r["throughput_per_s"]),
                      rate(r["batch_throughput_per_s"]), f"{r['load_ms']:.1f}",
                      f"{r['peak_rss_mb']:.0f}", f"{r['bytes'] / 1e3:.1f}",
                      us(r.get("step_p50_us")), ratio(r.get("window_over_step")))
    out.print(table)
    for line in document["notes"]:
        out.print(line, markup=False, highlight=False)
