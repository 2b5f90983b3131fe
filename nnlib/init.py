"""Weight initialization, and how a signal fares through a deep stack of layers.

A layer ``z = h @ W`` with ``W`` drawn i.i.d. with standard deviation ``s`` and
inputs of variance ``v`` gives pre-activations of variance ``D_in * s**2 * v``.
To keep that variance steady from layer to layer:

* Xavier / Glorot (2010), for tanh and sigmoid: ``s = sqrt(2 / (D_in + D_out))``;
* He / Kaiming (2015), for ReLU, which zeroes half of its inputs: ``s = sqrt(2 / D_in)``.

``signal_propagation`` runs a batch forward through ``depth`` such layers and a
random upstream gradient backward, and returns every layer's activations and
weight gradients: the data behind the histograms of the activations notebook.
"""

from typing import NamedTuple

import numpy as np

from nnlib.activations import ACTIVATIONS
from nnlib.checks import check_positive_int

__all__ = ["INIT_SCHEMES", "init_std", "init_weights", "signal_propagation", "SignalStats"]

INIT_SCHEMES = ("standard normal", "small", "xavier", "he")


def init_std(fan_in, fan_out, scheme):
    """The standard deviation a scheme gives a ``(fan_in, fan_out)`` weight matrix."""
    if scheme == "standard normal":
        return 1.0
    if scheme == "small":
        return 0.01
    if scheme == "xavier":
        return float(np.sqrt(2.0 / (fan_in + fan_out)))
    if scheme == "he":
        return float(np.sqrt(2.0 / fan_in))
    raise ValueError(f"scheme must be one of {INIT_SCHEMES}, got {scheme!r}")


def init_weights(fan_in, fan_out, scheme, rng):
    """A ``(fan_in, fan_out)`` matrix of zero-mean Gaussian weights with the scheme's std."""
    for name, value in (("fan_in", fan_in), ("fan_out", fan_out)):
        check_positive_int(name, value)
    return rng.normal(0.0, init_std(fan_in, fan_out, scheme), size=(fan_in, fan_out))


class SignalStats(NamedTuple):
    activations: list  # depth arrays (B, H): h_l = phi(z_l)
    preactivations: list  # depth arrays (B, H): z_l = h_{l-1} @ W_l
    weight_grads: list  # depth arrays (H_in, H): dL/dW_l for a random upstream gradient
    weights: list  # depth arrays: the W_l used


def signal_propagation(depth, width, activation, scheme, batch=256, seed=0):
    """Forward a Gaussian batch through ``depth`` dense layers, then backward.

    Layer l computes ``z_l = h_{l-1} @ W_l`` and ``h_l = phi(z_l)`` (no biases, to
    isolate the effect of the weights), with ``h_0 ~ N(0, 1)`` of shape (B, H).
    The backward pass starts from a random ``dL/dh_depth ~ N(0, 1)`` and applies
    the chain rule:

        dz_l = dh_l * phi'(z_l),   dW_l = h_{l-1}^T dz_l,   dh_{l-1} = dz_l W_l^T.

    Args:
        depth: number of layers (>= 1); width: units per layer H (>= 1);
        activation: a name in ``nnlib.activations.ACTIVATIONS``;
        scheme: one of ``INIT_SCHEMES``; batch: B; seed: for inputs and weights.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {tuple(ACTIVATIONS)}, got {activation!r}")
    check_positive_int("depth", depth)
    phi, phi_grad = ACTIVATIONS[activation]
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((batch, width))
    weights = [init_weights(width, width, scheme, rng) for _ in range(depth)]
    inputs, pre, post = [], [], []
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        for w in weights:
            inputs.append(h)
            z = h @ w  # (B, H)
            h = phi(z)
            pre.append(z)
            post.append(h)
        dh = rng.standard_normal((batch, width))
        grads = [None] * depth
        for layer in reversed(range(depth)):
            dz = dh * phi_grad(pre[layer])  # through the activation
            grads[layer] = inputs[layer].T @ dz  # (H, H)
            dh = dz @ weights[layer].T  # to the layer below
    return SignalStats(post, pre, grads, weights)
