"""Layers as forward/backward function pairs, in numpy.

``*_forward(...)`` returns ``(out, cache)``; ``*_backward(dout, cache)`` returns
the gradient of the loss with respect to each input, in argument order, given
``dout = dL/dout``. Pairs hold no state: parameters come in, gradients go out,
and a model (``nnlib.mlp.MLP``) or a training loop keeps them.

Each pair is tested against torch in float64 with a random upstream gradient
and against finite differences (tests/test_layers.py).
"""

from typing import NamedTuple

import numpy as np

from nnlib.activations import _as_float_array

__all__ = ["linear_forward", "linear_backward", "dropout_forward", "dropout_backward"]


class LinearCache(NamedTuple):
    x: np.ndarray  # (B, D), the input
    w: np.ndarray  # (D, M)


def linear_forward(x, w, b):
    """A dense layer, ``out = x @ w + b``.

    Args:
        x: inputs ``(B, D)``.
        w: weights ``(D, M)``.
        b: biases ``(M,)``.

    Returns:
        ``out (B, M)`` and a cache for ``linear_backward``.
        Tested against ``torch.nn.functional.linear(x, w.T, b)``.
    """
    x, w, b = (_as_float_array(a, name) for a, name in ((x, "x"), (w, "w"), (b, "b")))
    if w.ndim != 2:
        raise ValueError(f"w must be a (D, M) matrix, got shape {w.shape}")
    D, M = w.shape
    if x.ndim != 2 or x.shape[1] != D:
        raise ValueError(f"x must have shape (B, {D}) to match w of shape {w.shape}, "
                         f"got {x.shape}")
    if b.shape != (M,):
        raise ValueError(f"b must have shape ({M},) to match w of shape {w.shape}, got {b.shape}")
    return x @ w + b, LinearCache(x, w)


def linear_backward(dout, cache):
    """Gradients of a dense layer: ``dx = dout @ w.T``, ``dw = x.T @ dout``, ``db = sum_B dout``.

    Args:
        dout: ``dL/dout``, ``(B, M)``.
        cache: from ``linear_forward``.

    Returns:
        ``dx (B, D), dw (D, M), db (M,)``.
    """
    dout = _as_float_array(dout, "dout")
    expected = (cache.x.shape[0], cache.w.shape[1])
    if dout.shape != expected:
        raise ValueError(f"dout must have the forward output's shape {expected}, got {dout.shape}")
    dx = dout @ cache.w.T  # each input feeds every output through its weight
    dw = cache.x.T @ dout  # summed over the batch: every example uses the same w
    db = dout.sum(axis=0)
    return dx, dw, db


class DropoutCache(NamedTuple):
    mask: np.ndarray | None  # kept units scaled by 1/(1-p), zeros elsewhere; None = identity
    shape: tuple  # the input's shape


def dropout_forward(x, p, rng, train=True):
    """Inverted dropout: zero each unit with probability ``p``, scale the rest by ``1/(1-p)``.

    The scaling keeps every unit's expected value unchanged, so at test time
    (``train=False``) the layer is the identity and nothing needs rescaling.

    Args:
        x: activations, any shape.
        p: drop probability in ``[0, 1)``.
        rng: a ``numpy.random.Generator`` (the source of the mask; seed it).
        train: ``False`` turns the layer into the identity.

    Returns:
        ``out`` shaped like ``x`` and a cache. Tested against
        ``torch.nn.functional.dropout`` given the same mask.
    """
    x = _as_float_array(x, "x")
    if isinstance(p, bool) or not isinstance(p, int | float | np.floating) or not 0 <= p < 1:
        raise ValueError(f"p must be a drop probability in [0, 1), got {p!r}")
    if not train or p == 0:
        return x.copy(), DropoutCache(None, x.shape)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                        f"got {type(rng).__name__}")
    mask = (rng.random(x.shape) >= p) / (1.0 - p)
    return x * mask, DropoutCache(mask, x.shape)


def dropout_backward(dout, cache):
    """``dx = dout * mask``: a dropped unit passes no gradient, a kept one is scaled alike."""
    dout = _as_float_array(dout, "dout")
    if dout.shape != cache.shape:
        raise ValueError(f"dout must have the forward output's shape {cache.shape}, "
                         f"got {dout.shape}")
    return dout.copy() if cache.mask is None else dout * cache.mask
