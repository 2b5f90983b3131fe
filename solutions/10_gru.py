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
