"""nnlib.layers layer norm against torch.nn.functional.layer_norm in float64 (output, dx,
dgamma, dbeta with random upstream gradients; 2-D and 3-D inputs, E = 1, a non-default eps),
finite differences, the normalised rows' statistics, constant rows, and bad input."""

import warnings

import numpy as np
import pytest
import torch.nn.functional as F
from parity import check_pair, check_pair_numerically

from nnlib.layers import layernorm_backward, layernorm_forward

GRADS = ("x", "gamma", "beta")
# x's shape, the last axis normalised: batch 1, E = 1, 2-D, 3-D and 4-D
SHAPES = [(1, 1), (3, 1), (1, 5), (4, 6), (2, 3, 5), (1, 1, 4), (2, 2, 3, 4)]


def inputs(shape, seed=0):
    rng = np.random.default_rng(seed)
    E = shape[-1]
    return {"x": rng.standard_normal(shape) * 2.0 + 0.5, "gamma": rng.standard_normal(E),
            "beta": rng.standard_normal(E)}


def torch_layernorm(x, gamma, beta, eps=1e-5):
    return F.layer_norm(x, (x.shape[-1],), gamma, beta, eps)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_matches_torch(shape):
    out, _ = check_pair(layernorm_forward, layernorm_backward, torch_layernorm, inputs(shape),
                        GRADS)
    assert out.shape == shape


@pytest.mark.parametrize("eps", [1e-3, 0.5, 2], ids=str)
def test_non_default_eps_matches_torch(eps):
    arrays = inputs((3, 4, 5), seed=1)
    arrays["x"] *= 0.1  # a variance near eps, so eps matters
    check_pair(layernorm_forward, layernorm_backward, torch_layernorm, arrays, GRADS,
               kwargs={"eps": eps})
    default, _ = layernorm_forward(**arrays)
    assert not np.allclose(layernorm_forward(**arrays, eps=eps)[0], default)


@pytest.mark.parametrize("shape", [(1, 1), (3, 1), (2, 4), (2, 3, 5)], ids=str)
def test_matches_finite_differences(shape):
    check_pair_numerically(layernorm_forward, layernorm_backward, inputs(shape, seed=2), GRADS)


def test_non_default_eps_matches_finite_differences():
    arrays = inputs((3, 4), seed=3)
    arrays["x"] *= 0.1
    check_pair_numerically(layernorm_forward, layernorm_backward, arrays, GRADS,
                           kwargs={"eps": 0.05})


@pytest.mark.parametrize("shape", [(5, 8), (2, 3, 16)], ids=str)
def test_rows_have_mean_zero_and_variance_one(shape):
    x = inputs(shape, seed=4)["x"] * 3.0 + 7.0
    E, eps = shape[-1], 1e-5
    out, _ = layernorm_forward(x, np.ones(E), np.zeros(E), eps=eps)
    np.testing.assert_allclose(out.mean(axis=-1), 0.0, atol=1e-14)
    var = x.var(axis=-1)
    np.testing.assert_allclose(out.var(axis=-1), var / (var + eps), rtol=1e-12)  # ~1
    np.testing.assert_allclose(out.var(axis=-1), 1.0, rtol=1e-5)


def test_each_row_is_normalised_alone():
    # unlike batch norm, a row's output does not depend on the other rows
    arrays = inputs((4, 6), seed=5)
    out, _ = layernorm_forward(**arrays)
    alone, _ = layernorm_forward(arrays["x"][2:3], arrays["gamma"], arrays["beta"])
    np.testing.assert_allclose(alone[0], out[2], rtol=1e-14)


def test_hand_checkable_values():
    x = np.array([[1.0, 3.0]])  # mean 2, variance 1
    out, cache = layernorm_forward(x, np.array([2.0, 1.0]), np.array([0.0, 10.0]), eps=1e-12)
    np.testing.assert_allclose(out, [[-2.0, 11.0]], rtol=1e-10)
    _, dgamma, dbeta = layernorm_backward(np.array([[1.0, 2.0]]), cache)
    np.testing.assert_allclose(dgamma, [-1.0, 2.0], rtol=1e-10)
    np.testing.assert_array_equal(dbeta, [1.0, 2.0])


