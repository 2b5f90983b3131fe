"""Exercises of the optimizers notebook: the stable step size, a momentum step, an Adam step,
and Adam's whole loop (its state and its step counter carried from step to step)."""

import numpy as np

from nnlib.exercises import Case, Exercise, Mistake
from nnlib.exercises.backprop import ComposedExercise
from nnlib.surfaces import SURFACES, Quadratic

__all__ = ["max_stable_lr", "momentum_step", "adam_step", "adam_path"]

_rng = np.random.default_rng(5)


def _random_hessian(n, rng):
    """A symmetric positive definite ``(n, n)`` matrix with eigenvalues between 0.2 and 5."""
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return q @ np.diag(rng.uniform(0.2, 5.0, n)) @ q.T


max_stable_lr = Exercise(
    "max_stable_lr",
    reference=lambda hessian: 2.0 / np.linalg.eigvalsh(hessian).max(),
    cases=[
        Case((np.diag([4.0, 1.0]),), "a valley along the axes, A = diag(4, 1)"),
        Case((Quadratic(L=2.0, mu=0.5, angle=30.0).hessian,), "a tilted valley (L = 2)"),
        Case((_random_hessian(3, _rng),), "a 3x3 Hessian"),
        Case((np.array([[5.0]]),), "one parameter, f = 5 p² / 2"),
    ],
    mistakes=[
        Mistake(lambda A: 1.0 / np.linalg.eigvalsh(A).max(),
                "1/L is the step that lands exactly on the minimum along the steepest "
                "direction; gradient descent still converges (overshooting, then coming back) "
                "up to twice that: the bound is 2/L"),
        Mistake(lambda A: 2.0 / np.linalg.eigvalsh(A).min(),
                "you used the smallest eigenvalue: the steepest direction, the largest "
                "eigenvalue L, is the one whose error grows first, so the bound is 2/L"),
        Mistake(lambda A: 2.0 / np.max(np.diag(A)),
                "the diagonal entries are the curvatures along the x and y axes only; in a "
                "tilted valley the steepest direction is an eigenvector, so use the largest "
                "eigenvalue (np.linalg.eigvalsh)"),
    ],
)


def _pair(out):
    if not isinstance(out, tuple | list) or len(out) != 2:
        raise ValueError("not a pair")
    return np.concatenate([np.ravel(out[0]), np.ravel(out[1])])


def _momentum(p, v, g, lr, beta):
    v = beta * v + g
    return p - lr * v, v


momentum_step = Exercise(
    "momentum_step",
    reference=_momentum,
    cases=[
        Case((np.array([1.0, -2.0, 0.5]), np.array([0.3, -0.1, 0.2]), np.array([0.5, 1.0, -1.5]),
              0.1, 0.9), "a step with some velocity"),
        Case((np.array([2.0, 1.0]), np.zeros(2), np.array([-1.0, 4.0]), 0.05, 0.9),
             "the first step (v = 0)"),
        Case((_rng.standard_normal((2, 3)), _rng.standard_normal((2, 3)),
              _rng.standard_normal((2, 3)), 0.01, 0.5), "a (2, 3) weight matrix, beta = 0.5"),
        Case((np.array([1.0, 1.0]), np.array([0.5, -0.5]), np.array([2.0, 0.0]), 0.1, 0.0),
             "beta = 0 (plain SGD)"),
    ],
    mistakes=[
        Mistake(lambda p, v, g, lr, beta: (p + lr * (beta * v + g), beta * v + g),
                "you stepped uphill: the velocity points up the slope, like the gradient, so "
                "subtract it: p - lr·v"),
        Mistake(lambda p, v, g, lr, beta: (p - lr * (beta * v + g), v),
                "you returned the old velocity: return the updated v = β·v + g too, or the next "
                "step forgets the past"),
        Mistake(lambda p, v, g, lr, beta: (p - lr * v, beta * v + g),
                "you stepped with the old velocity: update v = β·v + g first, then step "
                "p - lr·v with the new one"),
        Mistake(lambda p, v, g, lr, beta: (p - lr * (beta * v + (1 - beta) * g),
                                           beta * v + (1 - beta) * g),
                "that velocity is an average β·v + (1-β)·g; torch's and nnlib's SGD add the "
                "whole gradient, v = β·v + g"),
    ],
    adapt=_pair,
    adapt_hint="return the pair (p_new, v_new)",
)


def _triple(out):
    if not isinstance(out, tuple | list) or len(out) != 3:
        raise ValueError("not a triple")
    return np.concatenate([np.ravel(x) for x in out])


def _adam(p, m, s, g, t, lr, beta1, beta2, eps, correct_m=True, correct_s=True,
          eps_inside=False):
    m = beta1 * m + (1 - beta1) * g
    s = beta2 * s + (1 - beta2) * g * g
    m_hat = m / (1 - beta1**t) if correct_m else m
    s_hat = s / (1 - beta2**t) if correct_s else s
    denom = np.sqrt(s_hat + eps) if eps_inside else np.sqrt(s_hat) + eps
    return p - lr * m_hat / denom, m, s


