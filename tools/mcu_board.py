"""Every architecture's int8 packs (window and step) built for a Cortex-M core and run under
QEMU, in one markdown table: flash and RAM from the ELF, the smallest arena on the core,
instructions per inference with CMSIS-NN and with TFLM's reference kernels side by side (the
ratio is CMSIS-NN's speed-up), and the outputs against the host's TFLM and LiteRT.

    .venv/bin/python tools/mcu_board.py [--core cortex-m4] [--no-reference] EXPORTED_DIR... > board.md

Each export is copied into a scratch directory and its int8 files packed there as `edgeseq
mcu` packs them (smallest host arena + 25 %), whether or not they pass the int8 accuracy gate:
this measures the part, not the model's skill. The first run builds TFLM's libraries (minutes
each, cached).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from edgeseq import manifest as manifest_file
from edgeseq import registry
from edgeseq.errors import EdgeseqError
from edgeseq.targets.mcu import arena, compatibility, cortex_m, flatbuffer, on_board, pack, step, step_pack

FILES = {"window": "model.int8.tflite", "step": "model.step.int8.tflite"}


def _pack(directory: Path, kind: str) -> on_board.Pack | str:
    """The int8 pack of `kind` written into `directory`, or why there is none."""
    manifest = manifest_file.load(directory)
    model = directory / FILES[kind]
    if not model.exists():
        return f"no {model.name} in the export"
    if kind == "step" and step.refusal(manifest):
        return step.refusal(manifest)
    graph = flatbuffer.read(model)
    try:
        ops = compatibility.check(graph, model.name)
    except compatibility.Refused as exc:
        return str(exc)
    found = arena.smallest(model) | {"margin": arena.DEFAULT_MARGIN}
    found["pack_bytes"] = arena.with_margin(found["minimum_bytes"], arena.DEFAULT_MARGIN)
    if kind == "window":
        where = directory / "mcu"
        where.mkdir(parents=True, exist_ok=True)
        pack.write(where, model, graph, ops, found, manifest["architecture"])
        return on_board.Pack(where, model, graph, None)
    where = directory / "mcu" / "step"
    step_pack.write(where, model, graph, ops, found, manifest["architecture"], manifest["streaming"])
    return on_board.Pack(where, model, graph, on_board.positions(graph, manifest["streaming"]))


def _scratch_copy(directory: Path, into: Path) -> Path:
    """The files the board check reads, without the export's own pack."""
    into.mkdir(parents=True)
    source = directory.resolve() / "current" if (directory / "current").is_symlink() else directory
    for entry in source.iterdir():
        if entry.is_file() and entry.suffix in (".tflite", ".npz", ".json"):
            shutil.copy(entry, into / entry.name)
    return into


def _row(architecture: str, kind: str, report: dict | str) -> str:
    if isinstance(report, str):
        return f"| {architecture} | {kind} | not run: {report} |" + " |" * 7
    runs = report["kernels"]
    fast = runs["cmsis_nn"]
    sizes, outputs = fast["sizes"], fast["outputs"]
    exact = ("bit-exact" if outputs["bit_exact_with_host_tflm"]
             else f"≤ {outputs['max_lsb_vs_host_tflm']} LSB, {outputs['values_differing_from_host_tflm']} values")
    reference = runs.get("reference")
    ref_exact = "" if reference is None else (
        "; reference kernels bit-exact" if reference["outputs"]["bit_exact_with_host_tflm"]
        else f"; reference kernels ≤ {reference['outputs']['max_lsb_vs_host_tflm']} LSB")
    if not outputs["bit_exact_with_host_tflm"]:  # where CMSIS-NN computes differently from the host
        ref_exact += f" (CMSIS-NN kernels here: {', '.join(report['cmsis_nn_ops'])})"
    per = " /step" if report["step"] else ""
    speedup = f"{report['cmsis_nn_speedup']:.2f}×" if "cmsis_nn_speedup" in report else "—"
    agree = outputs["decisions_agree_host_tflm"]
    return "| " + " | ".join([
        architecture, kind,
        f"{sizes['flash_bytes']:,} ({sizes['model_bytes']:,} model, {sizes['tflm_library_text_bytes']:,} TFLM code)",
        f"{sizes['ram_bytes']:,} ({sizes['arena_bytes']:,} arena, {sizes['stack_used_bytes']:,} stack)",
        f"{fast['arena']['minimum_bytes']:,}" + ("" if fast["pack_arena_fits"] else
                                                 f" (pack's {report['arena_reserved_bytes']:,} too small)"),
        f"{fast['instructions_per_inference']:,}{per}",
        f"{reference['instructions_per_inference']:,}{per}" if reference else "—", speedup,
        exact + ref_exact + (f", decisions {agree:.0%}" if agree is not None else ""),
        f"{outputs['max_abs_vs_litert']:.2e}"]) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directories", nargs="+", type=Path)
    parser.add_argument("--core", default="cortex-m4", choices=list(cortex_m.CORES))
    parser.add_argument("--no-reference", action="store_true", help="CMSIS-NN only (no reference-kernel library)")
    parser.add_argument("--tflm-source", type=Path, default=None)
    args = parser.parse_args()
    core = cortex_m.core(args.core)
    kernels = ("cmsis_nn",) if args.no_reference else ("cmsis_nn", "reference")
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    libraries = on_board.libraries(core, kernels, args.tflm_source, log)
    print(f"On {core.name} (QEMU {core.machine}, -icount shift=0), int8, the export's golden inputs.\n")
    print("| architecture | pack | flash B | RAM B (arena + data + bss + stack used) | arena min on core B "
          "| instructions, CMSIS-NN | instructions, reference kernels | CMSIS-NN speed-up | vs host TFLM "
          "| max abs vs LiteRT |\n|---|---|---:|---:|---:|---:|---:|---:|---|---:|")
    with tempfile.TemporaryDirectory(prefix="edgeseq-board-") as tmp:
        for directory in args.directories:
            scratch = _scratch_copy(directory, Path(tmp) / directory.name)
            manifest = manifest_file.load(scratch)
            problem = registry.problem_from_manifest(manifest)
            for kind in FILES:
                found = _pack(scratch, kind)
                if not isinstance(found, str):
                    try:
                        found = on_board.check_pack(scratch, found, core, libraries, problem, log=log)
                    except EdgeseqError as exc:
                        found = str(exc)
                print(_row(manifest["architecture"], kind, found), flush=True)


if __name__ == "__main__":
    main()
