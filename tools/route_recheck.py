"""Did the route search pick the fastest form? Every candidate of an export rebuilt from its
model.keras, checked to be the very file the export timed (sha256 against the manifest's
`routes`), and timed again far longer than the export does, the candidates taking turns.

    PYTHONPATH=. .venv/bin/python tools/route_recheck.py exported/cnn_lstm [--rounds 40] [--calls 50]

The export times 25 rounds × 40 calls per candidate (routes.py); this runs ROUNDS × CALLS
(default 40 × 50) through the same routes.time_interleaved, then prints recorded and
re-measured p50s side by side, which form each says is fastest, and whether the
rule (another form replaces the first only when ≥ 10 % faster) still picks the same one.
Needs the [train] extra (the forms are converted again).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edgeseq import manifest as manifest_file  # noqa: E402
from edgeseq import registry  # noqa: E402
from edgeseq.exporters import route_forms, routes  # noqa: E402
from edgeseq.manifest import describe_file  # noqa: E402
from edgeseq.runtimes import open_runner  # noqa: E402


def rebuild(directory: Path, scratch: Path) -> dict[str, list[tuple[str, Path]]]:
    """format → [(form, file)] for the forms that convert, in the export's order."""
    import keras  # noqa: PLC0415

    manifest = manifest_file.load(directory)
    arch = registry.get(manifest["architecture"])
    model = keras.saving.load_model(directory / "model.keras", compile=False)
    (scratch / "twin").mkdir()
    forms = route_forms.forms(arch, model, arch.problem, scratch / "twin" / "saved_model", scratch)
    built = {}
    for fmt, fmt_forms in forms.items():
        built[fmt] = []
        for form in fmt_forms:
            if form.skipped:
                continue
            path = scratch / f"{form.name}.{fmt}"
            form.build(path)
            built[fmt].append((form.name, path))
    return built


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--keep", type=Path, help="copy the rebuilt candidate files here")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    manifest = manifest_file.load(args.directory)
    problem = registry.problem_from_manifest(manifest)
    x, _ = problem.generate(1, np.random.default_rng(0))  # the input routes.py times
    out = {}
    with tempfile.TemporaryDirectory(prefix="edgeseq-recheck-") as scratch:
        built = rebuild(args.directory, Path(scratch))
        for fmt, candidates in built.items():
            recorded = {c["route"]: c for c in manifest["routes"][fmt]["candidates"]}
            runners = [open_runner(path) for _, path in candidates]
            p50 = routes.time_interleaved(runners, {"input": x}, rounds=args.rounds, calls=args.calls)
            rows = [{"route": name, "same_file": describe_file(path)["sha256"] == recorded[name].get("sha256"),
                     "recorded_p50_us": recorded[name]["p50_us"], "p50_us": round(us, 2),
                     "bytes": describe_file(path)["bytes"], "passed": recorded[name]["passed"]}
                    for (name, path), us in zip(candidates, p50, strict=True)]
            chosen = routes.choose([dict(r) for r in rows], "latency")
            out[fmt] = {"recorded_choice": manifest["routes"][fmt]["chosen"],
                        "choice_now": chosen["route"] if chosen else None,
                        "fastest_now": min((r for r in rows if r["passed"]), key=lambda r: r["p50_us"])["route"],
                        "rounds": args.rounds, "calls_per_round": args.calls, "candidates": rows}
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                for name, path in candidates:
                    shutil.copyfile(path, args.keep / f"{name}.{fmt}")
            print(f"## {args.directory.name} {fmt}: recorded choice {out[fmt]['recorded_choice']}, "
                  f"the rule now picks {out[fmt]['choice_now']}, fastest now {out[fmt]['fastest_now']}")
            for r in rows:
                print(f"  {r['route']:9s} recorded {r['recorded_p50_us']:8.2f} µs  now {r['p50_us']:8.2f} µs"
                      f"  same file: {'yes' if r['same_file'] else 'NO'}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
