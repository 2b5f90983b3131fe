"""Recurrent layers as forward/backward pairs, in numpy: the plain RNN, the LSTM and the GRU.

Batch first, as ``torch.nn.RNN/LSTM/GRU(batch_first=True)``: ``x (B, T, D)``, hidden
states ``(B, H)``, and the outputs ``hs (B, T, H)``, the hidden state after every
step. Weights read ``x @ w_ih`` and ``h @ w_hh`` (torch stores their transposes),
with the gates side by side in torch's order: LSTM ``i, f, g, o`` and GRU
``r, z, n``.

The forward passes loop over time (each step needs the previous one's state)
but do the input half of every step, ``x @ w_ih``, as one matrix product for
all steps at once. The backward passes (backpropagation through time) walk the
steps in reverse, carrying the gradient of the hidden state (and of the LSTM's
cell state) from step to step; the weight gradients are then one product each
over all steps. The caches are NamedTuples that also keep what the notebooks
plot: every hidden state, the LSTM's cell states and gates, the GRU's gates.

Tested against torch in float64 (every output and gradient, random upstream
gradients, non-zero initial states) and finite differences (tests/test_rnn.py).
"""

from typing import NamedTuple

import numpy as np

from nnlib.checks import as_float_array

__all__ = ["rnn_forward", "rnn_backward", "rnn_state_gradients", "lstm_forward",
           "lstm_backward", "gru_forward", "gru_backward", "RNNCache", "LSTMCache", "GRUCache",
           "orthogonal_with_radius", "gradient_norms_through_time", "ThroughTime",
           "run_through_time"]


def _sigmoid(a):
    # 1 / (1 + e^-a) written with tanh: one ufunc, and no overflow for large |a|
    out = np.multiply(a, 0.5)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def _check(x, h0, w_ih, w_hh, gates, name, c0=None):
    """Arrays as float64, with shapes checked against the weights; returns them and (B, T, D, H)."""
    x, h0 = as_float_array(x, "x"), as_float_array(h0, "h0")
    w_ih, w_hh = as_float_array(w_ih, "w_ih"), as_float_array(w_hh, "w_hh")
    if w_hh.ndim != 2 or w_hh.shape[1] != gates * w_hh.shape[0]:
        expected = "(H, H)" if gates == 1 else f"(H, {gates}H)"
        raise ValueError(f"w_hh must have shape {expected} for {name}, got {w_hh.shape}")
    H = w_hh.shape[0]
    if w_ih.ndim != 2 or w_ih.shape[1] != gates * H:
        raise ValueError(f"w_ih must have shape (D, {gates * H}) to match w_hh {w_hh.shape}, "
                         f"got {w_ih.shape}")
    D = w_ih.shape[0]
    if x.ndim != 3 or x.shape[2] != D:
        raise ValueError(f"x must have shape (B, T, {D}) (batch first, D = {D} features as in "
                         f"w_ih {w_ih.shape}), got {x.shape}")
    B, T, _ = x.shape
    if T == 0:
        raise ValueError("x must have at least one time step, got T = 0")
    if h0.shape != (B, H):
        raise ValueError(f"h0 must have shape (B, H) = ({B}, {H}), got {h0.shape}")
    if c0 is not None:
        c0 = as_float_array(c0, "c0")
        if c0.shape != (B, H):
            raise ValueError(f"c0 must have shape (B, H) = ({B}, {H}), got {c0.shape}")
    return x, h0, w_ih, w_hh, c0, (B, T, D, H)


def _check_bias(b, size, name):
    b = as_float_array(b, name)
    if b.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},), got {b.shape}")
    return b


def _check_dhs(dhs, cache):
    dhs = as_float_array(dhs, "dhs")
    if dhs.shape != cache.hs.shape:
        raise ValueError(f"dhs must have the forward output's shape {cache.hs.shape}, "
                         f"got {dhs.shape}")
    return dhs


