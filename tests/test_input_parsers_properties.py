"""Property-based tests of every problem's encoders and decoder: any text or array either
becomes a well-formed batch or is refused with InputError, never another exception."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from edgeseq import registry
from edgeseq.errors import InputError

PROBLEMS = [a.problem for a in registry.ARCHITECTURES.values()]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

numbers = st.one_of(st.integers(-20, 40).map(str), st.floats(allow_nan=True).map(repr),
                    st.sampled_from(["", " ", "nan", "inf", "-0", "1e9", "x", "+", "0x1"]))
texts = st.one_of(st.text(max_size=60),
                  st.lists(numbers, max_size=60).map(",".join),
                  st.lists(st.integers(-3, 14).map(str), min_size=1, max_size=4).map("+".join))


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.name)
@SETTINGS
@given(text=texts)
def test_text_is_encoded_or_refused(problem, text):
    try:
        batch = problem.encode(text)
    except InputError:
        return
    assert batch.shape == (1, *problem.input_shape) and batch.dtype == np.float32
    assert np.isfinite(batch).all()


def arrays_near(problem):
    """Arrays with the problem's shape (or close to it) and assorted dtypes and values."""
    shape = problem.input_shape
    shapes = st.sampled_from([shape, (2, *shape), (0, *shape), shape[:-1], (*shape[:-1], shape[-1] + 1),
                              (1,), ()])
    dtypes = st.sampled_from([np.float32, np.float64, np.int64, np.uint8, np.bool_, np.complex64])
    return st.tuples(shapes, dtypes).flatmap(
        lambda sd: hnp.arrays(sd[1], sd[0], elements=None if sd[1] in (np.bool_,) else
                              hnp.from_dtype(np.dtype(sd[1]), allow_nan=True, allow_infinity=True)
                              if np.dtype(sd[1]).kind in "fc" else None))


@pytest.mark.parametrize("problem", [p for p in PROBLEMS if np.prod(p.input_shape) <= 500],
                         ids=lambda p: p.name)
@SETTINGS
@given(data=st.data())
def test_arrays_are_encoded_or_refused(problem, data):
    array = data.draw(arrays_near(problem))
    try:
        batch = problem.encode_array(array)
    except InputError:
        return
    assert batch.shape[1:] == problem.input_shape and len(batch) >= 1
    assert batch.dtype == np.float32 and np.isfinite(batch).all()


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.name)
@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 5))
def test_decode_gives_one_json_answer_per_example(problem, seed, n):
    import json

    _, targets = problem.generate(n, np.random.default_rng(seed))
    noisy = targets + np.random.default_rng(seed).normal(0, 0.3, targets.shape).astype(np.float32)
    answers = problem.decode(noisy)
    assert len(answers) == n
    json.dumps(answers)
    assert all(isinstance(problem.show_answer(a), str) for a in answers)
