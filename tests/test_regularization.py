"""nnlib.regularization penalties against torch autograd (float64), and EarlyStopping."""

import re

import numpy as np
import pytest
import torch
from parity import TORCH_ATOL, TORCH_RTOL

from nnlib.regularization import EarlyStopping, is_weight, l1_penalty, l2_penalty


def random_params(seed=0):
    rng = np.random.default_rng(seed)
    return {"w1": rng.standard_normal((3, 4)), "b1": rng.standard_normal(4),
            "w2": rng.standard_normal((4, 2)), "b2": rng.standard_normal(2),
            "gamma": rng.standard_normal(2), "w_scalar": rng.standard_normal(())}


TORCH_PENALTIES = {
    "l1": (l1_penalty, lambda strength, w: strength * w.abs().sum()),
    "l2": (l2_penalty, lambda strength, w: strength / 2 * (w**2).sum()),
}


def torch_penalty(kind, params, strength, which):
    """Value and gradients of the penalty by torch autograd, every key included."""
    tensors = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    terms = [TORCH_PENALTIES[kind][1](strength, t) for k, t in tensors.items() if which(k)]
    total = sum(terms, torch.zeros((), dtype=torch.float64))
    if total.requires_grad:
        total.backward()
    grads = {k: np.zeros_like(params[k]) if t.grad is None else t.grad.numpy()
             for k, t in tensors.items()}
    return total.item(), grads


def assert_penalty_matches_torch(kind, params, strength, which=None):
    fn = TORCH_PENALTIES[kind][0]
    value, grads = fn(params, strength) if which is None else fn(params, strength, which)
    expected, expected_grads = torch_penalty(kind, params, strength, which or is_weight)
    assert type(value) is float
    assert value == pytest.approx(expected, rel=TORCH_RTOL, abs=TORCH_ATOL)
    assert list(grads) == list(params)  # every key, in order
    for k, g in grads.items():
        assert g.shape == params[k].shape
        np.testing.assert_allclose(g, expected_grads[k], rtol=TORCH_RTOL, atol=TORCH_ATOL,
                                   err_msg=f"gradient {k!r} differs from torch")
    return value, grads


@pytest.mark.parametrize("strength", [0.0, 1e-3, 0.5, 3.0])
@pytest.mark.parametrize("kind", TORCH_PENALTIES)
def test_penalty_matches_torch_and_spares_biases(kind, strength):
    params = random_params()
    _, grads = assert_penalty_matches_torch(kind, params, strength)
    for k in ("b1", "b2", "gamma"):
        assert not grads[k].any(), f"{k!r} must not be penalised by default"


@pytest.mark.parametrize("kind", TORCH_PENALTIES)
def test_custom_which_chooses_the_penalised_parameters(kind):
    params = random_params(1)
    every = assert_penalty_matches_torch(kind, params, 0.3, which=lambda k: True)[1]
    assert all(g.any() for g in every.values())
    _, grads = assert_penalty_matches_torch(kind, params, 0.3, which=lambda k: k.endswith("1"))
    assert grads["w1"].any() and grads["b1"].any() and not grads["w2"].any()
    value, grads = assert_penalty_matches_torch(kind, params, 0.3, which=lambda k: False)
    assert value == 0.0 and not any(g.any() for g in grads.values())


def test_hand_checkable_values():
    params = {"w": np.array([[1.0, -2.0], [0.0, 3.0]]), "b": np.array([5.0, -5.0])}
    value, grads = l1_penalty(params, 0.1)
    assert value == pytest.approx(0.6, rel=1e-15)
    np.testing.assert_array_equal(grads["w"], [[0.1, -0.1], [0.0, 0.1]])
    np.testing.assert_array_equal(grads["b"], [0.0, 0.0])
    value, grads = l2_penalty(params, 0.1)
    assert value == pytest.approx(0.05 * 14, rel=1e-15)
    np.testing.assert_allclose(grads["w"], 0.1 * params["w"], rtol=1e-15)


def test_l1_subgradient_at_exactly_zero_is_zero_as_torch():
    params = {"w": np.array([0.0, -0.0, 1e-300, -1e-300, 2.0, -2.0])}
    _, grads = assert_penalty_matches_torch("l1", params, 0.5)
    np.testing.assert_array_equal(grads["w"], [0.0, 0.0, 0.5, -0.5, 0.5, -0.5])
    t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    t.abs().sum().backward()
    assert t.grad.item() == 0.0  # the convention followed


def test_penalties_do_not_modify_or_alias_the_parameters():
    params = random_params(2)
    saved = {k: v.copy() for k, v in params.items()}
    for fn in (l1_penalty, l2_penalty):
        _, grads = fn(params, 0.5)
        for k in params:
            assert not np.shares_memory(grads[k], params[k]), (fn.__name__, k)
            grads[k] += 1.0
        for k in params:
            np.testing.assert_array_equal(params[k], saved[k])
    # strength 1: the gradient equals w, and must still be a copy
    _, grads = l2_penalty(params, 1.0)
    assert not np.shares_memory(grads["w1"], params["w1"])


