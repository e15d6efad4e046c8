"""Per-call latency of an export in headless Chromium (onnxruntime-web, wasm) beside
onnxruntime-node on the same machine, in one run, interleaved.

    .venv/bin/python tools/web_latency.py exported/vanilla exported/stacked \
        --ort-node /tmp/ortw/node_modules [--repeats 3]

Rows: the p50 of 25 rounds (a round: awaited calls on one example, doubled until it lasts
5 ms), median and best over `repeats` interleaved passes (the machine this was written on is
shared: the best pass is the quiet one, and node and the pages alternate within seconds):
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
import contextlib
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


def measure(directory: Path, modules: Path, repeats: int) -> dict:
    manifest = manifest_file.load(directory)
    problem = registry.problem_from_manifest(manifest)
    x, _ = problem.generate(1, np.random.default_rng(0))
    rows: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="edgeseq-web-latency-") as scratch, contextlib.ExitStack() as open_pages:
        scratch = Path(scratch)
        folder, _ = pack.write(directory, runtime_files.find()[0], into=scratch / "web", with_standalone=False)
        shutil.copyfile(directory / "floor.onnx", folder / "floor.onnx")
        # the pages stay open: each pass is seconds long, so node and the pages see the same spell
        plain, isolated1, isolated2 = (open_pages.enter_context(BrowserPage(folder, isolated=i, threads=t))
                                       for i, t in ((False, 1), (True, 1), (True, 2)))
        late = lambda page, **kind: check.latency(page, problem, rounds=ROUNDS, **kind)["p50_us"]  # noqa: E731
        runs = {
            "node (onnxruntime-node, 1 thread)": lambda: node_p50(modules, directory / "model.onnx", x, scratch),
            "page predict (1 thread)": lambda: late(plain),
            "page bare session (1 thread)": lambda: late(plain, bare=True),
            "page predict, isolated, 1 thread": lambda: late(isolated1),
            "page predict, isolated, 2 threads": lambda: late(isolated2),
            "page floor.onnx (bare session)": lambda: late(plain, floor=True),
        }
        for _ in range(repeats):  # interleaved: a busy spell of the machine hits every row alike
            for name, run in runs.items():
                rows.setdefault(name, []).append(run())
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directories", nargs="+", type=Path)
    parser.add_argument("--ort-node", type=Path, required=True, help="a node_modules folder with onnxruntime-node")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for directory in args.directories:
        rows = measure(directory, args.ort_node, args.repeats)
        node = rows["node (onnxruntime-node, 1 thread)"]
        print(f"{directory}: p50 µs a call; median and best of {args.repeats} interleaved passes (× node's)")
        for name, values in rows.items():
            med, best = statistics.median(values), min(values)
            print(f"  {name:<38} median {med:7.1f} ({med / statistics.median(node):4.2f}×)   "
                  f"best {best:7.1f} ({best / min(node):4.2f}×)")
        print("  passes:", json.dumps({k: [round(v, 1) for v in vs] for k, vs in rows.items()}))


if __name__ == "__main__":
    main()
