"""Solutions to the exercises of notebooks/08_rnn.ipynb. Try them yourself first!"""

import numpy as np


def rnn_step(x_t, h_prev, w_ih, w_hh, b):
    # Batch first: inputs and states are rows, so they multiply the weights from the left,
    #   x_t (B, D) @ w_ih (D, H)  and  h_prev (B, H) @ w_hh (H, H),  both (B, H).
    # The recurrent term h_prev @ w_hh is the network's memory: it is how the past reaches
    # this step. tanh keeps the new state in (-1, 1), centred on 0, however long the sequence.
    return np.tanh(x_t @ w_ih + h_prev @ w_hh + b)


def rnn_bptt(dhs, x, h0, hs, w_ih, w_hh):
    B, T, H = hs.shape
    dx = np.zeros_like(x)
    dw_ih, dw_hh, db = np.zeros_like(w_ih), np.zeros_like(w_hh), np.zeros(H)
    dh_next = np.zeros((B, H))  # what step t+1 sends back to h_t: nothing after the last step
    for t in range(T - 1, -1, -1):  # backwards: step t needs what step t+1 sends
        # h_t feeds this step's output (dhs[:, t]) AND the next step: add both gradients.
        dh = dhs[:, t] + dh_next
        # h_t = tanh(a_t), and tanh'(a_t) = 1 - h_t²: no need to keep a_t.
        da = dh * (1.0 - hs[:, t] ** 2)  # (B, H)
        # a_t = x_t @ w_ih + h_{t-1} @ w_hh + b is a dense layer with two inputs (notebook 04):
        h_prev = hs[:, t - 1] if t > 0 else h0  # the state this step READ, not the one it wrote
        dx[:, t] = da @ w_ih.T  # (B, H) @ (H, D)
        # The same weights serve every step, so their gradients add up over the steps.
        dw_ih += x[:, t].T @ da  # (D, B) @ (B, H)
        dw_hh += h_prev.T @ da  # (H, B) @ (B, H)
        db += da.sum(axis=0)  # b is added to every example at every step
        dh_next = da @ w_hh.T  # back into h_{t-1}: transposed, as dx = dout @ w.T
    # After the loop, dh_next is what the first step sends to the state it read: h0's gradient.
    return dx, dh_next, dw_ih, dw_hh, db


def clip_by_global_norm(grads, max_norm):
    # The norm of the whole gradient: every entry of every array, taken as one long vector.
    total = np.sqrt(sum(np.sum(g**2) for g in grads))
    if total <= max_norm:
        return list(grads)  # short enough: leave it alone
    # One factor for all the arrays keeps the gradient's direction and sets its length to
    # max_norm; only the step's size changes (torch.nn.utils.clip_grad_norm_ does this).
    scale = max_norm / total
    return [g * scale for g in grads]