def test_l2_penalty_equals_optimizer_weight_decay():
    # SGD with weight_decay=lam steps like plain SGD on the gradient plus l2_penalty(lam)'s
    from nnlib.optim import SGD

    params = {"w": np.array([1.0, -2.0])}
    g = np.array([0.3, 0.1])
    decayed = {"w": params["w"].copy()}
    SGD(decayed, lr=0.1, weight_decay=0.2).step({"w": g})
    penalised = {"w": params["w"].copy()}
    _, grads = l2_penalty(penalised, 0.2)
    SGD(penalised, lr=0.1).step({"w": g + grads["w"]})
    np.testing.assert_array_equal(decayed["w"], penalised["w"])


def test_is_weight():
    assert is_weight("w1") and is_weight("w_out")
    assert not is_weight("b1") and not is_weight("gamma")


@pytest.mark.parametrize("fn", [l1_penalty, l2_penalty])
@pytest.mark.parametrize("strength", [-1e-3, -1, float("nan"), float("inf"), True, "0.1", None])
def test_rejects_a_bad_strength(fn, strength):
    with pytest.raises(ValueError,
                       match="strength must be a finite number >= 0, got " + re.escape(
                           repr(strength))):
        fn(random_params(), strength)


@pytest.mark.parametrize("fn", [l1_penalty, l2_penalty])
def test_rejects_params_that_are_not_a_dict(fn):
    with pytest.raises(TypeError, match="params must be a dict name -> array, got list"):
        fn([np.ones(2)], 0.1)


# ------------------------------------------------------------------ early stopping
def test_early_stopping_stops_after_patience_epochs_without_improvement():
    stopper = EarlyStopping(patience=3)
    params = {"w": np.zeros(2)}
    decisions = []
    for epoch, loss in enumerate([5.0, 4.0, 3.0, 3.5, 3.0, 4.0, 2.0, 2.5]):
        params["w"][:] = epoch  # in place, as an optimizer does
        decisions.append(stopper.should_stop(loss, params))
    # best 3.0 at epoch 2; epochs 3, 4, 5 do not improve (3.0 is no improvement) -> stop at 5
    assert decisions == [False, False, False, False, False, True, False, False]
    assert stopper.best_epoch == 6 and stopper.best_loss == 2.0  # it keeps counting if called


def test_early_stopping_keeps_a_copy_of_the_best_parameters():
    stopper = EarlyStopping(patience=2)
    params = {"w": np.array([1.0, 2.0]), "b": np.array([0.5])}
    assert not stopper.should_stop(1.0, params)
    params["w"] += 10.0  # the optimizer keeps changing the same arrays
    params["b"][0] = -1.0
    assert not stopper.should_stop(1.5, params)
    assert stopper.should_stop(1.2, params)
    assert stopper.best_epoch == 0 and stopper.best_loss == 1.0
    assert set(stopper.best_params) == {"w", "b"}
    np.testing.assert_array_equal(stopper.best_params["w"], [1.0, 2.0])
    np.testing.assert_array_equal(stopper.best_params["b"], [0.5])
    assert stopper.best_params["w"] is not params["w"]
    assert not np.shares_memory(stopper.best_params["w"], params["w"])


def test_early_stopping_min_delta_and_patience_one():
    stopper = EarlyStopping(patience=1, min_delta=0.1)
    params = {"w": np.zeros(1)}
    assert not stopper.should_stop(1.0, params)
    assert stopper.should_stop(0.95, params)  # better, but not by more than min_delta
    assert stopper.best_loss == 1.0
    assert not stopper.should_stop(0.5, params)


def test_early_stopping_treats_nan_as_no_improvement():
    stopper = EarlyStopping(patience=2)
    params = {"w": np.zeros(1)}
    assert not stopper.should_stop(1.0, params)
    assert not stopper.should_stop(float("nan"), params)
    assert stopper.should_stop(float("nan"), params)
    assert stopper.best_loss == 1.0


def test_early_stopping_starts_empty():
    stopper = EarlyStopping()
    assert stopper.patience == 10 and stopper.best_params is None
    assert stopper.best_loss == np.inf and stopper.best_epoch == -1


@pytest.mark.parametrize("patience", [0, -1, 2.5, True, "3", None])
def test_early_stopping_rejects_a_bad_patience(patience):
    with pytest.raises(ValueError, match="patience must be an integer >= 1, got "):
        EarlyStopping(patience=patience)


def test_early_stopping_accepts_numpy_integers():
    assert EarlyStopping(patience=np.int64(4)).patience == 4
