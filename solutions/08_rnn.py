"""Solutions to the exercises of notebooks/08_rnn.ipynb. Try them yourself first!"""

import numpy as np


def rnn_step(x_t, h_prev, w_ih, w_hh, b):
    # Batch first: inputs and states are rows, so they multiply the weights from the left,
    #   x_t (B, D) @ w_ih (D, H)  and  h_prev (B, H) @ w_hh (H, H),  both (B, H).
    # The recurrent term h_prev @ w_hh is the network's memory: it is how the past reaches
    # this step. tanh keeps the new state in (-1, 1), centred on 0, however long the sequence.
    return np.tanh(x_t @ w_ih + h_prev @ w_hh + b)
