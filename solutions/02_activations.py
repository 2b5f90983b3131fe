"""Solutions to the exercises of notebooks/02_activations.ipynb. Try them yourself first!"""

import numpy as np


def tanh_grad(x):
    # d/dx tanh(x) = 1 - tanh(x)^2: largest (1) at 0, vanishing as |x| grows.
    return 1 - np.tanh(x) ** 2


def sigmoid_grad(x):
    # Stable sigmoid: exp only ever sees -|x| <= 0, so it cannot overflow.
    e = np.exp(-np.abs(x))
    s = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return s * (1 - s)


def softmax(z):
    # Subtracting each row's max changes nothing mathematically (it cancels in the ratio)
    # but keeps exp from overflowing.
    shifted = z - z.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def deep_forward(x, weights, activation):
    h = x  # (B, D): the signal entering the first layer
    stds = []
    for w in weights:  # layer l: (B, H_in) @ (H_in, H_out) -> (B, H_out)
        z = h @ w  # first the weighted sums (the pre-activations)...
        h = activation(z)  # ...then the non-linearity; h feeds the next layer
        stds.append(np.std(h))  # the spread of the layer's output, over all its entries
    return np.array(stds)
