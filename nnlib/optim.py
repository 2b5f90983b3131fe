"""Optimizers that update a dict of numpy parameters in place, as torch.optim does.

Every optimizer takes ``params``, a dict name -> float64 array, and updates
those arrays in place on ``step(grads)``, where ``grads`` has the same keys and
shapes. With ``g`` the gradient (plus ``weight_decay * p``, the gradient of the
L2 penalty ``weight_decay/2 * |p|^2``), one step is:

* SGD:       ``v = momentum v + g``;  ``p -= lr v``  (Nesterov: ``p -= lr (g + momentum v)``)
* RMSprop:   ``s = alpha s + (1-alpha) g^2``;  ``p -= lr g / (sqrt(s) + eps)``
* Adam:      ``m = b1 m + (1-b1) g``,  ``s = b2 s + (1-b2) g^2``, bias-corrected by
  ``1 - b^t``;  ``p -= lr m_hat / (sqrt(s_hat) + eps)``

The operations follow torch.optim's order, so trajectories agree with torch's
to float64 rounding (tests/test_optim.py runs both for 25 steps).
"""

import numbers

import numpy as np

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "OPTIMIZERS", "make_optimizer"]


def _check_hyper(name, value, lo=0.0, hi=None, lo_open=False, hi_open=True):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)
    ok = ok and (value > lo if lo_open else value >= lo)
    ok = ok and (hi is None or (value < hi if hi_open else value <= hi))
    if not ok:
        interval = f"{'(' if lo_open else '['}{lo}, {hi if hi is not None else 'inf'})"
        if hi is not None and not hi_open:
            interval = interval[:-1] + "]"
        raise ValueError(f"{name} must be a number in {interval}, got {value!r}")
    return float(value)


class Optimizer:
    """The shared part: checked parameters, per-parameter state, and ``step(grads)``."""

    def __init__(self, params, lr, weight_decay):
        if not isinstance(params, dict):
            raise TypeError(f"params must be a dict name -> numpy array, got "
                            f"{type(params).__name__}")
        if not params:
            raise ValueError("params must not be empty: pass the model's parameter dict")
        for name, p in params.items():
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                raise TypeError(f"params[{name!r}] must be a float numpy array (updated in "
                                f"place), got {type(p).__name__}")
        self.params = params
        self.lr = _check_hyper("lr", lr, lo_open=True)
        self.weight_decay = _check_hyper("weight_decay", weight_decay)
        self.state = {name: {} for name in params}
        self.steps = 0

    def step(self, grads):
        """Update every parameter in place from ``grads`` (a dict with the same keys)."""
        if not isinstance(grads, dict) or grads.keys() != self.params.keys():
            got = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
            raise ValueError(f"grads must be a dict with the keys {sorted(self.params)}, "
                             f"got {got}")
        checked = {}
        for name, p in self.params.items():  # check every gradient before changing anything
            checked[name] = g = np.asarray(grads[name], dtype=p.dtype)
            if g.shape != p.shape:
                raise ValueError(f"grads[{name!r}] must have shape {p.shape} like the "
                                 f"parameter, got {g.shape}")
        for name, p in self.params.items():
            g = checked[name]
            if self.weight_decay:
                g = g + self.weight_decay * p  # the gradient of weight_decay/2 * |p|^2
            self._update(p, g, self.state[name])
        self.steps += 1

    def _update(self, p, g, state):
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, as ``torch.optim.SGD``.

    The velocity starts as the first gradient (torch's convention), then
    ``v = momentum * v + g``. Plain SGD steps along ``v``; Nesterov steps along
    ``g + momentum * v``, a look at where the velocity is taking the parameters.
    """

    def __init__(self, params, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        self.momentum = _check_hyper("momentum", momentum, hi=1.0)
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")
        self.nesterov = bool(nesterov)

    def _update(self, p, g, state):
        if self.momentum:
            if "velocity" not in state:
                state["velocity"] = g.copy()
            else:
                state["velocity"] *= self.momentum
                state["velocity"] += g
            v = state["velocity"]
            g = g + self.momentum * v if self.nesterov else v
        p -= self.lr * g


class RMSprop(Optimizer):
    """RMSprop: divide each step by a running root-mean-square of the gradient, as torch's.

    Directions with consistently large gradients get smaller steps and flat
    directions larger ones: a per-parameter learning rate.
    """

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        self.alpha = _check_hyper("alpha", alpha, hi=1.0)
        self.eps = _check_hyper("eps", eps)

    def _update(self, p, g, state):
        s = state.setdefault("square_avg", np.zeros_like(p))
        s *= self.alpha
        s += (1 - self.alpha) * g * g
        p -= self.lr * g / (np.sqrt(s) + self.eps)


class Adam(Optimizer):
    """Adam: momentum on the gradient plus RMSprop's scaling, both bias-corrected, as torch's.

    ``m`` and ``s`` start at zero, so early averages are too small; dividing by
    ``1 - beta^t`` (``t`` = step count) removes that bias.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (_check_hyper("betas[0]", betas[0], hi=1.0),
                      _check_hyper("betas[1]", betas[1], hi=1.0))
        self.eps = _check_hyper("eps", eps)

    def _update(self, p, g, state):
        beta1, beta2 = self.betas
        if not state:
            state.update(t=0, m=np.zeros_like(p), s=np.zeros_like(p))
        state["t"] += 1
        t, m, s = state["t"], state["m"], state["s"]
        m += (1 - beta1) * (g - m)  # = beta1 m + (1 - beta1) g, as torch's lerp
        s *= beta2
        s += (1 - beta2) * g * g
        step_size = self.lr / (1 - beta1**t)
        denom = np.sqrt(s) / np.sqrt(1 - beta2**t) + self.eps
        p -= step_size * m / denom


# The optimizers the notebooks compare, by name.
OPTIMIZERS = ("SGD", "momentum", "Nesterov", "RMSprop", "Adam")


def make_optimizer(name, params, lr, beta=0.9, weight_decay=0.0):
    """One of ``OPTIMIZERS`` by name; ``beta`` is the momentum (Adam: beta1).

    Nesterov with ``beta = 0`` is plain SGD (its look-ahead vanishes with the
    momentum; torch refuses ``nesterov=True`` without momentum).
    """
    if name == "SGD" or (name == "Nesterov" and beta == 0):
        return SGD(params, lr, weight_decay=weight_decay)
    if name in ("momentum", "Nesterov"):
        return SGD(params, lr, momentum=beta, nesterov=name == "Nesterov",
                   weight_decay=weight_decay)
    if name == "RMSprop":
        return RMSprop(params, lr, weight_decay=weight_decay)
    if name == "Adam":
        return Adam(params, lr, betas=(beta, 0.999), weight_decay=weight_decay)
    raise ValueError(f"name must be one of {OPTIMIZERS}, got {name!r}")
