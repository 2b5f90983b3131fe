"""Finite-difference gradients: the oracle every backward pass is checked against.

A centred difference approximates each partial derivative,

    df/dx_i  ~=  (f(x + h e_i) - f(x - h e_i)) / (2 h),

with an error of order h^2 from truncation plus order eps/h from rounding
(eps ~ 1e-16 in float64). That trade-off is why h = 1e-6 is a good default in
float64 and why float32 (eps ~ 1e-7) is not precise enough for gradient checks.
"""

import numpy as np

__all__ = ["numerical_gradient", "relative_error"]


def numerical_gradient(f, x, h=1e-6):
    """Centred-difference gradient of a scalar function ``f`` at array ``x``.

    Args:
        f: callable ``f(x) -> scalar``. ``x`` is perturbed in place, so a
            closure that reads ``x`` directly works too.
        x: float64 ndarray of any shape, perturbed in place one entry at a time
            and restored afterwards (also if ``f`` raises).
        h: step size, a positive float.

    Returns:
        ndarray shaped like ``x``: the estimate of ``df/dx``.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be a numpy array, got {type(x).__name__}")
    if x.dtype != np.float64:
        raise TypeError(
            f"x must be float64 for finite differences, got {x.dtype}: "
            "float32 rounding (about 1e-7) swamps a centred difference"
        )
    if not np.isscalar(h) or not h > 0:
        raise ValueError(f"h must be a positive number, got {h!r}")

    def value():
        out = np.asarray(f(x))
        if out.size != 1:
            raise ValueError(f"f must return a scalar, got an array of shape {out.shape}")
        return float(out.reshape(()))

    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        try:
            x[i] = old + h
            f_plus = value()
            x[i] = old - h
            f_minus = value()
        finally:
            x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def relative_error(a, b, floor=1e-12):
    """Largest elementwise ``|a - b| / max(|a|, |b|, floor)``: 0 means identical."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)
    return float(np.max(np.abs(a - b) / scale)) if a.size else 0.0