def _weight_grads(x, h_prev, da, w_ih, w_hh):
    """dx, dw_ih, dw_hh from the pre-activation gradients ``da (B, T, G)`` of every step."""
    B, T, D = x.shape
    flat = da.reshape(B * T, -1)
    dw_ih = x.reshape(B * T, D).T @ flat  # every step used the same weights: sum over steps
    dw_hh = h_prev.reshape(B * T, -1).T @ flat
    dx = (flat @ w_ih.T).reshape(B, T, D)
    return dx, dw_ih, dw_hh


# --------------------------------------------------------------------------- plain RNN


class RNNCache(NamedTuple):
    x: np.ndarray  # (B, T, D)
    h0: np.ndarray  # (B, H)
    hs: np.ndarray  # (B, T, H), h_t for every step
    w_ih: np.ndarray
    w_hh: np.ndarray


def rnn_forward(x, h0, w_ih, w_hh, b):
    """A tanh RNN: ``h_t = tanh(x_t @ w_ih + h_{t-1} @ w_hh + b)``.

    Args:
        x: inputs ``(B, T, D)``, batch first.
        h0: the initial hidden state ``(B, H)``.
        w_ih: ``(D, H)``; w_hh: ``(H, H)``; b: ``(H,)`` (torch's ``b_ih + b_hh``).

    Returns:
        ``hs (B, T, H)`` and a cache (``cache.hs[:, -1]`` is the final state).
        Tested against ``torch.nn.RNN(D, H, batch_first=True)``.
    """
    x, h0, w_ih, w_hh, _, (B, T, D, H) = _check(x, h0, w_ih, w_hh, 1, "an RNN")
    b = _check_bias(b, H, "b")
    inputs = x @ w_ih + b  # (B, T, H): the input half of every step in one product
    hs = np.empty((B, T, H))
    h = h0
    for t in range(T):
        h = np.tanh(inputs[:, t] + h @ w_hh)
        hs[:, t] = h
    return hs, RNNCache(x, h0, hs, w_ih, w_hh)


def _previous(h0, hs):
    """``h_{t-1}`` for every step: h0, then hs without its last step."""
    return np.concatenate([h0[:, None], hs[:, :-1]], axis=1)


def rnn_state_gradients(dhs, cache):
    """What backpropagation through time carries: ``dL/dh_t`` for every step.

    Each step back multiplies the gradient by ``diag(1 - h_t^2) @ w_hh.T``; over
    many steps its norm shrinks or grows geometrically, at a rate set by the
    spectral radius of ``w_hh`` (vanishing and exploding gradients).

    Returns:
        ``(dh (B, T, H), dh0 (B, H))``: the total gradient of every hidden state
        (from its own output and from the steps after it), and of the initial state.
    """
    dhs = _check_dhs(dhs, cache)
    hs, w_hh = cache.hs, cache.w_hh
    state_grads = np.empty_like(hs)
    dh = np.zeros_like(cache.h0)  # what step t+1 sends back to h_t
    for t in range(hs.shape[1] - 1, -1, -1):
        dh = dh + dhs[:, t]  # h_t feeds the output and the next step
        state_grads[:, t] = dh
        dh = (dh * (1.0 - hs[:, t] ** 2)) @ w_hh.T  # through tanh, back into h_{t-1}
    return state_grads, dh


def rnn_backward(dhs, cache):
    """Backpropagation through time for ``rnn_forward``.

    Args:
        dhs: ``dL/dhs (B, T, H)``, the loss's gradient with respect to every output.

    Returns:
        ``dx (B, T, D), dh0 (B, H), dw_ih (D, H), dw_hh (H, H), db (H,)``.
    """
    state_grads, dh0 = rnn_state_gradients(dhs, cache)
    da = state_grads * (1.0 - cache.hs**2)  # the pre-activations' gradients, every step
    dx, dw_ih, dw_hh = _weight_grads(cache.x, _previous(cache.h0, cache.hs), da, cache.w_ih,
                                     cache.w_hh)
    return dx, dh0, dw_ih, dw_hh, da.sum(axis=(0, 1))


