"""Explicit weight penalties and early stopping.

A penalty is added to the data loss; its gradient is added to the data
gradient before the optimizer steps. By convention only weight matrices are
penalised (parameter names starting with ``"w"``), not biases: a bias shifts a
unit without making the function wigglier.

* L2: ``strength/2 * sum w^2``, gradient ``strength * w``: pulls every weight
  towards zero in proportion to its size (the same as ``weight_decay`` in
  ``nnlib.optim``), so weights shrink but rarely reach zero.
* L1: ``strength * sum |w|``, subgradient ``strength * sign(w)`` (0 at 0, as
  torch's ``abs`` backward): the same pull on every weight whatever its size,
  so small weights are driven to (near) zero, a sparse network.
"""

import numbers

import numpy as np

__all__ = ["l1_penalty", "l2_penalty", "is_weight", "EarlyStopping"]


def is_weight(name):
    """The default choice of what to penalise: weight matrices, named ``w...``."""
    return name.startswith("w")


def _penalty(params, strength, which, value_fn, grad_fn):
    if isinstance(strength, bool) or not isinstance(strength, numbers.Real) or not (
            np.isfinite(strength) and strength >= 0):
        raise ValueError(f"strength must be a finite number >= 0, got {strength!r}")
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict name -> array, got {type(params).__name__}")
    value = 0.0
    grads = {}
    for name, p in params.items():
        if which(name):
            value += strength * float(value_fn(p))
            grads[name] = strength * grad_fn(p)
        else:
            grads[name] = np.zeros_like(p)
    return value, grads


def l1_penalty(params, strength, which=is_weight):
    """``strength * sum |w|`` over the chosen parameters, and its subgradient.

    Args:
        params: dict name -> array.
        strength: the penalty's weight, ``>= 0``.
        which: ``which(name) -> bool`` chooses the penalised parameters.

    Returns:
        ``(value, grads)``: a float and a dict with every key of ``params``
        (zeros for the parameters not penalised). Tested against torch autograd
        of ``strength * w.abs().sum()``.
    """
    return _penalty(params, strength, which, lambda p: np.abs(p).sum(), np.sign)


def l2_penalty(params, strength, which=is_weight):
    """``strength / 2 * sum w^2`` over the chosen parameters, and its gradient ``strength * w``."""
    return _penalty(params, strength, which, lambda p: 0.5 * (p * p).sum(), lambda p: p.copy())


class EarlyStopping:
    """Stop when the validation loss has not improved for ``patience`` checks; keep the best.

    Call ``should_stop(val_loss, params)`` after each epoch: it remembers a copy
    of the parameters at the best validation loss (``best_params``,
    ``best_epoch``) and returns True once ``patience`` epochs passed without an
    improvement of more than ``min_delta``.
    """

    def __init__(self, patience=10, min_delta=0.0):
        if isinstance(patience, bool) or not isinstance(patience, numbers.Integral) or patience < 1:
            raise ValueError(f"patience must be an integer >= 1, got {patience!r}")
        if isinstance(min_delta, bool) or not isinstance(min_delta, numbers.Real) or not (
                np.isfinite(min_delta) and min_delta >= 0):
            raise ValueError(f"min_delta must be a finite number >= 0, got {min_delta!r}")
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.best_loss = np.inf
        self.best_epoch = -1
        self.best_params = None
        self.epoch = -1

    def should_stop(self, val_loss, params):
        self.epoch += 1
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss = float(val_loss)
            self.best_epoch = self.epoch
            self.best_params = {k: v.copy() for k, v in params.items()}
        return self.epoch - self.best_epoch >= self.patience
