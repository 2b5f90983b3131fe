"""nnlib.rnn against torch.nn.RNN/LSTM/GRU(batch_first=True) in float64 (outputs and every
gradient, random upstream gradients, non-zero initial states), finite differences, and bad
input."""

import numpy as np
import pytest
import torch
from parity import check_pair, check_pair_numerically
from torch.func import functional_call

from nnlib.rnn import (
    gradient_norms_through_time,
    gru_backward,
    gru_forward,
    lstm_backward,
    lstm_forward,
    orthogonal_with_radius,
    rnn_backward,
    rnn_forward,
    rnn_state_gradients,
)

# (B, T, D, H): batch 1, one step, one feature, one unit, and a larger case
SHAPES = [(1, 1, 1, 1), (1, 4, 3, 2), (3, 1, 2, 4), (2, 6, 3, 5), (4, 12, 5, 8)]
IDS = ["B{}T{}D{}H{}".format(*s) for s in SHAPES]


def inputs(kind, B, T, D, H, seed=0):
    rng = np.random.default_rng(seed)
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    arrays = {"x": rng.standard_normal((B, T, D)), "h0": rng.standard_normal((B, H))}
    if kind == "lstm":
        arrays["c0"] = rng.standard_normal((B, H))
    arrays["w_ih"] = rng.standard_normal((D, gates * H)) * 0.6
    arrays["w_hh"] = rng.standard_normal((H, gates * H)) * 0.6
    if kind == "gru":
        arrays["b_ih"], arrays["b_hh"] = rng.standard_normal(3 * H), rng.standard_normal(3 * H)
    else:
        arrays["b"] = rng.standard_normal(gates * H)
    return arrays


def torch_layer(kind, D, H):
    layer = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    return layer(D, H, batch_first=True).double()


def torch_rnn(x, h0, w_ih, w_hh, b):
    layer = torch_layer("rnn", x.shape[2], h0.shape[1])
    params = {"weight_ih_l0": w_ih.T, "weight_hh_l0": w_hh.T, "bias_ih_l0": b,
              "bias_hh_l0": torch.zeros_like(b)}
    return functional_call(layer, params, (x, h0[None]))[0]


def torch_lstm(x, h0, c0, w_ih, w_hh, b):
    layer = torch_layer("lstm", x.shape[2], h0.shape[1])
    params = {"weight_ih_l0": w_ih.T, "weight_hh_l0": w_hh.T, "bias_ih_l0": b,
              "bias_hh_l0": torch.zeros_like(b)}
    return functional_call(layer, params, (x, (h0[None], c0[None])))[0]


def torch_gru(x, h0, w_ih, w_hh, b_ih, b_hh):
    layer = torch_layer("gru", x.shape[2], h0.shape[1])
    params = {"weight_ih_l0": w_ih.T, "weight_hh_l0": w_hh.T, "bias_ih_l0": b_ih,
              "bias_hh_l0": b_hh}
    return functional_call(layer, params, (x, h0[None]))[0]


PAIRS = {
    "rnn": (rnn_forward, rnn_backward, torch_rnn, ("x", "h0", "w_ih", "w_hh", "b")),
    "lstm": (lstm_forward, lstm_backward, torch_lstm, ("x", "h0", "c0", "w_ih", "w_hh", "b")),
    "gru": (gru_forward, gru_backward, torch_gru, ("x", "h0", "w_ih", "w_hh", "b_ih", "b_hh")),
}


@pytest.mark.parametrize("kind", PAIRS)
@pytest.mark.parametrize("B, T, D, H", SHAPES, ids=IDS)
def test_matches_torch(kind, B, T, D, H):
    forward, backward, reference, names = PAIRS[kind]
    out, _ = check_pair(forward, backward, reference, inputs(kind, B, T, D, H), names)
    assert out.shape == (B, T, H)


