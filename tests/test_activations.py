"""nnlib.activations against torch (float64), finite differences, and bad input."""

import warnings
from functools import partial

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from parity import check_pair, check_pair_numerically, elementwise_pair

from nnlib import activations as act

# name -> (f, f_grad, torch reference)
ELEMENTWISE = {
    "relu": (act.relu, act.relu_grad, lambda x: torch.relu(x)),
    "leaky_relu": (act.leaky_relu, act.leaky_relu_grad, lambda x: F.leaky_relu(x)),  # 0.01
    "leaky_relu_0.2": (
        partial(act.leaky_relu, slope=0.2),
        partial(act.leaky_relu_grad, slope=0.2),
        lambda x: F.leaky_relu(x, negative_slope=0.2),
    ),
    "leaky_relu_-0.5": (
        partial(act.leaky_relu, slope=-0.5),
        partial(act.leaky_relu_grad, slope=-0.5),
        lambda x: F.leaky_relu(x, negative_slope=-0.5),
    ),
    "sigmoid": (act.sigmoid, act.sigmoid_grad, lambda x: torch.sigmoid(x)),
    "tanh": (act.tanh, act.tanh_grad, lambda x: torch.tanh(x)),
    "gelu": (act.gelu, act.gelu_grad, lambda x: F.gelu(x, approximate="none")),
}
KINKED = {"relu", "leaky_relu", "leaky_relu_0.2", "leaky_relu_-0.5"}
SHAPES = [(1,), (1, 1), (7,), (3, 4, 5)]

# Exponentials of -1e3 underflow to 0, the correctly rounded answer, so only
# overflow, invalid operations (inf - inf, 0 * inf) and division by zero count.
STRICT = {"over": "raise", "invalid": "raise", "divide": "raise", "under": "ignore"}


def softmax_pair(axis):
    def forward(x):
        s = act.softmax(x, axis=axis)
        return s, s

    def backward(dout, s):
        return act.softmax_backward(dout, s, axis=axis)

    return forward, backward, lambda x: torch.softmax(x, dim=axis)


def log_softmax_pair(axis):
    def forward(x):
        log_s = act.log_softmax(x, axis=axis)
        return log_s, log_s

    def backward(dout, log_s):
        return act.log_softmax_backward(dout, log_s, axis=axis)

    return forward, backward, lambda x: torch.log_softmax(x, dim=axis)


