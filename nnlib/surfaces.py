"""Two-dimensional loss surfaces with analytic gradients, for watching optimizers move.

A real network's loss lives in thousands of dimensions; these live in two, so
that a contour plot shows the whole landscape and an optimizer's path on it.
Each surface is a small object with

* ``value(xy)`` and ``grad(xy)``: the loss and its gradient at ``xy``, an array
  whose last axis holds ``(x, y)`` (one point ``(2,)`` or a grid ``(..., 2)``);
* ``formula(x, y)``: the same loss written with arithmetic only, so it also
  takes torch tensors (the tests differentiate it with autograd);
* ``xlim``, ``ylim``: a plot range that shows the interesting part;
* ``starts``: a few named start points, and ``minimum``: where the loss is 0
  (``minima`` lists all such points);
* ``lr`` and ``adaptive_lr``: learning rates that show the surface well for
  the SGD family and for RMSprop / Adam.

``run_path`` runs one of ``nnlib.optim.OPTIMIZERS`` on a surface, exactly as a
training loop would: the point is a parameter dict ``{"xy": array}``, the
optimizer steps it with the analytic gradient.

The quadratic valley is the model of every smooth minimum: near a minimum any
loss looks like ``f(p) = 1/2 (p - p*)^T A (p - p*)``, and the eigenvalues of the
Hessian ``A`` (the curvatures, largest ``L``, smallest ``mu``) decide which
learning rates converge (``lr < 2/L`` for gradient descent) and how fast
(the condition number ``L / mu``).
"""

import math
import numbers
from typing import NamedTuple

import numpy as np

__all__ = ["Surface", "Quadratic", "Rosenbrock", "TwoValleys", "SURFACES", "Trajectory",
           "run_path", "steps_to_reach"]


def _points(xy):
    """``xy`` as a float64 array whose last axis is (x, y); a clear error otherwise."""
    if isinstance(xy, np.ndarray | list | tuple | numbers.Real) and not isinstance(xy, bool):
        try:
            arr = np.asarray(xy, dtype=np.float64)
        except (TypeError, ValueError):
            arr = None
    else:
        arr = None
    if arr is None:
        raise TypeError(f"xy must be an array of numbers whose last axis is (x, y), "
                        f"got {type(xy).__name__}")
    if arr.ndim == 0 or arr.shape[-1] != 2:
        raise ValueError(f"xy must have shape (2,) or (..., 2) (the last axis holds x and y), "
                         f"got shape {arr.shape}")
    return arr


class Surface:
    """A loss f(x, y) >= 0 with minimum 0, its gradient, a plot range and start points.

    Subclasses define ``formula(x, y)`` (arithmetic only, so that numpy arrays,
    floats and torch tensors all work) and ``gradient(x, y)`` (the analytic
    partial derivatives ``(df/dx, df/dy)``).
    """

    name = "surface"
    title = "a loss surface"

    def __init__(self, xlim, ylim, starts, minimum, lr, adaptive_lr):
        self.xlim = tuple(float(v) for v in xlim)
        self.ylim = tuple(float(v) for v in ylim)
        self.starts = {k: tuple(float(v) for v in p) for k, p in starts.items()}
        self.minimum = tuple(float(v) for v in minimum)
        self.minima = (self.minimum,)  # every global minimum, for plots
        self.lr = float(lr)
        self.adaptive_lr = float(adaptive_lr)

    def formula(self, x, y):
        raise NotImplementedError

    def gradient(self, x, y):
        raise NotImplementedError

    def value(self, xy):
        """The loss at ``xy (..., 2)``: an array ``(...)`` (a float for one point)."""
        p = _points(xy)
        out = self.formula(p[..., 0], p[..., 1])
        return float(out) if p.ndim == 1 else out

    def grad(self, xy):
        """The gradient ``(df/dx, df/dy)`` at ``xy (..., 2)``, shaped like ``xy``."""
        p = _points(xy)
        gx, gy = self.gradient(p[..., 0], p[..., 1])
        return np.stack(np.broadcast_arrays(gx, gy), axis=-1)

    def grid(self, n=120):
        """``(X, Y, F)``: an ``n x n`` grid over the plot range and the loss on it."""
        X, Y = np.meshgrid(np.linspace(*self.xlim, n), np.linspace(*self.ylim, n))
        return X, Y, self.formula(X, Y)

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r}>"


