"""Per-call latency of an export in headless Chromium (onnxruntime-web, wasm) beside
onnxruntime-node on the same machine, in one run, interleaved.

    .venv/bin/python tools/web_latency.py exported/vanilla exported/stacked \
        --ort-node /tmp/ortw/node_modules [--repeats 3]

Rows, each the median over `repeats` interleaved passes of the p50 of 25 rounds (a round:
awaited calls on one example, doubled until it lasts 5 ms):
- node: onnxruntime-node, 1 intra-op thread (install it anywhere with
  `npm install --ignore-scripts onnxruntime-node`: its install script fetches GPU binaries
  from nuget, which an offline machine cannot reach; the CPU binaries are in the package);
- page: edgeseq.js predict() in the page, not cross-origin isolated (1 thread);
- page bare session: the same model on a bare onnxruntime-web session (what predict adds
  is the difference);
- isolated 1 / 2 threads: the page served with COOP/COEP, wasm threads 1 and 2;
- floor: floor.onnx (one Reshape) on a bare session in the page.
onnxruntime-web 1.31.1 ships one wasm build, SIMD128 and threads in one: SIMD cannot be
switched off, so it is on in every web row.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from edgeseq import manifest as manifest_file
from edgeseq import registry
from edgeseq.targets.web import check, pack, runtime_files
from edgeseq.targets.web.browser import BrowserPage

NODE_SCRIPT = Path(__file__).with_name("ort_node_latency.mjs")
ROUNDS = 25


def node_p50(modules: Path, model: Path, x: np.ndarray, scratch: Path, threads: int = 1) -> float:
    data = scratch / "input.f32"
    data.write_bytes(np.ascontiguousarray(x, np.float32).tobytes())
    done = subprocess.run(["node", str(NODE_SCRIPT), str(modules), str(model), str(data),
                           ",".join(map(str, x.shape)), str(ROUNDS), str(check.MIN_ROUND_MS), str(threads)],
                          capture_output=True, text=True, check=True, timeout=600)
    return statistics.median(json.loads(done.stdout.strip().splitlines()[-1])["per_call_us"])


def page_p50(folder: Path, problem, isolated: bool = False, threads: int = 1, **kind) -> float:
    with BrowserPage(folder, isolated=isolated, threads=threads) as page:
        return check.latency(page, problem, rounds=ROUNDS, **kind)["p50_us"]


def measure(directory: Path, modules: Path, repeats: int) -> dict:
    manifest = manifest_file.load(directory)
    problem = registry.problem_from_manifest(manifest)
    x, _ = problem.generate(1, np.random.default_rng(0))
    rows: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="edgeseq-web-latency-") as scratch:
        scratch = Path(scratch)
        folder, _ = pack.write(directory, runtime_files.find()[0], into=scratch / "web")
        shutil.copyfile(directory / "floor.onnx", folder / "floor.onnx")
        runs = {
            "node (onnxruntime-node, 1 thread)": lambda: node_p50(modules, directory / "model.onnx", x, scratch),
            "page predict (1 thread)": lambda: page_p50(folder, problem),
            "page bare session (1 thread)": lambda: page_p50(folder, problem, bare=True),
            "page predict, isolated, 1 thread": lambda: page_p50(folder, problem, isolated=True),
            "page predict, isolated, 2 threads": lambda: page_p50(folder, problem, isolated=True, threads=2),
            "page floor.onnx (bare session)": lambda: page_p50(folder, problem, floor=True),
        }
        for _ in range(repeats):  # interleaved: a busy spell of the machine hits every row alike
            for name, run in runs.items():
                rows.setdefault(name, []).append(run())
    return {name: statistics.median(values) for name, values in rows.items()} | {
        "_passes": {name: values for name, values in rows.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directories", nargs="+", type=Path)
    parser.add_argument("--ort-node", type=Path, required=True, help="a node_modules folder with onnxruntime-node")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for directory in args.directories:
        found = measure(directory, args.ort_node, args.repeats)
        node = found["node (onnxruntime-node, 1 thread)"]
        print(f"{directory} (p50 µs a call, median of {args.repeats} interleaved passes; × node)")
        for name, value in found.items():
            if not name.startswith("_"):
                print(f"  {name:<38} {value:8.1f}  {value / node:5.2f}×")
        print("  passes:", json.dumps({k: [round(v, 1) for v in vs] for k, vs in found["_passes"].items()}))


if __name__ == "__main__":
    main()
