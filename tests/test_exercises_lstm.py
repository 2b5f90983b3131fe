"""The LSTM exercises beyond the generic checks (tests/test_exercises.py): the references of
lstm_step_backward and cell_path_gradient agree with nnlib.rnn.lstm_backward, torch and
finite differences; the cases hold the edge cases they promise; a few answers that are no
listed mistake are still diagnosed clearly."""

import numpy as np
import pytest
import torch
from helpers import load_solutions

from nnlib.exercises import lstm
from nnlib.gradcheck import numerical_gradient
from nnlib.rnn import lstm_backward, lstm_forward

BACKWARD = lstm.lstm_step_backward
NAMES = ("dx_t", "dh_prev", "dc_prev", "dw_ih", "dw_hh", "db")


def solution(name):
    return getattr(load_solutions(lstm), name)


def _step_weights(rng, D, H, scale=0.5):
    return (scale * rng.standard_normal((D, 4 * H)), scale * rng.standard_normal((H, 4 * H)),
            scale * rng.standard_normal(4 * H))


# ------------------------------------------------- lstm_step_backward's reference


@pytest.mark.parametrize("case", BACKWARD.cases, ids=lambda c: c.label)
def test_backward_reference_is_one_step_of_lstm_backward(case):
    # lstm_backward takes no gradient for the final cell state: compare with dc = 0
    dh, _, x_t, h_prev, c_prev, w_ih, w_hh, b = case.args
    _, cache = lstm_forward(x_t[:, None], h_prev, c_prev, w_ih, w_hh, b)
    dx, *rest = lstm_backward(dh[:, None], cache)
    ours = BACKWARD.reference(dh, np.zeros_like(dh), x_t, h_prev, c_prev, w_ih, w_hh, b)
    for name, got, expected in zip(NAMES, ours, (dx[:, 0], *rest)):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14, err_msg=name)


@pytest.mark.parametrize("B, T, D, H", [(2, 2, 3, 4), (1, 3, 2, 2), (3, 5, 4, 3)])
def test_the_step_chained_backwards_is_lstm_backward(B, T, D, H):
    # Steps after the first send dh_prev and dc_prev into the step before: this exercises
    # the dc input (the cell's highway) against nnlib.rnn, not only dh.
    rng = np.random.default_rng(B * 100 + T)
    x = rng.standard_normal((B, T, D))
    h0, c0 = rng.standard_normal((B, H)) * 0.5, rng.standard_normal((B, H))
    w_ih, w_hh, b = _step_weights(rng, D, H)
    hs, cache = lstm_forward(x, h0, c0, w_ih, w_hh, b)
    dhs = rng.standard_normal(hs.shape)
    expected = lstm_backward(dhs, cache)

    dx = np.empty_like(x)
    dh, dc = np.zeros((B, H)), np.zeros((B, H))
    sums = [np.zeros_like(w_ih), np.zeros_like(w_hh), np.zeros_like(b)]
    for t in range(T - 1, -1, -1):
        h_prev, c_prev = (hs[:, t - 1], cache.cs[:, t - 1]) if t else (h0, c0)
        dx[:, t], dh, dc, *step = BACKWARD.reference(dh + dhs[:, t], dc, x[:, t], h_prev,
                                                     c_prev, w_ih, w_hh, b)
        sums = [total + part for total, part in zip(sums, step)]
    for name, got, want in zip(("dx", "dh0", "dc0", "dw_ih", "dw_hh", "db"),
                               (dx, dh, dc, *sums), expected):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("case", BACKWARD.cases, ids=lambda c: c.label)
def test_backward_reference_matches_torch_with_a_cell_gradient(case):
    dh, dc, *args = case.args
    tensors = [torch.tensor(a, requires_grad=True) for a in args]
    x_t, h_prev, c_prev, w_ih, w_hh, b = tensors
    H = h_prev.shape[1]
    a = x_t @ w_ih + h_prev @ w_hh + b
    i, f = torch.sigmoid(a[:, :H]), torch.sigmoid(a[:, H:2 * H])
    g, o = torch.tanh(a[:, 2 * H:3 * H]), torch.sigmoid(a[:, 3 * H:])
    c_t = f * c_prev + i * g
    h_t = o * torch.tanh(c_t)
    (torch.sum(torch.tensor(dh) * h_t) + torch.sum(torch.tensor(dc) * c_t)).backward()
    ours = BACKWARD.reference(*case.args)
    for name, got, tensor in zip(NAMES, ours, tensors):
        np.testing.assert_allclose(got, tensor.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name)


def test_backward_reference_matches_finite_differences():
    dh, dc, *args = BACKWARD.cases[0].args

    def loss(*step_args):
        h_t, c_t = lstm.lstm_step.reference(*step_args)
        return float(np.sum(dh * h_t) + np.sum(dc * c_t))

    ours = BACKWARD.reference(dh, dc, *args)
    for k, (name, got) in enumerate(zip(NAMES, ours)):
        varied = [a.copy() for a in args]
        numeric = numerical_gradient(lambda v, k=k, varied=varied: loss(
            *varied[:k], v, *varied[k + 1:]), varied[k])
        np.testing.assert_allclose(got, numeric, rtol=1e-5, atol=1e-8, err_msg=name)


