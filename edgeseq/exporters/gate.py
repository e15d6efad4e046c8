"""Stage 4 of an export: every staged model and variant against Keras on the same inputs.
An fp32 file that differs ends the export (nothing published); a variant that misses its
gate — the task metric, or no smaller than its fp32 form — is reported, never published."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .. import error_text
from ..artifacts import Artifact
from ..checks.parity import Tolerance, check, is_fp32
from ..errors import CheckFailed, EdgeseqError
from ..runtimes import open_runner
from .forms import Routes
from .job import Job
from .onnx import to_onnx
from .quantize import integer_source
from .quantize.variants import Variants


def judge(job: Job, models: list[Artifact], variants: Variants, routes: Routes) -> tuple[dict, list[Artifact]]:
    """The parity report and the variants that passed their gates (variants.rejected gains
    the others)."""
    arch, problem = job.arch, job.problem
    runners = [(a.variant, open_runner(a.path)) for a in models + variants.artifacts]
    job.log(f"{arch.name}: parity on {job.samples} inputs")
    report = check(problem, job.keras_runner, runners, samples=job.samples, tolerance=job.tolerance)
    if getattr(problem, "variable_length", False):
        report["lengths"] = dynamic_length_parity(problem, job.keras_runner, runners, arch.training.atol)
        report["results"] += [r for r in report["lengths"] if not r["passed"]]
    failed_fp32 = [r for r in report["results"] if r["variant"] == "fp32" and not r["passed"]]
    if failed_fp32:
        # A user's model that converts but differs is bad input (exit 2); one of edgeseq's
        # own architectures failing is a failed check (exit 1).
        error = EdgeseqError if arch.is_user_model else CheckFailed
        output = next(iter(job.keras_runner.outputs)).name if job.io_specs else to_onnx.OUTPUT_NAME
        raise error(f"{arch.name}: {failed_fp32[0]['runtime']} output "
                    f"'{output}' ({failed_fp32[0]['artifact']}) differs from "
                    f"Keras: {failed_fp32[0]['reason']}; previous artifacts left in place")
    fp32_bytes = {fmt: routes.fp32_bytes(fmt) for fmt in job.device}
    fp32_bytes |= {a.file: variants.fp32_bytes(a) for a in variants.artifacts if variants.fp32_bytes(a)}
    published = _gate_variants(report, fp32_bytes, job.staging, variants.rejected, arch.name, job.log)
    forms_of = {a.file: a.form for a in variants.artifacts if a.form}
    for result in variants.rejected:  # the form a rejected variant came from, as the kept ones record
        if not is_fp32(result["variant"]):
            named = Path(result["artifact"]).name if result.get("artifact") else None
            result.setdefault("route_form", forms_of.get(named, routes.source_form(result["runtime"])))
    return report, [a for a in variants.artifacts if a.file in published]


def dynamic_length_parity(problem, keras_runner, runners, atol: float) -> list[dict]:
    """ONNX keeps a variable time axis: check it at the shortest length the model takes, at
    the exported length and at more steps than any calibration row, on random inputs in the
    calibration's range. A failure at one of them is a failed row in one line."""
    onnx = [(v, r) for v, r in runners if r.runtime == "onnx" and v == "fp32"]
    if not onnx:
        return []
    results = []
    for length in sorted({_shortest_length(problem, [keras_runner] + [r for _, r in onnx]),
                          problem.length, 2 * problem.length + 3}):
        try:
            report = check(problem.at_length(length), keras_runner, onnx, samples=64, seed=length,
                           tolerance=Tolerance(atol=atol))
        except Exception as exc:  # the runtimes' own errors at a length the model takes
            results += [{"length": length, "runtime": r.runtime, "variant": v, "artifact": r.path.name,
                         "passed": False, "reason": f"at length {length}: {error_text.cause(exc)}"}
                        for v, r in onnx]
            continue
        for result in report["results"]:
            results.append({"length": length} | {k: result[k] for k in (
                "runtime", "variant", "artifact", "max_abs", "min_atol", "passed", "atol", "rtol")}
                | ({"reason": f"at length {length}: {result['reason']}"} if not result["passed"] else {}))
    return results


def _shortest_length(problem, runners) -> int:
    """The fewest steps the model takes, found by running Keras and the ONNX file on them
    from one step up: a Conv1D of kernel k needs k steps. Both must answer, because neither
    alone can say: on a kernel-3 Conv1D Keras refuses 1 step but answers 2 with a 2-step
    convolution output (TensorFlow's oneDNN Conv2D, where the output should be empty),
    which onnxruntime rightly refuses ("Invalid input shape")."""
    for length in range(1, problem.length):
        inputs, _ = problem.at_length(length).generate(1, np.random.default_rng(length))
        try:
            for runner in runners:
                runner.run(dict(inputs) if isinstance(inputs, Mapping) else {runner.inputs[0].name: inputs})
            return length
        except Exception:  # noqa: BLE001 - a runtime refusing this length, whatever it says
            continue
    return problem.length


def _gate_variants(report: dict, fp32_bytes: dict, staging: Path, rejected: list, name: str, log) -> set[str]:
    """Apply the variant gates to a parity report: moves failed results to `rejected` and
    returns the artifact names that may be published. fp32_bytes: format (or an artifact
    name, for a variant from another form) → the size of the fp32 form it was quantized from."""
    # A quantized variant is worth shipping only if it is smaller than fp32 (the TFLite
    # converter leaves weight tensors under 1024 elements in float, and onnxruntime's QDQ
    # keeps LSTMs float, so a "quantized" file can be the fp32 one or larger). Except a
    # full-integer TFLite file: it is for integer-only hardware (NPUs, MCUs without an FPU),
    # where no fp32 file runs at all; an unrolled one can be larger than its fp32 form (its
    # weights shrink 4×, but every one of its many tensors gains quantization parameters:
    # GRU(32), 10 steps: weights 13,988 → 3,617 bytes, file 42,620 → 47,112), so its size
    # is recorded beside its form's fp32 size, not held against it.
    for result in report["results"]:
        size = result["bytes"] = (staging / result["artifact"]).stat().st_size
        fp32 = fp32_bytes.get(result["artifact"], fp32_bytes.get(result["runtime"]))
        if result["runtime"] == "tflite" and result["variant"] in integer_source.FULL_INTEGER:
            result["fp32_bytes"] = fp32
        elif not is_fp32(result["variant"]) and size >= fp32:
            result["passed"] = False
            result["reason"] = f"no smaller than fp32 ({size:,} vs {fp32:,} bytes): quantization saved nothing"
    # A variant that misses a gate is reported, never published.
    for result in [r for r in report["results"] if not r["passed"]]:
        log(f"{name}: {result['runtime']} {result['variant']} rejected: {result['reason']}")
        rejected.append(result)
    report["results"] = [r for r in report["results"] if r["passed"]]
    report["passed"] = True
    return {r["artifact"] for r in report["results"]}