# --------------------------------------------------------------------------- LSTM


class LSTMCache(NamedTuple):
    x: np.ndarray  # (B, T, D)
    h0: np.ndarray  # (B, H)
    c0: np.ndarray  # (B, H)
    hs: np.ndarray  # (B, T, H), h_t = o_t * tanh(c_t)
    cs: np.ndarray  # (B, T, H), the cell states c_t
    gates: np.ndarray  # (B, T, 4H): i, f, g, o after their sigmoid / tanh
    w_ih: np.ndarray
    w_hh: np.ndarray

    @property
    def c_final(self):
        return self.cs[:, -1]

    def gate(self, name):
        """One gate's activations ``(B, T, H)``: ``"i"``, ``"f"``, ``"g"`` or ``"o"``."""
        k = "ifgo".index(name)
        H = self.hs.shape[2]
        return self.gates[:, :, k * H:(k + 1) * H]


def lstm_forward(x, h0, c0, w_ih, w_hh, b):
    """An LSTM, with torch's gate order ``i, f, g, o``.

    ``a = x_t @ w_ih + h_{t-1} @ w_hh + b`` split into four ``(B, H)`` blocks;
    ``i, f, o = sigmoid(...)``, ``g = tanh(...)``;
    ``c_t = f * c_{t-1} + i * g`` and ``h_t = o * tanh(c_t)``.

    Args:
        x: ``(B, T, D)``; h0, c0: ``(B, H)``; w_ih: ``(D, 4H)``; w_hh: ``(H, 4H)``;
        b: ``(4H,)`` (torch's ``b_ih + b_hh``).

    Returns:
        ``hs (B, T, H)`` and a cache with the cell states (``cache.c_final``) and the
        gates (``cache.gate("f")``). Tested against ``torch.nn.LSTM(batch_first=True)``.
    """
    x, h0, w_ih, w_hh, c0, (B, T, D, H) = _check(x, h0, w_ih, w_hh, 4, "an LSTM", c0=c0)
    b = _check_bias(b, 4 * H, "b")
    inputs = x @ w_ih + b  # (B, T, 4H)
    hs, cs, gates = np.empty((B, T, H)), np.empty((B, T, H)), np.empty((B, T, 4 * H))
    h, c = h0, c0
    for t in range(T):
        a = inputs[:, t] + h @ w_hh
        act = _sigmoid(a)  # i, f, o use it; g is overwritten with tanh below
        act[:, 2 * H:3 * H] = np.tanh(a[:, 2 * H:3 * H])
        i, f, g, o = act[:, :H], act[:, H:2 * H], act[:, 2 * H:3 * H], act[:, 3 * H:]
        c = f * c + i * g  # the cell state: forget some, write some
        h = o * np.tanh(c)
        hs[:, t], cs[:, t], gates[:, t] = h, c, act
    return hs, LSTMCache(x, h0, c0, hs, cs, gates, w_ih, w_hh)


def lstm_backward(dhs, cache):
    """Backpropagation through time for ``lstm_forward``.

    The cell state's gradient flows back through ``c_t = f * c_{t-1} + ...``
    multiplied only by the forget gate: the additive path that lets an LSTM
    carry gradients over many steps.

    Returns:
        ``dx (B, T, D), dh0 (B, H), dc0 (B, H), dw_ih (D, 4H), dw_hh (H, 4H), db (4H,)``.
    """
    dhs = _check_dhs(dhs, cache)
    hs, cs, gates, w_hh = cache.hs, cache.cs, cache.gates, cache.w_hh
    B, T, H = hs.shape
    da = np.empty_like(gates)
    dh, dc = np.zeros((B, H)), np.zeros((B, H))
    for t in range(T - 1, -1, -1):
        i, f, g, o = (gates[:, t, k * H:(k + 1) * H] for k in range(4))
        c_prev = cs[:, t - 1] if t else cache.c0
        tanh_c = np.tanh(cs[:, t])
        dh = dh + dhs[:, t]
        dc = dc + dh * o * (1.0 - tanh_c**2)  # h_t = o * tanh(c_t)
        step = da[:, t]
        step[:, :H] = dc * g * i * (1.0 - i)  # d/da through each gate's nonlinearity
        step[:, H:2 * H] = dc * c_prev * f * (1.0 - f)
        step[:, 2 * H:3 * H] = dc * i * (1.0 - g**2)
        step[:, 3 * H:] = dh * tanh_c * o * (1.0 - o)
        dh = step @ w_hh.T
        dc = dc * f  # the cell path: only the forget gate in the way
    dx, dw_ih, dw_hh = _weight_grads(cache.x, _previous(cache.h0, hs), da, cache.w_ih, w_hh)
    return dx, dh, dc, dw_ih, dw_hh, da.sum(axis=(0, 1))


