"""Finite-difference gradients: the oracle every backward pass is checked against.

A centred difference approximates each partial derivative,

    df/dx_i  ~=  (f(x + h e_i) - f(x - h e_i)) / (2 h),

with an error of order h^2 from truncation plus order eps/h from rounding
(eps ~ 1e-16 in float64). That trade-off is why h = 1e-6 is a good default in
float64 and why float32 (eps ~ 1e-7) is not precise enough for gradient checks.

``difference_error`` measures that trade-off for one-variable functions with known
derivatives (``FUNCTIONS``), over a grid of step sizes, in float64 or float32, and
``error_model`` gives the textbook terms (truncation and round-off) beside it: the
numbers behind notebook 04's epsilon explorer.
"""

import numpy as np

__all__ = ["numerical_gradient", "relative_error", "FUNCTIONS", "FORMULAS", "EPS_RANGE",
           "EPS_GRID", "difference_quotient", "difference_error", "error_model"]


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


# --------------------------------------------------------------------------- the step size
# How the error of a one-variable difference quotient depends on the step: the experiment
# behind notebook 04's epsilon explorer (nnlib.views.backprop.epsilon_explorer).


def _tanh_derivatives(x):
    t = np.tanh(x)
    return 1 - t**2, -2 * t * (1 - t**2), (6 * t**2 - 2) * (1 - t**2)


# name -> (f, x0, (f', f'', f''') at x0 in float64). f must keep its input's dtype.
FUNCTIONS = {
    "tanh(x) at x = 0.5": (np.tanh, 0.5, _tanh_derivatives(0.5)),
    "exp(x) at x = 1": (np.exp, 1.0, (np.e, np.e, np.e)),
    "log(x) at x = 3": (np.log, 3.0, (1 / 3, -1 / 9, 2 / 27)),
}
FORMULAS = {"centred": "(f(x+ε) − f(x−ε)) / 2ε", "forward": "(f(x+ε) − f(x)) / ε"}
EPS_RANGE = (-12.0, -1.0)  # log10 of the step sizes shown
EPS_GRID = np.logspace(*EPS_RANGE, 221)


def difference_quotient(f, x, eps, dtype="float64", formula="centred"):
    """The finite-difference estimate of f'(x), computed entirely in ``dtype``.

    ``eps`` may be an array of step sizes; ``formula`` is ``"centred"``
    ``(f(x+eps) - f(x-eps)) / (2 eps)`` or ``"forward"`` ``(f(x+eps) - f(x)) / eps``.
    In float32, ``x + eps`` is rounded to float32 first, as a float32 program would.
    """
    dt = np.dtype(dtype)
    x = dt.type(x)
    eps = np.asarray(eps, dtype=dt)
    with np.errstate(all="ignore"):
        if formula == "centred":
            return (f(x + eps) - f(x - eps)) / (dt.type(2) * eps)
        return (f(x + eps) - f(x)) / eps


def difference_error(name, dtype="float64", formula="centred", eps=None):
    """Relative error |estimate - f'(x)| / |f'(x)| of ``FUNCTIONS[name]`` at each ``eps``.

    The analytic derivative is exact (float64); the estimate is computed in
    ``dtype``. ``eps`` defaults to the explorer's grid, 1e-12 to 1e-1.
    """
    f, x0, (d1, _, _) = FUNCTIONS[name]
    eps = EPS_GRID if eps is None else np.asarray(eps, dtype=np.float64)
    estimate = difference_quotient(f, x0, eps, dtype, formula).astype(np.float64)
    return np.abs(estimate - d1) / abs(d1)


def error_model(name, dtype, formula, eps):
    """Textbook error terms: truncation (Taylor) and round-off, relative to |f'(x)|."""
    f, x0, (d1, d2, d3) = FUNCTIONS[name]
    u = np.finfo(dtype).eps / 2  # unit round-off
    truncation = (eps**2 * abs(d3) / 6 if formula == "centred" else eps * abs(d2) / 2) / abs(d1)
    # f(x ± eps) and x ± eps are each rounded (relative error u); the difference
    # divides those errors by the denominator, 2 eps or eps.
    denominator = 2 * eps if formula == "centred" else eps
    roundoff = u * (abs(float(f(x0))) / abs(d1) + abs(x0)) / denominator
    return truncation, roundoff
