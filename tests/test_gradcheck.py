import numpy as np
import pytest

from nnlib.gradcheck import FUNCTIONS, difference_error, numerical_gradient, relative_error


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


# --------------------------------------------------------------------------- the step size


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_the_centred_difference_error_is_u_shaped_with_its_minimum_near_1e_5(name):
    eps = np.logspace(-12, -1, 221)
    errors = difference_error(name, "float64", "centred", eps)
    best = eps[np.argmin(errors)]
    assert 1e-7 <= best <= 1e-4, best
    assert errors.min() < 1e-9
    assert errors[0] > 1e3 * errors.min() and errors[-1] > 1e3 * errors.min()  # the U
    # Right of the minimum the truncation error grows like eps^2: slope 2 on log-log.
    right = (eps >= 1e-3) & (eps <= 1e-1)
    slope = np.polyfit(np.log10(eps[right]), np.log10(errors[right]), 1)[0]
    assert 1.8 < slope < 2.2, slope
    # Left of it the round-off error grows like 1/eps: slope -1 (noisy, so loosely).
    left = (eps >= 1e-12) & (eps <= 1e-8)
    slope = np.polyfit(np.log10(eps[left]), np.log10(errors[left]), 1)[0]
    assert -1.4 < slope < -0.6, slope


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_the_forward_difference_is_worse_and_its_best_step_is_smaller(name):
    eps = np.logspace(-12, -1, 221)
    centred = difference_error(name, "float64", "centred", eps)
    forward = difference_error(name, "float64", "forward", eps)
    assert 1e-10 <= eps[np.argmin(forward)] <= 1e-6
    assert forward.min() > 10 * centred.min()
    right = (eps >= 1e-4) & (eps <= 1e-2)  # truncation error grows like eps: slope 1
    slope = np.polyfit(np.log10(eps[right]), np.log10(forward[right]), 1)[0]
    assert 0.85 < slope < 1.15, slope


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_float32_differences_are_orders_of_magnitude_worse(name):
    best64 = difference_error(name, "float64", "centred").min()
    errors32 = difference_error(name, "float32", "centred")
    assert errors32.min() > 1e3 * best64
    assert errors32.min() > 1e-8  # the best float32 can do, at any step size
    assert errors32[0] == 1.0  # at eps = 1e-12, x + eps == x in float32: estimate 0