# --------------------------------------------------------------------------- GRU


class GRUCache(NamedTuple):
    x: np.ndarray  # (B, T, D)
    h0: np.ndarray  # (B, H)
    hs: np.ndarray  # (B, T, H)
    gates: np.ndarray  # (B, T, 3H): r, z, n
    hidden_n: np.ndarray  # (B, T, H): h_{t-1} @ w_hn + b_hn, which r scales
    w_ih: np.ndarray
    w_hh: np.ndarray

    def gate(self, name):
        """One gate's activations ``(B, T, H)``: ``"r"``, ``"z"`` or ``"n"``."""
        k = "rzn".index(name)
        H = self.hs.shape[2]
        return self.gates[:, :, k * H:(k + 1) * H]


def gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh):
    """A GRU, with torch's formula and gate order ``r, z, n``.

    ``r = sigmoid(x_t @ W_ir + b_ir + h @ W_hr + b_hr)``, ``z`` alike,
    ``n = tanh(x_t @ W_in + b_in + r * (h @ W_hn + b_hn))``,
    ``h_t = (1 - z) * n + z * h_{t-1}``.

    Args:
        x: ``(B, T, D)``; h0: ``(B, H)``; w_ih: ``(D, 3H)``; w_hh: ``(H, 3H)``;
        b_ih, b_hh: ``(3H,)`` (two biases: ``b_hn`` sits inside ``r * (...)``).

    Returns:
        ``hs (B, T, H)`` and a cache with the gates (``cache.gate("z")``).
        Tested against ``torch.nn.GRU(batch_first=True)``.
    """
    x, h0, w_ih, w_hh, _, (B, T, D, H) = _check(x, h0, w_ih, w_hh, 3, "a GRU")
    b_ih, b_hh = _check_bias(b_ih, 3 * H, "b_ih"), _check_bias(b_hh, 3 * H, "b_hh")
    inputs = x @ w_ih + b_ih  # (B, T, 3H)
    hs, gates, hidden_n = np.empty((B, T, H)), np.empty((B, T, 3 * H)), np.empty((B, T, H))
    h = h0
    for t in range(T):
        a_h = h @ w_hh + b_hh
        rz = _sigmoid(inputs[:, t, :2 * H] + a_h[:, :2 * H])
        r, z = rz[:, :H], rz[:, H:]
        n = np.tanh(inputs[:, t, 2 * H:] + r * a_h[:, 2 * H:])
        h = (1.0 - z) * n + z * h  # blend: z keeps the old state, 1 - z takes the new
        hs[:, t], hidden_n[:, t] = h, a_h[:, 2 * H:]
        gates[:, t, :2 * H], gates[:, t, 2 * H:] = rz, n
    return hs, GRUCache(x, h0, hs, gates, hidden_n, w_ih, w_hh)


