"""The microcontroller budget of every exported architecture in one markdown table, from the
`mcu` section `edgeseq mcu DIR` wrote into each manifest (run it first):

    .venv/bin/python tools/mcu_table.py exported/*/ > mcu.md

One row per architecture, for the artifact the pack holds (int8 when it passes on TFLM).
"""

from __future__ import annotations

import sys
from pathlib import Path

from edgeseq import manifest as manifest_file


def _vela(budget: dict, accelerator: str) -> str:
    found = next((v for v in budget["vela"] if v["accelerator"] == accelerator), None)
    if found is None or "error" in found:
        return "—"
    weights = found["flash_bytes"] or found["dram_bytes"]
    return (f"{found['sram_bytes'] / 1024:.2f} / {weights / 1024:.2f} KiB, "
            f"{found['npu_ops']}:{found['cpu_ops']}, {found['inference_us']:,.0f} µs")


def row(directory: Path) -> str:
    manifest = manifest_file.load(directory)
    section = manifest.get("mcu")
    if not section or not section.get("packed"):
        return f"| {manifest['architecture']} | no pack: run `edgeseq mcu {directory}` |" + " |" * 7
    packed = section["packed"]["artifact"]
    budget = next(b for b in section["artifacts"] if b["artifact"] == packed)
    result = next(r for r in section["parity"]["results"] if r["artifact"] == packed)
    keras = section["parity"]["reference"].get("metric", {})
    metric = result["metric"]
    fits = "yes" if all(budget["fits"].values()) else "**no**"
    return "| " + " | ".join([
        manifest["architecture"], budget["variant"], f"{budget['flash_bytes']:,}",
        f"{budget['arena']['minimum_bytes']:,} / {budget['ram_bytes']:,}", f"{budget['cost']['macs']:,}",
        f"{metric['name']} {metric['value']:.4f} ({keras.get('value', float('nan')):.4f})",
        _vela(budget, "ethos-u55-128"), _vela(budget, "ethos-u65-256"), fits]) + " |"


def main(directories: list[str]) -> None:
    if not directories:
        sys.exit("usage: tools/mcu_table.py EXPORTED_DIR...")
    print("| architecture | packed | flash B | arena min / pack B | MACs | TFLM metric (Keras) "
          "| U55-128 SRAM / flash, NPU:CPU ops, time | U65-256 SRAM / DRAM, NPU:CPU ops, time | fits M4 |")
    print("|---|---|---:|---:|---:|---|---|---|---|")
    for directory in directories:
        print(row(Path(directory)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
