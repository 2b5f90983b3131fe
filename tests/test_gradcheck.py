import numpy as np
import pytest

from nnlib.gradcheck import numerical_gradient, relative_error


def test_matches_known_gradient_and_restores_x():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    before = x.copy()
    grad = numerical_gradient(lambda v: np.sum(np.sin(v) * v), x)
    np.testing.assert_allclose(grad, np.cos(before) * before + np.sin(before), rtol=1e-7)
    np.testing.assert_array_equal(x, before)


def test_accepts_a_function_of_x():
    x = np.array([1.0, -2.0, 3.0])
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(v**3), x), 3 * x**2, rtol=1e-8)


def test_restores_x_when_f_raises():
    x = np.array([1.0, 2.0])

    def boom(v):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        numerical_gradient(boom, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_error_is_u_shaped_in_h():
    # Truncation error dominates for large h, rounding for tiny h.
    x = np.array([0.7])
    exact = np.exp(0.7)
    errors = {h: abs(numerical_gradient(lambda v: np.exp(v[0]), x, h=h)[0] - exact)
              for h in (1e-1, 1e-5, 1e-13)}
    assert errors[1e-5] < errors[1e-1] / 1e3
    assert errors[1e-5] < errors[1e-13] / 10


@pytest.mark.parametrize(
    "x, h, error, match",
    [
        ([1.0, 2.0], 1e-6, TypeError, "numpy array"),
        (np.ones(2, dtype=np.float32), 1e-6, TypeError, "float64"),
        (np.ones(2), 0.0, ValueError, "positive"),
    ],
)
def test_rejects_bad_input(x, h, error, match):
    with pytest.raises(error, match=match):
        numerical_gradient(lambda v: float(np.sum(v)), x, h=h)


def test_rejects_non_scalar_f():
    with pytest.raises(ValueError, match="scalar"):
        numerical_gradient(lambda v: v * 2, np.ones(3))


def test_relative_error():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([1.0], [1.1]) == pytest.approx(0.1 / 1.1)
    with pytest.raises(ValueError, match="same shape"):
        relative_error(np.ones(2), np.ones(3))
