"""nnlib.losses against torch (float64), finite differences, and bad input."""

from functools import partial

import numpy as np
import pytest
import torch.nn.functional as F
from parity import check_pair, check_pair_numerically, loss_pair

from nnlib import activations, losses
from nnlib.data.toy import outlier_data
from nnlib.losses import fit_line, huber, mae, mse, pointwise_losses

SHAPES = [(1,), (5,), (4, 3), (2, 3, 4)]
STRICT = {"over": "raise", "invalid": "raise", "divide": "raise", "under": "ignore"}


def regression_inputs(shape, seed=0):
    rng = np.random.default_rng(seed)
    return {"pred": 2.0 * rng.standard_normal(shape), "target": rng.standard_normal(shape)}


def bce_inputs(shape, seed=0):
    rng = np.random.default_rng(seed)
    targets = rng.uniform(0, 1, shape)
    targets.flat[::2] = np.round(targets.flat[::2])  # hard 0/1 labels and soft ones
    return {"logits": 3.0 * rng.standard_normal(shape), "targets": targets}


def ce_inputs(B, K, seed=0):
    rng = np.random.default_rng(seed)
    return {"logits": 3.0 * rng.standard_normal((B, K)), "labels": rng.integers(0, K, B)}


# name -> (loss function, torch reference taking the same keyword arguments)
REGRESSION = {
    "mse": (losses.mse, lambda pred, target: F.mse_loss(pred, target)),
    "mae": (losses.mae, lambda pred, target: F.l1_loss(pred, target)),
    "huber": (losses.huber, lambda pred, target: F.huber_loss(pred, target)),
}


def huber_pair(delta):
    return (partial(losses.huber, delta=delta),
            lambda pred, target: F.huber_loss(pred, target, delta=delta))


def bce_torch(logits, targets):
    return F.binary_cross_entropy_with_logits(logits, targets)


def ce_torch(logits, labels):
    return F.cross_entropy(logits, labels)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", REGRESSION)
def test_regression_losses_match_torch_and_finite_differences(name, shape):
    fn, torch_fn = REGRESSION[name]
    inputs = regression_inputs(shape)
    check_pair(*loss_pair(fn), torch_fn, inputs, ("pred",))
    check_pair_numerically(*loss_pair(fn), inputs, ("pred",))  # no ties, no |r| = 1 here


@pytest.mark.parametrize("delta", [0.3, 1.0, 2.5])
def test_huber_both_regimes_match_torch(delta):
    fn, torch_fn = huber_pair(delta)
    target = np.random.default_rng(4).standard_normal((3, 3))
    # residuals inside, on and outside the quadratic zone, of both signs
    r = delta * np.array([[-3.0, -1.0, -0.5], [-0.01, 0.0, 0.2], [0.9, 1.0, 4.0]])
    inputs = {"pred": target + r, "target": target}
    check_pair(*loss_pair(fn), torch_fn, inputs, ("pred",))
    away = delta * np.array([[-3.0, -1.5, -0.5], [-0.01, 0.05, 0.2], [0.9, 1.2, 4.0]])
    check_pair_numerically(*loss_pair(fn), {"pred": target + away, "target": target}, ("pred",))
    # outside the zone the gradient is capped at delta / N
    _, grad = fn(target + r, target)
    assert np.abs(grad).max() == pytest.approx(delta / r.size, rel=1e-15)


def test_mae_subgradient_is_zero_at_ties_as_torch():
    pred = np.array([[1.0, -2.0, 3.0], [0.5, 0.5, -1.0]])
    target = np.array([[1.0, 0.0, 3.0], [0.0, 0.5, 2.0]])
    check_pair(*loss_pair(losses.mae), REGRESSION["mae"][1],
               {"pred": pred, "target": target}, ("pred",))
    _, grad = losses.mae(pred, target)
    np.testing.assert_array_equal(grad, np.array([[0, -1, 0], [1, 0, -1]]) / 6)


def test_hand_checkable_values():
    assert losses.mse([1.0, 2.0], [1.0, 0.0])[0] == 2.0
    np.testing.assert_array_equal(losses.mse([1.0, 2.0], [1.0, 0.0])[1], [0.0, 2.0])
    assert losses.mae([1.0, 2.0], [1.0, 0.0])[0] == 1.0
    assert losses.huber([0.0, 3.0], [0.0, 0.0], delta=1.0)[0] == 1.25  # (0 + 1 * (3 - 0.5)) / 2
    loss, _ = losses.binary_cross_entropy_with_logits([0.0], [1.0])
    assert loss == pytest.approx(np.log(2), rel=1e-15)
    loss, _ = losses.cross_entropy(np.zeros((2, 4)), [0, 3])
    assert loss == pytest.approx(np.log(4), rel=1e-15)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_bce_with_logits_matches_torch_and_finite_differences(shape):
    fn = losses.binary_cross_entropy_with_logits
    inputs = bce_inputs(shape)
    check_pair(*loss_pair(fn), bce_torch, inputs, ("logits",))
    check_pair_numerically(*loss_pair(fn), inputs, ("logits",))


