"""Loss functions, each returning the mean loss and its gradient, in numpy.

Every function here returns ``(loss, grad)``: the loss averaged over all
elements (over the batch for ``cross_entropy``) as a Python float, as torch's
default ``reduction="mean"`` does, and ``grad = dloss/d(first argument)``, an
array of the same shape. Because of the mean, every gradient carries a factor
``1 / N``: doubling the batch halves each entry of the gradient.

Bad input fails early with a message that names the argument: arrays whose
shapes differ (no silent broadcasting), empty arrays, NaN or inf, class labels
that are not integers in ``[0, K)``, targets outside ``[0, 1]``, ``delta <= 0``.

The cross-entropies never form ``log(sigmoid(x))`` or ``log(softmax(x))`` directly:
both are rewritten so that ``|logits|`` of 1e3 and beyond give finite, exact
results (see ``nnlib.activations.log_softmax``).
"""

import numpy as np

from nnlib.activations import log_softmax, sigmoid
from nnlib.checks import as_float_array, as_real_number

__all__ = ["binary_cross_entropy_with_logits", "cross_entropy", "huber", "mae", "mse",
           "pointwise_losses", "fit_line"]


def mse(pred, target):
    """Mean squared error, ``L = mean((pred - target)^2)``.

    Gradient: ``dL/dpred = 2 (pred - target) / N`` with ``N = pred.size``.

    Args:
        pred: predictions, float array of any shape.
        target: targets, same shape as ``pred``.

    Returns:
        ``(loss, grad)``: a Python float and a float64 array shaped like ``pred``.
        Tested against ``torch.nn.functional.mse_loss``.
    """
    pred, target = _check_pair(pred, target, "pred", "target")
    diff = pred - target
    return float(np.mean(diff**2)), 2.0 * diff / diff.size


def mae(pred, target):
    """Mean absolute error (L1 loss), ``L = mean(|pred - target|)``.

    Gradient: ``dL/dpred = sign(pred - target) / N``, taking the subgradient 0
    where ``pred == target``, as torch does.

    Args:
        pred: predictions, float array of any shape.
        target: targets, same shape as ``pred``.

    Returns:
        ``(loss, grad)``: a Python float and a float64 array shaped like ``pred``.
        Tested against ``torch.nn.functional.l1_loss``.
    """
    pred, target = _check_pair(pred, target, "pred", "target")
    diff = pred - target
    return float(np.mean(np.abs(diff))), np.sign(diff) / diff.size


def huber(pred, target, delta=1.0):
    """Huber loss: quadratic for small errors, linear (robust to outliers) for large ones.

    With ``r = pred - target``, per element::

        l(r) = r^2 / 2                   if |r| <= delta
               delta * (|r| - delta / 2)  otherwise

    and ``L = mean(l)``. Gradient: ``dL/dpred = clip(r, -delta, delta) / N``, so no
    single outlier can pull harder than ``delta / N``.

    Args:
        pred: predictions, float array of any shape.
        target: targets, same shape as ``pred``.
        delta: where the loss turns from quadratic to linear, a positive number.

    Returns:
        ``(loss, grad)``: a Python float and a float64 array shaped like ``pred``.
        Tested against ``torch.nn.functional.huber_loss(pred, target, delta=delta)``.
    """
    pred, target = _check_pair(pred, target, "pred", "target")
    delta = as_real_number(delta, "delta")
    if not (np.isfinite(delta) and delta > 0):
        raise ValueError(f"delta must be a finite positive number, got {delta!r}")
    r = pred - target
    abs_r = np.abs(r)
    loss = np.where(abs_r <= delta, 0.5 * r**2, delta * (abs_r - 0.5 * delta))
    return float(np.mean(loss)), np.clip(r, -delta, delta) / r.size


def binary_cross_entropy_with_logits(logits, targets):
    """Binary cross-entropy on raw scores: ``L = mean(-t log p - (1 - t) log(1 - p))``.

    Here ``p = sigmoid(x)`` for logits ``x`` and targets ``t`` in [0, 1]. The
    per-element loss simplifies to ``softplus(x) - x t``, evaluated as
    ``max(x, 0) - x t + log1p(exp(-|x|))``, which never overflows and never takes
    ``log(0)``, even for ``|x|`` of 1e3.

    Gradient: ``dL/dx = (sigmoid(x) - t) / N``.

    Args:
        logits: raw scores ``x``, float array of any shape (e.g. ``(B,)``).
        targets: probabilities of the positive class in [0, 1] (usually 0 or 1),
            same shape as ``logits``; booleans are accepted.

    Returns:
        ``(loss, grad)``: a Python float and a float64 array shaped like ``logits``.
        Tested against ``torch.nn.functional.binary_cross_entropy_with_logits``.
    """
    x, t = _check_pair(logits, targets, "logits", "targets")
    if np.any((t < 0) | (t > 1)):
        raise ValueError(
            f"targets must be probabilities in [0, 1], got values from {t.min()} to {t.max()}"
        )
    loss = np.maximum(x, 0.0) - x * t + np.log1p(np.exp(-np.abs(x)))
    return float(np.mean(loss)), (sigmoid(x) - t) / x.size


