"""Solutions to the exercises of notebooks/10_gru.ipynb. Try them yourself first!"""

import numpy as np


def sigmoid(a):
    return 0.5 + 0.5 * np.tanh(0.5 * a)  # = 1 / (1 + e^-a), without overflow for large |a|


def gru_step(x_t, h_prev, w_ih, w_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    a_x = x_t @ w_ih + b_ih  # (B, 3H): the input side of the r, z and n blocks
    a_h = h_prev @ w_hh + b_hh  # (B, 3H): the hidden side, its bias b_hn included
    r = sigmoid(a_x[:, :H] + a_h[:, :H])  # reset: how much of the past the candidate sees
    z = sigmoid(a_x[:, H:2 * H] + a_h[:, H:2 * H])  # update: how much of the old state to keep
    # torch applies r AFTER the hidden product, bias b_hn included: r * (h_prev @ W_hn + b_hn)
    n = np.tanh(a_x[:, 2 * H:] + r * a_h[:, 2 * H:])  # the candidate state, in (-1, 1)
    # torch's blend: z near 1 keeps the old state, z near 0 takes the candidate
    return (1.0 - z) * n + z * h_prev


def gru_step_backward(dh, x_t, h_prev, w_ih, w_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    # The forward step again, keeping what the derivatives need.
    a_x = x_t @ w_ih + b_ih  # (B, 3H)
    a_h = h_prev @ w_hh + b_hh  # (B, 3H)
    r = sigmoid(a_x[:, :H] + a_h[:, :H])
    z = sigmoid(a_x[:, H:2 * H] + a_h[:, H:2 * H])
    hidden_n = a_h[:, 2 * H:]  # h_prev @ W_hn + b_hn, the term r scales
    n = np.tanh(a_x[:, 2 * H:] + r * hidden_n)
    # h_t = (1 - z) * n + z * h_prev: each factor's gradient is dh times the other factor.
    dn = dh * (1.0 - z)
    dz = dh * (h_prev - n)  # d/dz of n - z*n + z*h_prev
    da_n = dn * (1.0 - n**2)  # through n's tanh
    dr = da_n * hidden_n  # a_n = ... + r * hidden_n
    da_r = dr * r * (1.0 - r)  # through the sigmoids: sigma' = sigma (1 - sigma)
    da_z = dz * z * (1.0 - z)
    # The two sides differ only in the n block: r scales the hidden side, not the input side.
    da_x = np.concatenate([da_r, da_z, da_n], axis=1)  # (B, 3H)
    da_h = np.concatenate([da_r, da_z, da_n * r], axis=1)  # (B, 3H)
    # Each side is a dense layer (notebook 04): dx = dout @ w.T, dw = x.T @ dout, db = sum.
    dx_t = da_x @ w_ih.T
    # h_prev has two ways to h_t: directly through z * h_prev, and through all three blocks.
    dh_prev = dh * z + da_h @ w_hh.T
    return dx_t, dh_prev, x_t.T @ da_x, h_prev.T @ da_h, da_x.sum(axis=0), da_h.sum(axis=0)


def recurrent_param_count(cell, D, H):
    # Every block (a gate or the candidate) is a dense layer on [x_t, h_prev]:
    # an input matrix D x H, a recurrent matrix H x H, and in torch two bias vectors of H
    # (b_ih and b_hh; the GRU needs both, since b_hn sits inside r * (...)).
    blocks = {"rnn": 1, "lstm": 4, "gru": 3}[cell]  # RNN: one; LSTM: i, f, g, o; GRU: r, z, n
    return blocks * (D * H + H * H + 2 * H)
