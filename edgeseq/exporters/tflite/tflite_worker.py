"""Convert TFLite variants in a child process: the converter can crash the whole process
(a segmentation fault in full-integer conversion of a looped LSTM is on record), and a crash
must become a reported failure, never a lost export.

The child prints one JSON line when it starts a variant and one when it ends it, so the
parent knows which variant a crash belongs to. `convert_isolated` runs children until every
variant has an outcome.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
from pathlib import Path

TIMEOUT_S = 900
#: a worker "architecture" that is a file of representative inputs (a user's model has no
#: registry entry to draw them from): `stored:PATH.npz`
STORED = "stored:"


def store_representative(problem, path: Path) -> str:
    """Write the problem's representative inputs for a child process; its worker name."""
    import numpy as np  # noqa: PLC0415

    from .to_tflite import CALIBRATION_SEED, REPRESENTATIVE_SAMPLES  # noqa: PLC0415

    inputs, _ = problem.representative(REPRESENTATIVE_SAMPLES, np.random.default_rng(CALIBRATION_SEED))
    np.savez(path, **(inputs if isinstance(inputs, dict) else {"_": inputs}))
    return f"{STORED}{path}"


class _StoredRepresentative:
    def __init__(self, path: Path):
        import numpy as np  # noqa: PLC0415

        with np.load(path, allow_pickle=False) as data:
            self.inputs = {name: data[name] for name in data.files}

    def representative(self, n, rng):
        return (self.inputs["_"] if list(self.inputs) == ["_"] else self.inputs), None


def convert_isolated(arch_name: str, saved_twin: Path, route: str, out_dir: Path, variants: list[str],
                     log=print, worker: str = __name__) -> dict[str, dict]:
    """variant → {"ok": True, "path": ..., "info": {...}} or {"ok": False, "reason": ...}.
    `worker` is the module run as the child (any module speaking this protocol)."""
    outcomes: dict[str, dict] = {}
    remaining = list(variants)
    while remaining:
        command = [sys.executable, "-m", worker, arch_name, str(saved_twin), route, str(out_dir),
                   *remaining]
        try:
            child = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
            lines, code = child.stdout.splitlines(), child.returncode
        except subprocess.TimeoutExpired as exc:
            lines, code = (exc.stdout or b"").decode().splitlines(), None
        started = None
        for line in lines:
            if not line.startswith("{"):
                continue
            event = json.loads(line)
            if event["status"] == "start":
                started = event["variant"]
            else:
                outcomes[event["variant"]] = event["outcome"]
                started = None
        if code != 0 and started is not None:
            why = ("timed out" if code is None else
                   f"crashed ({signal.Signals(-code).name})" if code < 0 else f"exited {code}")
            outcomes[started] = {"ok": False, "reason": f"converter {why}"}
            log(f"{arch_name}: tflite {started}: converter {why}; reported, export goes on")
        elif code != 0 and not outcomes:
            tail = (child.stderr.strip().splitlines() or ["no output"])[-1]
            raise RuntimeError(f"tflite conversion worker failed: {tail}")
        remaining = [v for v in remaining if v not in outcomes]
    return outcomes


def _main(arch_name: str, saved_twin: str, route: str, out_dir: str, *variants: str) -> None:
    from edgeseq import error_text, registry  # noqa: PLC0415
    from edgeseq.exporters import pause_points
    from edgeseq.exporters.tflite import to_tflite  # noqa: PLC0415

    problem = (_StoredRepresentative(Path(arch_name[len(STORED):])) if arch_name.startswith(STORED)
               else registry.get(arch_name).problem)
    protocol = sys.stdout
    for variant in variants:
        print(json.dumps({"variant": variant, "status": "start"}), file=protocol, flush=True)
        path = Path(out_dir) / f"model.{variant}.tflite"
        pause_points.reach("converting")
        try:
            with contextlib.redirect_stdout(sys.stderr):  # converter chatter off the protocol
                info = to_tflite.convert(Path(saved_twin), problem, path, variant, route)
            outcome = {"ok": True, "path": str(path), "info": info}
        except to_tflite.NothingQuantized as exc:  # converted, but to nothing smaller
            outcome = {"ok": False, "reason": str(exc)}
        except Exception as exc:  # the converter's own errors, cut around their cause
            outcome = {"ok": False, "reason": f"converter error: {error_text.cause(exc)}"}
        print(json.dumps({"variant": variant, "status": "end", "outcome": outcome}),
              file=protocol, flush=True)


if __name__ == "__main__":
    _main(*sys.argv[1:])
