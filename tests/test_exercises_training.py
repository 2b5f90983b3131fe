"""The larger exercises of notebooks 04 and 05 beyond the generic checks: the whole backward
pass of a two-layer network, a training step, and Adam's loop. Their references are the
library's (MLP.loss, nnlib.optim) and torch's; their checkers name the parameter that is wrong;
and the training recipe of notebook 04's guarded cell reaches the accuracy it asserts."""

import numpy as np
import pytest
import torch
from helpers import load_solutions

from nnlib.data import load_digits, standardize
from nnlib.exercises import backprop, optimizers
from nnlib.mlp import MLP
from nnlib.optim import SGD, Adam


def solution(module, name):
    return getattr(load_solutions(module), name)


def mlp_with(params):
    """A tanh MLP (no dropout) holding copies of ``params``."""
    D, H = params["w1"].shape
    model = MLP([D, H, params["w2"].shape[1]], activation="tanh")
    model.params = {k: v.copy() for k, v in params.items()}
    return model


# ------------------------------------------------------------------ two_layer_backward


@pytest.mark.parametrize("case", backprop.two_layer_backward.cases, ids=lambda c: c.label)
def test_two_layer_reference_is_mlp_loss_and_torch_autograd(case):
    x, y, params = case.args
    loss, grads = backprop.two_layer_backward.reference(x, y, params)

    mlp_loss, mlp_grads = mlp_with(params).loss(x, y)
    assert loss == pytest.approx(mlp_loss, rel=1e-12)
    for k in backprop.PARAM_NAMES:
        np.testing.assert_allclose(grads[k], mlp_grads[k], rtol=1e-10, atol=1e-14)

    p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    logits = torch.tanh(torch.tensor(x) @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"]
    loss_t = torch.nn.functional.cross_entropy(logits, torch.tensor(y))
    loss_t.backward()
    assert loss == pytest.approx(loss_t.item(), rel=1e-12)
    for k in backprop.PARAM_NAMES:
        np.testing.assert_allclose(grads[k], p[k].grad.numpy(), rtol=1e-10, atol=1e-14)


def edited(name, key, change):
    """The published two_layer_backward with the gradient ``key`` passed through ``change``."""
    def wrong(x, y, params):
        loss, grads = solution(backprop, "two_layer_backward")(x, y, params)
        grads[key] = change(grads[key])
        return loss, grads
    wrong.__name__ = name
    return wrong


def test_two_layer_checker_names_the_parameter_at_fault():
    check = backprop.two_layer_backward.check
    result = check(edited("keepdims", "b1", lambda g: g[None]))  # sum(axis=0, keepdims=True)
    assert result.diagnosis == "shape" and "gradient of b1 has shape (1, 3)" in result.message
    result = check(edited("one_transposed", "w2", lambda g: g.T))
    assert result.diagnosis == "transposed" and "gradient of w2 is transposed" in result.message
    result = check(edited("doubled", "w1", lambda g: 2 * g))
    assert result.diagnosis == "values" and "gradient of w1 is wrong" in result.message

    def loss_only(x, y, params):
        return solution(backprop, "two_layer_backward")(x, y, params)[0]

    assert check(loss_only).diagnosis == "form"


def test_a_correct_answer_other_than_the_published_one_passes():
    # an unshifted softmax is fine for these moderate logits: the checker accepts any correct
    # answer, not only the published one
    def naive(x, y, params):
        rows = np.arange(len(x))
        h = np.tanh(x @ params["w1"] + params["b1"])
        e = np.exp(h @ params["w2"] + params["b2"])
        p = e / e.sum(axis=1, keepdims=True)
        dlogits = p.copy()
        dlogits[rows, y] -= 1
        dlogits /= len(x)
        dz = dlogits @ params["w2"].T * (1 - h**2)
        return (-np.log(p[rows, y]).mean(),
                {"w1": x.T @ dz, "b1": dz.sum(0), "w2": h.T @ dlogits, "b2": dlogits.sum(0)})

    assert backprop.two_layer_backward.check(naive).passed


# --------------------------------------------------------------------------- train_step


@pytest.mark.parametrize("case", backprop.train_step.cases, ids=lambda c: c.label)
def test_train_step_reference_is_one_sgd_step_of_the_mlp(case):
    params, x, y, lr = case.args
    loss, new = backprop.train_step.reference(params, x, y, lr)
    model = mlp_with(params)
    model_loss, grads = model.loss(x, y)
    SGD(model.params, lr=lr).step(grads)
    assert loss == pytest.approx(model_loss, rel=1e-12)
    for k in backprop.PARAM_NAMES:
        np.testing.assert_allclose(new[k], model.params[k], rtol=1e-12, atol=1e-15)


def test_train_step_reports_an_unsolved_backward_pass_by_its_name():
    def my_two_layer_backward(x, y, params):
        raise NotImplementedError

    def my_train_step(params, x, y, lr):
        loss, grads = my_two_layer_backward(x, y, params)
        return loss, {k: p - lr * grads[k] for k, p in params.items()}

    result = backprop.train_step.check(my_train_step)
    assert result.diagnosis == "not-implemented"
    assert "`my_train_step` calls `my_two_layer_backward`" in result.message


def test_train_step_accepts_an_update_in_place_and_names_a_wrong_backward_pass():
    backward = solution(backprop, "two_layer_backward")

    def in_place(params, x, y, lr):
        loss, grads = backward(x, y, params)
        for k in params:
            params[k] -= lr * grads[k]
        return loss, params

    assert backprop.train_step.check(in_place).passed

    def wrong_w1(params, x, y, lr):
        loss, grads = edited("doubled", "w1", lambda g: 2 * g)(x, y, params)
        return loss, {k: p - lr * grads[k] for k, p in params.items()}

    result = backprop.train_step.check(wrong_w1)
    assert result.diagnosis == "values" and "new value of w1" in result.message
    assert "Exercise 3" in result.message

    def loss_after(params, x, y, lr):
        _, new = solution(backprop, "train_step")(params, x, y, lr)
        return backward(x, y, new)[0], new

    result = backprop.train_step.check(loss_after)
    assert result.diagnosis == "values" and "computed before the step" in result.message


# The recipe of notebook 04's guarded cell after Exercise 5 (keep the two in step).
EPOCHS, BATCH, LR, SIZES, ASSERTED = 15, 32, 0.2, [64, 32, 10], 0.94


def train_digits(train_step, seed):
    digits = load_digits()
    x_train, x_test = standardize(digits.x_train.reshape(-1, 64), digits.x_test.reshape(-1, 64))
    y_train, y_test = digits.y_train, digits.y_test
    params = MLP(SIZES, activation="tanh", seed=seed).params
    order_rng = np.random.default_rng(seed)
    for _ in range(EPOCHS):
        order = order_rng.permutation(len(x_train))
        for i in range(0, len(order), BATCH):
            batch = order[i:i + BATCH]
            _, params = train_step(params, x_train[batch], y_train[batch], lr=LR)
    logits = np.tanh(x_test @ params["w1"] + params["b1"]) @ params["w2"] + params["b2"]
    return np.mean(logits.argmax(axis=1) == y_test)


@pytest.mark.claims
def test_the_notebooks_own_training_loop_reaches_its_asserted_accuracy_for_ten_seeds():
    # measured: between 95.8% and 97.2% over these seeds; the notebook says "at least 95%
    # for every seed" and asserts 94% for its seed 0
    accuracies = [train_digits(solution(backprop, "train_step"), seed) for seed in range(10)]
    assert min(accuracies) >= 0.95 > ASSERTED, accuracies


# --------------------------------------------------------------------------- adam_path


@pytest.mark.parametrize("case", optimizers.adam_path.cases, ids=lambda c: c.label)
def test_adam_path_reference_retraces_nnlib_optim_adam(case):
    grad, p0, n_steps, lr, beta1, beta2, eps = case.args
    params = {"p": np.array(p0, dtype=float)}
    optimizer = Adam(params, lr=lr, betas=(beta1, beta2), eps=eps)
    path = [params["p"].copy()]
    for _ in range(n_steps):
        optimizer.step({"p": grad(params["p"])})
        path.append(params["p"].copy())
    np.testing.assert_allclose(optimizers.adam_path.reference(*case.args), np.array(path),
                               rtol=0, atol=1e-12)


def test_adam_path_reports_an_unsolved_adam_step_by_its_name():
    def adam_step(p, m, s, g, t, lr, beta1, beta2, eps):
        raise NotImplementedError

    def adam_path(grad, p0, n_steps, lr, beta1, beta2, eps):
        p, m, s = p0, np.zeros_like(p0), np.zeros_like(p0)
        path = [p]
        for t in range(1, n_steps + 1):
            p, m, s = adam_step(p, m, s, grad(p), t, lr, beta1, beta2, eps)
            path.append(p)
        return np.array(path)

    result = optimizers.adam_path.check(adam_path)
    assert result.diagnosis == "not-implemented"
    assert "`adam_path` calls `adam_step`" in result.message


def test_adam_path_accepts_a_list_of_points_and_names_a_missing_path():
    published = solution(optimizers, "adam_path")
    assert optimizers.adam_path.check(lambda *args: list(published(*args))).passed
    result = optimizers.adam_path.check(lambda *args: published(*args)[-1])
    assert result.diagnosis == "shape" and "(n_steps + 1, n)" in result.message
