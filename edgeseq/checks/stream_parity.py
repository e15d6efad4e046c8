"""Stream parity: step models fed step by step from the zero state against Keras's own outputs.

Knows nothing of Keras: the caller passes the reference outputs as functions (export and
`parity` build them from the trained model). Three checks per step artifact:
- sequences: many sequences streamed from zeros, every step against the Keras output on the
  prefix fed so far, and the last step against the window model;
- long stream: one stream of ≥ 1,000 steps without a reset. What it must prove is that the
  artifact does not drift: that at every state the long stream visits, far beyond the
  states a window reaches, it computes the same step as Keras, so that its errors cannot
  compound beyond what the model itself does. That is checked *anchored*: Keras's step
  model runs the stream and records its state before every step; the candidate then takes
  each of those 1,000 (step, state) pairs in one batched call, and its outputs and next
  states must match Keras's within the tolerance (and decide alike). The same stream run
  free, candidate against Keras, is reported but not gated: over 1,000 steps a trained
  model amplifies rounding by orders of magnitude (Keras fp32 itself ends 1e-7 … 0.85 from
  the same model in float64, by architecture and seed; vanilla, fed 1,000 steps after
  learning 5, 1.0), so two correct fp32 implementations' free runs differ by whatever the
  model makes of their rounding. A rule on the free run — the old one: within 2× Keras's own
  distance from float64 — compares two samples of that noise, and their ratio ranged 0.1 to
  15 across six seeds (tools/long_stream_study.py); the anchored error stays at 1e-7 … 1e-6
  on every seed and architecture, and a state that decays by 1e-3 a step, or is kept in
  float16, misses it by orders of magnitude (tests/test_streaming.py);
- reset: after a reset mid-stream the outputs equal, bit for bit, those of a fresh stream.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..problems import Problem
from ..runtimes import Runner
from ..streaming import Stream
from .parity import Tolerance, error_stats

SEQUENCES = 200
LONG_STEPS = 1000
SEED = 4321
DEFAULT_TOLERANCE = Tolerance()
#: Keras fp32 this far from float64 on the free-running long stream: rounding alone decides
#: its outputs (reported as such)
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

    def anchored(self, steps: np.ndarray, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(T, *frame) steps, each from its own (T, S) state, in one batched call: the
        outputs and next states."""
        return anchored_step(self.runner, self.section, steps, states)


def anchored_step(runner: Runner, section: dict, steps: np.ndarray, states: np.ndarray):
    """One step of each (step, state) pair: (outputs, next states)."""
    outputs = runner.infer({section["inputs"][0]["name"]: steps,
                            section["state"]["input"]: states.astype(np.float32)})
    return outputs[section["outputs"][0]["name"]], outputs[section["state"]["output"]]


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
          exact: Callable[[np.ndarray], np.ndarray] | None = None,
          anchored: Callable[[np.ndarray], dict] | None = None) -> dict:
    """`every_step(x)`: Keras's output at every step of (batch, T, ...) inputs; `window(x)`:
    the window model's output; `exact(x)`: `every_step` in float64; `anchored(stream)`:
    Keras's step model along a (1, T, ...) stream (see `references`). Candidates are
    (variant, step runner)."""
    return compare(problem, section, references(problem, every_step, window, sequences,
                                                long_steps, seed, exact, anchored), candidates, tolerance)