def test_backward_cases_hold_the_promised_edge_cases():
    args = [case.args for case in BACKWARD.cases]
    assert any(len(a[2]) == 1 for a in args), "a batch of one"
    assert any(not a[3].any() and not a[4].any() for a in args), "h_prev = c_prev = 0"
    assert any(not a[1].any() for a in args), "dc = 0"
    assert any(a[2].shape[1] != a[3].shape[1] for a in args), "D != H"
    assert all(a[1].any() for a in args[:3]), "the first cases test the highway"
    large = [a for case, a in zip(BACKWARD.cases, args) if "large" in case.label]
    assert large and np.abs(large[0][2] @ large[0][5]).max() > 710  # exp(a) overflows


# ----------------------------------------------------- lstm_step_backward's diagnoses


def test_backward_accepts_float32_and_a_list():
    step = solution("lstm_step_backward")
    assert BACKWARD.check(lambda *a: list(step(*a))).passed
    assert BACKWARD.check(lambda *a: [np.float32(g) for g in step(
        *(np.float32(x) for x in a))]).passed


@pytest.mark.parametrize("drop", [2, 5], ids=["without dc_prev", "without db"])
def test_backward_five_arrays_are_asked_for_six(drop):
    step = solution("lstm_step_backward")
    result = BACKWARD.check(lambda *a: tuple(g for k, g in enumerate(step(*a)) if k != drop))
    assert result.diagnosis == "form" and "return six arrays" in result.message


def test_backward_db_kept_2d_is_a_form_error():
    step = solution("lstm_step_backward")

    def keepdims(*args):
        *grads, db = step(*args)
        return (*grads, db[None])

    result = BACKWARD.check(keepdims)
    assert result.diagnosis == "form" and "b (4H,)" in result.message


def test_backward_a_wrong_weight_gradient_is_located():
    step = solution("lstm_step_backward")

    def off(*args):
        dx, dh_prev, dc_prev, dw_ih, dw_hh, db = step(*args)
        return dx, dh_prev, dc_prev, dw_ih, dw_hh + 0.5, db

    result = BACKWARD.check(off)
    assert result.diagnosis == "values" and "dw_hh is wrong at index (0, 0)" in result.message


# ----------------------------------------------------------- cell_path_gradient


@pytest.mark.parametrize("B, T, D, H", [(2, 4, 3, 2), (1, 7, 2, 3)])
def test_cell_path_is_lstm_backward_without_the_other_paths(B, T, D, H):
    # With w_hh = 0 the gates do not read h_{t-1}: the only way back to c0 is the cell path,
    # and lstm_backward's dc0 is the gradient arriving at the last cell times every gate.
    rng = np.random.default_rng(T)
    x = rng.standard_normal((B, T, D))
    h0, c0 = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    w_ih, _, b = _step_weights(rng, D, H, scale=1.0)
    hs, cache = lstm_forward(x, h0, c0, w_ih, np.zeros((H, 4 * H)), b)
    dhs = np.zeros_like(hs)
    dhs[:, -1] = rng.standard_normal((B, H))  # the loss reads the last step only
    dc0 = lstm_backward(dhs, cache)[2]
    o_last = cache.gate("o")[:, -1]
    dc_last = dhs[:, -1] * o_last * (1.0 - np.tanh(cache.c_final) ** 2)
    path = lstm.cell_path_gradient.reference(cache.gate("f"), dc_last)
    np.testing.assert_allclose(path[:, 0], dc0, rtol=1e-12, atol=1e-14)


def test_cell_path_with_a_constant_gate_is_a_power():
    # the notebook's use: the recall task's 59 steps with the gate at sigma(b_f)
    for f in (0.5, 0.982):
        path = lstm.cell_path_gradient.reference(np.full((1, 59, 1), f), np.ones((1, 1)))
        np.testing.assert_allclose(path[0, :, 0], f ** np.arange(59, 0, -1), rtol=1e-12)


def test_cell_path_cases_hold_the_promised_edge_cases():
    forgets = [case.args[0] for case in lstm.cell_path_gradient.cases]
    assert any(f.shape[0] == 1 for f in forgets), "a batch of one"
    assert any(f.shape[1] == 1 for f in forgets), "a single step"
    assert any(f.shape[1] >= 50 for f in forgets), "a long sequence"
    assert any(np.any(np.all(f == 0, axis=(0, 2))) for f in forgets), "a step shut at 0"
    for forget, dc in (case.args for case in lstm.cell_path_gradient.cases):
        assert np.all((forget >= 0) & (forget < 1)) and np.all(dc != 1.0)


def test_cell_path_a_sum_instead_of_a_product_is_a_value_error():
    def summed(forget, dc):
        return dc[:, None] * np.cumsum(forget[:, ::-1], axis=1)[:, ::-1]

    result = lstm.cell_path_gradient.check(summed)
    assert result.diagnosis == "values"
