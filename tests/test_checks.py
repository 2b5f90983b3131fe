"""nnlib.checks: each shared argument check accepts what it should and names what it refuses."""

import numpy as np
import pytest

from nnlib.checks import as_float_array, as_real_number, check_float, check_int, seeded_rng


def test_as_float_array_takes_real_array_likes_as_float64():
    for x in (3, 2.5, [1, 2], np.arange(3, dtype=np.int8), np.ones((2, 2), np.float32)):
        out = as_float_array(x)
        assert out.dtype == np.float64 and np.array_equal(out, np.asarray(x, dtype=float))
    assert as_float_array([True, False], allow_bool=True).tolist() == [1.0, 0.0]


@pytest.mark.parametrize("x, error, message", [
    ([True, False], TypeError, r"w must hold real numbers, got a boolean array"),
    ([1 + 2j], TypeError, r"w must hold real numbers \(an integer or float dtype\), got dtype c"),
    (["a"], TypeError, r"got dtype <U1"),
    ([[1, 2], [3]], ValueError, r"w must be a rectangular array of real numbers"),
])
def test_as_float_array_names_the_argument_it_refuses(x, error, message):
    with pytest.raises(error, match=message):
        as_float_array(x, name="w")


def test_as_real_number_refuses_booleans_and_strings():
    assert as_real_number(2, "lr") == 2.0 and isinstance(as_real_number(2, "lr"), float)
    for bad in (True, "0.1", None, [1.0]):
        with pytest.raises(TypeError, match="lr must be a real number"):
            as_real_number(bad, "lr")


def test_check_int_and_check_float_say_the_bound():
    assert check_int("n", np.int64(3), 1) == 3
    for bad in (0, 2.0, True, "3"):
        with pytest.raises(ValueError, match=r"n must be an integer >= 1, got"):
            check_int("n", bad, 1)
    assert check_float("std", 0, 0.0) == 0.0
    for bad in (0.0, -1, float("nan"), float("inf"), True):
        with pytest.raises(ValueError, match=r"std must be a finite number > 0"):
            check_float("std", bad, 0.0, strict=True)


def test_seeded_rng_repeats_for_a_seed_and_refuses_a_bad_one():
    assert seeded_rng(3).integers(0, 100, 5).tolist() == seeded_rng(3).integers(0, 100, 5).tolist()
    assert isinstance(seeded_rng(None), np.random.Generator)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="seed must be an integer >= 0"):
            seeded_rng(bad)


def test_check_positive_int_refuses_zero_booleans_and_floats():
    from nnlib.checks import check_positive_int

    assert check_positive_int("depth", np.int32(4)) == 4
    for bad in (0, -2, True, 2.0, "3"):
        with pytest.raises(ValueError, match="depth must be a positive integer, got"):
            check_positive_int("depth", bad)
