"""The recurrent exercises (rnn_step, lstm_step, gru_step) beyond the generic checks:
their references are one step of nnlib.rnn's forward passes, their cases hold the edge
cases they promise, and the pair answer of lstm_step is diagnosed clearly."""


import numpy as np
import pytest
from helpers import load_solutions

from nnlib.exercises import gru, lstm, rnn
from nnlib.rnn import gru_forward, lstm_forward, rnn_forward


def solution(module, name):
    return getattr(load_solutions(module), name)


# --------------------------------------------------------------- references vs nnlib.rnn


@pytest.mark.parametrize("case", rnn.rnn_step.cases, ids=lambda c: c.label)
def test_rnn_reference_is_one_step_of_rnn_forward(case):
    x_t, h_prev, w_ih, w_hh, b = case.args
    hs, _ = rnn_forward(x_t[:, None], h_prev, w_ih, w_hh, b)
    np.testing.assert_allclose(rnn.rnn_step.reference(*case.args), hs[:, 0],
                               rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", lstm.lstm_step.cases, ids=lambda c: c.label)
def test_lstm_reference_is_one_step_of_lstm_forward(case):
    x_t, h_prev, c_prev, w_ih, w_hh, b = case.args
    hs, cache = lstm_forward(x_t[:, None], h_prev, c_prev, w_ih, w_hh, b)
    h_t, c_t = lstm.lstm_step.reference(*case.args)
    np.testing.assert_allclose(h_t, hs[:, 0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c_t, cache.c_final, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", gru.gru_step.cases, ids=lambda c: c.label)
def test_gru_reference_is_one_step_of_gru_forward(case):
    x_t, h_prev, w_ih, w_hh, b_ih, b_hh = case.args
    hs, _ = gru_forward(x_t[:, None], h_prev, w_ih, w_hh, b_ih, b_hh)
    np.testing.assert_allclose(gru.gru_step.reference(*case.args), hs[:, 0],
                               rtol=1e-12, atol=1e-14)


def test_the_published_steps_run_a_whole_sequence_like_the_forward_passes():
    rng = np.random.default_rng(0)
    B, T, D, H = 2, 6, 3, 4
    x = rng.standard_normal((B, T, D))
    h0, c0 = rng.standard_normal((B, H)), rng.standard_normal((B, H))

    def weights(G):
        return (rng.standard_normal((D, G * H)) / 2, rng.standard_normal((H, G * H)) / 2)

    w_ih, w_hh, b = *weights(1), rng.standard_normal(H)
    step, h = solution(rnn, "rnn_step"), h0
    for t in range(T):
        h = step(x[:, t], h, w_ih, w_hh, b)
    np.testing.assert_allclose(h, rnn_forward(x, h0, w_ih, w_hh, b)[0][:, -1], rtol=1e-12)

    w_ih, w_hh, b = *weights(4), rng.standard_normal(4 * H)
    step, h, c = solution(lstm, "lstm_step"), h0, c0
    for t in range(T):
        h, c = step(x[:, t], h, c, w_ih, w_hh, b)
    hs, cache = lstm_forward(x, h0, c0, w_ih, w_hh, b)
    np.testing.assert_allclose(h, hs[:, -1], rtol=1e-12)
    np.testing.assert_allclose(c, cache.c_final, rtol=1e-12)

    w_ih, w_hh, b_ih, b_hh = *weights(3), rng.standard_normal(3 * H), rng.standard_normal(3 * H)
    step, h = solution(gru, "gru_step"), h0
    for t in range(T):
        h = step(x[:, t], h, w_ih, w_hh, b_ih, b_hh)
    np.testing.assert_allclose(h, gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh)[0][:, -1],
                               rtol=1e-12)


# ------------------------------------------------------------------- the cases themselves


EXERCISES = [(rnn, "rnn_step"), (lstm, "lstm_step"), (gru, "gru_step")]


@pytest.mark.parametrize("module, name", EXERCISES, ids=[n for _, n in EXERCISES])
def test_the_cases_hold_the_promised_edge_cases(module, name):
    exercise = module.EXERCISES[name]
    x_ts = [case.args[0] for case in exercise.cases]
    h_prevs = [case.args[1] for case in exercise.cases]
    assert any(len(x_t) == 1 for x_t in x_ts), "a batch of one"
    assert any(not h.any() for h in h_prevs), "a zero initial state"
    assert any(x_t.shape[1] != h.shape[1] for x_t, h in zip(x_ts, h_prevs)), "D != H"
    for case in exercise.cases:
        assert all(np.asarray(a).dtype == np.float64 for a in case.args), case.label
    # large inputs: some preactivation beyond 710, where a hand-written exp overflows
    w_ih = exercise.cases[-1].args[3 if name == "lstm_step" else 2]
    assert "large" in exercise.cases[-1].label
    assert np.abs(x_ts[-1] @ w_ih).max() > 710


def test_rnn_has_a_square_case_first_for_the_silent_transposes():
    x_t, h_prev, w_ih, w_hh, _ = rnn.rnn_step.cases[0].args
    assert x_t.shape[0] == x_t.shape[1] == h_prev.shape[1]  # B = D = H


def test_gru_cases_have_a_nonzero_b_hn():
    # b_hn inside or outside r * (...) is the difference torch's formula makes
    for case in gru.gru_step.cases:
        H = case.args[1].shape[1]
        assert np.all(case.args[5][2 * H:] != 0), case.label


# --------------------------------------------------------------------------- diagnoses


def _exp_tanh(a):
    return (np.exp(a) - np.exp(-a)) / (np.exp(a) + np.exp(-a))


def test_rnn_a_hand_written_tanh_that_overflows_is_reported():
    def unstable(x_t, h_prev, w_ih, w_hh, b):
        return _exp_tanh(x_t @ w_ih + h_prev @ w_hh + b)

    result = rnn.rnn_step.check(unstable)
    assert result.diagnosis == "not-finite" and "large inputs" in result.message


def test_rnn_a_transposed_w_ih_is_named_on_the_square_case():
    result = rnn.rnn_step.check(lambda x_t, h, w_ih, w_hh, b: np.tanh(x_t @ w_ih.T + h @ w_hh + b))
    assert result.diagnosis == "mistake" and "w_ih is transposed" in result.message
    assert "B = D = H = 3" in result.message


@pytest.mark.parametrize("single", [0, 1], ids=["h_t only", "c_t only"])
def test_lstm_a_single_array_is_asked_for_the_pair(single):
    step = solution(lstm, "lstm_step")
    result = lstm.lstm_step.check(lambda *args: step(*args)[single])
    assert not result.passed and result.diagnosis == "form"
    assert "return the pair (h_t, c_t)" in result.message


def test_lstm_accepts_a_list_and_reports_a_wrong_cell_state_at_index_1():
    step = solution(lstm, "lstm_step")
    assert lstm.lstm_step.check(lambda *args: list(step(*args))).passed

    def off_cell(*args):
        h_t, c_t = step(*args)
        return h_t, c_t + 0.25

    result = lstm.lstm_step.check(off_cell)
    assert result.diagnosis == "values" and "at index (1, 0, 0)" in result.message


def test_lstm_a_pair_with_none_or_mismatched_shapes_is_asked_for_the_pair():
    step = solution(lstm, "lstm_step")
    for wrong in (lambda *a: (step(*a)[0], None), lambda *a: (step(*a)[0], step(*a)[1][:1])):
        assert lstm.lstm_step.check(wrong).diagnosis == "form"


@pytest.mark.parametrize("module, name", EXERCISES, ids=[n for _, n in EXERCISES])
def test_a_correct_float32_answer_is_accepted(module, name):
    step = solution(module, name)

    def in_float32(*args):
        return step(*(np.asarray(a, dtype=np.float32) for a in args))

    result = module.EXERCISES[name].check(in_float32)
    assert result.passed, result.message


def test_gru_the_reversed_blend_hint_explains_the_convention():
    result = gru.gru_step.check(solution(gru, "gru_step"))
    assert result.passed
    reversed_blend = gru.gru_step.mistakes[0]
    message = gru.gru_step.check(reversed_blend.wrong).message
    assert "(1 - z) * n + z * h_prev" in message and "KEEPS" in message
