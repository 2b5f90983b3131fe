"""The backward-pass and counting exercises of notebooks 08 and 10 (rnn_bptt,
clip_by_global_norm, gru_step_backward, recurrent_param_count) beyond the generic checks:
their references agree with nnlib.rnn and with torch, their step-by-step mistake models are
right when no mistake is switched on, the cases hold the edge cases they promise, and the
tuple answers are diagnosed clearly."""

import numpy as np
import pytest
import torch
from helpers import load_solutions

from nnlib.exercises import gru, rnn
from nnlib.rnn import gru_backward, gru_forward


def solution(module, name):
    return getattr(load_solutions(module), name)


def assert_same(got, expected):
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- rnn_bptt


@pytest.mark.parametrize("case", rnn.rnn_bptt.cases, ids=lambda c: c.label)
def test_bptt_mistake_model_with_no_mistake_is_rnn_backward(case):
    assert_same(rnn._bptt(*case.args), rnn.rnn_bptt.reference(*case.args))


def test_bptt_cases_hold_the_promised_edge_cases():
    shapes = [case.args[3].shape for case in rnn.rnn_bptt.cases]  # hs (B, T, H)
    assert any(B == 1 for B, _, _ in shapes), "a batch of one"
    assert any(T == 1 for _, T, _ in shapes), "a sequence of one step"
    assert any(not case.args[2].any() for case in rnn.rnn_bptt.cases), "h0 = 0"
    assert any(case.args[1].shape[2] != case.args[3].shape[2] for case in rnn.rnn_bptt.cases)
    many_to_one = [c for c in rnn.rnn_bptt.cases if "last step only" in c.label][0]
    dhs = many_to_one.args[0]
    assert not dhs[:, :-1].any() and dhs[:, -1].all()
    first = rnn.rnn_bptt.cases[0]  # every mistake is named there: it needs T > 1
    assert first.args[3].shape[1] > 1 and first.args[2].any()


def test_bptt_cases_are_real_forward_passes():
    # hs[:, t] = tanh(x_t @ w_ih + h_{t-1} @ w_hh + b) for one b (b is not an argument)
    for case in rnn.rnn_bptt.cases:
        _, x, h0, hs, w_ih, w_hh = case.args
        h_prev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)
        b = np.arctanh(hs) - x @ w_ih - h_prev @ w_hh  # (B, T, H), the same b everywhere
        np.testing.assert_allclose(b, np.broadcast_to(b[0, 0], b.shape), atol=1e-9)


def test_bptt_a_correct_float32_answer_and_a_list_are_accepted():
    bptt = solution(rnn, "rnn_bptt")
    assert rnn.rnn_bptt.check(
        lambda *a: bptt(*(np.asarray(v, dtype=np.float32) for v in a))).passed
    assert rnn.rnn_bptt.check(lambda *a: list(bptt(*a))).passed


@pytest.mark.parametrize("wrong", [
    lambda g: g[:4],  # four arrays
    lambda g: (*g[:4], g[4][None]),  # db with keepdims=True, (1, H)
    lambda g: (g[0], g[1].sum(axis=0), *g[2:]),  # dh0 summed over the batch, (H,)
    lambda g: (g[0].sum(axis=1), *g[1:]),  # dx summed over time
], ids=["four arrays", "db (1, H)", "dh0 without B", "dx without T"])
def test_bptt_a_malformed_answer_is_asked_for_the_five_arrays(wrong):
    bptt = solution(rnn, "rnn_bptt")
    result = rnn.rnn_bptt.check(lambda *a: wrong(bptt(*a)))
    assert result.diagnosis == "form" and "return five arrays" in result.message


# ---------------------------------------------------------------- clip_by_global_norm


@pytest.mark.parametrize("case", rnn.clip_by_global_norm.cases, ids=lambda c: c.label)
def test_clipping_reference_agrees_with_torch(case):
    grads, max_norm = case.args
    params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g)
    torch.nn.utils.clip_grad_norm_(params, max_norm)
    for ours, p in zip(rnn.clip_by_global_norm.reference(grads, max_norm), params, strict=True):
        np.testing.assert_allclose(ours, p.grad.numpy(), rtol=1e-5)  # torch adds 1e-6 to ||g||


def test_clipping_cases_cover_both_sides_of_the_threshold():
    norms = [rnn._global_norm(grads) / max_norm for grads, max_norm in
             (case.args for case in rnn.clip_by_global_norm.cases)]
    assert any(n < 1 for n in norms) and any(n > 100 for n in norms)
    grads, _ = rnn.clip_by_global_norm.cases[0].args
    assert len(grads) > 1  # clipping each array alone is named on the first case


def test_clipping_keeps_the_direction_and_the_short_gradients():
    clip = solution(rnn, "clip_by_global_norm")
    for case in rnn.clip_by_global_norm.cases:
        grads, max_norm = case.args
        clipped = clip(grads, max_norm)
        flat, flat_clipped = (np.concatenate([g.ravel() for g in gs]) for gs in (grads, clipped))
        cosine = flat @ flat_clipped / np.linalg.norm(flat) / np.linalg.norm(flat_clipped)
        assert cosine == pytest.approx(1.0)
        assert np.linalg.norm(flat_clipped) == pytest.approx(min(np.linalg.norm(flat), max_norm))


