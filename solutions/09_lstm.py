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


def lstm_step_backward(dh, dc, x_t, h_prev, c_prev, w_ih, w_hh, b):
    H = h_prev.shape[1]
    # The forward step again, keeping what the derivatives need.
    a = x_t @ w_ih + h_prev @ w_hh + b  # (B, 4H)
    i, f = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])
    g, o = np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
    c_t = f * c_prev + i * g
    tanh_c = np.tanh(c_t)
    # c_t reaches the loss two ways: directly, through the next step's f * c_t (dc, the
    # cell's highway), and through h_t = o * tanh(c_t). Their gradients add.
    dc_t = dc + dh * o * (1.0 - tanh_c**2)
    # Each product's gradient is the upstream gradient times the other factor ...
    di, df, dg = dc_t * g, dc_t * c_prev, dc_t * i  # c_t = f * c_prev + i * g
    do = dh * tanh_c  # h_t = o * tanh(c_t)
    # ... then through each nonlinearity, written with its output s:
    # sigmoid' = s (1 - s) for the gates i, f, o; tanh' = 1 - s**2 for the candidate g.
    da = np.concatenate([di * i * (1.0 - i), df * f * (1.0 - f), dg * (1.0 - g**2),
                         do * o * (1.0 - o)], axis=1)  # (B, 4H), in the forward's order
    # a = x_t @ w_ih + h_prev @ w_hh + b is a dense layer (notebook 04) on each input.
    dx_t, dh_prev = da @ w_ih.T, da @ w_hh.T
    # c_prev enters only through f * c_prev: no weight matrix, no derivative of an
    # activation, just the forget gate. That is the path that keeps gradients alive.
    dc_prev = dc_t * f
    return dx_t, dh_prev, dc_prev, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)


def cell_path_gradient(forget, dc):
    # Step t reads c_{t-1} and writes c_t = f_t * c_{t-1} + ...; holding the gates fixed,
    # each step back multiplies the gradient by that step's forget gate. Walk from the end,
    # carrying the product: entry t gets dc * f_t * f_{t+1} * ... * f_{T-1}.
    out = np.empty_like(forget)  # (B, T, H)
    carried = dc  # (B, H): the gradient of the last cell state
    for t in range(forget.shape[1] - 1, -1, -1):
        carried = carried * forget[:, t]  # through step t's gate, into the cell it read
        out[:, t] = carried
    return out
