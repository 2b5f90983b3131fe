"""The regularization exercises beyond the generic checks: dropout_backward's reference is
nnlib's backward and the forward's derivative, and overfit_small_batch's checker (which
judges a loss history, not one right answer) accepts any good loop, diagnoses each way a
loop goes wrong, stays deterministic and fast, and leaves its cases untouched."""

import copy
import time

import numpy as np
import pytest
from helpers import load_solutions

from nnlib.exercises import regularization
from nnlib.gradcheck import numerical_gradient
from nnlib.layers import DropoutCache, dropout_backward
from nnlib.mlp import MLP
from nnlib.optim import SGD, Adam

BACKWARD = regularization.dropout_backward
OVERFIT = regularization.overfit_small_batch


def solution(name):
    return getattr(load_solutions(regularization), name)


# ------------------------------------------------------------------------ dropout_backward


@pytest.mark.parametrize("case", BACKWARD.cases, ids=lambda c: c.label)
def test_dropout_backward_reference_is_nnlibs_backward(case):
    dout, keep, p = case.args
    cache = DropoutCache(keep / (1 - p), dout.shape)  # nnlib's cache holds the scaled mask
    np.testing.assert_allclose(BACKWARD.reference(*case.args), dropout_backward(dout, cache),
                               rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", BACKWARD.cases, ids=lambda c: c.label)
def test_dropout_backward_reference_is_the_forward_exercises_derivative(case):
    dout, keep, p = case.args
    u = np.where(keep, 0.999, 0.0) if p > 0 else np.full(keep.shape, 0.5)  # u >= p where kept
    x = np.random.default_rng(0).standard_normal(dout.shape)
    forward = regularization.dropout_forward.reference
    numeric = numerical_gradient(lambda z: float(np.sum(dout * forward(z, p, u))), x)
    np.testing.assert_allclose(BACKWARD.reference(*case.args), numeric, rtol=1e-5, atol=1e-8)


# --------------------------------------------------------------------- overfit_small_batch


def loop(make_optimizer, small=True):
    def train(model, x, y, n, threshold, max_steps):
        xb, yb = (x[:n], y[:n]) if small else (x, y)
        optimizer, history = make_optimizer(model.params), []
        for _ in range(max_steps):
            loss, grads = model.loss(xb, yb)
            history.append(loss)
            if loss < threshold:
                break
            optimizer.step(grads)
        return history
    return train


@pytest.mark.parametrize("make_optimizer", [
    lambda params: Adam(params, lr=0.01),
    lambda params: SGD(params, lr=0.5),
    lambda params: SGD(params, lr=0.1, momentum=0.9, nesterov=True),
], ids=["Adam", "plain SGD", "Nesterov"])
def test_any_loop_that_gets_there_passes(make_optimizer):
    result = OVERFIT.check(loop(make_optimizer))
    assert result.passed, result.message


def test_a_loop_that_returns_an_array_or_records_after_stepping_passes():
    def array_history(model, x, y, n, threshold, max_steps):
        return np.array(solution("overfit_small_batch")(model, x, y, n, threshold, max_steps))

    def step_then_record(model, x, y, n, threshold, max_steps):
        optimizer, history = SGD(model.params, lr=0.1, momentum=0.9), []
        for _ in range(max_steps):
            loss, grads = model.loss(x[:n], y[:n])
            optimizer.step(grads)  # one step more at the end: harmless
            history.append(loss)
            if loss < threshold:
                break
        return history

    assert OVERFIT.check(array_history).passed
    assert OVERFIT.check(step_then_record).passed


def test_the_solution_reaches_the_threshold_well_within_the_budget():
    train = solution("overfit_small_batch")
    for case in OVERFIT.cases:
        model, x, y, n, threshold, max_steps = copy.deepcopy(case.args)
        history = train(model, x, y, n, threshold, max_steps)
        assert history[-1] < threshold <= min(history[:-1]) and len(history) < max_steps / 4
        # the model passed in is the one trained: its loss on the batch is now small
        assert model.evaluate(x[:n], y[:n]) < threshold


def test_a_new_model_or_a_late_record_is_named_in_the_first_loss():
    def new_model(model, x, y, n, threshold, max_steps):
        return loop(lambda p: Adam(p, lr=0.01))(MLP([x.shape[1], 16, 3], seed=9), x, y, n,
                                                  threshold, max_steps)

    result = OVERFIT.check(new_model)
    assert result.diagnosis == "first-loss" and "the model you are given" in result.message


def test_a_blown_up_loss_is_a_learning_rate_too_large():
    result = OVERFIT.check(loop(lambda params: SGD(params, lr=1e4)))
    assert result.diagnosis == "mistake", result.message
    assert "learning rate that is too large" in result.message


def test_a_history_longer_than_the_budget_and_a_wrong_form_are_named():
    def too_long(model, x, y, n, threshold, max_steps):
        return [1.0] * (max_steps + 1)

    assert OVERFIT.check(too_long).diagnosis == "budget"
    for answer in ("not a history", 0.5, [], [[1.0, 0.5]]):
        result = OVERFIT.check(lambda *args, answer=answer: answer)
        assert result.diagnosis == "form" and "one float per step" in result.message


def test_the_checker_is_deterministic_fast_and_leaves_its_cases_alone():
    before = [copy.deepcopy(case.args[0].params) for case in OVERFIT.cases]
    train = solution("overfit_small_batch")
    start = time.perf_counter()
    results = [OVERFIT.check(train) for _ in range(2)]
    assert time.perf_counter() - start < 2.0  # two checks; about 0.03 s each on a quiet core
    assert results[0].message == results[1].message and results[0].passed
    for case, params in zip(OVERFIT.cases, before):
        for name, value in params.items():
            np.testing.assert_array_equal(case.args[0].params[name], value)

