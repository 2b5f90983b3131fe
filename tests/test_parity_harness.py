"""The oracle is itself tested: it accepts a correct pair and rejects wrong ones."""

from typing import NamedTuple

import numpy as np
import pytest
import torch
from parity import check_pair, check_pair_numerically, elementwise_pair, loss_pair


class LinearCache(NamedTuple):
    x: np.ndarray
    w: np.ndarray


def linear_forward(x, w, b):
    return x @ w + b, LinearCache(x, w)


def linear_backward(dout, cache):
    return dout @ cache.w.T, cache.x.T @ dout, dout.sum(axis=0)


def linear_backward_transposed_dw(dout, cache):
    # A classic bug that a square weight matrix hides from shape checks,
    # and a uniform upstream gradient hides from value checks.
    dx, dw, db = linear_backward(dout, cache)
    return dx, dw.T, db


def linear_backward_wrong_sign(dout, cache):
    dx, dw, db = linear_backward(dout, cache)
    return dx, -dw, db


def torch_linear(x, w, b):
    return x @ w + b


@pytest.fixture
def linear_inputs():
    rng = np.random.default_rng(1)
    return {"x": rng.standard_normal((5, 4)), "w": rng.standard_normal((4, 4)),
            "b": rng.standard_normal(4)}


def test_accepts_a_correct_pair(linear_inputs):
    check_pair(linear_forward, linear_backward, torch_linear, linear_inputs, ("x", "w", "b"))
    check_pair_numerically(linear_forward, linear_backward, linear_inputs, ("x", "w", "b"))


@pytest.mark.parametrize("wrong", [linear_backward_transposed_dw, linear_backward_wrong_sign])
def test_rejects_a_wrong_backward(linear_inputs, wrong):
    with pytest.raises(AssertionError, match="gradient 'w' differs from torch"):
        check_pair(linear_forward, wrong, torch_linear, linear_inputs, ("x", "w", "b"))
    with pytest.raises(AssertionError, match="gradient 'w' differs from finite differences"):
        check_pair_numerically(linear_forward, wrong, linear_inputs, ("x", "w", "b"))


def test_a_uniform_upstream_gradient_can_hide_the_transpose_bug(linear_inputs):
    # Why the harness draws a random dout: with dout = ones and an input of
    # ones, the transposed dW equals the right one, so the bug goes unseen.
    ones_x, ones_dout = np.ones((5, 4)), np.ones((5, 4))
    cache = LinearCache(ones_x, linear_inputs["w"])
    _, dw_right, _ = linear_backward(ones_dout, cache)
    _, dw_wrong, _ = linear_backward_transposed_dw(ones_dout, cache)
    np.testing.assert_array_equal(dw_right, dw_wrong)


def test_rejects_a_wrong_forward(linear_inputs):
    def off_by_bias(x, w, b):
        return x @ w, LinearCache(x, w)

    with pytest.raises(AssertionError, match="forward output differs from torch"):
        check_pair(off_by_bias, linear_backward, torch_linear, linear_inputs, ("x", "w", "b"))


def test_rejects_a_wrong_gradient_shape(linear_inputs):
    def summed_db(dout, cache):
        dx, dw, db = linear_backward(dout, cache)
        return dx, dw, db.sum()

    with pytest.raises(AssertionError, match="has shape"):
        check_pair(linear_forward, summed_db, torch_linear, linear_inputs, ("x", "w", "b"))


def test_elementwise_adapter():
    x = np.random.default_rng(2).standard_normal((3, 4))
    good = elementwise_pair(np.tanh, lambda x: 1 - np.tanh(x) ** 2)
    check_pair(*good, torch.tanh, {"x": x}, ("x",))
    bad = elementwise_pair(np.tanh, lambda x: 1 - np.tanh(x))
    with pytest.raises(AssertionError):
        check_pair(*bad, torch.tanh, {"x": x}, ("x",))


def test_loss_adapter():
    rng = np.random.default_rng(3)
    inputs = {"pred": rng.standard_normal((6, 2)), "target": rng.standard_normal((6, 2))}

    def mse(pred, target):
        diff = pred - target
        return float(np.mean(diff**2)), 2 * diff / diff.size

    check_pair(*loss_pair(mse), lambda pred, target: torch.mean((pred - target) ** 2),
               inputs, ("pred",))
    check_pair_numerically(*loss_pair(mse), inputs, ("pred",))


def test_a_too_coarse_finite_difference_fails_the_tolerance():
    # The numerical oracle is only as good as its step: h = 1e-1 on exp gives
    # an error of order h^2 / 6 ~ 2e-3, far above the 1e-5 tolerance.
    x = np.random.default_rng(4).standard_normal(5)
    pair = elementwise_pair(np.exp, np.exp)
    check_pair_numerically(*pair, {"x": x}, ("x",), h=1e-6)
    with pytest.raises(AssertionError):
        check_pair_numerically(*pair, {"x": x}, ("x",), h=1e-1)