def gru_backward(dhs, cache):
    """Backpropagation through time for ``gru_forward``.

    Returns:
        ``dx (B, T, D), dh0 (B, H), dw_ih (D, 3H), dw_hh (H, 3H), db_ih (3H,), db_hh (3H,)``.
    """
    dhs = _check_dhs(dhs, cache)
    hs, gates, w_hh = cache.hs, cache.gates, cache.w_hh
    B, T, H = hs.shape
    da_x = np.empty_like(gates)  # pre-activation gradients, input side
    da_h = np.empty_like(gates)  # ... hidden side (differs in the n block: r * (...))
    dh = np.zeros((B, H))
    for t in range(T - 1, -1, -1):
        r, z, n = (gates[:, t, k * H:(k + 1) * H] for k in range(3))
        h_prev = hs[:, t - 1] if t else cache.h0
        dh = dh + dhs[:, t]
        dn = dh * (1.0 - z) * (1.0 - n**2)  # through n's tanh
        dz = dh * (h_prev - n) * z * (1.0 - z)
        dr = dn * cache.hidden_n[:, t] * r * (1.0 - r)
        da_x[:, t, :H], da_x[:, t, H:2 * H], da_x[:, t, 2 * H:] = dr, dz, dn
        da_h[:, t, :H], da_h[:, t, H:2 * H], da_h[:, t, 2 * H:] = dr, dz, dn * r
        dh = dh * z + da_h[:, t] @ w_hh.T  # the direct path through z, and through the gates
    B, T, D = cache.x.shape
    dx, dw_ih, _ = _weight_grads(cache.x, _previous(cache.h0, hs), da_x, cache.w_ih, w_hh)
    dw_hh = _previous(cache.h0, hs).reshape(B * T, H).T @ da_h.reshape(B * T, 3 * H)
    return dx, dh, dw_ih, dw_hh, da_x.sum(axis=(0, 1)), da_h.sum(axis=(0, 1))


# --------------------------------------------------------------------------- experiments


def orthogonal_with_radius(H, radius, rng):
    """A random ``(H, H)`` orthogonal matrix times ``radius``: every eigenvalue has modulus
    ``radius``, so the spectral radius is exactly ``radius``."""
    q, r = np.linalg.qr(rng.standard_normal((H, H)))
    return radius * q * np.sign(np.diag(r))  # the sign fix makes q uniformly distributed


class ThroughTime(NamedTuple):
    hs: np.ndarray  # (B, T, H), the hidden states
    grad_norms: np.ndarray  # (T,), mean over the batch of ||dL/dh_t||


def run_through_time(radius, T=40, hidden=32, batch=16, input_scale=0.01, seed=0):
    """A tanh RNN with ``w_hh`` of spectral radius ``radius``, forward and back through time.

    The network (``orthogonal_with_radius``) reads ``T`` steps of random inputs of
    size ``input_scale`` (small ones keep the states in tanh's near-linear range,
    where the theory is cleanest); a loss's gradient enters at the last step only.
    Returns ``ThroughTime(hs, grad_norms)``: the hidden states, and the mean over the
    batch of ``||dL/dh_t||`` for ``t = 0 .. T-1``; going back ``k`` steps multiplies it
    by about ``radius ** k``.
    """
    rng = np.random.default_rng(seed)
    w_hh = orthogonal_with_radius(hidden, radius, rng)
    w_ih = rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)
    x = rng.standard_normal((batch, T, hidden)) * input_scale
    hs, cache = rnn_forward(x, np.zeros((batch, hidden)), w_ih, w_hh, np.zeros(hidden))
    dhs = np.zeros_like(hs)
    g = rng.standard_normal((batch, hidden))
    dhs[:, -1] = g / np.linalg.norm(g, axis=1, keepdims=True)  # a unit gradient at step T-1
    state_grads, _ = rnn_state_gradients(dhs, cache)
    return ThroughTime(hs, np.linalg.norm(state_grads, axis=2).mean(axis=0))


def gradient_norms_through_time(radius, T=40, hidden=32, batch=16, input_scale=0.01, seed=0):
    """``run_through_time(...).grad_norms``: ``||dL/dh_t||`` for every step, ``(T,)``."""
    return run_through_time(radius, T, hidden, batch, input_scale, seed).grad_norms
