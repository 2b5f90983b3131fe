"""Exercises of the backpropagation notebook: a dense layer's backward pass, the tanh
chain rule, a centred finite-difference gradient, the whole backward pass of a two-layer
network, and a training step built on it."""

import copy

import numpy as np

from nnlib import gradcheck
from nnlib.activations import log_softmax
from nnlib.exercises import Case, CheckResult, Exercise, Mistake
from nnlib.layers import linear_backward as _linear_backward
from nnlib.layers import linear_forward

__all__ = ["linear_backward", "tanh_backward", "numerical_gradient", "two_layer_backward",
           "train_step", "ComposedExercise", "PARAM_NAMES"]

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
    parts=("dx", "dw", "db"),
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


# ---------------------------------------------------- an exercise that uses an earlier one


class ComposedExercise(Exercise):
    """An exercise whose function calls the learner's function from an earlier exercise.

    If that earlier function still raises ``NotImplementedError``, the report names it,
    instead of sending the learner to a function that is already written.
    """

    def _check_case(self, fn, case):
        failure = super()._check_case(fn, case)
        if failure is None or failure.diagnosis != "not-implemented":
            return failure
        inner = _unsolved_function(fn, case)
        outer = getattr(fn, "__name__", self.name)
        if inner is None or inner == outer:
            return failure
        return CheckResult(False, f"✘ {self.name}: not implemented yet: `{outer}` calls "
                                  f"`{inner}`, which still raises NotImplementedError. Solve "
                                  "that exercise first, then run this cell again.",
                           "not-implemented")