@pytest.mark.parametrize("B, K", [(1, 1), (1, 3), (5, 4), (8, 10)])
def test_cross_entropy_matches_torch_and_finite_differences(B, K):
    inputs = ce_inputs(B, K)
    check_pair(*loss_pair(losses.cross_entropy), ce_torch, inputs, ("logits",))
    check_pair_numerically(*loss_pair(losses.cross_entropy), inputs, ("logits",))


def test_cross_entropy_gradient_is_softmax_minus_one_hot_over_b():
    inputs = ce_inputs(6, 4, seed=5)
    logits, labels = inputs["logits"], inputs["labels"]
    _, grad = losses.cross_entropy(logits, labels)
    one_hot = np.eye(4)[labels]
    np.testing.assert_allclose(grad, (activations.softmax(logits) - one_hot) / 6,
                               rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("dtype", [np.int32, np.uint8, np.int16])
def test_cross_entropy_accepts_any_integer_labels(dtype):
    inputs = ce_inputs(5, 4, seed=6)
    expected = losses.cross_entropy(inputs["logits"], inputs["labels"])
    loss, grad = losses.cross_entropy(inputs["logits"], inputs["labels"].astype(dtype))
    assert loss == expected[0]
    np.testing.assert_array_equal(grad, expected[1])
    assert losses.cross_entropy(inputs["logits"], inputs["labels"].tolist())[0] == expected[0]


@pytest.mark.parametrize("magnitude", [1e3, 1e4])
def test_huge_logits_are_finite_and_equal_torch(magnitude):
    logits = magnitude * np.array([[1.0, -1.0, 0.0], [-1.0, 1.0, 0.999], [1.0, 1.0, -1.0]])
    labels = np.array([1, 2, 0])
    bce_logits = magnitude * np.array([1.0, -1.0, 1.0, -1.0, 0.5])
    bce_targets = np.array([1.0, 0.0, 0.0, 1.0, 0.3])
    with np.errstate(**STRICT):
        loss, grads = check_pair(*loss_pair(losses.cross_entropy), ce_torch,
                                 {"logits": logits, "labels": labels}, ("logits",))
        assert np.isfinite(loss) and np.all(np.isfinite(grads[0]))
        loss, grads = check_pair(*loss_pair(losses.binary_cross_entropy_with_logits), bce_torch,
                                 {"logits": bce_logits, "targets": bce_targets}, ("logits",))
        assert np.isfinite(loss) and np.all(np.isfinite(grads[0]))
    # per row: 2 m; 0.001 m + log(1 + exp(-0.001 m)); log 2 (m = magnitude)
    expected = (2 * magnitude + 0.001 * magnitude + np.log1p(np.exp(-0.001 * magnitude))
                + np.log(2)) / 3
    assert losses.cross_entropy(logits, labels)[0] == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize(
    "fn, args",
    [
        (losses.mse, regression_inputs((3, 2))),
        (losses.mae, regression_inputs((3, 2))),
        (losses.huber, regression_inputs((3, 2))),
        (losses.binary_cross_entropy_with_logits, bce_inputs((4,))),
        (losses.cross_entropy, ce_inputs(3, 4)),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_returns_a_python_float_and_a_gradient_shaped_like_the_first_argument(fn, args):
    first = next(iter(args.values()))
    loss, grad = fn(*args.values())
    assert type(loss) is float  # not np.float64
    assert isinstance(grad, np.ndarray) and grad.shape == first.shape and grad.dtype == np.float64


def test_bce_accepts_boolean_targets():
    logits = np.array([0.3, -1.2, 2.0])
    as_bool = losses.binary_cross_entropy_with_logits(logits, logits > 0)
    as_float = losses.binary_cross_entropy_with_logits(logits, (logits > 0).astype(float))
    assert as_bool[0] == as_float[0]


NAN = float("nan")
INF = float("inf")
BAD_INPUT = [
    (losses.mse, (np.ones((3, 2)), np.ones(3)), {}, ValueError,
     r"pred and target must have the same shape, got \(3, 2\) and \(3,\)"),
    (losses.mae, (np.ones((3, 1)), np.ones(3)), {}, ValueError,
     r"pred and target must have the same shape, got \(3, 1\) and \(3,\)"),
    (losses.mse, ([], []), {}, ValueError, r"pred must not be empty, got shape \(0,\)"),
    (losses.mse, ([1.0, NAN], [0.0, 0.0]), {}, ValueError, r"pred contains NaN .*index \(1,\)"),
    (losses.mae, ([1.0, 2.0], [0.0, INF]), {}, ValueError, "target contains inf"),
    (losses.huber, ([[1.0, -INF]], [[0.0, 0.0]]), {}, ValueError, "pred contains inf"),
    (losses.mse, (np.array([True]), [1.0]), {}, TypeError, "pred must hold real numbers"),
    (losses.mse, (["a"], [1.0]), {}, TypeError, "pred must hold real numbers"),
    (losses.mae, ([1.0], [1 + 1j]), {}, TypeError, "target must hold real numbers"),
    (losses.huber, ([1.0], [0.0]), {"delta": 0}, ValueError,
     "delta must be a finite positive number, got 0.0"),
    (losses.huber, ([1.0], [0.0]), {"delta": -1.0}, ValueError,
     "delta must be a finite positive number"),
    (losses.huber, ([1.0], [0.0]), {"delta": INF}, ValueError,
     "delta must be a finite positive number"),
    (losses.huber, ([1.0], [0.0]), {"delta": "1"}, TypeError, "delta must be a real number"),
    (losses.binary_cross_entropy_with_logits, (np.zeros(3), np.zeros((3, 1))), {}, ValueError,
     r"logits and targets must have the same shape, got \(3,\) and \(3, 1\)"),
    (losses.binary_cross_entropy_with_logits, ([0.0, 1.0], [0.0, 1.5]), {}, ValueError,
     r"targets must be probabilities in \[0, 1\], got values from 0.0 to 1.5"),
    (losses.binary_cross_entropy_with_logits, ([0.0, 1.0], [-1.0, 1.0]), {}, ValueError,
     r"targets must be probabilities in \[0, 1\]"),
    (losses.binary_cross_entropy_with_logits, ([NAN], [1.0]), {}, ValueError,
     "logits contains NaN"),
    (losses.binary_cross_entropy_with_logits, ([], []), {}, ValueError, "logits must not be empty"),
    (losses.cross_entropy, (np.zeros(3), [1]), {}, ValueError,
     r"logits must be 2-D \(B, K\), got shape \(3,\); for a single example use logits\[None, :\]"),
    (losses.cross_entropy, (np.zeros((2, 3, 4)), [1, 1]), {}, ValueError,
     r"logits must be 2-D \(B, K\), got shape \(2, 3, 4\)"),
    (losses.cross_entropy, (np.zeros((0, 3)), []), {}, ValueError, "logits must not be empty"),
    (losses.cross_entropy, ([[0.0, NAN]], [1]), {}, ValueError, "logits contains NaN"),
    (losses.cross_entropy, (np.zeros((2, 3)), np.array([1.0, 0.0])), {}, TypeError,
     r"labels must be integer class indices in \[0, 3\), got dtype float64; "
     r".*labels\.astype\(int\)"),
    (losses.cross_entropy, (np.zeros((2, 3)), np.array([True, False])), {}, TypeError,
     "labels must be integer class indices"),
    (losses.cross_entropy, (np.zeros((2, 3)), [0, 3]), {}, ValueError,
     r"labels must be class indices in \[0, 3\) for K = 3 classes, got 3 at index 1"),
    (losses.cross_entropy, (np.zeros((2, 3)), [-1, 0]), {}, ValueError,
     r"labels must be class indices in \[0, 3\).*got -1 at index 0"),
    (losses.cross_entropy, (np.zeros((2, 3)), [0, 1, 2]), {}, ValueError,
     r"labels must have shape \(B,\) = \(2,\) to match logits \(B, K\) = \(2, 3\), got \(3,\)"),
    (losses.cross_entropy, (np.zeros((2, 3)), np.eye(3, dtype=int)[[0, 2]]), {}, ValueError,
     r"labels must have shape \(B,\).*not one-hot"),
]


@pytest.mark.parametrize("fn, args, kwargs, error, match", BAD_INPUT,
                         ids=[f"{case[0].__name__}-{i}" for i, case in enumerate(BAD_INPUT)])
def test_rejects_bad_input_with_a_message_naming_the_argument(fn, args, kwargs, error, match):
    with pytest.raises(error, match=match):
        fn(*args, **kwargs)


# ------------------------------------------------------------ one example each; robust fits


def test_robust_fits_move_less_than_least_squares_under_an_outlier():
    x, y = outlier_data(outlier_y=-20.0)
    clean = fit_line(x[:-1], y[:-1], "MSE")[0]
    moved = {loss: abs(fit_line(x, y, loss)[0] - clean) for loss in ("MSE", "MAE", "Huber")}
    assert moved["MSE"] > 5 * moved["Huber"] and moved["MSE"] > 5 * moved["MAE"], moved


def test_least_squares_fit_matches_numpy_polyfit():
    x, y = outlier_data()
    np.testing.assert_allclose(fit_line(x, y, "MSE"), np.polyfit(x, y, 1), rtol=1e-10)


def test_pointwise_losses_are_the_losses_of_one_example_each():
    target, delta = 0.7, 0.8
    for prediction in (-3.0, 0.2, 0.7, 1.1, 4.0):
        losses, grads = pointwise_losses(np.array(prediction), target, delta)
        p, t = np.array([prediction]), np.array([target])
        for name, (value, grad) in {"MSE": mse(p, t), "MAE": mae(p, t),
                                    "Huber": huber(p, t, delta)}.items():
            np.testing.assert_allclose(losses[name], value, rtol=1e-12)
            np.testing.assert_allclose(grads[name], grad[0], rtol=1e-12)
