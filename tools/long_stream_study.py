"""The long-stream rule measured (issue 21): for each trained export and several stream seeds,
the step models' 1,000-step stream run free (against Keras fp32 and float64) and anchored
(the candidate's step from each of Keras's states), with the verdict of the old rule (within
2× Keras fp32's distance from float64, plus atol) and of the anchored one that replaced it.

    python tools/long_stream_study.py exported/*/ --seeds 4321,1,2,3,4,5 [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edgeseq.quiet_tensorflow import import_tensorflow  # noqa: E402

import_tensorflow()
import keras  # noqa: E402

from edgeseq import manifest, registry  # noqa: E402
from edgeseq.checks import stream_parity  # noqa: E402
from edgeseq.checks.parity import Tolerance  # noqa: E402
from edgeseq.exporters.step import step_export, step_model  # noqa: E402
from edgeseq.streaming import step_runner  # noqa: E402


def study(directory: Path, seeds: list[int]) -> list[dict]:
    document = manifest.load(directory)
    section = document.get("streaming") or {}
    if not section.get("streams"):
        return [{"architecture": document["architecture"], "refused": section.get("reason")}]
    problem = registry.problem_from_manifest(document)
    tolerance = Tolerance(**document.get("tolerance", {}))
    model = keras.saving.load_model(directory / "model.keras", compile=False)
    functions = step_export.references(model, step_model.plan(model))
    runners = [step_runner(directory / file, section) for file in section["artifacts"].values()]
    rows = []
    for seed in seeds:
        refs = stream_parity.references(problem, sequences=2, seed=seed, **functions)
        report = stream_parity.compare(problem, section, refs, [("fp32", r) for r in runners], tolerance)
        for result in report["results"]:
            free, anchored = result["long_stream"], result["anchored"]
            old_rule = (free["min_atol"] <= tolerance.atol or not free["well_conditioned"]
                        or free["candidate_vs_float64"] <= 2 * free["keras_vs_float64"] + tolerance.atol)
            rows.append({"architecture": document["architecture"], "seed": seed, "runtime": result["runtime"],
                         "keras_vs_float64": free["keras_vs_float64"],
                         "candidate_vs_float64": free["candidate_vs_float64"],
                         "ratio": free["candidate_vs_float64"] / max(free["keras_vs_float64"], 1e-30),
                         "free_vs_keras": free["max_abs"], "well_conditioned": free["well_conditioned"],
                         "old_rule_passes": bool(old_rule),
                         "anchored_output": anchored["output"]["max_abs"],
                         "anchored_state": anchored["state"]["max_abs"],
                         "anchored_min_atol": max(anchored["output"]["min_atol"], anchored["state"]["min_atol"]),
                         "anchored_passes": result["passed"]})
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directories", nargs="+", type=Path)
    parser.add_argument("--seeds", default="4321,1,2,3,4,5")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = [row for d in args.directories for row in study(d, seeds)]
    print("| architecture | seed | runtime | Keras fp32 vs fp64 | candidate vs fp64 | ratio | old rule "
          "| anchored output / state max abs | anchored rule |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if "refused" in r:
            print(f"| {r['architecture']} | - | - | does not stream: {r['refused']} | | | | | |")
            continue
        chaotic = "" if r["well_conditioned"] else " (ill-conditioned)"
        old, new = ("pass" if r[k] else "FAIL" for k in ("old_rule_passes", "anchored_passes"))
        print(f"| {r['architecture']} | {r['seed']} | {r['runtime']} | {r['keras_vs_float64']:.1e}{chaotic} "
              f"| {r['candidate_vs_float64']:.1e} | {r['ratio']:.1f} | {old} "
              f"| {r['anchored_output']:.1e} / {r['anchored_state']:.1e} | {new} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
