"""Activation functions and their derivatives, elementwise, in numpy.

Each activation ``f`` comes with its derivative ``f_grad``: the backward pass of
a layer ``y = f(x)`` is ``dx = dout * f_grad(x)``. ``softmax`` and
``log_softmax`` act along an axis instead, so their backward passes are
Jacobian-vector products: ``softmax_backward`` and ``log_softmax_backward``.

Inputs may be any real array-like (a numpy array, a list, a Python number); the
result is always a float64 ndarray. Booleans, complex numbers and strings are
refused with a ``TypeError``. NaN is not an error here: a NaN in ``x`` gives NaN
in the same place of the output and of the derivative (the losses, by contrast,
refuse NaN with a clear message).

Two numerical points the notebook dwells on:

* exponentials overflow float64 above about 709, so ``sigmoid`` only ever
  evaluates ``exp(-|x|)`` and ``softmax`` subtracts the largest entry first
  (log-sum-exp); both are exact and warning-free for ``|x|`` of 1e3, 1e4, ...;
* numpy has no erf, so ``gelu`` evaluates the C library's ``math.erfc`` (accurate
  to about one unit in the last place) over the array: about 8 ms per 1e5
  elements, 20x slower than ``np.exp`` but exact.

At the kinks the derivatives follow torch: ``relu_grad(0) = 0`` and
``leaky_relu_grad(0) = slope``.
"""

import math
import numbers

import numpy as np

from nnlib.checks import as_float_array, as_real_number

__all__ = [
    "ACTIVATIONS",
    "gelu",
    "gelu_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "log_softmax",
    "log_softmax_backward",
    "relu",
    "relu_grad",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "softmax_backward",
    "tanh",
    "tanh_grad",
]

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def relu(x):
    """Rectified linear unit, ``max(x, 0)``.

    Args:
        x: real array-like of any shape.

    Returns:
        float64 ndarray shaped like ``x``. Tested against ``torch.relu``.
    """
    x = as_float_array(x)
    return np.maximum(x, 0.0)


def relu_grad(x):
    """Derivative of ``relu``: 1 where ``x > 0``, else 0 (also at ``x = 0``, as torch).

    Args:
        x: real array-like of any shape.

    Returns:
        float64 ndarray of 0s and 1s shaped like ``x``. Tested against ``torch.relu``.
    """
    x = as_float_array(x)
    return np.heaviside(x, 0.0)  # the step function; its second argument is the value at 0


def leaky_relu(x, slope=0.01):
    """Leaky ReLU, ``x`` where ``x > 0``, else ``slope * x``.

    Args:
        x: real array-like of any shape.
        slope: the gradient for negative inputs, a real number.

    Returns:
        float64 ndarray shaped like ``x``.
        Tested against ``torch.nn.functional.leaky_relu(x, negative_slope=slope)``.
    """
    x = as_float_array(x)
    slope = as_real_number(slope, "slope")
    return np.where(x > 0, x, slope * x)


def leaky_relu_grad(x, slope=0.01):
    """Derivative of ``leaky_relu``: 1 where ``x > 0``, else ``slope`` (also at 0, as torch).

    Args:
        x: real array-like of any shape.
        slope: the gradient for negative inputs, a real number.

    Returns:
        float64 ndarray shaped like ``x``.
        Tested against ``torch.nn.functional.leaky_relu(x, negative_slope=slope)``.
    """
    x = as_float_array(x)
    slope = as_real_number(slope, "slope")
    grad = np.where(x > 0, 1.0, slope)
    grad[np.isnan(x)] = np.nan  # nan in, nan out
    return grad


