"""Exercises of the activations notebook: tanh's derivative, a stable sigmoid', softmax,
and a forward pass through a deep stack that measures the signal layer by layer."""

import numpy as np

from nnlib.activations import relu, sigmoid, sigmoid_grad, softmax, tanh_grad
from nnlib.exercises import Case, Exercise, Mistake

__all__ = ["tanh_derivative", "sigmoid_derivative", "stable_softmax", "deep_forward"]

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

# ------------------------------------------------------------------------ deep_forward


def _forward(x, weights, activation, *, act_first=False, record_z=False, skip_last=False,
             from_input=False, record_input=False, ddof=0):
    """Per-layer stds of a stack h_l = phi(h_{l-1} @ W_l); the keywords plant the mistakes."""
    h, stds = x, []
    for layer, w in enumerate(weights):
        if record_input:
            stds.append(np.std(h, ddof=ddof))
        z = activation(h) @ w if act_first else (x if from_input else h) @ w
        h = z if act_first or (skip_last and layer == len(weights) - 1) else activation(z)
        if not record_input:
            stds.append(np.std(z if record_z else h, ddof=ddof))
    return np.array(stds)


def _reference_forward(x, weights, activation):
    return _forward(x, weights, activation)


def _layers(rng, widths, std):
    return [rng.normal(0.0, std, size=(d_in, d_out)) for d_in, d_out in zip(widths, widths[1:])]


_rng = np.random.default_rng(2)
deep_forward = Exercise(
    "deep_forward",
    reference=_reference_forward,
    cases=[
        # Square layers first: there feeding every layer the input x still runs, and is named.
        Case((_rng.standard_normal((16, 6)), _layers(_rng, (6, 6, 6, 6, 6), 0.6), relu),
             "ReLU through 4 layers of width 6"),
        Case((_rng.standard_normal((8, 5)), _layers(_rng, (5, 6, 4, 3), 0.8), np.tanh),
             "tanh through widths 5 to 6 to 4 to 3"),
        Case((_rng.standard_normal((1, 4)), _layers(_rng, (4, 4, 2), 1.0), sigmoid),
             "sigmoid with a batch of one"),
    ],
    mistakes=[
        Mistake(lambda x, ws, phi: _forward(x, ws, phi, act_first=True),
                "the activation comes after the matrix product: h_l = phi(h_{l-1} @ W_l), "
                "not phi(h_{l-1}) @ W_l"),
        Mistake(lambda x, ws, phi: _forward(x, ws, phi, record_z=True),
                "that is the spread of the pre-activations z_l = h_{l-1} @ W_l: record the "
                "std of the activations h_l = phi(z_l)"),
        Mistake(lambda x, ws, phi: _forward(x, ws, phi, skip_last=True),
                "the last layer lost its activation: every layer, the last one too, computes "
                "h_l = phi(h_{l-1} @ W_l)"),
        Mistake(lambda x, ws, phi: _forward(x, ws, phi, from_input=True),
                "every layer gets the input x: feed each layer the previous layer's output, "
                "h_l = phi(h_{l-1} @ W_l), so that the signal travels through the stack"),
        Mistake(lambda x, ws, phi: _forward(x, ws, phi, record_input=True),
                "you recorded each layer's input, h_0 to h_(L-1): record its output h_l after "
                "the layer, for l = 1 to L"),
        Mistake(lambda x, ws, phi: _forward(x, ws, phi, ddof=1),
                "use np.std(h), the spread over all the B × H entries (ddof=0, numpy's "
                "default), as the experiment does"),
    ],
    shape_names=("L",),
)


# The published solutions, and which function there answers which exercise.
SOLUTIONS_FILE = "02_activations.py"
EXERCISES = {"tanh_grad": tanh_derivative, "sigmoid_grad": sigmoid_derivative,
             "softmax": stable_softmax, "deep_forward": deep_forward}
