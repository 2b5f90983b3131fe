"""Exercises of the neurons notebook: a batch weighted sum, the perceptron rule, XOR."""

import numpy as np

from nnlib.exercises import Case, Exercise, Mistake
from nnlib.perceptron import LOGIC_INPUTS, perceptron_step, step
from nnlib.perceptron import weighted_sum as _weighted_sum

__all__ = ["weighted_sum", "perceptron_rule", "xor_network"]

_rng = np.random.default_rng(1)

weighted_sum = Exercise(
    "weighted_sum",
    reference=_weighted_sum,
    cases=[
        Case((LOGIC_INPUTS, np.array([0.5, -1.0]), 0.25), "the four logic inputs"),
        Case((np.array([[2.0, 3.0]]), np.array([1.0, 1.0]), -1.0), "batch of one"),
        Case((_rng.standard_normal((5, 3)), _rng.standard_normal(3), 0.7), "B=5, D=3"),
    ],
    mistakes=[
        Mistake(lambda x, w, b: x @ w, "off by the bias term: add b to every weighted sum"),
        Mistake(lambda x, w, b: x @ w - b, "the bias is added, not subtracted: z = x @ w + b"),
        Mistake(lambda x, w, b: x * w + b, "x * w multiplies elementwise and keeps shape (B, D): "
                                           "sum over the inputs with x @ w"),
    ],
    shape_names=("B",),
)


def _pair(out):
    w, b = out
    return np.append(np.asarray(w, dtype=float), float(b))


_w, _x = np.array([0.5, -0.5]), np.array([1.0, 1.0])
perceptron_rule = Exercise(
    "perceptron_step",
    reference=perceptron_step,
    cases=[
        Case((_w, -0.5, _x, 1, 1.0), "should fire but does not (t=1, y=0)"),
        Case((_w, 0.5, _x, 0, 1.0), "fires but should not (t=0, y=1)"),
        Case((_w, 0.5, _x, 1, 1.0), "already right (t=1, y=1)"),
        Case((np.array([0.2, 0.1, -0.3]), 0.0, np.array([1.0, -2.0, 0.5]), 1, 0.5),
             "three inputs, lr=0.5"),
    ],
    mistakes=[
        Mistake(lambda w, b, x, t, lr: (w - lr * (t - step(x @ w + b)) * x,
                                        b - lr * (t - step(x @ w + b))),
                "the update has the wrong sign: add lr * (t - y) * x, so that a neuron that "
                "should have fired moves towards x"),
        Mistake(lambda w, b, x, t, lr: (w + lr * (t - step(x @ w + b)) * x, b),
                "the weights are right but the bias never changes: b also moves by lr * (t - y)"),
        Mistake(lambda w, b, x, t, lr: (w + lr * (t - (x @ w + b)) * x, b + lr * (t - (x @ w + b))),
                "use the neuron's output y = step(z), not z itself, in the error t - y"),
        Mistake(lambda w, b, x, t, lr: (w + lr * t * x, b + lr * t),
                "the update must be zero when the example is already classified right: "
                "multiply by the error t - y, not by t"),
    ],
    sign_hint="the update has the wrong sign: w + lr * (t - y) * x",
    adapt=_pair,
    adapt_hint="return a pair (w, b): the new weight array and the new bias",
)


def _xor(x):
    h = step(x @ np.array([[1.0, -1.0], [1.0, -1.0]]) + np.array([-0.5, 1.5]))  # OR, NAND
    return step(h @ np.array([1.0, 1.0]) - 1.5)  # AND


def _gate(w, b):
    return lambda x: step(x @ np.array(w) + b)


xor_network = Exercise(
    "xor_network",
    reference=_xor,
    cases=[Case((LOGIC_INPUTS,), "the four inputs"),
           Case((LOGIC_INPUTS[::-1].copy(),), "the four inputs in reverse order"),
           Case((LOGIC_INPUTS[1:2].copy(),), "batch of one, x=(0, 1)")],
    mistakes=[
        Mistake(_gate([1.0, 1.0], -0.5), "your network computes OR: (1, 1) must give 0, so a "
                                         "second hidden neuron has to veto it (NAND)"),
        Mistake(_gate([1.0, 1.0], -1.5), "your network computes AND: XOR is 1 when exactly one "
                                         "input is 1"),
        Mistake(_gate([-1.0, -1.0], 1.5), "your network computes NAND: (0, 0) must give 0"),
        Mistake(lambda x: 1 - _xor(x), "your network computes XNOR, the opposite of XOR: flip "
                                       "the output neuron (negate its weights and bias)"),
    ],
    shape_names=("B",),
)

# The published solutions, and which function there answers which exercise
# (tests/test_exercises.py checks every pair, and every listed mistake).
SOLUTIONS_FILE = "01_neurons.py"
EXERCISES = {"weighted_sum": weighted_sum, "perceptron_step": perceptron_rule,
             "xor_network": xor_network}
