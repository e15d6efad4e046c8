"""Stream parity: step models fed step by step from the zero state against Keras's own outputs.

Knows nothing of Keras: the caller passes the reference outputs as functions (export and
`parity` build them from the trained model). Three checks per step artifact:
- sequences: many sequences streamed from zeros, every step against the Keras output on the
  prefix fed so far, and the last step against the window model;
- long stream: one stream of ≥ 1,000 steps without a reset against Keras on the whole
  stream (errors that compound step after step show up here). Over such a stream the cell
  state of a trained model can grow far beyond what it saw in training (cnn_lstm: |c| ≈ 21),
  where float32 itself is coarse: Keras's own fp32 output then differs from the same model
  in float64 by ~2e-5. So when a candidate misses atol here, it still passes if it is no
  farther from the float64 run than twice Keras's own distance (plus atol): within fp32's
  noise, not drifting. Both distances are reported. And where Keras's fp32 is more than
  ILL_CONDITIONED from float64 the stream is chaotic for this model (trained vanilla, fed
  1,000 steps after learning 5: Keras fp32 vs float64 differ by 1.0), so no fp32 artifact can
  be judged on it: the result says `well_conditioned: false` and the long stream does not
  gate (the 200 sequences still do);
- reset: after a reset mid-stream the outputs equal, bit for bit, those of a fresh stream.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .parity import Tolerance, error_stats
from .problems import Problem
from .runtimes import Runner
from .streaming import Stream

SEQUENCES = 200
LONG_STEPS = 1000
SEED = 4321
DEFAULT_TOLERANCE = Tolerance()
#: Keras fp32 this far from float64 on the long stream: rounding alone decides the outputs
ILL_CONDITIONED = 1e-3


class Streamer:
    """What stream parity needs of a step model: its outputs on sequences fed step by step
    from the zero state, and whether a reset mid-stream is exact. This one drives a Runner in
    this process; the TFLM one (targets/mcu/tflm_worker.py) does the same in a child, where a
    crash cannot take the caller down."""

    def __init__(self, runner: Runner, section: dict):
        self.runner, self.section = runner, section
        self.runtime, self.artifact = runner.runtime, runner.path.name

    def run(self, sequences: np.ndarray) -> np.ndarray:
        return Stream(self.runner, self.section, batch=len(sequences)).run(sequences)

    def reset_is_exact(self, pair: np.ndarray) -> bool:
        return reset_is_exact(self.runner, self.section, pair)


def long_stream(problem: Problem, steps: int, rng: np.random.Generator) -> np.ndarray:
    """One stream (1, ≥ steps, *frame): the problem's own sequences end to end."""
    window = problem.input_shape[0]
    inputs, _ = problem.generate(-(-steps // window), rng)
    return inputs.reshape(1, -1, *inputs.shape[2:])


def _gate(name: str, stats: dict, tolerance: Tolerance) -> str | None:
    if stats["min_atol"] > tolerance.atol:
        return (f"{name}: max abs error {stats['max_abs']:.2e} exceeds atol {tolerance.atol:g} "
                f"(rtol {tolerance.rtol:g}); min_atol {stats['min_atol']:.2e}")
    return None


def check(problem: Problem, section: dict, every_step: Callable[[np.ndarray], np.ndarray],
          window: Callable[[np.ndarray], np.ndarray], candidates: list[tuple[str, Runner | Streamer]],
          sequences: int = SEQUENCES, long_steps: int = LONG_STEPS, seed: int = SEED,
          tolerance: Tolerance = DEFAULT_TOLERANCE,
          exact: Callable[[np.ndarray], np.ndarray] | None = None) -> dict:
    """`every_step(x)`: Keras's output at every step of (batch, T, ...) inputs; `window(x)`:
    the window model's output; `exact(x)`: `every_step` in float64. Candidates are (variant,
    step runner)."""
    return compare(problem, section, references(problem, every_step, window, sequences,
                                                long_steps, seed, exact), candidates, tolerance)


def references(problem: Problem, every_step, window, sequences: int = SEQUENCES,
               long_steps: int = LONG_STEPS, seed: int = SEED, exact=None) -> dict:
    """The seeded inputs and Keras's outputs on them, as arrays: what `compare` judges
    candidates against, and what stream_reference.py stores for a device without Keras."""
    rng = np.random.default_rng(seed)
    inputs, targets = problem.generate(sequences, rng)
    stream = long_stream(problem, long_steps, rng)
    expected_long = every_step(stream)
    return {"seed": seed, "inputs": inputs, "targets": targets, "every_step": every_step(inputs),
            "window": window(inputs), "stream": stream, "long": expected_long,
            "exact_long": None if exact is None else exact(stream)}


def compare(problem: Problem, section: dict, refs: dict, candidates: list[tuple[str, Runner | Streamer]],
            tolerance: Tolerance = DEFAULT_TOLERANCE) -> dict:
    """Candidates streamed over the inputs of `refs` (see `references`) and judged."""
    inputs, targets, stream = refs["inputs"], refs["targets"], refs["stream"]
    expected_steps, expected_window = refs["every_step"], refs["window"]
    expected_long, exact_long = refs["long"], refs["exact_long"]
    keras_noise = None if exact_long is None else error_stats(exact_long, expected_long)["max_abs"]
    per_step = expected_window.ndim == expected_steps.ndim  # a return_sequences model
    results = []
    for variant, runner in candidates:
        streamer = runner if isinstance(runner, Streamer) else Streamer(runner, section)
        streamed = streamer.run(inputs)
        final = streamed if per_step else streamed[:, -1]
        steps_stats = error_stats(expected_steps, streamed, tolerance.rtol)
        window_stats = error_stats(expected_window, final, tolerance.rtol)
        streamed_long = streamer.run(stream)
        long_stats = error_stats(expected_long, streamed_long, tolerance.rtol)
        if exact_long is not None:
            long_stats |= {"keras_vs_float64": keras_noise,
                           "candidate_vs_float64": error_stats(exact_long, streamed_long)["max_abs"],
                           "well_conditioned": keras_noise <= ILL_CONDITIONED}
        reset_exact = streamer.reset_is_exact(inputs[:2])
        reasons = [r for r in (_gate("steps", steps_stats, tolerance),
                               _gate("window", window_stats, tolerance),
                               _long_gate(stream.shape[1], long_stats, tolerance))
                   if r] if variant == "fp32" else []
        if not reset_exact:
            reasons.append("a reset mid-stream does not return exactly to the zero-state outputs")
        ref_decisions, decisions = problem.decisions(expected_window), problem.decisions(final)
        result = {
            "runtime": streamer.runtime, "variant": variant, "artifact": streamer.artifact,
            "sequences": len(inputs), "steps": int(inputs.shape[1]),
            "every_step": steps_stats, "window": window_stats,
            "long_stream": long_stats | {"steps": int(stream.shape[1])},
            "reset_exact": reset_exact,
            "decision_agreement": None if ref_decisions is None else float(np.mean(ref_decisions == decisions)),
            "metric": {"name": problem.metric.name, "value": problem.score(inputs, targets, final)},
            "atol": tolerance.atol, "rtol": tolerance.rtol, "passed": not reasons,
        }
        if reasons:
            result["reason"] = "; ".join(reasons)
        results.append(result)
    return {"sequences": len(inputs), "long_steps": int(stream.shape[1]), "seed": refs["seed"],
            "reference": {"metric": {"name": problem.metric.name,
                                     "value": problem.score(inputs, targets, expected_window)}},
            "results": results, "passed": all(r["passed"] for r in results)}


def _long_gate(steps: int, stats: dict, tolerance: Tolerance) -> str | None:
    reason = _gate(f"{steps}-step stream", stats, tolerance)
    if reason and stats.get("well_conditioned") is False:
        return None  # chaotic for this model in fp32: nothing to judge (reported as such)
    if reason and stats.get("keras_vs_float64") is not None:
        if stats["candidate_vs_float64"] <= 2 * stats["keras_vs_float64"] + tolerance.atol:
            return None  # as close to the float64 run as Keras's own fp32 is: no drift
        reason += (f" and {stats['candidate_vs_float64']:.2e} from float64 (Keras fp32: "
                   f"{stats['keras_vs_float64']:.2e})")
    return reason


def reset_is_exact(runner: Runner, section: dict, pair: np.ndarray) -> bool:
    """Stream sequence A then, after a reset, sequence B: B's outputs must be the ones a fresh
    stream gives B, bit for bit (the state is all there is to a stream)."""
    fresh = Stream(runner, section).run(pair[1:2])
    stream = Stream(runner, section)
    stream.run(pair[0:1])
    stream.reset()
    return bool(np.array_equal(stream.run(pair[1:2]), fresh))
