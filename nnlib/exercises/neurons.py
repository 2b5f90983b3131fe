"""Exercises of the neurons notebook: a batch weighted sum, the perceptron rule, the
perceptron's whole training loop, XOR."""

import copy

import numpy as np

from nnlib.exercises import Case, Exercise, Mistake
from nnlib.perceptron import LOGIC_GATES, LOGIC_INPUTS, perceptron_step, step
from nnlib.perceptron import weighted_sum as _weighted_sum

__all__ = ["weighted_sum", "perceptron_rule", "perceptron_training", "xor_network"]

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


# ---------------------------------------------------------------- perceptron_training


def _train(X, t, w, b, lr, epochs, *, stop=True, reset=True, count_after=False, update=None):
    """The perceptron's training loop; the keywords plant the typical mistakes below."""
    update = update or perceptron_step
    mistakes, wrong = [], 0
    for _ in range(epochs):
        if reset:
            wrong = 0
        for x, target in zip(X, t):
            before = step(x @ w + b) != target
            w, b = update(w, b, x, target, lr)
            wrong += int(step(x @ w + b) != target if count_after else before)
        mistakes.append(wrong)
        if stop and wrong == 0:
            break
    return w, b, mistakes


def _reference_train(X, t, w, b, lr, epochs):
    return _train(X, t, w, b, lr, epochs)


def _one_epoch(X, t, w, b, lr, epochs):
    return _train(X, t, w, b, lr, min(epochs, 1))


def _wrong_sign(w, b, x, t, lr):
    error = t - step(x @ w + b)
    return w - lr * error * x, b - lr * error


def _frozen_bias(w, b, x, t, lr):
    return perceptron_step(w, b, x, t, lr)[0], b


def _every_example(w, b, x, t, lr):
    return w + lr * t * x, b + lr * t


def _triple(out):
    """(w, b, mistakes per epoch) as one flat array."""
    w, b, mistakes = out
    return np.concatenate([np.ravel(np.asarray(w, dtype=float)), [float(b)],
                           np.asarray(mistakes, dtype=float).ravel()])


class _TrainingLoop(Exercise):
    """The answer is ``(w, b, mistakes)``. A failure that no known mistake explains is told
    part by part (w, b, the list of mistakes per epoch), not as an index into one array."""

    def _check_case(self, fn, case):
        failure = super()._check_case(fn, case)
        if failure is None or failure.diagnosis not in ("shape", "sign", "scale", "values"):
            return failure
        with np.errstate(all="ignore"):
            w, b, mistakes = fn(*copy.deepcopy(case.args))
            w_ref, b_ref, mistakes_ref = self.reference(*copy.deepcopy(case.args))
        mistakes = [int(m) for m in np.ravel(mistakes)]
        if len(mistakes) != len(mistakes_ref):
            return self._fail("values", case, f"the mistakes per epoch are {mistakes}, expected "
                                              f"{mistakes_ref}: run epochs until the first one "
                                              "without a mistake (it ends the list with its 0), "
                                              "or `epochs` of them if none comes")
        if mistakes != mistakes_ref:
            return self._fail("values", case, f"the mistakes per epoch are {mistakes}, expected "
                                              f"{mistakes_ref}: count, in each epoch, the "
                                              "examples misclassified before their update")
        w = np.asarray(w, dtype=float)
        if w.shape != np.shape(w_ref):
            return self._fail("shape", case, f"w must keep its shape (D,) = {np.shape(w_ref)}, "
                                             f"got {w.shape}")
        return self._fail("values", case,
                          f"the mistakes per epoch are right, but the final w = "
                          f"{np.round(w, 4).tolist()} and b = {float(b):.4g}, expected w = "
                          f"{np.round(w_ref, 4).tolist()} and b = {float(b_ref):.4g}")


_X3 = np.array([[1.0, 2.0, -1.0], [-1.0, 0.5, 2.0], [2.0, -1.0, 0.5], [-0.5, -2.0, 1.0],
                [1.5, 1.0, 1.0], [-2.0, 1.0, -0.5]])
_t3 = (_X3 @ np.array([1.0, -0.5, 0.5]) + 0.2 > 0).astype(int)  # separable by construction
perceptron_training = _TrainingLoop(
    "train_perceptron",
    reference=_reference_train,
    cases=[
        Case((LOGIC_INPUTS, LOGIC_GATES["AND"], np.zeros(2), 0.0, 1.0, 20),
             "AND from zero weights"),
        Case((_X3, _t3, np.array([0.2, 0.3, -0.1]), -0.5, 0.5, 30),
             "six points in 3-D with lr=0.5"),
        Case((LOGIC_INPUTS, LOGIC_GATES["XOR"], np.zeros(2), 0.0, 1.0, 5),
             "XOR for 5 epochs (it never converges)"),
        Case((LOGIC_INPUTS, LOGIC_GATES["OR"], np.array([1.0, 1.0]), -0.5, 1.0, 10),
             "OR from weights already right (one epoch)"),
    ],
    mistakes=[
        Mistake(lambda X, t, w, b, lr, epochs: _train(X, t, w, b, lr, epochs, stop=False),
                "stop after the first epoch without a mistake: nothing can change after it, so "
                "the list of mistakes per epoch must end at that 0"),
        Mistake(_one_epoch,
                "loop over the examples once per epoch, for up to `epochs` epochs: one pass is "
                "rarely enough"),
        Mistake(lambda X, t, w, b, lr, epochs: _train(X, t, w, b, lr, epochs, update=_wrong_sign),
                "the update has the wrong sign: w + lr * (t - y) * x and b + lr * (t - y), "
                "so that a neuron that should have fired moves towards x"),
        Mistake(lambda X, t, w, b, lr, epochs: _train(X, t, w, b, lr, epochs,
                                                      update=_frozen_bias),
                "the bias never changes: update it too, b + lr * (t - y), or the line can only "
                "turn about the origin"),
        Mistake(lambda X, t, w, b, lr, epochs: _train(X, t, w, b, lr, epochs,
                                                      update=_every_example),
                "update only on a mistake: multiply by the error t - y, which is 0 when the "
                "example is already right, not by the target t"),
        Mistake(lambda X, t, w, b, lr, epochs: _train(X, t, w, b, lr, epochs, reset=False),
                "start every epoch's count of mistakes at 0: the list holds the mistakes of "
                "each epoch, not a running total"),
        Mistake(lambda X, t, w, b, lr, epochs: _train(X, t, w, b, lr, epochs, count_after=True),
                "count a mistake with the output before the update, y = step(x @ w + b) with "
                "the old w and b: after the update the example is often already right"),
    ],
    adapt=_triple,
    adapt_hint="return three things (w, b, mistakes): the final weights (D,), the final bias "
               "and the list of mistakes per epoch",
)


# -------------------------------------------------------------------------- xor_network


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
             "train_perceptron": perceptron_training, "xor_network": xor_network}
