"""The microcontroller budget of every exported architecture in one markdown table, from the
`mcu` section `edgeseq mcu DIR` wrote into each manifest (run it first):

    .venv/bin/python tools/mcu_table.py exported/*/ > mcu.md

One row per architecture, for the artifact the pack holds (int8 when it passes on TFLM); then
the same for the streaming packs (DIR/mcu/step/, figures per step) where there are any.
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


def row(directory: Path, key: str = "packed", report: str = "parity") -> str | None:
    """The pack `key` (packed, or packed_step with its `streaming` report) as a table row."""
    manifest = manifest_file.load(directory)
    section = manifest.get("mcu")
    if not section or not section.get(key):
        return (None if key != "packed" else
                f"| {manifest['architecture']} | no pack: run `edgeseq mcu {directory}` |" + " |" * 7)
    packed = section[key]["artifact"]
    budget = next(b for b in section["artifacts"] if b["artifact"] == packed)
    result = next(r for r in section[report]["results"] if r["artifact"] == packed)
    keras = section[report]["reference"].get("metric", {})
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
    header = ("| architecture | packed | flash B | arena min / pack B | MACs | TFLM metric (Keras) "
              "| U55-128 SRAM / flash, NPU:CPU ops, time | U65-256 SRAM / DRAM, NPU:CPU ops, time | fits M4 |\n"
              "|---|---|---:|---:|---:|---|---|---|---|")
    print(header)
    for directory in directories:
        print(row(Path(directory)), flush=True)
    steps = [r for r in (row(Path(d), "packed_step", "streaming") for d in directories) if r]
    if steps:
        print("\nStreaming packs (DIR/mcu/step/): per step; metric after a window's steps from zeros.\n")
        print(header)
        print("\n".join(steps))


if __name__ == "__main__":
    main(sys.argv[1:])
