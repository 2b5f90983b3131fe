"""nnlib.layers linear and dropout pairs against torch (float64), finite differences, dropout's
statistics, and bad input."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from parity import check_pair, check_pair_numerically

from nnlib.layers import dropout_backward, dropout_forward, linear_backward, linear_forward

# (B, D, M): batch 1, D = 1 and M = 1 included
LINEAR_SHAPES = [(1, 1, 1), (1, 3, 2), (4, 1, 3), (5, 3, 1), (4, 3, 5), (16, 8, 10)]
DROPOUT_SHAPES = [(1,), (1, 1), (7,), (4, 6), (2, 3, 5)]


def linear_inputs(B, D, M, seed=0):
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal((B, D)), "w": rng.standard_normal((D, M)),
            "b": rng.standard_normal(M)}


def torch_linear(x, w, b):
    return F.linear(x, w.T, b)


@pytest.mark.parametrize("B, D, M", LINEAR_SHAPES, ids=str)
def test_linear_matches_torch_and_finite_differences(B, D, M):
    inputs = linear_inputs(B, D, M)
    out, _ = check_pair(linear_forward, linear_backward, torch_linear, inputs, ("x", "w", "b"))
    assert out.shape == (B, M)
    check_pair_numerically(linear_forward, linear_backward, inputs, ("x", "w", "b"))


def test_linear_hand_checkable_values():
    x = np.array([[1.0, 2.0]])
    w = np.array([[1.0, 0.0, -1.0], [0.5, 1.0, 2.0]])
    b = np.array([0.0, 1.0, -1.0])
    out, cache = linear_forward(x, w, b)
    np.testing.assert_array_equal(out, [[2.0, 3.0, 2.0]])
    dx, dw, db = linear_backward(np.array([[1.0, 0.0, 2.0]]), cache)
    np.testing.assert_array_equal(dx, [[1.0 - 2.0, 0.5 + 4.0]])
    np.testing.assert_array_equal(dw, [[1.0, 0.0, 2.0], [2.0, 0.0, 4.0]])
    np.testing.assert_array_equal(db, [1.0, 0.0, 2.0])


def test_linear_accepts_lists_and_integers_and_returns_float64():
    out, cache = linear_forward([[1, 2]], [[1], [1]], [0])
    assert out.dtype == np.float64 and out.tolist() == [[3.0]]
    dx, dw, db = linear_backward([[1]], cache)
    assert dx.tolist() == [[1.0, 1.0]] and dw.tolist() == [[1.0], [2.0]] and db.tolist() == [1.0]


def test_linear_does_not_modify_its_inputs():
    inputs = linear_inputs(3, 4, 2, seed=1)
    saved = {k: v.copy() for k, v in inputs.items()}
    _, cache = linear_forward(**inputs)
    dout = np.random.default_rng(2).standard_normal((3, 2))
    saved_dout = dout.copy()
    linear_backward(dout, cache)
    for k in inputs:
        np.testing.assert_array_equal(inputs[k], saved[k])
    np.testing.assert_array_equal(dout, saved_dout)


# ------------------------------------------------------------------ dropout
def dropout_pair(p, seed):
    """Dropout with a fixed mask: a fresh generator with the same seed on every call."""

    def forward(x):
        return dropout_forward(x, p, np.random.default_rng(seed))

    return forward, dropout_backward


def mask_of(x, p, seed):
    _, cache = dropout_forward(x, p, np.random.default_rng(seed))
    return cache.mask


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("shape", DROPOUT_SHAPES, ids=str)
def test_dropout_matches_torch_given_the_same_mask(shape, p):
    x = np.random.default_rng(3).standard_normal(shape)
    mask = mask_of(x, p, seed=4)
    assert mask.shape == shape
    # every unit is either dropped (0) or kept and scaled by 1 / (1 - p), as torch's dropout
    assert np.all((mask == 0) | (mask == 1 / (1 - p)))
    forward, backward = dropout_pair(p, seed=4)
    check_pair(forward, backward, lambda x: x * torch.tensor(mask), {"x": x}, ("x",))
    check_pair_numerically(forward, backward, {"x": x}, ("x",))


def test_dropout_is_reproducible_for_the_same_seed_and_differs_otherwise():
    x = np.ones((20, 20))
    a, _ = dropout_forward(x, 0.5, np.random.default_rng(0))
    b, _ = dropout_forward(x, 0.5, np.random.default_rng(0))
    c, _ = dropout_forward(x, 0.5, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    rng = np.random.default_rng(0)  # one generator: a fresh mask each call
    d, _ = dropout_forward(x, 0.5, rng)
    e, _ = dropout_forward(x, 0.5, rng)
    assert not np.array_equal(d, e)


@pytest.mark.parametrize("p, train", [(0.0, True), (0.0, False), (0.5, False), (0.99, False)])
@pytest.mark.parametrize("shape", [(1,), (3, 4)], ids=str)
def test_dropout_is_the_identity_at_p0_or_at_test_time(shape, p, train):
    x = np.random.default_rng(7).standard_normal(shape)
    out, cache = dropout_forward(x, p, np.random.default_rng(0), train=train)
    np.testing.assert_array_equal(out, x)
    assert out is not x and not np.shares_memory(out, x)  # a copy, as the forward promises
    dout = np.random.default_rng(8).standard_normal(shape)
    dx = dropout_backward(dout, cache)
    np.testing.assert_array_equal(dx, dout)  # the gradient passes straight through
    assert dx is not dout
    check_pair(lambda x: dropout_forward(x, p, np.random.default_rng(0), train=train),
               dropout_backward, lambda x: F.dropout(x, p=p, training=False), {"x": x}, ("x",))


def test_test_time_dropout_needs_no_generator():
    x = np.arange(6.0).reshape(2, 3)
    out, cache = dropout_forward(x, 0.5, None, train=False)
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(dropout_backward(2 * x, cache), 2 * x)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_keeps_about_1_minus_p_of_the_units(p):
    # N Bernoulli(1 - p) draws: the kept fraction has std sqrt(p (1 - p) / N) <= 0.0016
    # for N = 100_000; 5 standard deviations would be exceeded by chance with
    # probability 6e-7 (and the seed is fixed, so the test cannot flicker).
    n = 100_000
    x = np.ones(n)
    out, cache = dropout_forward(x, p, np.random.default_rng(10))
    kept = np.mean(cache.mask > 0)
    sigma = np.sqrt(p * (1 - p) / n)
    assert abs(kept - (1 - p)) < 5 * sigma
    np.testing.assert_array_equal(out > 0, cache.mask > 0)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_keeps_the_expected_value_of_every_unit(p):
    # Each of D units is dropped out in N independent copies. The mean over copies
    # of x_j * mask has std |x_j| sqrt(p / ((1 - p) N)); allow 5 of them per unit
    # (chance of a false alarm over the 3 * 8 units: about 1e-5).
    n, d = 40_000, 8
    x = np.random.default_rng(11).uniform(0.5, 2.0, d) * np.array([1, -1] * (d // 2))
    out, _ = dropout_forward(np.broadcast_to(x, (n, d)), p, np.random.default_rng(12))
    sigma = np.abs(x) * np.sqrt(p / ((1 - p) * n))
    assert np.all(np.abs(out.mean(axis=0) - x) < 5 * sigma)


def test_dropout_accepts_numpy_floats_and_integer_zero():
    x = np.ones((2, 2))
    out, _ = dropout_forward(x, np.float64(0.25), np.random.default_rng(0))
    assert set(np.unique(out)) <= {0.0, 1 / 0.75}
    out, cache = dropout_forward(x, 0, np.random.default_rng(0))
    np.testing.assert_array_equal(out, x)


# ------------------------------------------------------------------ bad input
def linear_cache():
    return linear_forward(np.ones((2, 3)), np.ones((3, 4)), np.ones(4))[1]


def dropout_cache():
    return dropout_forward(np.ones((2, 3)), 0.5, np.random.default_rng(0))[1]


BAD_INPUT = [
    (lambda: linear_forward(np.ones((2, 4)), np.ones((3, 5)), np.ones(5)), ValueError,
     r"x must have shape \(B, 3\) to match w of shape \(3, 5\), got \(2, 4\)"),
    (lambda: linear_forward(np.ones(3), np.ones((3, 5)), np.ones(5)), ValueError,
     r"x must have shape \(B, 3\).*got \(3,\)"),
    (lambda: linear_forward(np.ones((1, 2, 3)), np.ones((3, 5)), np.ones(5)), ValueError,
     r"x must have shape \(B, 3\)"),
    (lambda: linear_forward(np.ones((2, 3)), np.ones(3), np.ones(1)), ValueError,
     r"w must be a \(D, M\) matrix, got shape \(3,\)"),
    (lambda: linear_forward(np.ones((2, 3)), np.ones((3, 5)), np.ones(4)), ValueError,
     r"b must have shape \(5,\) to match w of shape \(3, 5\), got \(4,\)"),
    (lambda: linear_forward(np.ones((2, 3)), np.ones((3, 5)), np.ones((1, 5))), ValueError,
     r"b must have shape \(5,\).*got \(1, 5\)"),
    (lambda: linear_forward(np.ones((2, 3), dtype=bool), np.ones((3, 5)), np.ones(5)),
     TypeError, "x must hold real numbers"),
    (lambda: linear_forward(np.ones((2, 3)), [["a"] * 5] * 3, np.ones(5)), TypeError,
     "w must hold real numbers"),
    (lambda: linear_forward(np.ones((2, 3)), np.ones((3, 5)), np.ones(5) * 1j), TypeError,
     "b must hold real numbers"),
    (lambda: linear_backward(np.ones((2, 3)), linear_cache()), ValueError,
     r"dout must have the forward output's shape \(2, 4\), got \(2, 3\)"),
    (lambda: linear_backward(np.ones(4), linear_cache()), ValueError,
     r"dout must have the forward output's shape \(2, 4\), got \(4,\)"),
    (lambda: dropout_forward(np.ones(3), 1.0, np.random.default_rng(0)), ValueError,
     r"p must be a drop probability in \[0, 1\), got 1.0"),
    (lambda: dropout_forward(np.ones(3), 1, np.random.default_rng(0)), ValueError,
     r"p must be a drop probability in \[0, 1\), got 1"),
    (lambda: dropout_forward(np.ones(3), -0.1, np.random.default_rng(0)), ValueError,
     r"p must be a drop probability in \[0, 1\), got -0.1"),
    (lambda: dropout_forward(np.ones(3), float("nan"), np.random.default_rng(0)), ValueError,
     "p must be a drop probability"),
    (lambda: dropout_forward(np.ones(3), True, np.random.default_rng(0)), ValueError,
     "p must be a drop probability"),
    (lambda: dropout_forward(np.ones(3), "0.5", np.random.default_rng(0)), ValueError,
     "p must be a drop probability"),
    (lambda: dropout_forward(np.ones(3), 1.0, None, train=False), ValueError,
     "p must be a drop probability"),
    (lambda: dropout_forward(np.ones(3), 0.5, 0), TypeError,
     r"rng must be a numpy.random.Generator \(np.random.default_rng\(seed\)\), got int"),
    (lambda: dropout_forward(np.ones(3), 0.5, np.random.RandomState(0)), TypeError,
     "rng must be a numpy.random.Generator.*got RandomState"),
    (lambda: dropout_forward(np.ones(3), 0.5, None), TypeError, "rng must be.*got NoneType"),
    (lambda: dropout_forward(np.array(["a"]), 0.5, np.random.default_rng(0)), TypeError,
     "x must hold real numbers"),
    (lambda: dropout_backward(np.ones((3, 2)), dropout_cache()), ValueError,
     r"dout must have the forward output's shape \(2, 3\), got \(3, 2\)"),
    (lambda: dropout_backward(np.ones(6), dropout_cache()), ValueError,
     r"dout must have the forward output's shape \(2, 3\)"),
    (lambda: dropout_backward(np.array([True]), dropout_cache()), TypeError,
     "dout must hold real numbers"),
]


@pytest.mark.parametrize("make, error, match", BAD_INPUT,
                         ids=[str(i) for i in range(len(BAD_INPUT))])
def test_rejects_bad_input_with_a_message_naming_the_argument(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("p, train", [(0.0, True), (0.5, False)])
def test_identity_dropout_backward_also_rejects_a_wrong_dout_shape(p, train):
    _, cache = dropout_forward(np.ones((2, 3)), p, np.random.default_rng(0), train=train)
    with pytest.raises(ValueError, match="dout must have the forward output's shape"):
        dropout_backward(np.ones((3, 2)), cache)
