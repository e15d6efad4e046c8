"""Every problem's generator, encoder, decoder and metric (numpy only, no models)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeseq import registry
from edgeseq.errors import InputError
from edgeseq.problems import Addition, CumulativeSum, DampedSine, MovingLine, Rectangles

PROBLEMS = [a.problem for a in registry.ARCHITECTURES.values()]


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.name)
def test_generator_is_seeded_and_shaped(problem):
    x, y = problem.generate(9, np.random.default_rng(3))
    x2, y2 = problem.generate(9, np.random.default_rng(3))
    assert x.shape == (9, *problem.input_shape) and x.dtype == np.float32
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert len(problem.decode(y)) == 9


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.name)
def test_targets_score_perfectly(problem):
    x, y = problem.generate(50, np.random.default_rng(0))
    perfect = 0.0 if not problem.metric.higher_is_better else 1.0
    assert problem.score(x, y, y) == pytest.approx(perfect)


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.name)
def test_encoded_arrays_round_trip_and_bad_arrays_are_refused(problem):
    x, _ = problem.generate(4, np.random.default_rng(1))
    assert np.array_equal(problem.encode_array(x), x)
    assert np.array_equal(problem.encode_array(x[0]), x[:1])
    for bad in (x.reshape(len(x), -1)[:, :-1], np.full_like(x, np.nan), x[:0],
                x.astype(str)):
        with pytest.raises(InputError):
            problem.encode_array(bad)


def test_damped_sine_follows_its_formula():
    x, y = DampedSine().generate(1, np.random.default_rng(0))
    series = np.concatenate([x[0, :, 0], y[0]])
    # recover period and decay by brute force over the allowed grid and check the fit
    i = np.arange(55)
    fits = [np.abs(0.5 + 0.5 * np.sin(2 * np.pi * i / p) * np.exp(-d * i) - series).max()
            for p in range(10, 21) for d in np.linspace(0.01, 0.1, 901)]
    assert min(fits) < 1e-3


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=50, max_size=50))
def test_damped_sine_text_round_trips(values):
    x = DampedSine().encode(",".join(repr(v) for v in values))
    assert np.allclose(x[0, :, 0], np.float32(values))


def test_moving_line_grows_one_column_per_frame_in_its_direction():
    x, y = MovingLine().generate(20, np.random.default_rng(0))
    lit_per_frame = x.sum(axis=(2, 3, 4))
    assert (lit_per_frame == np.arange(1, 21)).all()
    first_col = np.argmax(x[:, 0, :, :, 0].sum(axis=1), axis=-1)
    assert ((first_col == 0) == (y[:, 0] == 1)).all()
    assert MovingLine().decode(y[:2]) == [["right-to-left", "left-to-right"][int(v)] for v in y[:2, 0]]


def test_moving_line_takes_only_files():
    with pytest.raises(InputError, match="--input-file"):
        MovingLine().encode("1,2,3")


@given(st.integers(1, 10), st.integers(1, 10), st.integers(1, 10))
def test_addition_encodes_and_decodes_sums(a, b, c):
    problem = Addition()
    x = problem.encode(f"{a}+{b}+{c}")
    assert problem.show_input(x[0]) == f"{a}+{b}+{c}"
    answer = problem._encode_strings([str(a + b + c)], problem.chars_out)
    assert problem.decode(answer) == [a + b + c]


@pytest.mark.parametrize("text", ["11+1+1", "0+1+1", "1+1", "1+1+1+1", "a+b+c", "-1+2+3", ""])
def test_addition_refuses_anything_but_three_ints_in_1_to_10(text):
    with pytest.raises(InputError):
        Addition().encode(text)


def test_cumulative_sum_labels_steps_after_the_limit():
    x = CumulativeSum().encode("0.9,0.9,0.9,0.1,0,0,0,0,0,0")
    y = (np.cumsum(x, axis=1) > 2.5).astype(np.float32)
    assert CumulativeSum().decode(y) == [[0, 0, 1, 1, 1, 1, 1, 1, 1, 1]]
    with pytest.raises(InputError):
        CumulativeSum().encode("1.0,0,0,0,0,0,0,0,0,0")  # 1.0 is outside [0, 1)


@settings(max_examples=50)
@given(st.floats(0.01, 1.0), st.floats(0.01, 1.0))
def test_rect_mae_is_zero_for_a_true_rectangle_and_grows_with_skew(w, h):
    problem = Rectangles()
    corners = problem.outline(w, h)
    assert problem.rollout_score(corners) == pytest.approx(0.0, abs=1e-7)
    skewed = corners.copy()
    skewed[2, 0] += 0.1  # the top-right corner drifts right of the bottom-right one
    assert problem.rollout_score(skewed) > 0.01


def test_rollout_feeds_predictions_back():
    problem = Rectangles()
    seen = []

    def step(corner):
        seen.append(corner.copy())
        x, y = corner[0, 0]
        return np.array([[0.5, 0.0]] if x == y == 0 else [[x, 0.4]] if y == 0 else [[0.0, y]])

    corners = problem.rollout(step)
    assert np.allclose(corners, [[0, 0], [0.5, 0], [0.5, 0.4], [0, 0.4]])
    assert [s.shape for s in seen] == [(1, 1, 2)] * 3
