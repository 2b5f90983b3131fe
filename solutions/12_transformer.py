"""Solutions to the exercises of notebooks/12_transformer.ipynb. Try them yourself first!"""

import numpy as np


def scaled_dot_product_attention(q, k, v, mask=None):
    d = q.shape[-1]
    # One score per (query, key) pair: (..., Tq, d) @ (..., d, Tk) = (..., Tq, Tk).
    # swapaxes(-1, -2) transposes the last two axes only; k.T would reverse the batch too.
    # Dividing by sqrt(d) keeps the scores' spread near 1 whatever the width d.
    scores = q @ k.swapaxes(-1, -2) / np.sqrt(d)
    if mask is not None:
        # True = may attend. A blocked score becomes -inf, so its weight is exp(-inf) = 0.
        # np.where broadcasts a (Tq, Tk) mask over the batch and the heads.
        scores = np.where(mask, scores, -np.inf)
    # Softmax over the keys (the last axis), each row minus its maximum first: the largest
    # exponent is then exp(0) = 1, nothing overflows, and the weights do not change.
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=-1, keepdims=True)  # each row sums to 1
    return weights @ v  # (..., Tq, Tk) @ (..., Tk, dv) = (..., Tq, dv)


def causal_mask(T):
    # Row t is the query at position t, column s the key at position s: t may look at
    # s <= t, on and below the diagonal. Booleans, so that np.where and ~mask work.
    return np.tril(np.ones((T, T), dtype=bool))


def positional_encoding(T, E):
    positions = np.arange(T)[:, None]  # (T, 1): 0, 1, ..., T-1
    two_i = np.arange(0, E, 2)  # the even column indices 0, 2, 4, ...: one per pair
    angles = positions / 10000 ** (two_i / E)  # (T, ceil(E/2)): one frequency per pair
    pe = np.zeros((T, E))
    pe[:, 0::2] = np.sin(angles)  # even columns: sines
    pe[:, 1::2] = np.cos(angles[:, :E // 2])  # odd columns: cosines (one fewer if E is odd)
    return pe