adam_step = Exercise(
    "adam_step",
    reference=_adam,
    cases=[
        Case((_rng.standard_normal(4), 0.01 * _rng.standard_normal(4), _rng.uniform(1e-5, 1e-3, 4),
              0.03 * _rng.standard_normal(4), 3, 0.01, 0.9, 0.999, 1e-3),
             "step t = 3 with eps = 1e-3"),
        Case((np.array([0.5, -1.0]), np.zeros(2), np.zeros(2), np.array([0.2, -3.0]), 1, 0.1,
              0.9, 0.999, 1e-8), "the first step (t = 1, m = s = 0)"),
        Case((_rng.standard_normal((2, 3)), 0.1 * _rng.standard_normal((2, 3)),
              _rng.uniform(0.01, 0.1, (2, 3)), _rng.standard_normal((2, 3)), 1000, 1e-3, 0.8,
              0.99, 1e-8), "a (2, 3) weight matrix at t = 1000"),
    ],
    mistakes=[
        Mistake(lambda *a: _adam(*a, correct_m=False, correct_s=False),
                "you left out the bias correction: m and s start at zero, so divide m by "
                "1 - β1^t and s by 1 - β2^t before the step"),
        Mistake(lambda *a: _adam(*a, eps_inside=True),
                "eps goes outside the square root: divide by √ŝ + eps, not √(ŝ + eps)"),
        Mistake(lambda *a: _adam(*a, correct_s=False),
                "you corrected m but not s: divide s by 1 - β2^t as well"),
        Mistake(lambda *a: _adam(*a, correct_m=False),
                "you corrected s but not m: divide m by 1 - β1^t as well"),
    ],
    adapt=_triple,
    adapt_hint="return the triple (p_new, m_new, s_new)",
)



# --------------------------------------------------------------------------- adam_path


def _adam_path(grad, p0, n_steps, lr, beta1, beta2, eps, *, first_t=1, count=True, keep=True,
               start=True, alias=False, at_start=False):
    """Adam's loop; the keywords plant the typical mistakes below. The reference retraces
    nnlib.optim.Adam (tests/test_exercises_training.py checks it)."""
    p0 = np.array(p0, dtype=float)
    p, m, s = p0.copy(), np.zeros_like(p0), np.zeros_like(p0)
    path = [p] if start else []
    for i in range(n_steps):
        t = first_t + i if count else first_t
        if not keep:  # the state thrown away: every step is a first step
            m, s = np.zeros_like(p), np.zeros_like(p)
        new, m, s = _adam(p, m, s, grad(p0 if at_start else p), t, lr, beta1, beta2, eps)
        if alias:  # p changed in place: every point in the path is the same array
            p[...] = new
        else:
            p = new
        path.append(p)
    return np.array(path)


def _reference_adam_path(grad, p0, n_steps, lr, beta1, beta2, eps):
    return _adam_path(grad, p0, n_steps, lr, beta1, beta2, eps)


def _planted_path(**mistake):
    return lambda *args: _adam_path(*args, **mistake)


_valley = SURFACES["valley"]
_banana = SURFACES["banana"]
_bowl = _random_hessian(3, _rng)


def _valley_grad(p):
    """The gradient of notebook 05's quadratic valley (L = 1.25, mu = 0.0125)."""
    return _valley.grad(p)


def _banana_grad(p):
    """The gradient of Rosenbrock's banana, notebook 05's curved valley."""
    return _banana.grad(p)


def _bowl_grad(p):
    """The gradient of a quadratic bowl in 3 parameters, p·A·p / 2, with A a fixed Hessian."""
    return _bowl @ p


adam_path = ComposedExercise(
    "adam_path",
    reference=_reference_adam_path,
    cases=[
        Case((_valley_grad, np.array(_valley.starts["far end"]), 20, 0.1, 0.9, 0.999, 1e-8),
             "20 steps on the valley"),
        Case((_bowl_grad, np.array([1.0, -2.0, 0.5]), 15, 0.05, 0.8, 0.99, 1e-8),
             "15 steps in three parameters"),
        Case((_banana_grad, np.array(_banana.starts[next(iter(_banana.starts))]), 30, 0.05, 0.9,
              0.999, 1e-8), "30 steps on the banana"),
        Case((_valley_grad, np.array([2.0, 1.0]), 1, 0.1, 0.9, 0.999, 1e-8), "a single step"),
    ],
    mistakes=[
        Mistake(_planted_path(first_t=0),
                "count the steps from t = 1: at t = 0 the bias correction divides by "
                "1 - β^0 = 0, and the path turns into NaN. Loop with "
                "for t in range(1, n_steps + 1)"),
        Mistake(_planted_path(count=False),
                "t must count the steps, 1, 2, 3, ...: with t stuck at 1 the bias correction "
                "keeps dividing by 1 - β, which is right only for the first step"),
        Mistake(_planted_path(keep=False),
                "keep Adam's state from step to step: set m and s to zero once, before the loop, "
                "and pass each step the m and s that the last step returned. Reset every step, "
                "each step is a first step, of length lr in every coordinate"),
        Mistake(_planted_path(at_start=True),
                "evaluate the gradient at the current point at every step, grad(p), not "
                "always at the start p0"),
        Mistake(_planted_path(alias=True),
                "every point of your path is the last one: you appended p and then changed it "
                "in place (p -= ... or p[...] = ...). Append a copy, p.copy(), or build a new "
                "array each step (p = p - ...)"),
        Mistake(_planted_path(start=False),
                "the path starts with the starting point p0: return n_steps + 1 points, p0 "
                "first, then one point per step"),
    ],
    shape_names=("n_steps + 1", "n"),
    rtol=1e-9, atol=1e-12,
)

# The published solutions, and which function there answers which exercise
# (tests/test_exercises.py checks every pair, and every listed mistake).
SOLUTIONS_FILE = "05_optimizers.py"
EXERCISES = {"max_stable_lr": max_stable_lr, "momentum_step": momentum_step,
             "adam_step": adam_step, "adam_path": adam_path}