@pytest.mark.parametrize("value", [0.0, 3.0, -1e6], ids=str)
def test_constant_row_gives_beta_without_dividing_by_zero(value):
    E = 5
    x = np.full((2, 3, E), value)
    x[1, 2] = np.arange(E)  # and one ordinary row beside them
    arrays = {"x": x, "gamma": np.linspace(0.5, 2.0, E), "beta": np.linspace(-1.0, 1.0, E)}
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        out, cache = layernorm_forward(**arrays)
        dx, dgamma, dbeta = layernorm_backward(np.ones_like(x), cache)
    for a in (out, dx, dgamma, dbeta):
        assert np.isfinite(a).all()
    np.testing.assert_array_equal(out[0], np.broadcast_to(arrays["beta"], (3, E)))
    # x_hat = 0, inv_std = 1/sqrt(eps): only the mean's term is left in dx
    gamma = arrays["gamma"]
    np.testing.assert_allclose(dx[0], np.broadcast_to((gamma - gamma.mean()) / np.sqrt(1e-5),
                                                      (3, E)), rtol=1e-12)


def test_constant_row_matches_torch():
    # (torch's own mean of a row of -1e6 is off by rounding, x_hat ~ 1e-8: not compared)
    x = np.full((3, 4), 3.0)
    x[1] = [0.5, -1.0, 2.0, 0.0]
    arrays = {"x": x, "gamma": np.linspace(0.5, 2.0, 4), "beta": np.linspace(-1.0, 1.0, 4)}
    check_pair(layernorm_forward, layernorm_backward, torch_layernorm, arrays, GRADS)


def test_accepts_lists_and_does_not_modify_its_inputs():
    arrays = inputs((3, 4), seed=6)
    saved = {k: v.copy() for k, v in arrays.items()}
    out, cache = layernorm_forward(arrays["x"].tolist(), arrays["gamma"], arrays["beta"])
    assert out.dtype == np.float64
    dout = np.random.default_rng(7).standard_normal(out.shape)
    saved_dout = dout.copy()
    layernorm_backward(dout, cache)
    layernorm_forward(**arrays)
    for key in arrays:
        np.testing.assert_array_equal(arrays[key], saved[key])
    np.testing.assert_array_equal(dout, saved_dout)


# ------------------------------------------------------------------ bad input
def good(**changes):
    return {**inputs((2, 3, 5)), **changes}


_, CACHE = layernorm_forward(**good())

BAD_INPUT = [
    (lambda: layernorm_forward(**good(gamma=np.ones(4))), ValueError,
     r"gamma must have shape \(5,\) to match the last axis of x \(shape \(2, 3, 5\)\), "
     r"got \(4,\)"),
    (lambda: layernorm_forward(**good(gamma=np.ones((1, 5)))), ValueError,
     r"gamma must have shape \(5,\) .*got \(1, 5\)"),
    (lambda: layernorm_forward(**good(beta=np.ones(3))), ValueError,
     r"beta must have shape \(5,\) .*got \(3,\)"),
    (lambda: layernorm_forward(**good(beta=np.float64(1.0))), ValueError,
     r"beta must have shape \(5,\) .*got \(\)"),
    (lambda: layernorm_forward(**good(), eps=0), ValueError,
     r"eps must be a finite positive number, got 0"),
    (lambda: layernorm_forward(**good(), eps=-1e-5), ValueError, r"eps must be a finite positive"),
    (lambda: layernorm_forward(**good(), eps=np.nan), ValueError, r"eps must be a finite positive"),
    (lambda: layernorm_forward(**good(), eps=True), ValueError, r"eps must be a finite positive"),
    (lambda: layernorm_forward(**good(), eps="1e-5"), ValueError, r"eps must be a finite positive"),
    (lambda: layernorm_forward(**good(), eps=np.inf), ValueError, r"eps must be a finite positive"),
    (lambda: layernorm_forward(np.ones((2, 0)), np.ones(0), np.ones(0)), ValueError,
     r"x must have at least one feature"),
    (lambda: layernorm_forward(np.float64(1.0), np.ones(1), np.ones(1)), ValueError,
     r"x must have at least one axis"),
    (lambda: layernorm_forward(**good(x=np.ones((2, 5), dtype=bool))), TypeError,
     r"x must hold real numbers"),
    (lambda: layernorm_backward(np.ones((2, 3, 4)), CACHE), ValueError,
     r"dout must have the forward output's shape \(2, 3, 5\), got \(2, 3, 4\)"),
    (lambda: layernorm_backward(np.ones((6, 5)), CACHE), ValueError,
     r"dout must have the forward output's shape \(2, 3, 5\), got \(6, 5\)"),
]


@pytest.mark.parametrize("call, error, message", BAD_INPUT, ids=range(len(BAD_INPUT)))
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()