@pytest.mark.parametrize("kind", PAIRS)
@pytest.mark.parametrize("B, T, D, H", SHAPES[:4], ids=IDS[:4])
def test_matches_finite_differences(kind, B, T, D, H):
    forward, backward, _, names = PAIRS[kind]
    check_pair_numerically(forward, backward, inputs(kind, B, T, D, H, seed=1), names)


def test_lstm_final_cell_state_and_gates_match_torch():
    arrays = inputs("lstm", 2, 7, 3, 4, seed=2)
    hs, cache = lstm_forward(**arrays)
    layer = torch_layer("lstm", 3, 4)
    t = {k: torch.tensor(v) for k, v in arrays.items()}
    params = {"weight_ih_l0": t["w_ih"].T, "weight_hh_l0": t["w_hh"].T, "bias_ih_l0": t["b"],
              "bias_hh_l0": torch.zeros(16, dtype=torch.float64)}
    _, (h_n, c_n) = functional_call(layer, params, (t["x"], (t["h0"][None], t["c0"][None])))
    np.testing.assert_allclose(cache.c_final, c_n[0].detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(hs[:, -1], h_n[0].detach().numpy(), rtol=1e-12)
    # the gates are the activations: sigmoids in (0, 1), g = tanh in (-1, 1)
    for name in "ifo":
        assert cache.gate(name).shape == (2, 7, 4)
        assert np.all((cache.gate(name) > 0) & (cache.gate(name) < 1))
    assert np.all(np.abs(cache.gate("g")) < 1)
    np.testing.assert_allclose(cache.gate("o") * np.tanh(cache.cs), hs, rtol=1e-12)


def test_gru_update_gate_blends_old_and_new_state():
    arrays = inputs("gru", 2, 5, 3, 4, seed=3)
    hs, cache = gru_forward(**arrays)
    z, n = cache.gate("z"), cache.gate("n")
    h_prev = np.concatenate([arrays["h0"][:, None], hs[:, :-1]], axis=1)
    np.testing.assert_allclose(hs, (1 - z) * n + z * h_prev, rtol=1e-12)


def test_sigmoid_gates_do_not_overflow_for_huge_inputs():
    arrays = inputs("lstm", 2, 3, 2, 3)
    arrays["x"] = arrays["x"] * 1e4
    with np.errstate(all="raise"):
        hs, cache = lstm_forward(**arrays)
        lstm_backward(np.ones_like(hs), cache)
    assert np.isfinite(hs).all()


# ------------------------------------------------------------------ bad input
def good(kind):
    return inputs(kind, 2, 3, 4, 5)


def with_(kind, **changes):
    return {**good(kind), **changes}


BAD_INPUT = [
    (lambda: rnn_forward(**with_("rnn", x=np.ones((2, 3, 7)))),
     r"x must have shape \(B, T, 4\) \(batch first, D = 4 features as in w_ih \(4, 5\)\), "
     r"got \(2, 3, 7\)"),
    (lambda: rnn_forward(**with_("rnn", x=np.ones((3, 4)))), r"x must have shape \(B, T, 4\)"),
    (lambda: rnn_forward(**with_("rnn", h0=np.ones((2, 6)))),
     r"h0 must have shape \(B, H\) = \(2, 5\), got \(2, 6\)"),
    (lambda: rnn_forward(**with_("rnn", h0=np.ones((1, 2, 5)))),
     r"h0 must have shape \(B, H\) = \(2, 5\), got \(1, 2, 5\)"),
    (lambda: rnn_forward(**with_("rnn", w_hh=np.ones((5, 6)))),
     r"w_hh must have shape \(H, H\) for an RNN, got \(5, 6\)"),
    (lambda: rnn_forward(**with_("rnn", b=np.ones(4))), r"b must have shape \(5,\), got \(4,\)"),
    (lambda: lstm_forward(**with_("lstm", c0=np.ones((3, 5)))),
     r"c0 must have shape \(B, H\) = \(2, 5\), got \(3, 5\)"),
    (lambda: lstm_forward(**with_("lstm", w_ih=np.ones((4, 5)))),
     r"w_ih must have shape \(D, 20\) to match w_hh \(5, 20\), got \(4, 5\)"),
    (lambda: lstm_forward(**with_("lstm", w_hh=np.ones((5, 15)))),
     r"w_hh must have shape \(H, 4H\) for an LSTM, got \(5, 15\)"),
    (lambda: gru_forward(**with_("gru", b_hh=np.ones(20))),
     r"b_hh must have shape \(15,\), got \(20,\)"),
    (lambda: gru_forward(**with_("gru", x=np.ones((2, 0, 4)))), r"at least one time step"),
    (lambda: rnn_backward(np.ones((2, 3, 4)), rnn_forward(**good("rnn"))[1]),
     r"dhs must have the forward output's shape \(2, 3, 5\), got \(2, 3, 4\)"),
    (lambda: lstm_backward(np.ones((3, 5)), lstm_forward(**good("lstm"))[1]),
     r"dhs must have the forward output's shape \(2, 3, 5\), got \(3, 5\)"),
]


@pytest.mark.parametrize("call, message", BAD_INPUT, ids=range(len(BAD_INPUT)))
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_non_numbers_are_rejected_by_name():
    with pytest.raises(TypeError, match="x must hold real numbers"):
        rnn_forward(**with_("rnn", x=np.full((2, 3, 4), "a")))


# ------------------------------------------------------------------ through time
def test_state_gradients_are_what_rnn_backward_uses():
    arrays = inputs("rnn", 2, 6, 3, 4, seed=4)
    hs, cache = rnn_forward(**arrays)
    dhs = np.random.default_rng(5).standard_normal(hs.shape)
    state_grads, dh0 = rnn_state_gradients(dhs, cache)
    np.testing.assert_array_equal(dh0, rnn_backward(dhs, cache)[1])
    np.testing.assert_allclose(state_grads[:, -1], dhs[:, -1])  # the last step: its own output
    # one step back: through tanh and w_hh, plus that step's own output gradient
    expected = dhs[:, -2] + (state_grads[:, -1] * (1 - hs[:, -1] ** 2)) @ arrays["w_hh"].T
    np.testing.assert_allclose(state_grads[:, -2], expected, rtol=1e-12)


@pytest.mark.parametrize("radius", [0.5, 1.0, 1.7])
def test_orthogonal_with_radius_has_that_spectral_radius(radius):
    w = orthogonal_with_radius(16, radius, np.random.default_rng(0))
    np.testing.assert_allclose(np.abs(np.linalg.eigvals(w)), radius, rtol=1e-10)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("radius", [0.5, 0.8, 0.95, 1.05, 1.2, 1.5])
def test_gradient_norm_changes_geometrically_with_the_spectral_radius(radius, seed):
    # In tanh's linear range (tiny inputs) each step back multiplies ||dL/dh_t|| by the
    # spectral radius exactly: a straight line on a log scale with slope log(radius).
    norms = gradient_norms_through_time(radius, T=30, input_scale=1e-8, seed=seed)
    steps_back = np.arange(len(norms))[::-1]
    ratio = np.exp(np.polyfit(steps_back, np.log(norms), 1)[0])
    assert ratio == pytest.approx(radius, rel=1e-3)
    assert (norms[0] < norms[-1]) == (radius < 1)


def test_saturation_caps_the_explosion_but_not_the_vanishing():
    # With inputs of ordinary size the states of a radius-1.5 network saturate tanh,
    # whose derivative then shrinks every step: the growth stays far below 1.5 per step.
    norms = gradient_norms_through_time(1.5, T=30, input_scale=0.5, seed=0)
    ratio = np.exp(np.polyfit(np.arange(30)[::-1], np.log(norms), 1)[0])
    assert ratio < 1.2
