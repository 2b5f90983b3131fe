"""The 2-D loss surfaces: analytic gradients vs finite differences and torch, paths, bad input."""

import warnings

import numpy as np
import pytest
import torch

from nnlib.gradcheck import numerical_gradient
from nnlib.optim import OPTIMIZERS
from nnlib.surfaces import (
    SURFACES,
    Quadratic,
    Rosenbrock,
    Surface,
    TwoValleys,
    run_path,
    steps_to_reach,
)

EXTRA = {"steep tilted quadratic": Quadratic(L=7.0, mu=0.3, angle=-65.0, center=(0.5, -1.0)),
         "classic Rosenbrock": Rosenbrock(b=100.0)}
ALL = {**SURFACES, **EXTRA}


def random_points(surface, n, seed=0):
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(*surface.xlim, n), rng.uniform(*surface.ylim, n)])


@pytest.mark.parametrize("name", sorted(ALL))
def test_gradient_matches_finite_differences(name):
    surface = ALL[name]
    for point in random_points(surface, 8):
        p = point.copy()
        numeric = numerical_gradient(lambda q: surface.value(q), p)
        np.testing.assert_allclose(surface.grad(point), numeric, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", sorted(ALL))
def test_value_and_gradient_match_torch_autograd(name):
    surface = ALL[name]
    points = random_points(surface, 16, seed=1)
    xy = torch.tensor(points, dtype=torch.float64, requires_grad=True)
    f = surface.formula(xy[:, 0], xy[:, 1])
    f.backward(torch.ones_like(f))  # each point's loss depends on its own point only
    np.testing.assert_allclose(surface.value(points), f.detach().numpy(), rtol=1e-12, atol=0)
    np.testing.assert_allclose(surface.grad(points), xy.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(ALL))
def test_minima_are_zero_and_flat_and_starts_are_in_the_picture(name):
    surface = ALL[name]
    for minimum in surface.minima:
        assert surface.value(np.array(minimum)) == pytest.approx(0.0, abs=1e-15)
        np.testing.assert_allclose(surface.grad(np.array(minimum)), 0.0, atol=1e-15)
    X, Y, F = surface.grid(60)
    assert F.shape == (60, 60) and F.min() >= 0
    for x, y in surface.starts.values():
        assert surface.xlim[0] < x < surface.xlim[1] and surface.ylim[0] < y < surface.ylim[1]
    assert surface.lr > 0 and surface.adaptive_lr > 0


def test_value_and_grad_take_one_point_or_a_grid():
    surface = SURFACES["banana"]
    assert isinstance(surface.value(np.array([0.5, 0.2])), float)
    assert isinstance(surface.value([0.5, 0.2]), float)
    grid = random_points(surface, 35).reshape(5, 7, 2)
    assert surface.value(grid).shape == (5, 7)
    assert surface.grad(grid).shape == (5, 7, 2)
    np.testing.assert_allclose(surface.grad(grid)[2, 3], surface.grad(grid[2, 3]))


def test_quadratic_hessian_curvatures_and_value():
    q = Quadratic(L=4.0, mu=0.5, angle=25.0, center=(1.0, -2.0))
    A = q.hessian
    np.testing.assert_allclose(A, A.T)
    np.testing.assert_allclose(np.linalg.eigvalsh(A), [0.5, 4.0])
    assert q.condition_number == 8.0
    p = np.array([0.3, 0.7])
    d = p - np.array([1.0, -2.0])
    assert q.value(p) == pytest.approx(0.5 * d @ A @ d, rel=1e-12)
    np.testing.assert_allclose(q.grad(p), A @ d, rtol=1e-12)


def test_two_valleys_has_a_saddle_at_the_origin():
    s = TwoValleys()
    np.testing.assert_allclose(s.grad(np.zeros(2)), 0.0)
    assert s.value(np.zeros(2)) > 0  # a stationary point that is not a minimum
    assert s.value(np.array([0.0, 0.1])) < s.value(np.zeros(2)) < s.value(np.array([0.1, 0.0]))


def test_run_path_records_every_step_from_the_start():
    surface = SURFACES["valley"]
    for name in OPTIMIZERS:
        run = run_path(surface, name, 0.1, 0.9, "near", steps=25)
        assert run.xy.shape == (26, 2) and run.loss.shape == (26,) and not run.diverged
        np.testing.assert_array_equal(run.xy[0], surface.starts["near"])
        np.testing.assert_allclose(run.loss, surface.value(run.xy))
    plain = run_path(surface, "SGD", 0.3, start=(1.0, 2.0), steps=10)
    np.testing.assert_allclose(plain.xy[1], plain.xy[0] - 0.3 * surface.grad(plain.xy[0]))
    assert run_path(surface, "SGD", 0.3, steps=0).xy.shape == (1, 2)


def test_nesterov_without_momentum_is_plain_sgd():
    surface = SURFACES["banana"]
    a = run_path(surface, "Nesterov", 1e-3, beta=0.0, steps=30)
    b = run_path(surface, "SGD", 1e-3, steps=30)
    np.testing.assert_array_equal(a.xy, b.xy)


def test_a_diverging_run_stops_early_without_warnings():
    surface = SURFACES["valley"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no flood of overflow warnings on the way out
        run = run_path(surface, "SGD", 3.0, steps=500)
    assert run.diverged and len(run.xy) < 501
    assert np.all(np.isfinite(run.xy)) and np.abs(run.xy).max() <= 1e6


def test_steps_to_reach_counts_from_the_last_time_above():
    assert steps_to_reach([5.0, 0.5, 0.05, 0.2, 0.01, 0.001], 0.1) == 4
    assert steps_to_reach([0.01, 0.001], 0.1) == 0
    assert steps_to_reach([5.0, 1.0, 0.5], 0.1) is None
    assert steps_to_reach([5.0, np.nan, 0.01], 0.1) == 2
    with pytest.raises(ValueError, match="losses"):
        steps_to_reach([], 0.1)


@pytest.mark.parametrize("bad, error, words", [
    ("a string", TypeError, "xy"),
    (np.zeros(3), ValueError, "shape"),
    (np.zeros((4, 3)), ValueError, r"\(4, 3\)"),
    (1.0, ValueError, "xy"),
    (torch.zeros(2), TypeError, "Tensor"),
])
def test_bad_points_get_a_clear_error(bad, error, words):
    with pytest.raises(error, match=words):
        SURFACES["valley"].value(bad)
    with pytest.raises(error, match=words):
        SURFACES["saddle"].grad(bad)


def test_bad_surface_settings_and_runs_get_clear_errors():
    with pytest.raises(ValueError, match="mu <= L"):
        Quadratic(L=1.0, mu=2.0)
    with pytest.raises(ValueError, match="mu <= L"):
        Quadratic(L=1.0, mu=0.0)
    with pytest.raises(ValueError, match="angle"):
        Quadratic(angle=float("nan"))
    with pytest.raises(ValueError, match="b must be"):
        Rosenbrock(b=-1.0)
    surface = SURFACES["valley"]
    with pytest.raises(ValueError, match="name must be one of"):
        run_path(surface, "Adagrad", 0.1)
    with pytest.raises(ValueError, match="steps"):
        run_path(surface, "SGD", 0.1, steps=-1)
    with pytest.raises(ValueError, match="start must be one of"):
        run_path(surface, "SGD", 0.1, start="nowhere")
    with pytest.raises(ValueError, match="one point"):
        run_path(surface, "SGD", 0.1, start=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="lr"):
        run_path(surface, "SGD", -0.1)
    with pytest.raises(TypeError, match="surface"):
        run_path("valley", "SGD", 0.1)
    assert isinstance(surface, Surface)
