"""Cold start: process start to printed answer, on the device runtimes and against TensorFlow.

    .venv/bin/python tools/cold_start.py [--dir exported/vanilla] [--repeat 10] [--markdown FILE]
                                         [--before CHECKOUT]

Times, side by side in one run, with the repetitions interleaved (and the order rotated each
round) so that a slow moment of the machine hits every command alike:

- `edgeseq predict DIR/model.onnx --input 4,3,6,6,6`   (onnxruntime)
- `edgeseq predict DIR/model.tflite --input 4,3,6,6,6` (LiteRT)
- `edgeseq stream DIR --input-file steps.npy`          (the same input, step by step, onnxruntime)
- with `--before CHECKOUT`: the two predict commands again with that checkout's edgeseq
  first on PYTHONPATH (e.g. a `git worktree` of main), for a before/after in one run
- `python -c "import tensorflow"`                      (what the device path does not pay)
- `python -c pass`                                     (the interpreter itself)

Each is a fresh process of this venv (`sys.executable`, and the `edgeseq` script beside it);
edgeseq's sources are byte-compiled first, as pip does at install (where
PYTHONDONTWRITEBYTECODE is set no run would write the .pyc files, and every run would pay the
compile), and one untimed round warms the page cache. Wall time from spawn to exit, the child's own
peak RSS and CPU time (user + system, wait4), median and min over the repetitions. On a
machine shared with other work the wall time stretches with the load; the CPU time much less,
so it is the steadier figure to compare before/after a change.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_once(command: list[str], env: dict | None = None) -> tuple[float, float, int, str, float]:
    """(wall seconds, peak RSS MB, exit code, first line of stdout, CPU seconds) of one fresh
    process."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
        # wait4 rather than wait: it returns this child's own rusage, so its own peak RSS.
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        lines = out.read().decode(errors="replace").strip().splitlines()
        if process.returncode != 0:
            err.seek(0)
            message = err.read().decode(errors="replace").strip().splitlines()
            raise SystemExit(f"{' '.join(command)} exited {process.returncode}: "
                             f"{message[-1] if message else 'no message'}")
    peak_mb = usage.ru_maxrss / (1 << 20) if sys.platform == "darwin" else usage.ru_maxrss / 1024
    return wall, peak_mb, process.returncode, lines[0] if lines else "", usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=ROOT / "exported" / "vanilla",
                        help="an exported vanilla directory (default: exported/vanilla)")
    parser.add_argument("--input", default="4,3,6,6,6", help="the input given to predict")
    parser.add_argument("--repeat", type=int, default=10, help="timed runs of each command")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument("--before", type=Path,
                        help="a checkout of edgeseq to time predict with too (its package first on PYTHONPATH)")
    args = parser.parse_args()
    edgeseq = Path(sys.executable).parent / "edgeseq"  # the venv's console script, not PATH's
    for needed in (args.dir / "model.onnx", args.dir / "model.tflite", edgeseq):
        if not needed.exists():
            raise SystemExit(f"{needed} not found (run `make export` first, or pass --dir)")
    with tempfile.TemporaryDirectory() as scratch:
        steps = Path(scratch) / "steps.npy"
        _save_steps(args.dir, args.input, steps)
        _time(args, steps)


def _save_steps(directory: Path, text: str, path: Path) -> None:
    """The --input as stream's --input-file: the window's steps, one row each."""
    import numpy as np  # noqa: PLC0415 - this process only; the timed ones are fresh

    from edgeseq import manifest, registry  # noqa: PLC0415

    np.save(path, registry.problem_from_manifest(manifest.load(directory)).encode(text)[0])


def _byte_compile(python: str, env: dict | None) -> None:
    """The .pyc files of the edgeseq that `env` imports, as pip writes them at install: where
    PYTHONDONTWRITEBYTECODE is set (as on some CI machines) the import never writes them, and
    every timed run would compile edgeseq's sources again (about 25 ms of predict's CPU here)."""
    run_once([python, "-c", "import compileall, os, edgeseq; "
                            "compileall.compile_dir(os.path.dirname(edgeseq.__file__), quiet=1)"], env)


def _time(args: argparse.Namespace, steps: Path) -> None:
    python = sys.executable
    edgeseq = str(Path(python).parent / "edgeseq")
    commands = {
        "`edgeseq predict model.onnx`": [edgeseq, "predict", str(args.dir / "model.onnx"),
                                         "--input", args.input],
        "`edgeseq predict model.tflite`": [edgeseq, "predict", str(args.dir / "model.tflite"),
                                           "--input", args.input],
        "`edgeseq stream DIR` (onnx)": [edgeseq, "stream", str(args.dir), "--input-file", str(steps)],
        '`python -c "import tensorflow"`': [python, "-c", "import tensorflow"],
        "`python -c pass`": [python, "-c", "pass"],
    }
    envs = {name: None for name in commands}
    if args.before is not None:
        before = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(args.before.resolve()), *filter(None, [os.environ.get("PYTHONPATH")])]))
        for name in [n for n in commands if n.startswith("`edgeseq predict")]:
            commands[f"before: {name}"], envs[f"before: {name}"] = commands[name], before
    names = list(commands)
    for env in {id(e): e for e in envs.values()}.values():
        _byte_compile(python, env)
    for name in names:  # warm-up round: page cache
        run_once(commands[name], envs[name])
    runs: dict[str, list[tuple[float, float, int, str, float]]] = {name: [] for name in names}
    for rep in range(args.repeat):
        order = names[rep % len(names):] + names[:rep % len(names)]
        for name in order:
            runs[name].append(run_once(commands[name], envs[name]))
        print(f"round {rep + 1}/{args.repeat} done", file=sys.stderr, flush=True)

    tf_median = statistics.median(w for w, *_ in runs['`python -c "import tensorflow"`'])
    tf_cpu = statistics.median(r[4] for r in runs['`python -c "import tensorflow"`'])
    header = (f"Cold start, process start to exit, {args.repeat} interleaved runs each (after "
              f"one warm-up round) — {platform.platform()}, {os.cpu_count()} CPUs, Python "
              f"{platform.python_version()}, "
              f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}")
    lines = [header, "",
             "| command | median s | min s | × import tensorflow | CPU s | CPU × tensorflow "
             "| peak RSS MB | answer |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for name in names:
        walls = [w for w, *_ in runs[name]]
        rss = statistics.median(r for _, r, *_ in runs[name])
        answer = runs[name][-1][3] or "—"
        cpu = statistics.median(r[4] for r in runs[name])
        lines.append(f"| {name} | {statistics.median(walls):.3f} | {min(walls):.3f} | "
                     f"{statistics.median(walls) / tf_median:.3f} | {cpu:.3f} | {cpu / tf_cpu:.3f} | "
                     f"{rss:.0f} | {answer} |")
    where = args.dir.resolve()
    shown = where.relative_to(ROOT) if where.is_relative_to(ROOT) else where
    lines += ["", (f"Model: {shown} (input {args.input}). Wall time of the whole process, "
                   "including interpreter start-up and exit; RSS and CPU (user + system) are "
                   "each process's own (wait4).")]
    table = "\n".join(lines)
    print(table)
    if args.markdown:
        args.markdown.write_text(table + "\n")


if __name__ == "__main__":
    main()
