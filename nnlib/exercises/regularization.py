"""Exercises of the regularization notebook: inverted dropout, L1 subgradient, early stopping."""

import numpy as np

from nnlib.exercises import Case, Exercise, Mistake

__all__ = ["dropout_forward", "l1_subgradient", "early_stopping_epoch"]

_rng = np.random.default_rng(6)


def _dropout(x, p, u):
    return np.where(u >= p, x / (1 - p), 0.0)


dropout_forward = Exercise(
    "dropout_forward",
    reference=_dropout,
    cases=[
        Case((np.array([1.0, 2.0, 3.0, 4.0]), 0.5, np.array([0.9, 0.1, 0.5, 0.3])),
             "four units, p=0.5"),
        Case((_rng.standard_normal((3, 5)), 0.2, _rng.random((3, 5))), "a (3, 5) batch, p=0.2"),
        Case((_rng.standard_normal((2, 4)), 0.0, _rng.random((2, 4))), "p=0: nothing dropped"),
    ],
    mistakes=[
        Mistake(lambda x, p, u: np.where(u >= p, x, 0.0),
                "scale the kept units by 1/(1-p): otherwise the layer's expected output "
                "shrinks during training and test-time activations would not match"),
        Mistake(lambda x, p, u: np.where(u >= p, x * (1 - p), 0.0),
                "kept units are divided by (1-p), not multiplied: inverted dropout scales "
                "up during training so that nothing changes at test time"),
        Mistake(lambda x, p, u: np.where(u < p, x / (1 - p), 0.0),
                "you keep a unit with probability p: p is the probability of DROPPING it, "
                "so keep where u >= p"),
    ],
)

l1_subgradient = Exercise(
    "l1_subgradient",
    reference=lambda w, strength: strength * np.sign(w),
    cases=[
        Case((np.array([0.5, -2.0, 0.0, 3.0]), 0.1), "four weights, one exactly 0"),
        Case((_rng.standard_normal((3, 4)), 0.01), "a (3, 4) matrix"),
        Case((np.array([[1e-9, -1e-9]]), 1.0), "tiny weights"),
    ],
    mistakes=[
        Mistake(lambda w, s: s * w,
                "that is the L2 gradient (strength * w): the derivative of |w| is sign(w), "
                "the same size for every weight"),
        Mistake(lambda w, s: np.sign(w),
                "multiply by the strength: the penalty is strength * sum |w|"),
        Mistake(lambda w, s: s * np.abs(w),
                "that is the penalty itself, not its derivative: d|w|/dw = sign(w)"),
    ],
    sign_hint="the sign is flipped: the subgradient of +strength·|w| is +strength·sign(w)",
)


def _early_stop(val_losses, patience):
    best, best_epoch = np.inf, -1
    for epoch, loss in enumerate(val_losses):
        if loss < best:
            best, best_epoch = loss, epoch
        elif epoch - best_epoch >= patience:
            return epoch, best_epoch
    return len(val_losses) - 1, best_epoch


def _early_stop_last(val_losses, patience):
    stop, _ = _early_stop(val_losses, patience)
    return stop, stop


def _early_stop_off_by_one(val_losses, patience):
    best, best_epoch = np.inf, -1
    for epoch, loss in enumerate(val_losses):
        if loss < best:
            best, best_epoch = loss, epoch
        elif epoch - best_epoch > patience:
            return epoch, best_epoch
    return len(val_losses) - 1, best_epoch


def _early_stop_min(val_losses, patience):
    best = int(np.argmin(val_losses))
    return best, best


early_stopping_epoch = Exercise(
    "early_stopping_epoch",
    reference=lambda val_losses, patience: np.array(_early_stop(val_losses, patience)),
    cases=[
        Case(([1.0, 0.8, 0.7, 0.75, 0.8, 0.9, 0.95, 0.6], 3), "a minimum at epoch 2, patience 3"),
        Case(([0.9, 0.8, 0.85, 0.7, 0.72, 0.74, 0.76, 0.78], 2), "patience 2"),
        Case(([1.0, 0.9, 0.8, 0.7], 5), "never stops: still improving"),
        Case(([0.5, 0.6, 0.7, 0.8, 0.9], 1), "best at the start, patience 1"),
    ],
    mistakes=[
        Mistake(lambda v, p: np.array(_early_stop_last(v, p)),
                "the second number is the epoch whose weights you KEEP: the best epoch, "
                "not the epoch where you stopped"),
        Mistake(lambda v, p: np.array(_early_stop_off_by_one(v, p)),
                "stop as soon as `patience` epochs have passed without improvement "
                "(epoch - best_epoch >= patience), one epoch earlier"),
        Mistake(lambda v, p: np.array(_early_stop_min(v, p)),
                "early stopping cannot look into the future: it only sees the losses up to "
                "the current epoch, and stops `patience` epochs after the best so far"),
    ],
    adapt=lambda out: np.asarray(out, dtype=float).reshape(2),
    adapt_hint="return a pair (stop_epoch, best_epoch) of integers",
)

# The published solutions, and which function there answers which exercise
# (tests/test_exercises.py checks every pair, and every listed mistake).
SOLUTIONS_FILE = "06_regularization.py"
EXERCISES = {"dropout_forward": dropout_forward, "l1_subgradient": l1_subgradient,
             "early_stopping_epoch": early_stopping_epoch}
