"""Every variant of every exported architecture in one markdown table: the fp32 form it was
converted from, bytes, ratio to that fp32 form,
task metric, max abs error against Keras, batch-1 p50 on its own runtime, kept or rejected.

    .venv/bin/python tools/variant_table.py exported/*/ > variants.md

Metric and error come from the parity each manifest recorded at export (1,000 inputs);
latency from one `edgeseq bench DIR --json` run per directory (rejected variants were never
written, so they have no latency).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from edgeseq import manifest as manifest_file


def bench(directory: Path) -> dict[tuple[str, str], float]:
    document = json.loads(subprocess.run(
        [sys.executable, "-m", "edgeseq", "bench", str(directory), "--keras-calls", "1", "--json"],
        check=True, capture_output=True, text=True).stdout)
    return {(r["runtime"], r["variant"]): r["p50_us"] for r in document["results"]}


def rows(directory: Path) -> list[str]:
    manifest = manifest_file.load(directory)
    p50 = bench(directory)
    lines = []
    for r in manifest["parity"]["results"] + manifest.get("rejected", []):
        size, ratio, form = manifest_file.variant_bytes(manifest, r)
        metric = r.get("metric") or {}
        latency = p50.get((r["runtime"], r["variant"]))
        verdict = "kept" if r["passed"] else f"rejected: {r['reason']}"
        lines.append("| " + " | ".join([
            manifest["architecture"], r["runtime"], r["variant"], form or "—",
            f"{size:,}" if size else "—", f"{ratio:.2f}" if ratio else "—",
            f"{metric['name']} {metric['value']:.4f}" if metric else "—",
            f"{r['max_abs']:.1e}" if r.get("max_abs") is not None else "—",
            f"{latency:.1f}" if latency else "—", verdict]) + " |")
    return lines


def main(directories: list[str]) -> None:
    if not directories:
        sys.exit("usage: tools/variant_table.py EXPORTED_DIR...")
    print("| architecture | runtime | variant | from | bytes | × fp32 | metric | max abs | p50 µs | gate |")
    print("|---|---|---|---|---:|---:|---|---:|---:|---|")
    for directory in directories:
        print("\n".join(rows(Path(directory))), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