def references(problem: Problem, every_step, window, sequences: int = SEQUENCES,
               long_steps: int = LONG_STEPS, seed: int = SEED, exact=None, anchored=None) -> dict:
    """The seeded inputs and Keras's outputs on them, as arrays: what `compare` judges
    candidates against, and what stream_reference.py stores for a device without Keras.
    `anchored(stream)` gives {"states": the state before each step of the stream, "outputs",
    "next_states": Keras's step from each of them}."""
    rng = np.random.default_rng(seed)
    inputs, targets = problem.generate(sequences, rng)
    stream = long_stream(problem, long_steps, rng)
    expected_long = every_step(stream)
    along = anchored(stream) if anchored is not None else {}
    return {"seed": seed, "inputs": inputs, "targets": targets, "every_step": every_step(inputs),
            "window": window(inputs), "stream": stream, "long": expected_long,
            "exact_long": None if exact is None else exact(stream),
            "anchored_states": along.get("states"), "anchored_outputs": along.get("outputs"),
            "anchored_next_states": along.get("next_states")}


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
        anchored = _anchored(problem, refs, streamer, stream, tolerance)
        reset_exact = streamer.reset_is_exact(inputs[:2])
        reasons = [r for r in (_gate("steps", steps_stats, tolerance),
                               _gate("window", window_stats, tolerance),
                               _long_gate(stream.shape[1], long_stats, anchored, exact_long is None,
                                          tolerance))
                   if r] if variant == "fp32" else []
        if not reset_exact:
            reasons.append("a reset mid-stream does not return exactly to the zero-state outputs")
        ref_decisions, decisions = problem.decisions(expected_window), problem.decisions(final)
        result = {
            "runtime": streamer.runtime, "variant": variant, "artifact": streamer.artifact,
            "sequences": len(inputs), "steps": int(inputs.shape[1]),
            "every_step": steps_stats, "window": window_stats,
            "long_stream": long_stats | {"steps": int(stream.shape[1]),
                                         "gate": _long_gate_kind(anchored, exact_long is None)},
            "anchored": anchored,
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


def _anchored(problem: Problem, refs: dict, streamer, stream: np.ndarray,
              tolerance: Tolerance) -> dict | None:
    """The candidate's step from every state Keras passed through on the long stream, against
    Keras's own step from it; None when the references hold no states (a stream reference
    stored before they were, or a reference that is not Keras)."""
    states = refs.get("anchored_states")
    if states is None or not hasattr(streamer, "anchored"):
        return None
    outputs, next_states = streamer.anchored(stream[0], states)
    expected = refs["anchored_outputs"]
    output_stats = error_stats(expected, outputs, tolerance.rtol)
    state_stats = error_stats(refs["anchored_next_states"], next_states, tolerance.rtol)
    ref_decisions, decisions = problem.decisions(expected), problem.decisions(outputs)
    agreement = None if ref_decisions is None else float(np.mean(ref_decisions == decisions))
    tenth = max(1, len(states) // 10)  # error growth along the stream: first and last tenth
    growth = [error_stats(expected[part], outputs[part], tolerance.rtol)["max_abs"]
              for part in (slice(0, tenth), slice(-tenth, None))]
    return {"steps": len(states), "output": output_stats, "state": state_stats,
            "decision_agreement": agreement, "first_tenth_max_abs": growth[0],
            "last_tenth_max_abs": growth[1]}


def _long_gate_kind(anchored: dict | None, reference_is_an_artifact: bool) -> str:
    if anchored is not None:
        return "anchored"
    return "free run" if reference_is_an_artifact else "reported"


def _long_gate(steps: int, stats: dict, anchored: dict | None, reference_is_an_artifact: bool,
               tolerance: Tolerance) -> str | None:
    """Anchored when Keras's states are known (see the module's docstring); against another
    artifact (TFLM against LiteRT on the same file: the same arithmetic, no chaos between
    them) the free run itself; a Keras reference stored without states gates nothing here."""
    if anchored is not None:
        reasons = [_gate(f"{steps}-step stream from Keras's states: {name}", anchored[name], tolerance)
                   for name in ("output", "state")]
        if anchored["decision_agreement"] is not None and anchored["decision_agreement"] < 1.0:
            reasons.append(f"{steps}-step stream from Keras's states: decisions agree on "
                           f"{anchored['decision_agreement']:.2%} of steps, not all")
        return "; ".join(r for r in reasons if r) or None
    if reference_is_an_artifact:
        return _gate(f"{steps}-step stream", stats, tolerance)
    return None


def reset_is_exact(runner: Runner, section: dict, pair: np.ndarray) -> bool:
    """Stream sequence A then, after a reset, sequence B: B's outputs must be the ones a fresh
    stream gives B, bit for bit (the state is all there is to a stream)."""
    fresh = Stream(runner, section).run(pair[1:2])
    stream = Stream(runner, section)
    stream.run(pair[0:1])
    stream.reset()
    return bool(np.array_equal(stream.run(pair[1:2]), fresh))
