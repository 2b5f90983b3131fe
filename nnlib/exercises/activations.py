"""Exercises of the activations notebook: tanh's derivative, a stable sigmoid', softmax."""

import numpy as np

from nnlib.activations import sigmoid_grad, softmax, tanh_grad
from nnlib.exercises import Case, Exercise, Mistake

__all__ = ["tanh_derivative", "sigmoid_derivative", "stable_softmax"]

_x = np.linspace(-4, 4, 9)

tanh_derivative = Exercise(
    "tanh_grad",
    reference=tanh_grad,
    cases=[Case((_x,), "x from -4 to 4"), Case((np.array([0.0]),), "x = 0"),
           Case((np.array([-30.0, 30.0]),), "x = ±30 (saturated)")],
    mistakes=[
        Mistake(lambda x: 1 - np.tanh(x), "square it: the derivative of tanh is 1 - tanh(x)², "
                                          "not 1 - tanh(x)"),
        Mistake(lambda x: 1 - x**2, "use tanh(x), not x: d tanh/dx = 1 - tanh(x)²"),
        Mistake(lambda x: np.tanh(x) ** 2 - 1, "the derivative of tanh is positive everywhere: "
                                               "1 - tanh(x)², not tanh(x)² - 1"),
    ],
    sign_hint="the derivative of tanh is positive everywhere: 1 - tanh(x)²",
)


def _naive_sigmoid_grad(x):
    return np.exp(-x) / (1 + np.exp(-x)) ** 2


sigmoid_derivative = Exercise(
    "sigmoid_grad",
    reference=sigmoid_grad,
    cases=[Case((_x,), "x from -4 to 4"), Case((np.array([0.0]),), "x = 0"),
           Case((np.array([-1000.0, 1000.0]),), "x = ±1000")],
    mistakes=[
        Mistake(lambda x: 1 / (1 + np.exp(-x)), "that is σ(x) itself; its derivative is "
                                                "σ(x) · (1 - σ(x))"),
        Mistake(lambda x: (1 / (1 + np.exp(-x))) * (1 + 1 / (1 + np.exp(-x))),
                "σ'(x) = σ(x) · (1 - σ(x)), with a minus"),
        Mistake(_naive_sigmoid_grad, "e^(-x) / (1 + e^(-x))² is right on paper but overflows "
                                     "at x = -1000 (inf / inf = nan): compute s = σ(x) "
                                     "stably first, then s * (1 - s)"),
    ],
)


def _naive_softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


stable_softmax = Exercise(
    "softmax",
    reference=softmax,
    cases=[Case((np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]),), "two rows of 3 logits"),
           Case((np.array([[5.0, -1.0]]),), "a batch of one"),
           Case((np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1000.0, -1001.0]]),),
                "logits near ±1000")],
    mistakes=[
        Mistake(_naive_softmax, "exp(1000) overflows to inf: subtract each row's maximum "
                                "before exponentiating (the result does not change)"),
        Mistake(lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum(),
                "normalise each row separately: sum over the last axis with keepdims=True"),
        Mistake(lambda z: np.exp(z - z.max(axis=0)) / np.exp(z - z.max(axis=0)).sum(axis=0),
                "each row (one example) must sum to 1: normalise over the classes, axis=-1, "
                "not over the batch, axis=0"),
    ],
    shape_names=("B", "K"),
)

# The published solutions, and which function there answers which exercise.
SOLUTIONS_FILE = "02_activations.py"
EXERCISES = {"tanh_grad": tanh_derivative, "sigmoid_grad": sigmoid_derivative,
             "softmax": stable_softmax}
