"""Solutions to the exercises of notebooks/12_transformer.ipynb. Try them yourself first!"""

import numpy as np
import torch.nn.functional as F


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


def multi_head_attention(x, params, n_heads, attention):
    B, T, E = x.shape
    d = E // n_heads  # each head works in d = E / h dimensions

    def split_heads(a):
        # (B, T, E) -> (B, T, h, d): cut each position's E columns into h blocks of d;
        # -> (B, h, T, d): move the heads forward, so that each head is a (T, d) sequence.
        # A plain reshape to (B, h, T, d) would cut the flat data into blocks of T*d numbers
        # and mix positions.
        return a.reshape(B, T, n_heads, d).transpose(0, 2, 1, 3)

    q = split_heads(x @ params["w_q"] + params["b_q"])  # (B, h, T, d)
    k = split_heads(x @ params["w_k"] + params["b_k"])
    v = split_heads(x @ params["w_v"] + params["b_v"])
    # Your attention of exercise 1 takes any leading axes: one call runs all h heads, and it
    # scales by sqrt(d) with d = q.shape[-1] = E / h, the width each head compares.
    out = attention(q, k, v)  # (B, h, T, d)
    # Undo the split: heads back next to d, then row t is [head_1(t), ..., head_h(t)].
    heads = out.transpose(0, 2, 1, 3).reshape(B, T, E)
    return heads @ params["w_o"] + params["b_o"]  # the output projection mixes the heads


def positional_encoding(T, E):
    positions = np.arange(T)[:, None]  # (T, 1): 0, 1, ..., T-1
    two_i = np.arange(0, E, 2)  # the even column indices 0, 2, 4, ...: one per pair
    angles = positions / 10000 ** (two_i / E)  # (T, ceil(E/2)): one frequency per pair
    pe = np.zeros((T, E))
    pe[:, 0::2] = np.sin(angles)  # even columns: sines
    pe[:, 1::2] = np.cos(angles[:, :E // 2])  # odd columns: cosines (one fewer if E is odd)
    return pe


def lm_step(model, opt, ids):
    # The prediction at position t is scored on token t + 1: the inputs drop the last token
    # (nothing follows it), the targets drop the first (nothing predicts it).
    inputs, targets = ids[:, :-1], ids[:, 1:]  # (B, T) each, T = window - 1
    logits = model(inputs)  # (B, T, V): the causal mask keeps position t from seeing t + 1
    V = logits.shape[-1]
    # cross_entropy wants (N, V) logits and (N,) targets: every position of every window
    # is one classification, and the loss is their mean (nats per token).
    loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
    opt.zero_grad()  # torch ADDS to .grad: clear the last step's gradient first
    loss.backward()
    opt.step()
    return loss.item()
