"""Exercises of the regularization notebook: L1 subgradient, inverted dropout forward and
backward, early stopping, and over-fitting one small batch (a training loop)."""

import copy

import numpy as np

from nnlib.data.toy import playground_data
from nnlib.exercises import Case, Exercise, Mistake
from nnlib.mlp import MLP
from nnlib.optim import SGD

__all__ = ["dropout_forward", "dropout_backward", "l1_subgradient", "early_stopping_epoch",
           "overfit_small_batch", "LossHistoryExercise"]

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

_rng_backward = np.random.default_rng(60)  # its own generator: the other cases stay as they were


def _dropout_backward(dout, keep, p):
    return np.where(keep, dout / (1 - p), 0.0)


dropout_backward = Exercise(
    "dropout_backward",
    reference=_dropout_backward,
    cases=[
        Case((np.array([0.5, -1.0, 2.0, 3.0]), np.array([True, False, True, False]), 0.5),
             "four units, p=0.5"),
        Case((_rng_backward.standard_normal((3, 5)), _rng_backward.random((3, 5)) >= 0.2, 0.2),
             "a (3, 5) batch, p=0.2"),
        Case((_rng_backward.standard_normal((2, 4)), np.ones((2, 4), dtype=bool), 0.0),
             "p=0: nothing dropped"),
    ],
    mistakes=[
        Mistake(lambda dout, keep, p: np.where(keep, dout, 0.0),
                "scale the kept units' gradient by 1/(1-p) too: the forward pass multiplied "
                "them by 1/(1-p), so d(out)/dx = 1/(1-p) where kept"),
        Mistake(lambda dout, keep, p: dout / (1 - p),
                "a dropped unit passes no gradient: its output was 0 whatever its input, so "
                "dx = 0 where keep is False; multiply by the mask"),
        Mistake(lambda dout, keep, p: dout,
                "at training time dropout is not the identity: dx = dout * keep / (1-p), with "
                "the same mask as the forward pass"),
        Mistake(lambda dout, keep, p: np.where(keep, dout / p, 0.0),
                "divide by 1-p, the probability of KEEPING a unit, not by p"),
        Mistake(lambda dout, keep, p: np.where(keep, dout * (1 - p), 0.0),
                "the kept units' gradient is divided by (1-p), not multiplied: the forward "
                "pass divided by (1-p), and the backward multiplies dout by that same factor"),
        Mistake(lambda dout, keep, p: np.where(keep, 0.0, dout / (1 - p)),
                "the gradient flows through the KEPT units (keep is True), not the dropped ones"),
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


def _train_small_batch(model, x, y, n, threshold, max_steps, make_optimizer=None,
                       small_batch=True, update=True, stop=True, record_first=True):
    """The reference loop (SGD, lr 0.1, momentum 0.9), and with a flag off, a typical mistake."""
    xb, yb = (x[:n], y[:n]) if small_batch else (x, y)
    if make_optimizer is None:
        optimizer = SGD(model.params, lr=0.1, momentum=0.9)
    else:
        optimizer = make_optimizer(model.params)
    history = []
    for _ in range(max_steps):
        loss, grads = model.loss(xb, yb)
        if record_first:
            history.append(loss)
        if stop and loss < threshold:
            break
        if not record_first:
            history.append(loss)
        if update:
            optimizer.step(grads)
    return history


_FULL_SET = Mistake(
    lambda *args: _train_small_batch(*args, small_batch=False),
    "you trained on the whole training set: the habit is to over-fit a tiny batch, the first n "
    "examples x[:n], y[:n]; on all the data a loss that stays up can have many causes, on n "
    "examples almost only a bug")
_NO_STEP = Mistake(
    lambda *args: _train_small_batch(*args, update=False),
    "your loss never changes: call optimizer.step(grads) after each model.loss(...), or the "
    "weights never move (nnlib's model.loss returns fresh gradients every time; in torch you "
    "would also call optimizer.zero_grad() before each backward)")
_NO_BREAK = Mistake(
    lambda *args: _train_small_batch(*args, stop=False),
    "your loss went below threshold and you kept training: stop (break) at the first loss "
    "below threshold and return the history up to and including it")
_TESTED_FIRST = Mistake(
    lambda *args: _train_small_batch(*args, record_first=False),
    "your history ends above threshold before max_steps steps: append each loss to the history "
    "before testing it, so that the history ends with the first loss below threshold (or holds "
    "max_steps losses)")
_LR_TOO_LARGE = Mistake(
    lambda *args: _train_small_batch(*args, make_optimizer=lambda params: SGD(params, lr=50.0)),
    "the loss does not settle: it jumps up and down or blows up, the sign of a learning rate "
    "that is too large; try SGD with lr=0.1 and momentum=0.9, or Adam with lr=0.01")
_LR_TOO_SMALL = Mistake(
    lambda *args: _train_small_batch(*args, make_optimizer=lambda params: SGD(params, lr=1e-3)),
    "the loss falls, but too slowly to get below threshold within max_steps steps: a learning "
    "rate too small, or momentum lost because the optimizer is created inside the loop (create "
    "it once, before the loop); SGD with lr=0.1 and momentum=0.9, or Adam with lr=0.01, get "
    "there")


class LossHistoryExercise(Exercise):
    """A training loop, checked by the loss history it returns, whatever optimizer it chose.

    Every case is ``(model, x, y, n, threshold, max_steps)``. The history must start with the
    given model's loss on ``x[:n], y[:n]`` (no step taken yet), hold at most ``max_steps``
    losses, and end with the first one below ``threshold``. A history that fails is
    diagnosed from its shape: the wrong data (its first loss is the full set's), flat (no
    update), past the threshold (no stop), ending above it too soon, bouncing or blowing up
    (learning rate too large), falling too slowly (too small).
    """

    def _check_case(self, fn, case):
        model, x, y, n, threshold, max_steps = case.args
        def call(fn, case):
            with np.errstate(all="ignore"):
                return fn(*copy.deepcopy(case.args))

        got, failure = self._answer(fn, case, call, forgot="`return history`")
        if failure is not None:
            return failure
        history = self._as_array(got)
        if history is None or history.ndim != 1 or history.size == 0:
            return self._fail("form", case, self.adapt_hint)
        if history.size > max_steps:
            return self._fail("budget", case, f"your history holds {history.size} losses, more "
                                              f"than max_steps = {max_steps}: stop after "
                                              f"max_steps steps even if the loss is still high")
        fresh = copy.deepcopy(model)
        first_small, first_full = fresh.evaluate(x[:n], y[:n]), fresh.evaluate(x, y)
        if not self._equal(history[0], first_small):
            if self._equal(history[0], first_full):
                return self._fail("mistake", case, _FULL_SET.hint)
            return self._fail("first-loss", case,
                              f"your first loss is {history[0]:.4g}, but the model you are given "
                              f"has loss {first_small:.4g} on x[:n], y[:n]: train that model (not "
                              f"a new one) on the first n examples, and record the loss that "
                              f"model.loss returns before each step")
        if history.size > 1 and np.all(history == history[0]):
            return self._fail("mistake", case, _NO_STEP.hint)
        if not np.all(np.isfinite(history)):
            return self._fail("mistake", case, _LR_TOO_LARGE.hint)
        below = np.flatnonzero(history < threshold)
        if below.size and below[0] < history.size - 1:
            return self._fail("mistake", case, f"{_NO_BREAK.hint} (first below at index "
                                               f"{below[0]}, history of {history.size})")
        if history[-1] < threshold:
            return None
        if history.size < max_steps:
            return self._fail("mistake", case, _TESTED_FIRST.hint)
        rises = np.mean(np.diff(history) > 0)
        if history[-1] >= history[0] or rises > 0.25:
            return self._fail("mistake", case, f"{_LR_TOO_LARGE.hint} (the loss rose on "
                                               f"{rises:.0%} of the steps)")
        return self._fail("mistake", case, f"{_LR_TOO_SMALL.hint} (from {history[0]:.3g} to "
                                           f"{history[-1]:.3g} after {history.size} steps)")


# Both cases: threshold 0.01 within 300 steps, which the reference reaches in about 50 and 20.
def _moons_case():
    x, y = playground_data("moons", 0.25, n=200, seed=1)
    return Case((MLP([2, 32, 32, 2], seed=0), x, y, 16, 0.01, 300),
                "16 of 200 noisy moons")


def _random_labels_case():
    rng = np.random.default_rng(61)
    x, y = rng.standard_normal((64, 8)), rng.integers(0, 3, 64)
    return Case((MLP([8, 32, 3], seed=1), x, y, 8, 0.01, 300),
                "8 points with random labels")


overfit_small_batch = LossHistoryExercise(
    "overfit_small_batch",
    reference=_train_small_batch,
    cases=[_moons_case(), _random_labels_case()],
    mistakes=[_FULL_SET, _NO_STEP, _NO_BREAK, _TESTED_FIRST, _LR_TOO_LARGE, _LR_TOO_SMALL],
    adapt_hint="return the history: a list of the losses, one float per step",
)

# The published solutions, and which function there answers which exercise
# (tests/test_exercises.py checks every pair, and every listed mistake).
SOLUTIONS_FILE = "06_regularization.py"
EXERCISES = {"l1_subgradient": l1_subgradient, "dropout_forward": dropout_forward,
             "dropout_backward": dropout_backward, "early_stopping_epoch": early_stopping_epoch,
             "overfit_small_batch": overfit_small_batch}
