"""The route search (`export --optimize latency|size`): every candidate form of a format
(route_forms.py) goes through the fp32 parity gate against Keras and is timed at batch 1;
the fastest (latency) or smallest (size) of those that passed becomes `model.<format>`.

Timing: one runner per candidate, the same input, CALLS calls per candidate per round and
the candidates taking turns for ROUNDS rounds, so that a noisy moment on a shared machine
hits every candidate alike; p50 over all of a candidate's calls. The call is the one bench
times (Runner.infer on a bound feed).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

from .. import error_text
from ..atomic import atomic_path
from ..checks.parity import check
from ..errors import EdgeseqError
from ..manifest import describe_file
from ..measure.bench_worker import time_calls
from ..runtimes import open_runner

#: optimize → the recorded number it minimizes (ties go to the other one, then to form order);
#: none converts the first form of each format only (today's route): no search, the quickest
#: export (vanilla, untrained, interleaved in one run: 11.3 and 10.9 s against 18.8 and 17.0 s
#: with size, 0.60–0.64×)
OPTIMIZE = {"latency": "p50_us", "size": "bytes", "none": None}
RULES = {"latency": "fastest batch-1 p50 among the candidates that passed the fp32 parity gate; "
                    "another form replaces the first listed one only when ≥ 10 % faster",
         "size": "smallest file among the candidates that passed the fp32 parity gate",
         "none": "the first form of each format (today's route); no other form converted"}
NOT_SEARCHED = "not converted: --optimize none converts the first form only"
#: how much faster than the first passing form (today's route) another must be to replace it:
#: p50s of one export's interleaved rounds differ by a few percent from run to run here, and a
#: choice inside that noise would flip between two exports of the same model
LATENCY_MARGIN = 0.10
#: 1,000 calls per candidate cost under a second for the slowest form of the six (stacked's
#: WHILE, 330 µs). Three exports at 7 × 15 measured cnn_lstm's unrolled ÷ fused at 0.87, 0.94 and
#: 0.97, either side of the margin; four rechecks of one export (7 × 15 and 25 × 40) gave 0.85–0.87
ROUNDS = 25
CALLS = 40
WARMUP = 10


def choose(candidates: list[dict], optimize: str) -> dict | None:
    """The candidate the rule picks among those recorded as passing; None if none passed."""
    if optimize == "none":
        return candidates[0] if candidates and candidates[0].get("passed") else None
    passing = [c for c in candidates if c.get("passed")]
    key, other = OPTIMIZE[optimize], OPTIMIZE["size" if optimize == "latency" else "latency"]
    best = min(passing, key=lambda c: (c[key], c[other]), default=None)
    if optimize == "latency" and best is not None and not _clearly_faster(best, passing[0]):
        return passing[0]
    return best


def _clearly_faster(candidate: dict, first: dict) -> bool:
    return candidate is first or candidate["p50_us"] < (1 - LATENCY_MARGIN) * first["p50_us"]


def time_interleaved(runners: list, feed: dict, rounds: int = ROUNDS, calls: int = CALLS) -> list[float]:
    """Batch-1 p50 in µs per runner, the runners taking turns round by round."""
    bound = [runner.bind(feed) for runner in runners]
    for runner, one in zip(runners, bound, strict=True):
        time_calls(lambda r=runner, f=one: r.infer(f), 0, warmup=WARMUP)
    times: list[list[np.ndarray]] = [[] for _ in runners]
    for _ in range(rounds):
        for i, (runner, one) in enumerate(zip(runners, bound, strict=True)):
            times[i].append(time_calls(lambda r=runner, f=one: r.infer(f), calls, warmup=0))
    return [float(np.percentile(np.concatenate(t), 50) * 1e6) for t in times]


def search(name: str, forms: dict, staging: Path, scratch: Path, problem, keras_runner,
           samples: int, tolerance, optimize: str, log) -> tuple[dict, dict, dict]:
    """Build, gate, time and choose per format. Returns (format → the published file's info,
    format → the info of today's route, the manifest's `routes` section)."""
    section: dict = {"optimize": optimize, "rule": RULES[optimize],
                     "timing": {"batch": 1, "rounds": ROUNDS, "calls_per_round": CALLS}}
    entries = {fmt: [] for fmt in forms}
    built = {fmt: [] for fmt in forms}
    for fmt, fmt_forms in forms.items():
        for i, form in enumerate(fmt_forms):
            entry = {"route": form.name, "p50_us": None, "bytes": None, "max_abs": None,
                     "passed": None, "chosen": False}
            entries[fmt].append(entry)
            if form.skipped or (i > 0 and optimize == "none"):
                entry |= {"skipped": True, "why": form.skipped or NOT_SEARCHED}
                continue
            path = scratch / f"{form.name}.{fmt}"
            started = time.perf_counter()
            try:
                info = form.build(path) | {"variant": "fp32"}
            except EdgeseqError:
                raise
            except Exception as exc:  # the converters' own errors, cut around their cause
                if i == 0:  # today's route: its failure stops the export, as before the search
                    raise EdgeseqError(f"{name}: {fmt} conversion failed: {error_text.cause(exc)}") from None
                entry |= {"skipped": True, "why": f"converter error: {error_text.cause(exc)}"}
                log(f"{name}: {fmt} {form.name} route not converted: {entry['why']}")
                continue
            entry["route"] = info.pop("form", form.name)
            entry["convert_s"] = round(time.perf_counter() - started, 2)  # what the search costs
            entry |= {"how": info["route"]} | {k: v for k, v in describe_file(path).items() if k != "file"}
            built[fmt].append((entry, path, info))
    _gate(built, problem, keras_runner, samples, tolerance)
    chosen_info, today_info = {}, {}
    for fmt, candidates in built.items():
        _time(candidates, problem, keras_runner)
        today_info[fmt] = candidates[0][2] | {"route_form": candidates[0][0]["route"]}
        best = choose(entries[fmt], optimize)
        _explain(entries[fmt], best, optimize)
        # None passed: today's file goes on to the gate, which fails the export as before.
        entry, path, info = next(c for c in candidates if c[0] is best) if best else candidates[0]
        with atomic_path(staging / f"model.{fmt}") as tmp:
            shutil.copyfile(path, tmp)
        chosen_info[fmt] = info | {"route_form": entry["route"]}
        section[fmt] = {"chosen": best["route"] if best else None, "why": best["why"] if best else
                        "no candidate passed the parity gate", "candidates": entries[fmt]}
        log(f"{name}: {fmt} route: {section[fmt]['chosen']} ({section[fmt]['why']})")
    return chosen_info, today_info, section


def _gate(built: dict, problem, keras_runner, samples: int, tolerance) -> None:
    """Every candidate of every format through one parity check: Keras runs once."""
    candidates = [c for found in built.values() for c in found]
    report = check(problem, keras_runner, [("fp32", open_runner(path)) for _, path, _ in candidates],
                   samples=samples, tolerance=tolerance)
    for (entry, _, _), result in zip(candidates, report["results"], strict=True):
        entry |= {"max_abs": result["max_abs"], "passed": result["passed"]}
        if not result["passed"]:
            entry["why"] = f"failed parity: {result['reason']}"


def _time(candidates: list, problem, keras_runner) -> None:
    inputs, _ = problem.generate(1, np.random.default_rng(0))
    feed = dict(inputs) if isinstance(inputs, dict) else {keras_runner.inputs[0].name: inputs}
    runners = [open_runner(path) for _, path, _ in candidates]
    for (entry, _, _), p50 in zip(candidates, time_interleaved(runners, feed), strict=True):
        entry["p50_us"] = round(p50, 2)


def _explain(entries: list[dict], best: dict | None, optimize: str) -> None:
    """Each candidate's `why`: chosen by the rule, or what it lost by."""
    if best is None:
        return
    if optimize == "none":
        best |= {"why": RULES["none"], "chosen": True}
        return
    key = OPTIMIZE[optimize]
    rivals = [c for c in entries if c.get("passed") and c is not best]
    unit = "µs" if optimize == "latency" else "bytes"
    if not rivals:
        best["why"] = "the only candidate that converted and passed parity"
    else:
        runner_up = min(rivals, key=lambda c: c[key])
        if runner_up[key] < best[key]:  # latency, within the margin: the first form kept
            best["why"] = (f"kept as the first form: {runner_up['route']} {runner_up[key]:,} µs is "
                           f"less than {LATENCY_MARGIN:.0%} faster than its {best[key]:,} µs")
        else:
            best["why"] = (f"{'fastest' if optimize == 'latency' else 'smallest'} that passed: "
                           f"{best[key]:,} {unit} against {runner_up['route']} {runner_up[key]:,} {unit}")
    best["chosen"] = True
    for c in rivals:
        c["why"] = f"{c[key] / best[key]:.2f}× the chosen one's {key}" if best[key] else "not chosen"


def check_optimize(optimize: str) -> str:
    if optimize not in OPTIMIZE:
        raise EdgeseqError(f"unknown --optimize {optimize!r}; expected one of {', '.join(OPTIMIZE)}")
    return optimize
