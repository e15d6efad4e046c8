"""Compare outputs of a candidate runtime with the reference, Polygraphy-style: error
statistics, the smallest tolerance that would have passed, and decision agreement.

Knows nothing of runtimes: it compares arrays. `check` runs runners over one input set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import EdgeseqError, InputError
from ..problems import Metric, Problem
from ..runtimes import Runner

#: fp32 artifacts must match Keras within atol + rtol·|reference| (numpy.isclose's rule).
ATOL = 1e-5
RTOL = 1e-5


@dataclass(frozen=True)
class Tolerance:
    atol: float = ATOL
    rtol: float = RTOL


def error_stats(reference: np.ndarray, candidate: np.ndarray, rtol: float = RTOL,
                stat: str | float = "max") -> dict:
    """Absolute and relative error, and min_atol: the smallest atol that passes with rtol.

    Each element needs atol ≥ |err| − rtol·|ref| (numpy.isclose's rule); `stat` says which
    statistic of those needs must fit: "max" (every element, the parity gate), "mean",
    "median", or a quantile in [0, 1] (Polygraphy's --check-error-stat)."""
    if reference.shape != candidate.shape:
        raise ValueError(f"output shapes differ: {reference.shape} vs {candidate.shape}")
    ref = reference.astype(np.float64)
    err = np.abs(candidate.astype(np.float64) - ref)
    rel = err / np.maximum(np.abs(ref), np.finfo(np.float32).tiny)
    needed = np.maximum(0.0, err - rtol * np.abs(ref))
    return {
        "max_abs": float(err.max()),
        "mean_abs": float(err.mean()),
        "median_abs": float(np.median(err)),
        "p99_abs": float(np.percentile(err, 99)),
        "max_rel": float(rel.max()),
        "min_atol": reduce_error(needed, stat),
    }


ERROR_STATS = ("max", "mean", "median")


def reduce_error(values: np.ndarray, stat: str | float) -> float:
    if stat == "max":
        return float(values.max())
    if stat == "mean":
        return float(values.mean())
    if stat == "median":
        return float(np.median(values))
    return float(np.quantile(values, float(stat)))


#: A quantized variant is worth shipping only if it still solves the problem: at most one
#: point of a higher-is-better metric (accuracy, exact match) below Keras, or at most 10 %
#: worse for an error metric (MAE).
MAX_METRIC_DROP = 0.01
MAX_ERROR_GROWTH = 0.10


def is_fp32(variant: str) -> bool:
    """fp32 files, at batch 1 or a fixed batch ("fp32-b64"): held to the tolerance gate."""
    return variant.split("-", 1)[0] == "fp32"


def metric_gate(metric: Metric, reference: float, value: float) -> str | None:
    """Why a quantized variant's task metric is not good enough, or None."""
    if metric.threshold is not None:
        if metric.higher_is_better and value < metric.threshold:
            return f"{metric.name} {value:.4f} is below {metric.threshold:g}"
        if not metric.higher_is_better and value > metric.threshold:
            return f"{metric.name} {value:.4f} exceeds {metric.threshold:g}"
        return None
    if metric.higher_is_better:
        floor = reference - MAX_METRIC_DROP
        if value < floor:
            return (f"{metric.name} {value:.4f} is more than {MAX_METRIC_DROP:.2f} below "
                    f"Keras ({reference:.4f})")
    else:
        ceiling = reference * (1 + MAX_ERROR_GROWTH)
        if value > ceiling:
            return (f"{metric.name} {value:.4f} is more than {MAX_ERROR_GROWTH:.0%} worse than "
                    f"Keras ({reference:.4f})")
    return None


def compare(problem: Problem, inputs: np.ndarray, targets: np.ndarray, reference: np.ndarray,
            candidate: np.ndarray, tolerance: Tolerance, variant: str = "fp32") -> dict:
    """One candidate's report against the reference. fp32 variants pass on numerical
    tolerance and decision agreement; quantized variants on the task metric."""
    stats = error_stats(reference, candidate, tolerance.rtol)
    ref_decisions, cand_decisions = problem.decisions(reference), problem.decisions(candidate)
    agreement = (None if ref_decisions is None
                 else float(np.mean(ref_decisions == cand_decisions)))
    value = problem.score(inputs, targets, candidate)
    reasons = []
    if is_fp32(variant):
        if not stats["min_atol"] <= tolerance.atol:  # NaN fails too
            reasons.append(f"max abs error {stats['max_abs']:.2e} exceeds atol {tolerance.atol:g} "
                           f"(rtol {tolerance.rtol:g}); min_atol {stats['min_atol']:.2e}")
        if agreement is not None and agreement < 1.0:
            reasons.append(f"decisions agree on {agreement:.2%} of outputs, not all")
    else:
        reason = metric_gate(problem.metric, problem.score(inputs, targets, reference), value)
        if reason:
            reasons.append(reason)
    report = stats | {
        "argmax_agreement": agreement,
        "metric": {"name": problem.metric.name, "value": value},
        "gate": "tolerance" if is_fp32(variant) else "metric",
        "atol": tolerance.atol,
        "rtol": tolerance.rtol,
        "passed": not reasons,
    }
    if reasons:
        report["reason"] = "; ".join(reasons)
    return report


def paired(reference: dict[str, np.ndarray], candidate: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray]]:
    """The candidate's outputs in the reference's order and under its names: matched by
    name, or by position when the two name none alike (Keras layer names, a TFLite
    signature's `output_0` and ONNX's `output` are one output under three names)."""
    if set(reference) == set(candidate):
        return [(name, candidate[name]) for name in reference]
    if not set(reference) & set(candidate) and len(reference) == len(candidate):
        return list(zip(reference, candidate.values(), strict=True))
    raise InputError(f"outputs differ: reference has {', '.join(reference)}, candidate "
                     f"{', '.join(candidate)}")


def check(problem: Problem, reference: Runner, candidates: list[tuple[str, Runner]],
          samples: int = 1000, seed: int = 1234, tolerance: Tolerance = Tolerance(),
          optional: list[tuple[str, Runner]] = (), not_run: list[dict] = ()) -> dict:
    """Run the same inputs through the reference and every (variant, runner): seeded
    generated inputs, or a stored reference's own inputs. Outputs are compared by name.

    `optional`: runners edgeseq adds on its own initiative (OpenVINO beside the export's own
    runtimes). Their rows are reported with `gated: false` and never fail the check; one that
    cannot run the model goes, as one line, under `not_run`, with those the caller could not
    even open (`not_run` rows: runtime, variant, artifact, reason)."""
    if hasattr(reference, "data"):
        inputs, targets = reference.data()
        samples, seed = len(inputs), None
    else:
        inputs, targets = problem.generate(samples, np.random.default_rng(seed))
    feed = dict(inputs) if isinstance(inputs, Mapping) else {reference.inputs[0].name: inputs}
    samples = len(next(iter(feed.values())))
    expected = reference.run(feed)
    targets = problem.reference_targets(targets, expected)
    first = next(iter(expected))
    results, not_run = [], list(not_run)
    for variant, runner, gated in [(v, r, True) for v, r in candidates] + [(v, r, False) for v, r in optional]:
        try:
            outputs = paired(expected, runner.run(feed))
        except EdgeseqError as exc:
            if gated:
                raise
            not_run.append(unavailable(runner.runtime, variant, runner.path, f"cannot run: {exc}"))
            continue
        report = compare(problem.for_output(first), inputs, targets, expected[first], outputs[0][1],
                         tolerance, variant)
        if len(outputs) > 1:  # every output must pass; the top level is the first one's
            per_output = {name: compare(problem.for_output(name), inputs, targets, expected[name], out,
                                        tolerance, variant)
                          for name, out in outputs}
            report["outputs"] = per_output
            failed = [f"{name}: {r['reason']}" for name, r in per_output.items() if not r["passed"]]
            if failed:
                report |= {"passed": False, "reason": "; ".join(failed)}
        results.append({"runtime": runner.runtime, "variant": variant,
                        "artifact": runner.path.name} | report | ({} if gated else {"gated": False}))
    return {
        "samples": samples,
        "seed": seed,
        "reference": {"runtime": reference.runtime,
                      "metric": {"name": problem.for_output(first).metric.name,
                                 "value": problem.for_output(first).score(inputs, targets, expected[first])}},
        "results": results,
        **({"not_run": not_run} if not_run else {}),
        "passed": all(r["passed"] for r in results if r.get("gated", True)),
    }


def unavailable(runtime: str, variant: str, path, reason: str) -> dict:
    """A `not_run` row: an optional runtime that cannot open or run an artifact."""
    return {"runtime": runtime, "variant": variant, "artifact": path.name, "gated": False,
            "reason": " ".join(str(reason).split())[:300]}