class Quadratic(Surface):
    """A quadratic valley ``f = 1/2 (L u^2 + mu w^2)`` in coordinates turned by ``angle``.

    ``u`` and ``w`` are the coordinates along the valley's steep and shallow
    axes, ``(u, w) = R(angle)^T (p - center)``: the Hessian is
    ``A = R diag(L, mu) R^T``, its largest eigenvalue is ``L`` and its condition
    number ``L / mu``. Gradient descent converges exactly when ``lr < 2 / L``.

    Args:
        L, mu: the curvatures along the steep and the shallow axis, ``L >= mu > 0``.
        angle: the steep axis's angle to the x-axis, in degrees.
        center: the minimum.
    """

    def __init__(self, L=1.0, mu=0.05, angle=0.0, center=(0.0, 0.0), name="valley", xlim=None,
                 ylim=None, starts=None, lr=None, adaptive_lr=0.1):
        for label, v in (("L", L), ("mu", mu), ("angle", angle)):
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                raise ValueError(f"{label} must be a finite number, got {v!r}")
        if not 0 < mu <= L:
            raise ValueError(f"the curvatures must satisfy 0 < mu <= L, got L={L!r}, mu={mu!r}")
        self.L, self.mu, self.angle = float(L), float(mu), float(angle)
        rad = math.radians(self.angle)
        self._c, self._s = math.cos(rad), math.sin(rad)
        self.name = name
        self.title = (f"quadratic valley: L = {self.L:g}, condition number "
                      f"{self.condition_number:g}")
        cx, cy = center
        starts = starts or {"far end": (cx - 3.2, cy + 1.6), "side": (cx + 1.0, cy - 2.0),
                            "near": (cx + 0.8, cy + 0.9)}
        super().__init__(xlim or (cx - 4.0, cx + 4.0), ylim or (cy - 2.5, cy + 2.5), starts,
                         center, lr or 1.5 / self.L, adaptive_lr)

    @property
    def condition_number(self):
        return self.L / self.mu

    @property
    def hessian(self):
        """``A = R diag(L, mu) R^T``, shape ``(2, 2)``."""
        R = np.array([[self._c, -self._s], [self._s, self._c]])
        return R @ np.diag([self.L, self.mu]) @ R.T

    def point(self, u, w):
        """The point ``(x, y)`` at ``u`` along the steep axis and ``w`` along the valley.

        Both are measured from the minimum: ``point(0, 3)`` lies on the valley floor,
        three units from the minimum. Two valleys that differ only by ``angle`` have
        the same loss at ``point(u, w)``.
        """
        return (self.minimum[0] + self._c * u - self._s * w,
                self.minimum[1] + self._s * u + self._c * w)

    def _uw(self, x, y):
        dx, dy = x - self.minimum[0], y - self.minimum[1]
        return self._c * dx + self._s * dy, -self._s * dx + self._c * dy

    def formula(self, x, y):
        u, w = self._uw(x, y)
        return 0.5 * (self.L * u * u + self.mu * w * w)

    def gradient(self, x, y):
        u, w = self._uw(x, y)
        gu, gw = self.L * u, self.mu * w  # the gradient in the valley's own axes ...
        return self._c * gu - self._s * gw, self._s * gu + self._c * gw  # ... turned back


class Rosenbrock(Surface):
    """Rosenbrock's banana ``f = (1 - x)^2 + b (y - x^2)^2``, minimum 0 at ``(1, 1)``.

    A curved valley along ``y = x^2``: steep across it (curvature about
    ``8b`` near the minimum), nearly flat along it. ``b = 100`` is the classic
    benchmark; the default ``b = 10`` keeps the same shape with gradients an
    order of magnitude smaller.
    """

    name = "banana"

    def __init__(self, b=10.0):
        if isinstance(b, bool) or not isinstance(b, numbers.Real) or not b > 0:
            raise ValueError(f"b must be a positive number, got {b!r}")
        self.b = float(b)
        self.title = f"Rosenbrock banana (b = {self.b:g})"
        starts = {"left arm": (-1.4, 1.8), "below": (0.0, -0.6), "right arm": (1.9, 1.6)}
        super().__init__((-2.4, 2.4), (-1.0, 2.0), starts, (1.0, 1.0), lr=2e-3 * 10 / self.b,
                         adaptive_lr=0.05)

    def formula(self, x, y):
        return (1 - x) ** 2 + self.b * (y - x * x) ** 2

    def gradient(self, x, y):
        r = y - x * x
        return -2 * (1 - x) - 4 * self.b * x * r, 2 * self.b * r


