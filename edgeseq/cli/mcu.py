"""`edgeseq mcu`: the microcontroller target (TFLM parity, arena, C pack, Vela estimate)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .. import manifest as manifest_file
from .. import registry
from ..errors import InputError
from ..targets.mcu import PACK_RULE
from . import validate
from .app import JsonOption, command, emit_json, err, fmt, out


def _vela_cell(estimates: list[dict], accelerator: str) -> str:
    found = next((e for e in estimates if e["accelerator"] == accelerator), None)
    if found is None:
        return "-"
    if "error" in found:
        return "refused"
    memory = found["flash_bytes"] or found["dram_bytes"]
    return (f"{found['sram_bytes'] / 1024:.1f}K/{memory / 1024:.1f}K "
            f"{found['npu_ops']}:{found['cpu_ops']} {found['inference_us']:.0f}µs")


def show(directory: Path, document: dict) -> None:
    from rich import box  # noqa: PLC0415 - the table only; --json and predict need no rich
    from rich.table import Table  # noqa: PLC0415

    from ..targets.mcu import build  # noqa: PLC0415

    results = {r["artifact"]: r for r in build.results(document)}
    table = Table("artifact", "ops", "flash B", "arena min B", "arena B", "MACs", "max abs", "metric",
                  "TFLM", "U55-128 SRAM/flash npu:cpu time", "U65-256 SRAM/DRAM npu:cpu time",
                  box=box.SIMPLE_HEAD, title=f"{directory}: TFLite Micro", title_justify="left")
    for b in document["artifacts"]:
        r = results[b["artifact"]]
        metric = r.get("metric")
        per_step = " /step" if b.get("step") else ""
        max_abs = r.get("max_abs", r.get("every_step", {}).get("max_abs"))  # a step model's: every step
        table.add_row(b["artifact"], str(len(b["ops"])), f"{b['flash_bytes']:,}",
                      f"{b['arena']['minimum_bytes']:,}", f"{b['ram_bytes']:,}", f"{b['cost']['macs']:,}{per_step}",
                      fmt(max_abs), f"{metric['name']} {metric['value']:.3f}" if metric and metric["value"] is not None
                      else "-",  # a user's model without a task metric has none
                      "[green]pass[/]" if r["passed"] else f"[red]FAIL[/] {r.get('reason', '')}",
                      _vela_cell(b["vela"], "ethos-u55-128"), _vela_cell(b["vela"], "ethos-u65-256"))
    out.print(table)
    for refusal in document["refused"]:
        out.print(f"not for TFLM: {refusal['reason']}", markup=False, highlight=False)
    if document.get("streaming"):
        streaming = document["streaming"]
        against_litert = ", ".join(f"{r['artifact']} {fmt(r.get('litert_max_abs'))}" for r in streaming["results"])
        out.print(f"step models (max abs): every step of {streaming['sequences']} streamed sequences against "
                  f"{streaming['reference'].get('runtime', 'keras')}; TFLM against LiteRT on the same file: "
                  f"{against_litert}", markup=False, highlight=False)
    for packed in (document["packed"], document.get("packed_step")):
        if not packed:
            continue
        limits = document["budget_limits"]
        budget = next(b for b in document["artifacts"] if b["artifact"] == packed["artifact"])
        fits = "fits" if all(budget["fits"].values()) else "does NOT fit"
        out.print(f"pack: {directory / packed['directory']}/ from {packed['artifact']}, arena "
                  f"{packed['arena_bytes']:,} B (minimum {budget['arena']['minimum_bytes']:,} + "
                  f"{budget['arena']['margin']}); {fits} {limits['device']} "
                  f"({limits['ram_bytes'] // 1024} KB RAM, {limits['flash_bytes'] // 1024} KB flash)",
                  markup=False, highlight=False)


@command()
def mcu(
    directory: Annotated[Path, typer.Argument(help="An exported directory, e.g. exported/vanilla.")],
    margin: Annotated[str, typer.Option(
        help="Added to the smallest working arena for the pack: a percentage (25%) or bytes (1024).")] = "25%",
    samples: Annotated[int, typer.Option(min=1, max=validate.MAX_SAMPLES,
                                         help="Generated inputs for TFLM parity.")] = 1000,
    seed: Annotated[int, typer.Option(min=0, max=validate.SEED_MAX, help="Seed for the generated inputs.")] = 1234,
    reference: Annotated[str, typer.Option(
        "--reference", help="keras, stored (Keras outputs saved at export; step models are then "
                            "checked against LiteRT) or auto: keras when installed.")] = "auto",
    artifact: Annotated[Optional[str], typer.Option(
        "--artifact", help="The TFLite file to pack (a listed model of DIR, window or step). Default: "
                           f"{PACK_RULE}.")] = None,
    core: Annotated[Optional[str], typer.Option(
        "--build", help="Also build the packs into firmware for this core (cortex-m4, cortex-m7, cortex-m55) "
                        "and run it under QEMU on the stored golden inputs (see docs/mcu.md).")] = None,
    tflm_source: Annotated[Optional[Path], typer.Option(
        "--tflm-source", envvar="EDGESEQ_TFLM_SOURCE",
        help="TFLM's sources at the pinned commits: a directory of git-archive tarballs or a prepared "
             "tflite-micro tree. Default: fetched with git at first use.")] = None,
    reference_kernels: Annotated[bool, typer.Option(
        "--reference-kernels", help="With --build, also build with TFLM's reference kernels: CMSIS-NN's "
                                    "speed-up in instructions per inference.")] = False,
    as_json: JsonOption = False,
):
    """Check every TFLite artifact on TensorFlow Lite Micro (int8 first) and write a C pack.

    Refuses (exit 2) what TFLM cannot run, naming the op. For the rest: parity with Keras on
    TFLM (state reset between windows; step models streamed from the zero state, the state
    fed back each step, and an exact reset), the smallest arena (bisection to 64 bytes, a
    child process per try), MACs, and Vela's estimate for Ethos-U55-128 and U65-256. One
    window model is written to DIR/mcu/ (model_data.cc/.h, model_ops.h, model_config.h,
    main.cc) and, where a step model passed, one step model to DIR/mcu/step/ (main.cc shows
    the streaming loop); the report goes to the manifest. Exit 1 if any fails parity.
    Needs the [mcu] extra.
    """
    from ..targets import mcu as target  # noqa: PLC0415
    from ..targets.mcu import build  # noqa: PLC0415

    target.require_extra()
    if tflm_source is not None and not tflm_source.is_dir():
        raise InputError(f"--tflm-source {str(tflm_source)[:200]}: not a directory (TFLM's source tarballs "
                         "or a prepared tflite-micro tree)")
    if core is not None:  # before minutes of TFLM checks: a missing toolchain or a bad core is one line now
        from ..targets.mcu import cortex_m, toolchain  # noqa: PLC0415

        cortex_m.core(core)
        toolchain.require()
    log = lambda m: err.print(m, markup=False, highlight=False, soft_wrap=True)  # noqa: E731
    document = build.check_export(directory, margin, samples, seed, reference, artifact, log)
    if core is not None:
        from ..targets.mcu import on_board  # noqa: PLC0415

        kernels = ("cmsis_nn", "reference") if reference_kernels else ("cmsis_nn",)
        problem = registry.problem_from_manifest(manifest_file.load(directory))
        document["on_board"] = {core: on_board.run(directory, core, kernels, tflm_source, problem, log)}
    if as_json:
        emit_json(document)
    else:
        show(directory, document)
        if core is not None:
            from .mcu_board import show_board  # noqa: PLC0415

            show_board(document["on_board"][core])
    if core is not None and not document["on_board"][core]["within_lsb"]:
        from ..targets.mcu import on_board  # noqa: PLC0415

        err.print(f"[red]on {core} the outputs differ from the host's TFLM by more than "
                  f"{on_board.MAX_LSB} LSB[/]", highlight=False)
        raise typer.Exit(1)
    if not all(r["passed"] for r in build.results(document)):
        failed = next(r for r in build.results(document) if not r["passed"])
        err.print(f"[red]TFLM parity failed[/]: {failed['artifact']}: {failed['reason']}",
                  highlight=False, soft_wrap=True)
        raise typer.Exit(1)
