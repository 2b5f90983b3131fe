"""The artificial neuron and Rosenblatt's perceptron rule.

A neuron computes a weighted sum of its inputs plus a bias, then an activation:

    z = x @ w + b,      y = phi(z).

With the step activation ``phi(z) = 1 if z > 0 else 0`` it is a perceptron: it
splits the input space by the line (plane) ``x @ w + b = 0``. The perceptron rule
nudges the weights after each example,

    w <- w + lr * (t - y) * x,      b <- b + lr * (t - y),

and stops changing once every example is classified correctly. If the data can
be separated by a line at all, this happens after finitely many updates
(Novikoff's convergence theorem); if not (XOR), it never settles.
"""

from typing import NamedTuple

import numpy as np

__all__ = ["step", "weighted_sum", "perceptron_step", "train_perceptron", "PerceptronResult",
           "LOGIC_INPUTS", "LOGIC_GATES", "xor_network"]

# The four corners of the unit square and the targets of common two-input gates.
LOGIC_INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
LOGIC_GATES = {
    "AND": np.array([0, 0, 0, 1]),
    "OR": np.array([0, 1, 1, 1]),
    "NAND": np.array([1, 1, 1, 0]),
    "XOR": np.array([0, 1, 1, 0]),
}


def step(z):
    """Heaviside step: 1.0 where ``z > 0``, else 0.0 (so step(0) = 0)."""
    return (np.asarray(z) > 0).astype(np.float64)


def weighted_sum(x, w, b):
    """A neuron's pre-activation ``z = x @ w + b`` for a batch.

    Args:
        x: inputs ``(B, D)``; w: weights ``(D,)``; b: bias, a number.
    Returns:
        ``z`` of shape ``(B,)``.
    """
    x, w = _as_2d_inputs(x), np.asarray(w, dtype=np.float64)
    if w.shape != (x.shape[1],):
        raise ValueError(f"w must have shape (D,) = ({x.shape[1]},) to match x {x.shape}, "
                         f"got {w.shape}")
    return x @ w + float(b)


def perceptron_step(w, b, x, t, lr=1.0):
    """One application of the perceptron rule to a single example.

    Args:
        w: weights ``(D,)``; b: bias; x: one input ``(D,)``; t: its target, 0 or 1;
        lr: learning rate.
    Returns:
        the new ``(w, b)``; unchanged when the example is already classified right.
    """
    y = step(np.dot(x, w) + b)
    error = t - y  # +1: should have fired, -1: should not have, 0: right
    return w + lr * error * np.asarray(x, dtype=np.float64), b + lr * float(error)


class PerceptronResult(NamedTuple):
    w: np.ndarray  # final weights (D,)
    b: float  # final bias
    mistakes: list  # number of misclassified examples seen in each epoch
    history: list  # (w, b) after each epoch
    converged: bool  # an epoch went by without a single mistake


def train_perceptron(x, t, lr=1.0, max_epochs=100, w0=None, b0=0.0):
    """Train a perceptron with the perceptron rule, visiting examples in order.

    Args:
        x: inputs ``(N, D)``; t: targets ``(N,)`` in {0, 1}; lr: learning rate > 0;
        max_epochs: passes over the data at most; w0, b0: the starting point
        (zeros by default).
    Returns:
        a ``PerceptronResult``.
    """
    x = _as_2d_inputs(x)
    t = np.asarray(t)
    if t.shape != (len(x),) or not np.isin(t, (0, 1)).all():
        raise ValueError(f"t must be {len(x)} targets in {{0, 1}} (one per row of x), got {t!r}")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    w = np.zeros(x.shape[1]) if w0 is None else np.array(w0, dtype=np.float64)
    b = float(b0)
    mistakes, history = [], []
    for _ in range(max_epochs):
        wrong = 0
        for xi, ti in zip(x, t):
            wrong += step(xi @ w + b) != ti
            w, b = perceptron_step(w, b, xi, ti, lr)
        mistakes.append(int(wrong))
        history.append((w.copy(), b))
        if wrong == 0:
            return PerceptronResult(w, b, mistakes, history, True)
    return PerceptronResult(w, b, mistakes, history, False)


def xor_network(x, h1_w1, h1_w2, h1_b, h2_w1, h2_w2, h2_b, out_w1, out_w2, out_b):
    """XOR's network of step neurons: two hidden neurons h1, h2 on the inputs ``x (B, 2)``,
    one output neuron on ``(h1, h2)``, each weight given by name; returns ``(y (B,), h (B, 2))``.
    """
    h = step(x @ np.array([[h1_w1, h2_w1], [h1_w2, h2_w2]]) + np.array([h1_b, h2_b]))
    return step(h @ np.array([out_w1, out_w2]) + out_b), h


def _as_2d_inputs(x):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must have shape (B, D), got {x.shape}")
    return x
