"""Exercises of the losses notebook: the gradients of MSE, Huber and softmax cross-entropy,
and a line fitted by gradient descent with a loss's gradient."""

import numpy as np

from nnlib.activations import softmax
from nnlib.exercises import Case, Exercise, Mistake
from nnlib.losses import cross_entropy, huber, mse

__all__ = ["mse_grad", "huber_grad", "line_fit", "cross_entropy_grad"]

_rng = np.random.default_rng(3)

mse_grad = Exercise(
    "mse_grad",
    reference=lambda pred, target: mse(pred, target)[1],
    cases=[
        Case((np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 1.0])), "three numbers"),
        Case((np.array([0.5]), np.array([-1.0])), "batch of one"),
        Case((_rng.standard_normal((4, 2)), _rng.standard_normal((4, 2))), "a (4, 2) array"),
    ],
    mistakes=[
        Mistake(lambda p, t: (p - t) / p.size,
                "you forgot the 2: the derivative of r² is 2r"),
        Mistake(lambda p, t: 2 * (p - t),
                "you forgot to divide by N = pred.size: the loss is a mean, so every "
                "gradient entry carries a factor 1/N"),
        Mistake(lambda p, t: 2 * (t - p) / p.size,
                "the sign is flipped: differentiate (pred - target)² with respect to pred, "
                "which gives +2 (pred - target) / N"),
    ],
    sign_hint="the sign is flipped: the gradient is 2 (pred - target) / N",
)


def _huber_swapped(p, t, delta):
    r = p - t
    return np.where(np.abs(r) <= delta, delta * np.sign(r), r) / r.size


def _huber_no_delta(p, t, delta):
    r = p - t
    return np.where(np.abs(r) <= delta, r, np.sign(r)) / r.size


huber_grad = Exercise(
    "huber_grad",
    reference=lambda pred, target, delta: huber(pred, target, delta)[1],
    cases=[
        Case((np.array([0.2, -0.3, 3.0, -5.0]), np.zeros(4), 2.0),
             "small and large errors, delta=2"),
        Case((np.array([1.0, 2.0, 8.0]), np.array([1.2, 1.0, 0.0]), 0.5),
             "delta=0.5 with an outlier"),
        Case((np.array([10.0]), np.array([0.0]), 1.0), "batch of one, a large error"),
        Case((_rng.standard_normal(6) * 3, _rng.standard_normal(6), 1.5), "six random errors"),
    ],
    mistakes=[
        Mistake(_huber_swapped,
                "the two branches are swapped: small errors (|r| <= delta) get the quadratic "
                "branch's gradient r, large ones the linear branch's delta·sign(r)"),
        Mistake(_huber_no_delta,
                "for large errors the gradient is delta·sign(r), not sign(r): the linear "
                "branch is delta·(|r| - delta/2)"),
        Mistake(lambda p, t, delta: np.clip(p - t, -delta, delta),
                "you forgot to divide by N = pred.size: the loss is a mean over the elements"),
    ],
)


# ------------------------------------------------------------------------ fit_line_gd


def _descend(x, y, loss_grad, lr, steps, *, sign=-1.0, times_x=True, move_c=True,
             average=False, c_after_a=False):
    """Gradient descent on y ≈ a x + c from (0, 0); the keywords plant the typical mistakes."""
    a, c = 0.0, 0.0
    total = np.mean if average else np.sum
    for _ in range(steps):
        g = loss_grad(a * x + c, y)  # dL/dpred, (N,)
        grad_a = total(g * x) if times_x else total(g)
        a_new = a + sign * lr * grad_a
        if c_after_a:  # c's gradient taken after a has already moved
            g = loss_grad(a_new * x + c, y)
        c = c + sign * lr * total(g) if move_c else c
        a = a_new
    return a, c


def _reference_descend(x, y, loss_grad, lr, steps):
    return _descend(x, y, loss_grad, lr, steps)


def _residual_as_gradient(x, y, loss_grad, lr, steps):
    return _descend(x, y, lambda pred, target: pred - target, lr, steps)


def _mse_gradient(pred, target):
    return mse(pred, target)[1]


def _huber_gradient(pred, target):
    return huber(pred, target, 0.5)[1]


