import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeseq.errors import InputError
from edgeseq.problems import Echo

echo = Echo()


def test_encode_gives_a_one_hot_batch_of_one():
    x = echo.encode("4,3,6,6,6")
    assert x.shape == (1, 5, 10) and x.dtype == np.float32
    assert np.argmax(x[0], axis=-1).tolist() == [4, 3, 6, 6, 6]
    assert x.sum() == 5


def test_target_is_the_value_at_index_2():
    x, y = echo.generate(100, np.random.default_rng(0))
    assert (np.argmax(y, -1) == np.argmax(x[:, 2], -1)).all()


def test_generator_is_seeded():
    a = echo.generate(10, np.random.default_rng(7))[0]
    b = echo.generate(10, np.random.default_rng(7))[0]
    assert np.array_equal(a, b)


def test_score_is_accuracy():
    _, y = echo.generate(4, np.random.default_rng(0))
    wrong = np.roll(y, 1, axis=-1)
    assert echo.score(None, y, y) == 1.0
    assert echo.score(None, y, np.concatenate([y[:2], wrong[2:]])) == 0.5


@given(st.lists(st.integers(0, 9), min_size=5, max_size=5))
def test_encode_show_decode_round_trip(values):
    text = ",".join(map(str, values))
    x = echo.encode(text)
    assert echo.show_input(x[0]) == text
    assert echo.decode(x[:, 2]) == [values[2]]  # a one-hot row decodes to its integer


@pytest.mark.parametrize("text", ["4,3,6,6", "4,3,6,6,6,6", "4,3,6,6,10", "4,3,-1,6,6",
                                  "a,b,c,d,e", "4.5,3,6,6,6", "", "1e3,1,1,1,1"])
def test_bad_text_is_refused(text):
    with pytest.raises(InputError):
        echo.encode(text)


@given(st.text(max_size=30))
def test_encode_accepts_only_five_digits_or_raises_input_error(text):
    try:
        x = echo.encode(text)
    except InputError:
        return
    assert x.shape == (1, 5, 10) and (x.sum(axis=-1) == 1).all()


def test_arrays_are_checked_for_shape_and_one_hot():
    x, _ = echo.generate(3, np.random.default_rng(0))
    assert echo.encode_array(x).shape == (3, 5, 10)
    assert echo.encode_array(x[0]).shape == (1, 5, 10)
    for bad in (x[:, :4], x * 2, np.full_like(x, np.nan), x[:0]):
        with pytest.raises(InputError):
            echo.encode_array(bad)