class TwoValleys(Surface):
    """Two minima and a saddle between them: ``f = x^2 / 2 + (y^2 - 1)^2 / 4``.

    Minima at ``(0, -1)`` and ``(0, 1)``, a saddle point at the origin (a
    minimum along x, a maximum along y). Started on the line ``y = 0`` the
    gradient has no y-component, and a start just off it shows how long each
    optimizer lingers near the saddle.
    """

    name = "saddle"
    title = "two valleys and a saddle"

    def __init__(self):
        starts = {"near the saddle": (2.0, 0.01), "off-centre": (-2.0, 0.4),
                  "below": (1.0, -1.4)}
        super().__init__((-2.4, 2.4), (-1.5, 1.5), starts, (0.0, 1.0), lr=0.1, adaptive_lr=0.05)
        self.minima = ((0.0, 1.0), (0.0, -1.0))

    def formula(self, x, y):
        return 0.5 * x * x + 0.25 * (y * y - 1) ** 2

    def gradient(self, x, y):
        return x, y * (y * y - 1)


# The surfaces of the landscape explorer, by name.
SURFACES = {
    "valley": Quadratic(L=1.25, mu=0.0125, angle=90.0, name="valley", lr=1.0),
    "tilted valley": Quadratic(L=1.25, mu=0.0125, angle=120.0, name="tilted valley", lr=1.0),
    "banana": Rosenbrock(b=10.0),
    "saddle": TwoValleys(),
}


class Trajectory(NamedTuple):
    xy: np.ndarray  # (n + 1, 2): the start, then the point after each step
    loss: np.ndarray  # (n + 1,): the loss at each of those points
    diverged: bool  # True if the run stopped early: non-finite, or beyond `limit`


def run_path(surface, name, lr, beta=0.9, start=None, steps=100, limit=1e6):
    """Run the optimizer ``name`` on ``surface`` for ``steps`` steps from ``start``.

    The point is the parameter dict ``{"xy": p}`` of ``nnlib.optim.make_optimizer``;
    each step evaluates ``surface.grad`` at the current point and calls
    ``optimizer.step``. ``beta`` is the momentum (Adam: beta1); Nesterov with
    ``beta = 0`` is plain SGD. The run stops early, with ``diverged=True``, as
    soon as a coordinate's size exceeds ``limit`` or becomes NaN.

    Args:
        surface: a ``Surface``.
        name: one of ``nnlib.optim.OPTIMIZERS``.
        start: ``(x, y)`` or the name of one of ``surface.starts``; ``None`` is
            the first of them.

    Returns:
        a ``Trajectory``.
    """
    from nnlib.optim import make_optimizer

    if not isinstance(surface, Surface):
        raise TypeError(f"surface must be a nnlib.surfaces.Surface, got {type(surface).__name__}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    if start is None:
        start = next(iter(surface.starts.values()))
    elif isinstance(start, str):
        if start not in surface.starts:
            raise ValueError(f"start must be one of {sorted(surface.starts)} or a point (x, y), "
                             f"got {start!r}")
        start = surface.starts[start]
    p = _points(start).copy()
    if p.shape != (2,):
        raise ValueError(f"start must be one point (x, y), got shape {p.shape}")
    params = {"xy": p}
    optimizer = make_optimizer(name, params, lr, beta)
    points, diverged = [p.copy()], False
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            gx, gy = surface.gradient(p[0], p[1])
            optimizer.step({"xy": np.array([gx, gy])})
            if not np.all(np.abs(p) <= limit):  # also catches NaN
                diverged = True
                break
            points.append(p.copy())
        xy = np.array(points)
        loss = surface.formula(xy[:, 0], xy[:, 1])
    return Trajectory(xy, loss, diverged)


def steps_to_reach(losses, tol):
    """The first step after which every loss stays ``<= tol``; ``None`` if the run never settles.

    Momentum's loss goes up and down on the way, so "first below" would
    flatter it: this counts from the last time the loss was above ``tol``.
    """
    losses = np.asarray(losses, dtype=np.float64)
    if losses.ndim != 1 or not len(losses):
        raise ValueError(f"losses must be a non-empty 1-D array, got shape {losses.shape}")
    above = np.flatnonzero(~(losses <= tol))  # NaN counts as above
    if not len(above):
        return 0
    last = int(above[-1])
    return None if last == len(losses) - 1 else last + 1