def test_clipping_torch_style_epsilon_and_in_place_answers_are_accepted():
    def with_epsilon(grads, max_norm):
        total = np.sqrt(sum(np.sum(g**2) for g in grads))
        return [g * min(1.0, max_norm / (total + 1e-6)) for g in grads]

    def in_place(grads, max_norm):
        total = np.sqrt(sum(np.sum(g**2) for g in grads))
        for g in grads:
            g *= min(1.0, max_norm / total)
        return grads

    assert rnn.clip_by_global_norm.check(with_epsilon).passed
    assert rnn.clip_by_global_norm.check(in_place).passed
    result = rnn.clip_by_global_norm.check(lambda grads, max_norm: None)
    assert result.diagnosis == "returned-none"


# ------------------------------------------------------------------ gru_step_backward


@pytest.mark.parametrize("case", gru.gru_step_backward.cases, ids=lambda c: c.label)
def test_gru_backward_mistake_model_with_no_mistake_is_gru_backward(case):
    assert_same(gru._gru_back(*case.args), gru.gru_step_backward.reference(*case.args))


@pytest.mark.parametrize("case", gru.gru_step_backward.cases[:4], ids=lambda c: c.label)
def test_gru_backward_reference_agrees_with_torch_autograd(case):
    dh, x_t, h_prev, w_ih, w_hh, b_ih, b_hh = (torch.tensor(a) for a in case.args)
    leaves = [x_t, h_prev, w_ih, w_hh, b_ih, b_hh]
    for leaf in leaves:
        leaf.requires_grad_(True)
    H = h_prev.shape[1]
    a_x, a_h = x_t @ w_ih + b_ih, h_prev @ w_hh + b_hh
    r, z = torch.sigmoid(a_x[:, :H] + a_h[:, :H]), torch.sigmoid(a_x[:, H:2 * H] + a_h[:, H:2 * H])
    n = torch.tanh(a_x[:, 2 * H:] + r * a_h[:, 2 * H:])
    ((1 - z) * n + z * h_prev).backward(dh)
    expected = [leaf.grad.numpy() for leaf in leaves]
    assert_same(gru.gru_step_backward.reference(*case.args), expected)


def test_gru_step_backward_chained_through_time_is_gru_backward():
    # BPTT is the step's backward pass, repeated: carry dh_prev into the step before.
    step_back = solution(gru, "gru_step_backward")
    rng = np.random.default_rng(1)
    B, T, D, H = 2, 5, 3, 4
    x, h0 = rng.standard_normal((B, T, D)), rng.standard_normal((B, H))
    w_ih, w_hh = rng.standard_normal((D, 3 * H)) / 2, rng.standard_normal((H, 3 * H)) / 2
    b_ih, b_hh = rng.standard_normal(3 * H), rng.standard_normal(3 * H)
    hs, cache = gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh)
    dhs = rng.standard_normal(hs.shape)
    dx, sums, dh = np.zeros_like(x), [0.0] * 4, np.zeros((B, H))
    for t in range(T - 1, -1, -1):
        h_prev = hs[:, t - 1] if t else h0
        dx[:, t], dh, *grads = step_back(dhs[:, t] + dh, x[:, t], h_prev, w_ih, w_hh, b_ih, b_hh)
        sums = [s + g for s, g in zip(sums, grads)]
    assert_same([dx, dh, *sums], gru_backward(dhs, cache))


def test_gru_backward_float32_answer_accepted_and_five_arrays_asked_for_six():
    step_back = solution(gru, "gru_step_backward")
    assert gru.gru_step_backward.check(
        lambda *a: step_back(*(np.asarray(v, dtype=np.float32) for v in a))).passed
    result = gru.gru_step_backward.check(lambda *a: step_back(*a)[:5])
    assert result.diagnosis == "form" and "return six arrays" in result.message
    result = gru.gru_step_backward.check(lambda *a: (*step_back(*a)[:4], *step_back(*a)[4:][::-1]))
    assert result.diagnosis == "values"  # the two biases' gradients swapped: same shapes


def test_gru_backward_cases_are_gru_steps_cases_with_an_upstream_gradient():
    for case in gru.gru_step_backward.cases:
        dh, _, h_prev, *_ = case.args
        assert dh.shape == h_prev.shape and dh.all()
    assert "large" in gru.gru_step_backward.cases[-1].label


# -------------------------------------------------------------- recurrent_param_count


@pytest.mark.parametrize("case", gru.recurrent_param_count.cases,
                         ids=lambda c: c.label)
def test_param_count_reference_is_torchs_count(case):
    cell, D, H = case.args
    layer = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](D, H)
    assert gru.recurrent_param_count.reference(*case.args) == sum(
        p.numel() for p in layer.parameters())


def test_param_count_off_by_one_is_wrong_and_a_float_is_fine():
    count = solution(gru, "recurrent_param_count")
    assert gru.recurrent_param_count.check(lambda *a: float(count(*a))).passed
    result = gru.recurrent_param_count.check(lambda *a: count(*a) + 1)
    assert not result.passed and result.diagnosis == "values"
