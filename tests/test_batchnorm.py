"""nnlib.layers batch norm against torch.nn.functional.batch_norm in float64: the output, dx,
dgamma and dbeta with random upstream gradients, in training and in evaluation, for (B, D) and
(B, C, H, W) inputs; the running statistics it returns against the ones torch updates in place;
finite differences; what normalising does to the batch; and bad input."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from parity import check_pair, check_pair_numerically

from nnlib.layers import batchnorm_backward, batchnorm_forward

GRADS = ("x", "gamma", "beta")
SHAPES = [(2, 1), (5, 3), (8, 6), (1, 3, 2, 2), (2, 3, 4, 5), (4, 1, 3, 3)]


def inputs(shape, seed=0, running=True):
    rng = np.random.default_rng(seed)
    D = shape[1]
    arrays = {"x": rng.standard_normal(shape) * 2.0 + 0.5, "gamma": rng.standard_normal(D),
              "beta": rng.standard_normal(D)}
    if running:
        arrays["running_mean"] = rng.standard_normal(D)
        arrays["running_var"] = rng.uniform(0.5, 2.0, D)
    return arrays


def numpy_pair():
    """batchnorm as a (out, cache) forward for the parity oracle."""
    def forward(**kwargs):
        out, _, _, cache = batchnorm_forward(**kwargs)
        return out, cache
    return forward, batchnorm_backward


def torch_batchnorm(x, gamma, beta, running_mean=None, running_var=None, momentum=0.1,
                    eps=1e-5, train=True):
    return F.batch_norm(x, running_mean, running_var, gamma, beta, training=train,
                        momentum=momentum, eps=eps)


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_matches_torch(shape, train):
    forward, backward = numpy_pair()
    out, _ = check_pair(forward, backward, torch_batchnorm, inputs(shape), GRADS,
                        kwargs={"train": train})
    assert out.shape == shape


@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4, 5)], ids=str)
def test_without_running_statistics_matches_torch(shape):
    forward, backward = numpy_pair()
    check_pair(forward, backward, torch_batchnorm, inputs(shape, running=False), GRADS)
    _, mean, var, _ = batchnorm_forward(**inputs(shape, running=False))
    assert mean is None and var is None


@pytest.mark.parametrize("momentum, eps", [(0.1, 1e-5), (0.3, 0.5), (1.0, 1e-3), (0.0, 2.0)])
@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4, 5)], ids=str)
def test_running_statistics_match_torch(shape, momentum, eps):
    arrays = inputs(shape, seed=1)
    given = {k: arrays[k].copy() for k in ("running_mean", "running_var")}
    out, mean, var, _ = batchnorm_forward(**arrays, momentum=momentum, eps=eps)
    tensors = {k: torch.tensor(v) for k, v in arrays.items()}
    expected = torch_batchnorm(**tensors, momentum=momentum, eps=eps)  # updates in place
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mean, tensors["running_mean"].numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(var, tensors["running_var"].numpy(), rtol=1e-10, atol=1e-12)
    for k, v in given.items():  # returned, never written in place
        np.testing.assert_array_equal(arrays[k], v)


def test_eval_mode_returns_the_running_statistics_unchanged_as_new_arrays():
    arrays = inputs((4, 3), seed=2)
    _, mean, var, _ = batchnorm_forward(**arrays, train=False)
    np.testing.assert_array_equal(mean, arrays["running_mean"])
    np.testing.assert_array_equal(var, arrays["running_var"])
    assert mean is not arrays["running_mean"] and var is not arrays["running_var"]


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("shape", [(2, 1), (4, 3), (2, 2, 3, 3)], ids=str)
def test_matches_finite_differences(shape, train):
    forward, backward = numpy_pair()
    check_pair_numerically(forward, backward, inputs(shape, seed=3), GRADS,
                           kwargs={"train": train})


@pytest.mark.parametrize("shape", [(64, 5), (8, 4, 6, 6)], ids=str)
def test_training_output_has_mean_zero_and_variance_one_per_feature(shape):
    x = inputs(shape, seed=4)["x"] * 3.0 + 7.0
    D, eps = shape[1], 1e-5
    out, _, _, _ = batchnorm_forward(x, np.ones(D), np.zeros(D), eps=eps)
    axes = (0,) if len(shape) == 2 else (0, 2, 3)
    np.testing.assert_allclose(out.mean(axis=axes), 0.0, atol=1e-13)
    np.testing.assert_allclose(out.var(axis=axes), 1.0, rtol=1e-4)


def test_training_output_depends_on_the_rest_of_the_batch_and_evaluation_does_not():
    arrays = inputs((6, 4), seed=5)
    out, _, _, _ = batchnorm_forward(**arrays)
    partial, _, _, _ = batchnorm_forward(**{**arrays, "x": arrays["x"][:3]})
    assert not np.allclose(partial[0], out[0])
    ev, _, _, _ = batchnorm_forward(**arrays, train=False)
    alone, _, _, _ = batchnorm_forward(**{**arrays, "x": arrays["x"][2:3]}, train=False)
    np.testing.assert_allclose(alone[0], ev[2], rtol=1e-14)


def test_hand_checkable_values():
    x = np.array([[1.0], [3.0]])  # mean 2, biased variance 1, unbiased 2
    out, mean, var, _ = batchnorm_forward(x, np.array([2.0]), np.array([10.0]),
                                          np.array([0.0]), np.array([1.0]), momentum=0.5,
                                          eps=1e-12)
    np.testing.assert_allclose(out[:, 0], [8.0, 12.0])
    np.testing.assert_allclose(mean, [1.0])  # 0.5 * 0 + 0.5 * 2
    np.testing.assert_allclose(var, [1.5])  # 0.5 * 1 + 0.5 * 2


@pytest.mark.parametrize("kwargs, match", [
    ({"x": np.ones(3)}, r"\(B, D\) or \(B, C, H, W\), got shape \(3,\)"),
    ({"x": np.ones((2, 3, 4))}, r"\(B, D\) or \(B, C, H, W\)"),
    ({"gamma": np.ones(4)}, r"gamma must have shape \(3,\)"),
    ({"beta": np.ones((3, 1))}, r"beta must have shape \(3,\)"),
    ({"running_mean": np.zeros(3)}, "both running_mean and running_var"),
    ({"running_mean": np.zeros(2), "running_var": np.ones(3)}, r"running_mean must have shape"),
    ({"momentum": 1.5}, r"momentum must be in \[0, 1\]"),
    ({"momentum": -0.1}, "momentum must be a finite number"),
    ({"eps": 0.0}, "eps must be a finite number > 0"),
    ({"x": np.ones((1, 3))}, "more than one value per feature"),
    ({"train": False}, "pass running_mean and running_var"),
    ({"train": "yes"}, "train must be True or False"),
])
def test_bad_input_is_named(kwargs, match):
    arrays = inputs((4, 3), running=False)
    arrays.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        batchnorm_forward(**arrays)


def test_a_batch_of_one_image_is_enough_in_training():
    # one image has H*W values per channel: statistics exist, as in torch
    forward, backward = numpy_pair()
    check_pair(forward, backward, torch_batchnorm, inputs((1, 2, 3, 3), seed=6), GRADS)


def test_backward_refuses_a_wrong_shape():
    _, _, _, cache = batchnorm_forward(**inputs((4, 3)))
    with pytest.raises(ValueError, match=r"dout must have the forward output's shape \(4, 3\)"):
        batchnorm_backward(np.ones((3, 4)), cache)