def sigmoid(x):
    """Logistic sigmoid, ``1 / (1 + exp(-x))``, without overflow.

    With ``e = exp(-|x|)``, which lies in (0, 1] and cannot overflow,
    ``sigmoid(x) = 1 / (1 + e)`` for ``x >= 0`` and ``e / (1 + e)`` for ``x < 0``.

    Args:
        x: real array-like of any shape.

    Returns:
        float64 ndarray in [0, 1] shaped like ``x``. Tested against ``torch.sigmoid``.
    """
    x = as_float_array(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(x):
    """Derivative of ``sigmoid``: ``sigmoid(x) * (1 - sigmoid(x))``, at most 1/4 (at 0).

    Computed as ``e / (1 + e)^2`` with ``e = exp(-|x|)``, the same quantity in a
    form that stays accurate far in the tails, where ``1 - sigmoid(x)`` rounds to 0.

    Args:
        x: real array-like of any shape.

    Returns:
        float64 ndarray in [0, 1/4] shaped like ``x``. Tested against ``torch.sigmoid``.
    """
    x = as_float_array(x)
    e = np.exp(-np.abs(x))
    return e / (1.0 + e) ** 2


def tanh(x):
    """Hyperbolic tangent, ``(exp(x) - exp(-x)) / (exp(x) + exp(-x)) = 2 sigmoid(2x) - 1``.

    Args:
        x: real array-like of any shape.

    Returns:
        float64 ndarray in [-1, 1] shaped like ``x``. Tested against ``torch.tanh``.
    """
    x = as_float_array(x)
    return np.tanh(x)


def tanh_grad(x):
    """Derivative of ``tanh``: ``1 - tanh(x)^2``, at most 1 (at 0).

    Args:
        x: real array-like of any shape.

    Returns:
        float64 ndarray in [0, 1] shaped like ``x``. Tested against ``torch.tanh``.
    """
    x = as_float_array(x)
    return 1.0 - np.tanh(x) ** 2


def gelu(x):
    """Gaussian error linear unit, exact form: ``x * Phi(x)``.

    ``Phi(x) = (1 + erf(x / sqrt(2))) / 2 = erfc(-x / sqrt(2)) / 2`` is the
    standard normal CDF; the erfc form keeps full relative precision for very
    negative ``x``, where ``1 + erf`` would cancel.

    Args:
        x: real array-like of any shape.

    Returns:
        float64 ndarray shaped like ``x``.
        Tested against ``torch.nn.functional.gelu(x)`` (``approximate="none"``).
    """
    x = as_float_array(x)
    return x * _normal_cdf(x)


def gelu_grad(x):
    """Derivative of ``gelu``: ``Phi(x) + x * phi(x)``.

    ``phi(x) = exp(-x^2 / 2) / sqrt(2 pi)`` is the standard normal density (the
    derivative of ``Phi``), so this is the product rule applied to ``x * Phi(x)``.

    Args:
        x: real array-like of any shape.

    Returns:
        float64 ndarray shaped like ``x``.
        Tested against ``torch.nn.functional.gelu(x)`` (``approximate="none"``).
    """
    x = as_float_array(x)
    pdf = np.exp(-0.5 * x * x) * _INV_SQRT_2PI
    return _normal_cdf(x) + x * pdf


def softmax(x, axis=-1):
    """Softmax along ``axis``: ``exp(x_i) / sum_j exp(x_j)``, without overflow.

    Subtracting the largest entry first leaves the result unchanged and makes
    every exponent <= 0, so nothing overflows even for ``|x|`` of 1e3 and beyond.

    Args:
        x: real array-like with at least one dimension, e.g. logits ``(B, K)``.
        axis: the axis that sums to one, an int (default: the last).

    Returns:
        float64 ndarray shaped like ``x``, non-negative, summing to 1 along ``axis``.
        Tested against ``torch.softmax(x, dim=axis)``.
    """
    x = as_float_array(x)
    axis = _check_axis(axis, x)
    # initial=-inf: an empty axis gives an empty result rather than a numpy error
    z = x - np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    """Log of the softmax along ``axis``: ``x_i - log sum_j exp(x_j)`` (log-sum-exp).

    With ``m = max_j x_j``: ``log sum_j exp(x_j) = m + log sum_j exp(x_j - m)``,
    where every exponent is <= 0 and the sum is >= 1, so neither the exp nor the
    log can overflow, underflow to log(0), or lose the large entries.

    Args:
        x: real array-like with at least one dimension, e.g. logits ``(B, K)``.
        axis: the axis to normalise over, an int (default: the last).

    Returns:
        float64 ndarray of values <= 0 shaped like ``x``.
        Tested against ``torch.log_softmax(x, dim=axis)``.
    """
    x = as_float_array(x)
    axis = _check_axis(axis, x)
    z = x - np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def softmax_backward(dout, s, axis=-1):
    """Backward pass of ``s = softmax(x, axis)``: ``dx = s * (dout - sum(dout * s))``.

    The Jacobian is ``ds_i/dx_j = s_i (delta_ij - s_j)``; multiplying it by
    ``dout`` gives the formula above, with the sum taken along ``axis``, so the
    full (K, K) Jacobian is never built.

    Args:
        dout: upstream gradient ``dL/ds``, shaped like ``s``.
        s: the softmax output of the forward pass.
        axis: the axis the forward pass normalised over.

    Returns:
        ``dx = dL/dx``, float64 ndarray shaped like ``s``.
        Tested against ``torch.softmax(x, dim=axis)`` under ``torch.autograd``.
    """
    dout = as_float_array(dout, "dout")
    s = as_float_array(s, "s")
    _check_same_shape(dout, s, "dout", "s")
    axis = _check_axis(axis, s, "s")
    return s * (dout - np.sum(dout * s, axis=axis, keepdims=True))


def log_softmax_backward(dout, log_s, axis=-1):
    """Backward pass of ``log_s = log_softmax(x, axis)``: ``dx = dout - softmax * sum(dout)``.

    The Jacobian is ``d log_s_i / dx_j = delta_ij - s_j`` with ``s = exp(log_s)``,
    so ``dx_j = dout_j - s_j * sum_i dout_i``, the sum taken along ``axis``.

    Args:
        dout: upstream gradient ``dL/d(log_s)``, shaped like ``log_s``.
        log_s: the log-softmax output of the forward pass.
        axis: the axis the forward pass normalised over.

    Returns:
        ``dx = dL/dx``, float64 ndarray shaped like ``log_s``.
        Tested against ``torch.log_softmax(x, dim=axis)`` under ``torch.autograd``.
    """
    dout = as_float_array(dout, "dout")
    log_s = as_float_array(log_s, "log_s")
    _check_same_shape(dout, log_s, "dout", "log_s")
    axis = _check_axis(axis, log_s, "log_s")
    return dout - np.exp(log_s) * np.sum(dout, axis=axis, keepdims=True)


# Name -> (function, derivative), for the notebooks' activation pickers.
ACTIVATIONS = {
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "gelu": (gelu, gelu_grad),
}


def _normal_cdf(x):
    """Standard normal CDF ``Phi(x) = erfc(-x / sqrt(2)) / 2``, elementwise."""
    z = (-_SQRT_HALF * x).ravel().tolist()
    # numpy has no erf; mapping math.erfc is exact (the C library's) and fast
    # enough for the course (about 8 ms per 1e5 elements)
    erfc = np.fromiter(map(math.erfc, z), dtype=np.float64, count=len(z))
    return 0.5 * erfc.reshape(x.shape)


def _check_axis(axis, x, name="x"):
    """``axis`` as an int that indexes ``x``, else a clear error."""
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis must be an int, got {axis!r}")
    if x.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension, got a scalar (shape ())")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(
            f"axis must be in [-{x.ndim}, {x.ndim}) for {name} of shape {x.shape}, got {axis}"
        )
    return int(axis)


def _check_same_shape(a, b, name_a, name_b):
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, got {a.shape} and {b.shape}"
        )