_xs = np.linspace(-1.0, 1.0, 6)
_ys = 2.0 * _xs + 1.0 + 0.1 * _rng.standard_normal(6)
line_fit = Exercise(
    "fit_line_gd",
    reference=_reference_descend,
    cases=[
        Case((_xs, _ys, _mse_gradient, 0.2, 40), "six points near y = 2x + 1 under MSE (40 steps)"),
        Case((_xs, np.append(_ys[:-1], -3.0), _huber_gradient, 0.5, 60),
             "an outlier under Huber with delta=0.5 (60 steps)"),
        Case((np.array([1.0, 3.0]), np.array([2.0, 0.0]), _mse_gradient, 0.1, 1),
             "two points and one step"),
    ],
    mistakes=[
        Mistake(lambda x, y, loss_grad, lr, steps: _descend(x, y, loss_grad, lr, steps, sign=1.0),
                "that is gradient ascent: step against the gradient, a <- a - lr * dL/da and "
                "c <- c - lr * dL/dc, so that the loss goes down"),
        Mistake(lambda x, y, loss_grad, lr, steps: _descend(x, y, loss_grad, lr, steps,
                                                           times_x=False),
                "the slope's gradient needs the chain rule's factor x: pred_i = a x_i + c, so "
                "dL/da = sum(g * x), while dL/dc = sum(g)"),
        Mistake(lambda x, y, loss_grad, lr, steps: _descend(x, y, loss_grad, lr, steps,
                                                           move_c=False),
                "the intercept never moves: update it too, c <- c - lr * sum(g)"),
        Mistake(lambda x, y, loss_grad, lr, steps: _descend(x, y, loss_grad, lr, steps,
                                                           average=True),
                "sum over the examples, do not average: g = loss_grad(pred, y) already carries "
                "the 1/N of the mean loss, so dL/da = sum(g * x)"),
        Mistake(_residual_as_gradient,
                "call loss_grad(pred, y) for g: the residual pred - y is not the gradient of "
                "the loss (it lacks MSE's 2/N, and Huber's clipping)"),
        Mistake(lambda x, y, loss_grad, lr, steps: _descend(x, y, loss_grad, lr, steps,
                                                           c_after_a=True),
                "compute the predictions and g once per step, from the current a and c, then "
                "update both: here c's gradient was taken after a had already moved"),
    ],
    sign_hint="the values have the wrong sign: start from a = c = 0 and step against the "
              "gradient, a <- a - lr * dL/da",
    adapt=lambda out: np.array([float(out[0]), float(out[1])]),
    adapt_hint="return the pair (a, c): the slope and the intercept, two numbers",
)


# ---------------------------------------------------------------- cross_entropy_grad


def _softmax_minus_onehot(logits, labels):
    grad = softmax(logits, axis=1)
    grad[np.arange(len(labels)), labels] -= 1.0
    return grad


cross_entropy_grad = Exercise(
    "cross_entropy_grad",
    reference=lambda logits, labels: cross_entropy(logits, labels)[1],
    cases=[
        Case((_rng.standard_normal((4, 3)), np.array([0, 2, 1, 2])), "B=4, K=3"),
        Case((np.array([[2.0, -1.0, 0.5, 0.0]]), np.array([3])), "batch of one"),
        Case((np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 999.0]]), np.array([2, 1])),
             "large logits (±1000)"),
    ],
    mistakes=[
        Mistake(_softmax_minus_onehot,
                "you forgot to divide by B: the loss is the mean over the batch"),
        Mistake(lambda x, y: softmax(x, axis=1) / len(y),
                "subtract the one-hot of the labels: the gradient is (softmax - onehot) / B"),
        Mistake(lambda x, y: -_softmax_minus_onehot(x, y) / len(y),
                "the sign is flipped: it is softmax minus one-hot, not one-hot minus softmax "
                "(raising the right class's logit must lower the loss)"),
    ],
    shape_names=("B", "K"),
    sign_hint="the sign is flipped: (softmax - onehot) / B",
)

# The published solutions, and which function there answers which exercise
# (tests/test_exercises.py checks every pair, and every listed mistake).
SOLUTIONS_FILE = "03_losses.py"
EXERCISES = {"mse_grad": mse_grad, "huber_grad": huber_grad, "fit_line_gd": line_fit,
             "cross_entropy_grad": cross_entropy_grad}
