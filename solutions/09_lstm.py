"""Solutions to the exercises of notebooks/09_lstm.ipynb. Try them yourself first!"""

import numpy as np


def sigmoid(a):
    return 0.5 + 0.5 * np.tanh(0.5 * a)  # = 1 / (1 + e^-a), without overflow for large |a|


def lstm_step(x_t, h_prev, c_prev, w_ih, w_hh, b):
    H = h_prev.shape[1]
    a = x_t @ w_ih + h_prev @ w_hh + b  # (B, 4H): all four gates in one product
    # torch's order: input, forget, candidate, output, each a block of H columns
    i = sigmoid(a[:, :H])  # how much of the candidate to write, in (0, 1)
    f = sigmoid(a[:, H:2 * H])  # how much of the old cell to KEEP, in (0, 1)
    g = np.tanh(a[:, 2 * H:3 * H])  # the candidate content, in (-1, 1)
    o = sigmoid(a[:, 3 * H:])  # how much of the cell to show
    # The cell update: keep a fraction f of the old memory, add the gated new content.
    # The sum is the LSTM's trick: along c the gradient is multiplied only by f.
    c_t = f * c_prev + i * g
    h_t = o * np.tanh(c_t)  # squash the unbounded cell, then let part of it out
    return h_t, c_t
