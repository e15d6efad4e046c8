"""`edgeseq mcu --build`'s table: each pack's firmware on the core under QEMU."""

from __future__ import annotations

from .app import fmt, out


def show_board(document: dict) -> None:
    from rich import box  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    table = Table("artifact", "kernels", "flash B (model)", "RAM B (arena)", "arena min B", "stack used B",
                  "instructions", "vs host TFLM", "vs LiteRT", box=box.SIMPLE_HEAD, title_justify="left",
                  title=f"on {document['core']} (QEMU {document['machine']}), golden inputs")
    for pack in document["packs"]:
        for kernels, run in pack["kernels"].items():
            sizes, outputs = run["sizes"], run["outputs"]
            differing = outputs["values_differing_from_host_tflm"]
            if outputs["bit_exact_with_host_tflm"]:
                exact = "bit-exact"
            elif outputs["max_lsb_vs_host_tflm"] is None:  # an fp32 model: no int8 step to count in
                exact = f"max abs {fmt(outputs['max_abs_vs_host_tflm'])} ({differing} values)"
            else:
                exact = f"≤{outputs['max_lsb_vs_host_tflm']} LSB ({differing} values)"
            arena = run.get("arena", {}).get("minimum_bytes")
            table.add_row(pack["artifact"], kernels, f"{sizes['flash_bytes']:,} ({sizes['model_bytes']:,})",
                          f"{sizes['ram_bytes']:,} ({sizes['arena_bytes']:,})", f"{arena:,}" if arena else "-",
                          f"{run['stack_used_bytes']:,}", f"{run['instructions_per_inference']:,}"
                          + (" /step" if pack["step"] else ""), exact, fmt(outputs["max_abs_vs_litert"]))
        if "cmsis_nn_speedup" in pack:
            out.print(f"{pack['artifact']}: CMSIS-NN {pack['cmsis_nn_speedup']}× fewer instructions than the "
                      f"reference kernels (CMSIS-NN kernels for {', '.join(pack['cmsis_nn_ops']) or 'none'})",
                      markup=False, highlight=False)
    out.print(table)
