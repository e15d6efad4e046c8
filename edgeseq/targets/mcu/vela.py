"""Arm's Vela compiler's estimate for the Ethos-U microNPUs, read from its own summary.

Vela compiles only integer models (an fp32 op stays on the CPU), so it is asked about the
full-int8 file. It runs in a child (`python -m ethosu.vela`) with Vela's default system
config and memory mode for each accelerator, which it names in its summary: the figures are
an estimate for that reference system, not for a given board.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ACCELERATORS = ("ethos-u55-128", "ethos-u65-256")
TIMEOUT_S = 600


def _ops(text: str, kind: str) -> int | None:
    match = re.search(rf"{kind} operators = (\d+)", text)
    return int(match.group(1)) if match else None


def estimate(model: Path, accelerator: str) -> dict:
    """Vela's summary for one accelerator, or {"error": its last line} if it refused."""
    with tempfile.TemporaryDirectory(prefix="edgeseq-vela-") as out:
        command = [sys.executable, "-m", "ethosu.vela", str(model), "--accelerator-config",
                   accelerator, "--output-dir", out]
        try:
            child = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return {"accelerator": accelerator, "error": f"vela did not finish within {TIMEOUT_S} s"}
        summaries = sorted(Path(out).glob("*_summary_*.csv"))
        if child.returncode != 0 or not summaries:
            said = (child.stderr.strip() or child.stdout.strip() or "no output").splitlines()[-1]
            return {"accelerator": accelerator, "error": f"vela failed: {said[:300]}"}
        with open(summaries[0], newline="") as f:
            row = next(csv.DictReader(f))
    kib = 1024
    return {
        "accelerator": accelerator,
        "system_config": row["system_config"],
        "memory_mode": row["memory_mode"],
        "clock_hz": float(row["core_clock"]),
        "sram_bytes": round(float(row["sram_memory_used"]) * kib),
        "flash_bytes": round((float(row["off_chip_flash_memory_used"])
                              + float(row["on_chip_flash_memory_used"])) * kib),
        # U65's default (client-server) system keeps the weights in DRAM, not flash
        "dram_bytes": round(float(row["dram_memory_used"]) * kib),
        "weights_in": row["weights_storage_area"],
        "npu_ops": _ops(child.stdout, "NPU"),
        "cpu_ops": _ops(child.stdout, "CPU"),
        "cycles": round(float(row["cycles_total"])),
        "inference_us": float(row["inference_time"]) * 1e6,
        "macs": round(float(row["nn_macs"])),
    }


def estimates(model: Path) -> list[dict]:
    return [estimate(model, accelerator) for accelerator in ACCELERATORS]
