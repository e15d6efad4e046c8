"""Compare named outputs of several runs against the first: `edgeseq compare`.

Knows nothing of runtimes or files, as Polygraphy's comparator: it takes dicts of named
arrays. Per output: the error statistics of `parity.error_stats` (the one comparison
mechanism edgeseq has), the smallest atol that would have passed under the chosen error
statistic, NaN/Inf counts, top-k agreement for classifier outputs and, when the reference
comes with an edgeseq problem, its decisions and task metric.

Tolerances follow numpy.isclose's rule, |cand − ref| ≤ atol + rtol·|ref|, per element;
`--check-error-stat` says which statistic of the per-element need must fit within atol:
max (every element: exactly the parity gate), mean, median or a quantile.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..problems import Problem
from .parity import ATOL, ERROR_STATS, RTOL, error_stats, paired


@dataclass(frozen=True)
class PerOutput:
    """A value for every output, with exceptions by name (`--atol 1e-5 --atol probs:1e-3`)."""

    default: float
    by_name: dict[str, float] = field(default_factory=dict)

    def of(self, name: str) -> float:
        return self.by_name.get(name, self.default)

    def to_json(self) -> dict:
        return {"default": self.default} | ({"outputs": dict(self.by_name)} if self.by_name else {})


def parse_per_output(specs: list[str], default: float, option: str) -> PerOutput:
    """`V` or `NAME:V`, repeatable. The value is after the last colon, so tensor names with
    colons (`Identity:0:1e-4`) work."""
    by_name = {}
    for spec in specs:
        name, _, value = spec.rpartition(":")
        try:
            number = float(value)
        except ValueError:
            raise InputError(f"{option} {spec!r}: expected a number or NAME:number") from None
        if not number >= 0 or not np.isfinite(number):
            raise InputError(f"{option} {spec!r}: expected a finite number ≥ 0")
        if name:
            by_name[name] = number
        else:
            default = number
    return PerOutput(default, by_name)


def parse_error_stat(text: str) -> str | float:
    """max, mean, median, or quantile:Q with Q in [0, 1]."""
    if text in ERROR_STATS:
        return text
    kind, _, q = text.partition(":")
    if kind == "quantile":
        try:
            value = float(q)
        except ValueError:
            value = -1.0
        if 0.0 <= value <= 1.0:
            return value
    raise InputError(f"--check-error-stat {text!r}: expected max, mean, median or quantile:Q "
                     "with Q in [0, 1]")


def stat_name(stat: str | float) -> str:
    return stat if isinstance(stat, str) else f"quantile:{stat:g}"


def topk_agreement(reference: np.ndarray, candidate: np.ndarray, k: int) -> float | None:
    """Share of rows (all but the last axis) whose k largest classes are the same set; None
    where the last axis holds k classes or fewer (every row would agree)."""
    if reference.ndim < 2 or reference.shape[-1] <= k or reference.shape != candidate.shape:
        return None
    def top(a):
        return np.sort(np.argsort(-a, axis=-1, kind="stable")[..., :k], axis=-1)
    return float(np.mean(np.all(top(reference) == top(candidate), axis=-1)))


def nonfinite(array: np.ndarray) -> dict[str, int]:
    array = np.asarray(array)
    if array.dtype.kind not in "fc":
        return {"nan": 0, "inf": 0}
    return {"nan": int(np.isnan(array).sum()), "inf": int(np.isinf(array).sum())}


def compare_output(name: str, reference: np.ndarray, candidate: np.ndarray, atol: float,
                   rtol: float, stat: str | float = "max", top_k: int | None = None) -> dict:
    """One output's report. Statistics are over the elements finite on both sides; any NaN
    or Inf on either side fails the output, by name."""
    reference, candidate = np.asarray(reference), np.asarray(candidate)
    report = {"atol": atol, "rtol": rtol, "error_stat": stat_name(stat),
              "reference_nonfinite": nonfinite(reference), "nonfinite": nonfinite(candidate)}
    if reference.shape != candidate.shape:
        return report | {"passed": False,
                         "reason": f"{name}: shape {candidate.shape}, reference {reference.shape}"}
    reasons = []
    for side, counts in (("candidate", report["nonfinite"]), ("reference", report["reference_nonfinite"])):
        bad = [f"{n} {'NaN' if kind == 'nan' else 'Inf'}" for kind, n in counts.items() if n]
        if bad:
            reasons.append(f"{name}: {side} has {' and '.join(bad)} of {reference.size} values")
    finite = np.isfinite(reference.astype(np.float64)) & np.isfinite(candidate.astype(np.float64))
    if finite.any():
        report |= error_stats(reference[finite], candidate[finite], rtol, stat)
        if report["min_atol"] > atol:
            reasons.append(f"{name}: {stat_name(stat)} error needs atol {report['min_atol']:.2e} "
                           f"> {atol:g} (rtol {rtol:g}); max abs {report['max_abs']:.2e}")
    else:
        report |= dict.fromkeys(("max_abs", "mean_abs", "median_abs", "p99_abs", "max_rel", "min_atol"))
    if top_k:
        agreement = topk_agreement(reference, candidate, top_k)
        report["top_k"] = {"k": top_k, "agreement": agreement}
        if agreement is not None and agreement < 1.0:
            reasons.append(f"{name}: top-{top_k} classes agree on {agreement:.2%} of rows, not all")
    report["passed"] = not reasons
    if reasons:
        report["reason"] = "; ".join(reasons)
    return report


def compare_run(reference: dict[str, np.ndarray], candidate: dict[str, np.ndarray],
                atol: PerOutput = PerOutput(ATOL), rtol: PerOutput = PerOutput(RTOL),
                stat: str | float = "max", top_k: int | None = None,
                problem: Problem | None = None, inputs=None, targets=None) -> dict:
    """A candidate run against the reference run, output by output (paired by name, or by
    position across runtimes' naming). The first output's figures are repeated at the top,
    as parity reports them; `outputs` holds every output's."""
    unknown = set(atol.by_name) | set(rtol.by_name)
    unknown -= set(reference)
    if unknown:
        raise InputError(f"--atol/--rtol name output {sorted(unknown)[0]!r}; the reference's "
                         f"outputs are {', '.join(reference)}")
    outputs = {name: compare_output(name, reference[name], cand, atol.of(name), rtol.of(name),
                                    stat, top_k)
               for name, cand in paired(reference, candidate)}
    first_name = next(iter(outputs))
    report = dict(outputs[first_name])
    report["argmax_agreement"] = None
    report["metric"] = {"name": problem.metric.name if problem else None, "value": None}
    failed = [r["reason"] for r in outputs.values() if not r["passed"]]
    if problem is not None and len(reference) == 1 and report.get("max_abs") is not None:
        ref, cand = reference[first_name], dict(paired(reference, candidate))[first_name]
        decisions = problem.decisions(ref)
        if decisions is not None:
            report["argmax_agreement"] = float(np.mean(decisions == problem.decisions(cand)))
            if report["argmax_agreement"] < 1.0:
                failed.append(f"decisions agree on {report['argmax_agreement']:.2%} of outputs, not all")
        if inputs is not None and targets is not None:
            report["metric"]["value"] = problem.score(inputs, targets, cand)
    report.pop("reason", None)
    report |= {"outputs": outputs, "passed": not failed}
    if failed:
        report["reason"] = "; ".join(failed)
    return report


def compare_runs(runs: list[tuple[dict, dict[str, np.ndarray]]], **options) -> dict:
    """Every run after the first against the first. A run is (description, outputs), the
    description a dict with at least `runtime` and `artifact`."""
    if len(runs) < 2:
        raise InputError("compare needs at least two runs: models, or --load-outputs files")
    (ref_info, reference), candidates = runs[0], runs[1:]
    results = [info | compare_run(reference, outputs, **options) for info, outputs in candidates]
    return {"reference": dict(ref_info), "results": results, "passed": all(r["passed"] for r in results)}