def cross_entropy(logits, labels):
    """Softmax cross-entropy with integer class labels: ``L = -mean_b log softmax(x_b)[y_b]``.

    ``log softmax`` comes from ``log_softmax`` (log-sum-exp), so logits of
    magnitude 1e3 and beyond are fine.

    Gradient: ``dL/dx = (softmax(x) - onehot(y)) / B``.

    Args:
        logits: raw class scores ``x``, float array ``(B, K)``.
        labels: integer class indices ``y`` in ``[0, K)``, array ``(B,)``.

    Returns:
        ``(loss, grad)``: a Python float and a float64 array ``(B, K)``.
        Tested against ``torch.nn.functional.cross_entropy`` (which takes the
        same arguments; unlike torch there is no ``ignore_index``).
    """
    logits = as_float_array(logits, "logits")
    if logits.ndim != 2:
        raise ValueError(
            f"logits must be 2-D (B, K), got shape {logits.shape}"
            + ("; for a single example use logits[None, :]" if logits.ndim == 1 else "")
        )
    B, K = logits.shape
    _check_values(logits, "logits")
    labels = _check_labels(labels, B, K)

    log_p = log_softmax(logits, axis=1)  # (B, K)
    rows = np.arange(B)
    loss = -np.mean(log_p[rows, labels])
    grad = np.exp(log_p)  # softmax, (B, K)
    grad[rows, labels] -= 1.0  # minus the one-hot
    return float(loss), grad / B


def _check_values(a, name):
    """Non-empty and finite, else a ``ValueError`` naming ``name``."""
    if a.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {a.shape}")
    for bad, what in ((np.isnan(a), "NaN"), (np.isinf(a), "inf")):
        if np.any(bad):
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"{name} contains {what} (first at index {where}); "
                             "losses need finite numbers")


def _check_pair(first, second, first_name, second_name):
    """Both as float64 arrays of one shape, non-empty and finite."""
    first = as_float_array(first, first_name)
    second = as_float_array(second, second_name, allow_bool=True)
    if first.shape != second.shape:
        raise ValueError(
            f"{first_name} and {second_name} must have the same shape, "
            f"got {first.shape} and {second.shape}"
        )
    _check_values(first, first_name)
    _check_values(second, second_name)
    return first, second


def _check_labels(labels, B, K):
    """``labels`` as an integer array ``(B,)`` with values in ``[0, K)``."""
    labels = np.asarray(labels)
    if labels.dtype == np.bool_ or not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(
            f"labels must be integer class indices in [0, {K}), got dtype {labels.dtype}; "
            "if the values are whole numbers use labels.astype(int)"
        )
    if labels.shape != (B,):
        hint = "; pass class indices, not one-hot rows (labels.argmax(axis=1))" if (
            labels.shape == (B, K)) else ""
        raise ValueError(
            f"labels must have shape (B,) = ({B},) to match logits (B, K) = ({B}, {K}), "
            f"got {labels.shape}{hint}"
        )
    bad = (labels < 0) | (labels >= K)
    if np.any(bad):
        i = int(np.argmax(bad))
        raise ValueError(
            f"labels must be class indices in [0, {K}) for K = {K} classes, "
            f"got {labels[i]} at index {i}"
        )
    return labels


# --------------------------------------------------------------------------- one example each


def pointwise_losses(pred, target, delta=1.0):
    """MSE, MAE and Huber of each entry of ``pred`` as its own example (N = 1), and their
    derivatives: ``(losses, grads)``, two dicts ``{"MSE", "MAE", "Huber"} -> array``.

    The terms that ``mse``, ``mae`` and ``huber`` average: ``r^2``, ``|r|`` and Huber's
    ``r^2 / 2`` inside ``delta``, ``delta (|r| - delta / 2)`` outside, with ``r = pred -
    target``; the derivatives ``2 r``, ``sign(r)`` and ``clip(r, -delta, delta)``. For the
    loss explorer, which draws each loss as a function of one prediction.
    """
    r = np.asarray(pred, dtype=np.float64) - target
    abs_r = np.abs(r)
    losses = {"MSE": r**2, "MAE": abs_r,
              "Huber": np.where(abs_r <= delta, 0.5 * r**2, delta * (abs_r - 0.5 * delta))}
    grads = {"MSE": 2 * r, "MAE": np.sign(r), "Huber": np.clip(r, -delta, delta)}
    return losses, grads


def fit_line(x, y, loss, delta=1.0, iterations=60):
    """Fit y ≈ a x + c under ``loss`` ("MSE", "MAE" or "Huber"); returns ``(a, c)``.

    MSE has a closed form (least squares). MAE and Huber are solved by
    iteratively reweighted least squares: each round is a weighted least-squares
    fit in which a point with residual r gets the weight loss'(r) / r, so that
    large residuals count less (MAE: 1/|r|; Huber: 1 inside delta, delta/|r|
    outside). A fixed number of rounds keeps every redraw equally fast.
    """
    A = np.column_stack([x, np.ones_like(x)])  # (N, 2)
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    if loss == "MSE":
        return float(coef[0]), float(coef[1])
    for _ in range(iterations):
        r = np.abs(y - A @ coef)
        if loss == "MAE":
            weights = 1.0 / np.maximum(r, 1e-6)
        else:
            weights = np.where(r <= delta, 1.0, delta / np.maximum(r, 1e-12))
        Aw = A * weights[:, None]
        coef = np.linalg.solve(A.T @ Aw + 1e-12 * np.eye(2), Aw.T @ y)
    return float(coef[0]), float(coef[1])
