"""Exercises of the backpropagation notebook: a dense layer's backward pass, the tanh
chain rule, and a centred finite-difference gradient."""

import numpy as np

from nnlib import gradcheck
from nnlib.exercises import Case, Exercise, Mistake
from nnlib.layers import linear_backward as _linear_backward
from nnlib.layers import linear_forward

__all__ = ["linear_backward", "tanh_backward", "numerical_gradient"]

_rng = np.random.default_rng(4)


# ------------------------------------------------------------------ linear_backward


def _reference_linear_backward(dout, x, w):
    _, cache = linear_forward(x, w, np.zeros(w.shape[1]))
    return _linear_backward(dout, cache)


def _triple(out):
    """(dx, dw, db) as one flat array, so that all three are compared at once."""
    dx, dw, db = (np.asarray(a) for a in out)
    if db.ndim == 2 and db.shape[0] == 1:  # keepdims=True: (1, M) would hide in the ravel
        raise ValueError("db must have the shape of b, (M,), not (1, M)")
    return np.concatenate([np.ravel(np.asarray(a, dtype=float)) for a in (dx, dw, db)])


def _case(B, D, M):
    return (_rng.standard_normal((B, M)), _rng.standard_normal((B, D)),
            _rng.standard_normal((D, M)))


linear_backward = Exercise(
    "linear_backward",
    reference=_reference_linear_backward,
    cases=[
        # A square weight first: there a missing transpose still runs, and can be named.
        Case(_case(4, 3, 3), "B=4, D=M=3"),
        Case(_case(5, 4, 2), "B=5, D=4, M=2"),
        Case(_case(1, 3, 2), "batch of one"),
    ],
    mistakes=[
        Mistake(lambda dout, x, w: (dout @ w, x.T @ dout, dout.sum(axis=0)),
                "dx needs the transpose of w: dx = dout @ w.T, shape (B, M) @ (M, D) = (B, D)"),
        Mistake(lambda dout, x, w: (dout @ w.T, dout.T @ x, dout.sum(axis=0)),
                "dw is transposed: dw = x.T @ dout has the shape of w, (D, M); dout.T @ x "
                "is (M, D)"),
        Mistake(lambda dout, x, w: (dout @ w.T, x.T @ dout, dout),
                "db must be summed over the batch: every example uses the same b, so "
                "db = dout.sum(axis=0), shape (M,)"),
        Mistake(lambda dout, x, w: (dout @ w.T, x.T @ dout, dout.mean(axis=0)),
                "db is the sum over the batch, not the mean: the 1/B of a mean loss is "
                "already inside dout"),
        Mistake(lambda dout, x, w: (dout @ w.T, x.T @ dout / len(x), dout.sum(axis=0)),
                "do not divide dw by the batch size: the 1/B of a mean loss is already "
                "inside dout, so dw = x.T @ dout"),
    ],
    adapt=_triple,
    adapt_hint="return three arrays (dx, dw, db), shaped like x (B, D), w (D, M) and b (M,) "
               "(sum db without keepdims=True)",
)


# -------------------------------------------------------------------- tanh_backward


tanh_backward = Exercise(
    "tanh_backward",
    reference=lambda dout, z: dout * (1.0 - np.tanh(z) ** 2),
    cases=[
        Case((np.array([[1.0, -2.0, 0.5]]), np.array([[0.3, -1.2, 2.0]])), "one row"),
        Case((_rng.standard_normal((4, 3)), _rng.standard_normal((4, 3)) * 2), "B=4, H=3"),
        Case((np.array([0.7]), np.array([0.0])), "z = 0, where tanh'(0) = 1"),
    ],
    mistakes=[
        Mistake(lambda dout, z: 1.0 - np.tanh(z) ** 2,
                "multiply by the upstream gradient dout: dL/dz = dL/dh · tanh'(z)"),
        Mistake(lambda dout, z: dout * (1.0 - z**2),
                "tanh'(z) = 1 - tanh(z)², with tanh applied first: 1 - z² is the slope of "
                "something else"),
        Mistake(lambda dout, z: dout * (1.0 - np.tanh(z)),
                "square the tanh: tanh'(z) = 1 - tanh(z)², not 1 - tanh(z)"),
        Mistake(lambda dout, z: dout * np.tanh(z),
                "the chain rule needs tanh's derivative, 1 - tanh(z)², not tanh itself"),
    ],
    shape_names=("B", "H"),
)


# -------------------------------------------------------------- numerical_gradient


def _forward_difference(f, x, h):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        base = f(x)
        x[i] = old + h
        grad[i] = (f(x) - base) / h
        x[i] = old
    return grad


def _not_restored(f, x, h):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        f_minus = f(x)  # ...and x[i] stays at old - h
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def _over_h(f, x, h):
    return 2.0 * gradcheck.numerical_gradient(f, x, h)


def _coupled(x):
    """A scalar function whose partial derivatives all depend on every entry of x."""
    return float(np.sum(np.tanh(x) ** 2) + np.prod(np.cos(x)) + 0.5 * np.sum(x) ** 2)


numerical_gradient = Exercise(
    "numerical_gradient",
    reference=gradcheck.numerical_gradient,
    cases=[
        Case((_coupled, np.array([0.5, -1.0, 2.0]), 1e-3), "three entries, h=1e-3"),
        Case((_coupled, _rng.standard_normal((2, 3)), 1e-4), "a (2, 3) array, h=1e-4"),
        Case((lambda x: float(np.sum(x**3)), np.array([1.5]), 1e-2), "one entry, x³, h=1e-2"),
    ],
    mistakes=[
        Mistake(_forward_difference,
                "that is the forward difference (f(x+h) - f(x)) / h, whose error shrinks "
                "only like h: use the centred (f(x+h) - f(x-h)) / (2h), whose error shrinks "
                "like h²"),
        Mistake(_not_restored,
                "restore x[i] to its old value after the two evaluations: otherwise every "
                "later entry is differentiated at a shifted point"),
        Mistake(_over_h,
                "divide by 2h, not h: the two points x+h and x-h are 2h apart"),
    ],
    rtol=1e-7, atol=1e-10,
)

# The published solutions, and which function there answers which exercise
# (tests/test_exercises.py checks every pair, and every listed mistake).
SOLUTIONS_FILE = "04_backprop.py"
EXERCISES = {"linear_backward": linear_backward, "tanh_backward": tanh_backward,
             "numerical_gradient": numerical_gradient}