def _unsolved_function(fn, case):
    """The name of the function in which ``fn(*case.args)`` raises NotImplementedError."""
    try:
        with np.errstate(all="ignore"):
            fn(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
    except NotImplementedError as error:
        tb = error.__traceback__
        while tb.tb_next is not None:  # the innermost frame: where the raise is
            tb = tb.tb_next
        return tb.tb_frame.f_code.co_name
    except Exception:
        return None
    return None


# ------------------------------------------------------------------ two_layer_backward

# The network of the notebook: z = x @ w1 + b1, h = tanh(z), logits = h @ w2 + b2, and the
# mean softmax cross-entropy; the parameters in a dict, in this order, as nnlib.mlp.MLP's.
PARAM_NAMES = ("w1", "b1", "w2", "b2")


def _two_layer(x, y, params, *, slope="1 - h²", transpose_w2=False, transpose_dw=False,
               over_B=True, onehot=True, flip=False, db="sum", loss_mean=True):
    """Forward pass, loss and backward pass; the keywords plant the typical mistakes below.

    The reference is nnlib.mlp.MLP([D, H, K], activation="tanh").loss (and torch's autograd):
    tests/test_exercises_training.py checks it.
    """
    w1, b1, w2, b2 = (params[k] for k in PARAM_NAMES)
    B = len(x)
    rows = np.arange(B)
    z = x @ w1 + b1  # (B, H)
    h = np.tanh(z)
    logits = h @ w2 + b2  # (B, K)
    log_p = log_softmax(logits, axis=1)
    loss = -log_p[rows, y].mean() if loss_mean else -log_p[rows, y].sum()

    onehot_y = np.eye(logits.shape[1])[y] if onehot else 0.0
    dlogits = (onehot_y - np.exp(log_p)) if flip else (np.exp(log_p) - onehot_y)
    if over_B:
        dlogits = dlogits / B
    dh = dlogits @ (w2 if transpose_w2 else w2.T)  # (B, H)
    local = {"1 - h²": 1.0 - h**2, "none": 1.0, "1 - tanh(h)²": 1.0 - np.tanh(h) ** 2,
             "1 - z²": 1.0 - z**2}[slope]
    dz = dh * local
    bias = {"sum": lambda d: d.sum(axis=0), "mean": lambda d: d.mean(axis=0),
            "none": lambda d: d}[db]
    grads = {"w1": dz.T @ x if transpose_dw else x.T @ dz, "b1": bias(dz),
             "w2": dlogits.T @ h if transpose_dw else h.T @ dlogits, "b2": bias(dlogits)}
    return float(loss), grads


def _reference_two_layer(x, y, params):
    return _two_layer(x, y, params)


def _loss_and_params(out):
    """``(loss, dict)`` as one flat array: the loss, then the dict's arrays in PARAM_NAMES order."""
    if not isinstance(out, tuple | list) or len(out) != 2 or not isinstance(out[1], dict):
        raise ValueError("not a pair (loss, dict)")
    loss, named = out
    if any(k not in named for k in PARAM_NAMES):
        raise ValueError("a key is missing")
    return np.concatenate([np.ravel(np.asarray(loss, dtype=float))]
                          + [np.ravel(np.asarray(named[k], dtype=float)) for k in PARAM_NAMES])


class _GradientDict(ComposedExercise):
    """The answer is ``(loss, dict)`` with one array per parameter. A wrong answer that no
    listed mistake explains is told per parameter: a shape (each array has the shape of its
    parameter), a transposed matrix, or the first parameter whose values differ.

    ``what`` names the arrays in the report ("gradient", "new value"); ``values_hint`` is
    added to a report of wrong values, ``loss_hint`` to one of a wrong loss.
    """

    def __init__(self, *args, what, values_hint="", loss_hint="", **kwargs):
        super().__init__(*args, **kwargs)
        self.what, self.values_hint, self.loss_hint = what, values_hint, loss_hint

    def _check_case(self, fn, case):
        failure = super()._check_case(fn, case)
        if failure is not None and failure.diagnosis not in ("shape", "values", "sign", "scale",
                                                             "not-finite"):
            return failure
        try:  # the answer once more, as a dict (the base class has seen that it runs)
            with np.errstate(all="ignore"):
                got = fn(*copy.deepcopy(case.args))[1]
            expected = self.reference(*copy.deepcopy(case.args))[1]
            got = {k: np.asarray(got[k], dtype=float) for k in PARAM_NAMES}
        except Exception:
            return failure
        for name in PARAM_NAMES:  # checked even where the values pass: (1, M) is not (M,)
            if got[name].shape != expected[name].shape:
                return self._fail("shape", case, f"the {self.what} of {name} has shape "
                                                 f"{got[name].shape}; it must have the shape of "
                                                 f"{name}, {expected[name].shape}")
        if failure is None or failure.diagnosis == "not-finite":
            return failure
        wrong = [k for k in PARAM_NAMES if not self._equal(got[k], expected[k])]
        if not wrong:
            return self._fail("values", case, "the loss is wrong: it is the mean over the batch "
                                              "of -log p(true class)" + self.loss_hint)
        name = wrong[0]
        if expected[name].ndim == 2 and self._equal(got[name], expected[name].T):
            return self._fail("transposed", case, f"the {self.what} of {name} is transposed")
        return self._fail("values", case, f"the {self.what} of {name} is wrong: "
                          + self._first_difference(got[name], expected[name]) + self.values_hint)


def _two_layer_case(B, D, H, K, rng, scale=1.0):
    x = scale * rng.standard_normal((B, D))
    y = rng.integers(0, K, B)
    params = {"w1": rng.standard_normal((D, H)) / np.sqrt(D), "b1": 0.5 * rng.standard_normal(H),
              "w2": rng.standard_normal((H, K)) / np.sqrt(H), "b2": 0.5 * rng.standard_normal(K)}
    return x, y, params


def _planted(**mistake):
    return lambda x, y, params: _two_layer(x, y, params, **mistake)


two_layer_backward = _GradientDict(
    "two_layer_backward",
    reference=_reference_two_layer,
    cases=[
        # Square weights first (D = H = K): there a missing transpose still runs, and can be
        # named; the later cases have D, H and K all different.
        Case(_two_layer_case(4, 3, 3, 3, _rng), "square weights (B = 4; D = H = K = 3)"),
        Case(_two_layer_case(5, 6, 4, 3, _rng), "B = 5 with (D; H; K) = (6; 4; 3)"),
        Case(_two_layer_case(1, 4, 3, 2, _rng), "a batch of one"),
        # inputs three times larger: many hidden units near saturation, where 1 - h² is small
        Case(_two_layer_case(6, 5, 4, 3, _rng, scale=3.0), "large inputs (tanh near ±1)"),
    ],
    mistakes=[
        Mistake(_planted(slope="none"),
                "you left out the tanh: between dh and the first layer comes the elementwise "
                "chain rule of Exercise 2, dz = dh * (1 - h²), with h = tanh(z) from the "
                "forward pass"),
        Mistake(_planted(slope="1 - tanh(h)²"),
                "you applied tanh twice: tanh'(z) = 1 - tanh(z)² = 1 - h², and h is already "
                "tanh(z); 1 - tanh(h)² is the slope at the wrong point"),
        Mistake(_planted(slope="1 - z²"),
                "tanh'(z) = 1 - tanh(z)² = 1 - h², with tanh applied first: 1 - z² is the slope "
                "of something else"),
        Mistake(_planted(transpose_w2=True),
                "dh needs the transpose of w2: dh = dlogits @ w2.T, (B, K) @ (K, H) = (B, H), "
                "the dx = dout @ w.T of Exercise 1. Without it the product only ran because "
                "H = K here"),
        Mistake(_planted(transpose_dw=True),
                "the weight gradients are transposed: dw = (layer input).T @ dout has the shape "
                "of w, so dw2 = h.T @ dlogits (H, K) and dw1 = x.T @ dz (D, H)"),
        Mistake(_planted(over_B=False),
                "divide dlogits by the batch size B: the loss is the mean over the batch, so "
                "dL/dlogits = (softmax(logits) - onehot(y)) / B (notebook 03). Without it every "
                "gradient is B times too large"),
        Mistake(_planted(onehot=False),
                "subtract the one-hot target: dL/dlogits = (softmax(logits) - onehot(y)) / B. "
                "The -1 at the true class is what pushes its logit up"),
        Mistake(_planted(flip=True),
                "dL/dlogits has the wrong sign: it is (softmax(logits) - onehot(y)) / B, "
                "probabilities minus target; (onehot(y) - p) points uphill"),
        Mistake(_planted(db="none"),
                "sum the bias gradients over the batch: every example uses the same b, so "
                "db1 = dz.sum(axis=0), shape (H,), and db2 = dlogits.sum(axis=0), shape (K,)"),
        Mistake(_planted(db="mean"),
                "the bias gradients are sums over the batch, not means: the 1/B of the mean "
                "loss is already inside dlogits"),
        Mistake(_planted(loss_mean=False),
                "the loss is the mean over the batch, -(1/B) Σ log p(true class), not the sum "
                "(the gradients are right)"),
    ],
    adapt=_loss_and_params,
    adapt_hint="return the pair (loss, grads): the mean cross-entropy as a number, and a dict "
               "with the keys 'w1', 'b1', 'w2', 'b2', each gradient shaped like its parameter",
    rtol=1e-7, atol=1e-10,
    what="gradient",
)


# --------------------------------------------------------------------------- train_step


def _step(params, x, y, lr, *, sign=-1.0, biases=True, scale=None):
    """One step of plain gradient descent; the keywords plant the typical mistakes below."""
    loss, grads = _two_layer(x, y, params)
    factor = lr if scale is None else scale(lr, len(x))
    return loss, {k: p + sign * factor * grads[k] if biases or k.startswith("w") else p
                  for k, p in params.items()}


def _reference_step(params, x, y, lr):
    return _step(params, x, y, lr)


def _step_case(B, D, H, K, lr):
    x, y, params = _two_layer_case(B, D, H, K, _rng)
    return params, x, y, lr


train_step = _GradientDict(
    "train_step",
    reference=_reference_step,
    cases=[
        Case(_step_case(4, 3, 3, 3, lr=0.1), "square weights at lr 0.1"),
        Case(_step_case(6, 5, 4, 3, lr=0.5), "B = 6 with (D; H; K) = (5; 4; 3) at lr 0.5"),
        Case(_step_case(1, 4, 3, 2, lr=0.05), "a batch of one at lr 0.05"),
    ],
    mistakes=[
        Mistake(lambda params, x, y, lr: _step(params, x, y, lr, sign=+1.0),
                "you stepped uphill (gradient ascent): the gradient points where the loss grows, "
                "so subtract it, w ← w - lr · dL/dw"),
        Mistake(lambda params, x, y, lr: _step(params, x, y, lr, biases=False),
                "update the biases too: b1 and b2 learn by the same rule, b ← b - lr · dL/db"),
        Mistake(lambda params, x, y, lr: _step(params, x, y, lr, scale=lambda lr, B: 1.0),
                "multiply the gradient by the learning rate: w ← w - lr · dL/dw. A step of the "
                "whole gradient ignores lr"),
        Mistake(lambda params, x, y, lr: _step(params, x, y, lr, scale=lambda lr, B: lr / B),
                "do not divide by the batch size again: the gradients come from the mean loss, "
                "so the 1/B is already inside them"),
    ],
    adapt=_loss_and_params,
    adapt_hint="return the pair (loss, params): the loss computed before the step, and a dict "
               "with the updated 'w1', 'b1', 'w2', 'b2'",
    rtol=1e-9, atol=1e-12,
    what="new value",
    values_hint=" (does your two_layer_backward pass Exercise 3?)",
    loss_hint=", computed before the step",
)

# The published solutions, and which function there answers which exercise
# (tests/test_exercises.py checks every pair, and every listed mistake).
SOLUTIONS_FILE = "04_backprop.py"
EXERCISES = {"linear_backward": linear_backward, "tanh_backward": tanh_backward,
             "numerical_gradient": numerical_gradient,
             "two_layer_backward": two_layer_backward, "train_step": train_step}
