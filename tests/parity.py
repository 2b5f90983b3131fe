"""The oracle for every numpy forward/backward pair: torch autograd and finite differences.

One helper, used by every parity test in the suite:

    check_pair(forward, backward, torch_fn, inputs, grad_names=("x", "w", "b"))

runs the numpy ``forward(**inputs) -> (out, cache)`` and
``backward(dout, cache) -> grads`` with a *random* upstream gradient ``dout``
(a uniform one such as ``out.sum()`` hides transposes), runs ``torch_fn`` on
float64 copies of the same inputs, backpropagates the same ``dout`` with
``torch.autograd``, and asserts that the output and every gradient agree to the
tolerances measured in STYLE.md. ``check_pair_numerically`` does the same
against centred finite differences (``nnlib.gradcheck.numerical_gradient``).

Adapters turn the other shapes of API into pairs: ``elementwise_pair(f, f_grad)``
for activations (``f(x)``, ``f_grad(x)``) and ``loss_pair(loss_fn)`` for losses
that return ``(loss, grad)``.
"""

from typing import NamedTuple

import numpy as np
import torch

from nnlib.gradcheck import numerical_gradient

TORCH_RTOL, TORCH_ATOL = 1e-10, 1e-12
NUMERIC_RTOL, NUMERIC_ATOL = 1e-5, 1e-8


def _as_tuple(grads):
    return grads if isinstance(grads, tuple) else (grads,)


def _split_forward(result):
    if isinstance(result, tuple) and len(result) == 2:
        return result
    raise AssertionError("forward must return (out, cache)")


def check_pair(
    forward,
    backward,
    torch_fn,
    inputs,
    grad_names,
    kwargs=None,
    seed=0,
    rtol=TORCH_RTOL,
    atol=TORCH_ATOL,
):
    """Assert a numpy forward/backward pair equals torch in float64, forward and backward.

    Args:
        forward: ``forward(**inputs, **kwargs) -> (out, cache)``.
        backward: ``backward(dout, cache) -> grad or tuple of grads``, one per
            name in ``grad_names`` and in that order.
        torch_fn: ``torch_fn(**tensors, **kwargs) -> tensor``; the reference.
        inputs: dict name -> float64 ndarray (or non-float arrays such as labels,
            passed to torch as tensors without gradients).
        grad_names: the inputs whose gradients ``backward`` returns.
        seed: seeds the random upstream gradient.

    Returns:
        ``(out, grads)`` from numpy, for further checks.
    """
    kwargs = kwargs or {}
    out, cache = _split_forward(forward(**{k: v.copy() for k, v in inputs.items()}, **kwargs))
    out = np.asarray(out, dtype=np.float64)
    dout = np.random.default_rng(seed).standard_normal(out.shape)
    grads = _as_tuple(backward(dout.copy(), cache))
    assert len(grads) == len(grad_names), (
        f"backward returned {len(grads)} gradients, expected {len(grad_names)} ({grad_names})"
    )

    tensors = {
        k: torch.tensor(v, requires_grad=(k in grad_names)) if np.issubdtype(v.dtype, np.floating)
        else torch.tensor(v)
        for k, v in inputs.items()
    }
    ref = torch_fn(**tensors, **kwargs)
    np.testing.assert_allclose(out, ref.detach().numpy(), rtol=rtol, atol=atol,
                               err_msg="forward output differs from torch")
    ref.backward(torch.tensor(dout))
    for name, grad in zip(grad_names, grads):
        expected = tensors[name].grad
        assert expected is not None, f"torch produced no gradient for {name!r}"
        assert np.shape(grad) == tuple(expected.shape), (
            f"gradient {name!r} has shape {np.shape(grad)}, torch's has {tuple(expected.shape)}"
        )
        np.testing.assert_allclose(grad, expected.numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"gradient {name!r} differs from torch")
    return out, grads


def check_pair_numerically(
    forward, backward, inputs, grad_names, kwargs=None, seed=0, h=1e-6,
    rtol=NUMERIC_RTOL, atol=NUMERIC_ATOL,
):
    """Assert a pair's analytic gradients equal centred finite differences.

    The scalar checked is ``sum(forward(...).out * dout)`` for a random ``dout``,
    whose gradient is exactly what ``backward(dout, cache)`` must return.
    """
    kwargs = kwargs or {}
    inputs = {k: v.copy() for k, v in inputs.items()}
    out, cache = _split_forward(forward(**inputs, **kwargs))
    dout = np.random.default_rng(seed).standard_normal(np.shape(out))
    grads = _as_tuple(backward(dout.copy(), cache))

    for name, grad in zip(grad_names, grads):
        def scalar(_):
            value, _ = forward(**{k: v.copy() for k, v in inputs.items()}, **kwargs)
            return float(np.sum(np.asarray(value) * dout))

        expected = numerical_gradient(scalar, inputs[name], h=h)
        np.testing.assert_allclose(grad, expected, rtol=rtol, atol=atol,
                                   err_msg=f"gradient {name!r} differs from finite differences")
    return grads


class _ElementwiseCache(NamedTuple):
    x: np.ndarray


def elementwise_pair(f, f_grad):
    """Turn ``f(x)`` and its derivative ``f_grad(x)`` into a forward/backward pair."""

    def forward(x, **kwargs):
        return f(x, **kwargs), _ElementwiseCache(x)

    def backward(dout, cache):
        return dout * f_grad(cache.x)

    return forward, backward


class _LossCache(NamedTuple):
    grad: np.ndarray


def loss_pair(loss_fn):
    """Turn ``loss_fn(pred, target) -> (loss, dloss/dpred)`` into a pair over ``pred``."""

    def forward(**arrays):
        loss, grad = loss_fn(*arrays.values())
        return np.asarray(loss, dtype=np.float64), _LossCache(grad)

    def backward(dout, cache):
        return dout * cache.grad

    return forward, backward