AXIS_CASES = [((5,), -1), ((1,), 0), ((1, 1), -1), ((1, 1), 0), ((4, 6), 0), ((4, 6), 1),
              ((3, 4, 5), 0), ((3, 4, 5), 1), ((3, 4, 5), -1)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_matches_torch(name, shape):
    f, f_grad, torch_fn = ELEMENTWISE[name]
    x = np.random.default_rng(0).uniform(-10, 10, shape)
    check_pair(*elementwise_pair(f, f_grad), torch_fn, {"x": x}, ("x",))


@pytest.mark.parametrize("name", sorted(KINKED))
def test_kinks_follow_torch(name):
    # relu_grad(0) = 0 and leaky_relu_grad(0) = slope, as torch's autograd gives
    f, f_grad, torch_fn = ELEMENTWISE[name]
    x = np.array([-2.0, -1e-300, -0.0, 0.0, 1e-300, 3.0])
    check_pair(*elementwise_pair(f, f_grad), torch_fn, {"x": x}, ("x",))


def test_kink_conventions():
    assert act.relu_grad(0.0) == 0.0
    assert act.leaky_relu_grad(0.0) == 0.01
    assert act.leaky_relu_grad(0.0, slope=0.3) == 0.3


@pytest.mark.parametrize("shape", [(1,), (3, 4)], ids=str)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_matches_finite_differences(name, shape):
    f, f_grad, _ = ELEMENTWISE[name]
    x = np.random.default_rng(1).uniform(-4, 4, shape)
    if name in KINKED:  # keep every point at least 0.1 away from the kink at 0
        x = np.sign(x) * (0.1 + np.abs(x))
    check_pair_numerically(*elementwise_pair(f, f_grad), {"x": x}, ("x",))


@pytest.mark.parametrize("shape, axis", AXIS_CASES, ids=str)
@pytest.mark.parametrize("make_pair", [softmax_pair, log_softmax_pair])
def test_softmax_matches_torch_and_finite_differences(make_pair, shape, axis):
    forward, backward, torch_fn = make_pair(axis)
    x = np.random.default_rng(2).uniform(-10, 10, shape)
    check_pair(forward, backward, torch_fn, {"x": x}, ("x",))
    check_pair_numerically(forward, backward, {"x": x}, ("x",))


def test_softmax_properties():
    x = np.random.default_rng(3).standard_normal((4, 6))
    s = act.softmax(x, axis=1)
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(act.softmax(x + 123.0, axis=1), s, rtol=1e-13)  # shift-invariant
    np.testing.assert_allclose(act.log_softmax(x, axis=1), np.log(s), rtol=1e-13)
    np.testing.assert_allclose(act.softmax(x, axis=0).sum(axis=0), 1.0, rtol=1e-15)


@pytest.mark.parametrize("magnitude", [1e3, 1e4])
def test_huge_inputs_are_finite_and_equal_torch(magnitude):
    x = magnitude * np.array([[-1.0, 1.0, 0.0, 0.5], [1.0, 1.0, -1.0, -0.5]])
    with np.errstate(**STRICT), warnings.catch_warnings():
        warnings.simplefilter("error")
        for name, (f, f_grad, torch_fn) in ELEMENTWISE.items():
            out, grads = check_pair(*elementwise_pair(f, f_grad), torch_fn, {"x": x}, ("x",))
            assert np.all(np.isfinite(out)) and np.all(np.isfinite(grads[0])), name
        for make_pair in (softmax_pair, log_softmax_pair):
            for axis in (0, 1):
                forward, backward, torch_fn = make_pair(axis)
                out, grads = check_pair(forward, backward, torch_fn, {"x": x}, ("x",))
                assert np.all(np.isfinite(out)) and np.all(np.isfinite(grads[0]))


def test_sigmoid_at_the_extremes():
    with np.errstate(**STRICT):
        np.testing.assert_array_equal(act.sigmoid([-1e4, -1e3, 1e3, 1e4]), [0.0, 0.0, 1.0, 1.0])
        np.testing.assert_array_equal(act.sigmoid_grad([-1e3, 1e3]), [0.0, 0.0])
    # the tails keep full relative precision: sigmoid(-40) = exp(-40) / (1 + exp(-40))
    np.testing.assert_allclose(act.sigmoid(-40.0), np.exp(-40.0), rtol=1e-15)
    np.testing.assert_allclose(act.sigmoid_grad(40.0), np.exp(-40.0), rtol=1e-15)


def test_derivative_maxima():
    x = np.linspace(-10, 10, 2001)  # contains 0 exactly
    assert act.sigmoid_grad(0.0) == 0.25
    assert act.sigmoid_grad(x).max() == 0.25 and x[np.argmax(act.sigmoid_grad(x))] == 0.0
    assert act.tanh_grad(0.0) == 1.0 and act.tanh_grad(x).max() == 1.0


def test_gelu_known_values():
    # Phi(1) = 0.841344746068542948585..., so gelu(1) = Phi(1) and gelu(-1) = -(1 - Phi(1))
    np.testing.assert_allclose(act.gelu([1.0, -1.0]), [0.8413447460685429, -0.15865525393145705],
                               rtol=1e-15)
    assert act.gelu(0.0) == 0.0 and act.gelu_grad(0.0) == 0.5


def test_gelu_erf_on_a_dense_grid_matches_torch():
    # the erf behind gelu, across its whole range, including far tails
    x = np.concatenate([np.linspace(-40, 40, 8001), [-1e4, -1e3, 1e3, 1e4]])
    with np.errstate(**STRICT):
        check_pair(*elementwise_pair(act.gelu, act.gelu_grad), ELEMENTWISE["gelu"][2],
                   {"x": x}, ("x",))


def test_nan_propagates():
    x = np.array([np.nan, 1.0])
    for name, (f, f_grad) in act.ACTIVATIONS.items():
        for fn in (f, f_grad):
            y = fn(x)
            assert np.isnan(y[0]) and np.isfinite(y[1]), (name, fn)


def test_accepts_array_likes_and_returns_float64():
    np.testing.assert_array_equal(act.relu([-1, 2]), [0.0, 2.0])
    assert act.relu(np.array([1, -3], dtype=np.int32)).dtype == np.float64
    assert act.tanh(np.ones(3, dtype=np.float32)).dtype == np.float64
    y = act.sigmoid(0)
    assert isinstance(y, np.ndarray) and y.shape == () and y == 0.5
    assert act.softmax([[1, 1]]).tolist() == [[0.5, 0.5]]
    assert act.gelu(np.zeros((0, 3))).shape == (0, 3)
    assert act.softmax(np.zeros((2, 0))).shape == (2, 0)


def test_activations_table():
    assert set(act.ACTIVATIONS) == {"relu", "leaky_relu", "sigmoid", "tanh", "gelu"}
    for name, (f, f_grad) in act.ACTIVATIONS.items():
        assert f is getattr(act, name) and f_grad is getattr(act, f"{name}_grad")
    assert all(hasattr(act, name) for name in act.__all__)


ALL_FUNCTIONS = [fn for pair in act.ACTIVATIONS.values() for fn in pair] + [
    act.softmax, act.log_softmax]


@pytest.mark.parametrize(
    "x, error, match",
    [
        ("abc", TypeError, "x must hold real numbers"),
        ([1 + 2j], TypeError, "x must hold real numbers.*complex"),
        (np.array([True, False]), TypeError, r"x must hold real numbers.*astype\(float\)"),
        ([1.0, None], TypeError, "x must hold real numbers.*object"),
        ([[1.0, 2.0], [3.0]], ValueError, "x must be a rectangular array"),
    ],
    ids=["string", "complex", "bool", "none", "ragged"],
)
@pytest.mark.parametrize("fn", ALL_FUNCTIONS, ids=lambda fn: fn.__name__)
def test_rejects_bad_x(fn, x, error, match):
    with pytest.raises(error, match=match):
        fn(x)


def test_rejects_bad_arguments():
    with pytest.raises(TypeError, match="slope must be a real number"):
        act.leaky_relu([1.0], slope="0.1")
    with pytest.raises(TypeError, match="slope must be a real number"):
        act.leaky_relu_grad([1.0], slope=None)
    for fn in (act.softmax, act.log_softmax):
        with pytest.raises(ValueError, match=r"axis must be in \[-2, 2\) for x of shape \(3, 4\)"):
            fn(np.ones((3, 4)), axis=2)
        with pytest.raises(TypeError, match="axis must be an int"):
            fn(np.ones((3, 4)), axis=1.0)
        with pytest.raises(ValueError, match="x must have at least one dimension"):
            fn(3.0)
    with pytest.raises(ValueError, match=r"dout and s must have the same shape"):
        act.softmax_backward(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"dout and log_s must have the same shape"):
        act.log_softmax_backward(np.ones(3), np.ones(4))
