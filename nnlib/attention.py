"""Attention in numpy, forward and backward: the transformer's core (notebook 12).

* ``scaled_dot_product_attention_forward(q, k, v, mask)``: every query scores
  every key, ``q . k / sqrt(d)``; a softmax over the keys turns the scores into
  weights; the output is the weighted mean of the values.
* ``causal_mask(T)``: position ``t`` may look at positions ``<= t`` only.
* ``multi_head_attention_forward(x_q, x_kv, params, n_heads, mask)``: project
  the inputs to queries, keys and values, split the width ``E`` into ``h`` heads
  of ``d = E // h``, attend in each head, concatenate and project back.
* ``sinusoidal_positional_encoding(T, E)``: the original transformer's position
  signal, added to the token embeddings.

Masks are boolean and **True means "may attend"**, as in
``torch.nn.functional.scaled_dot_product_attention`` (``torch.nn.MultiheadAttention``
uses the opposite convention: pass it ``~mask``). A query whose every key is masked
has nothing to average: its weights are all zero, so its output is zero and it
passes no gradient back. This is what torch's ``scaled_dot_product_attention``
returns too; a naive softmax over a row of -inf would give NaN.

Every pair is tested against torch in float64 with random upstream gradients and
against finite differences (tests/test_attention.py). Shapes follow the legend in
``nnlib``: ``B`` batch, ``h`` heads, ``T`` positions, ``d`` width per head, ``E``
model width.
"""

import math
import numbers
from typing import NamedTuple

import numpy as np

from nnlib.checks import as_float_array, check_int

__all__ = [
    "masked_softmax", "attention_scores",
    "scaled_dot_product_attention_forward", "scaled_dot_product_attention_backward",
    "causal_mask", "multi_head_attention_forward", "multi_head_attention_backward",
    "sinusoidal_positional_encoding", "attention_entropy",
]

MHA_PARAMS = ("w_q", "w_k", "w_v", "w_o", "b_q", "b_k", "b_v", "b_o")


def _check_mask(mask, shape):
    """``mask`` as a boolean array broadcast to ``shape = (B, h, Tq, Tk)``, or None."""
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"mask must be a boolean array (True = may attend), got dtype "
                        f"{mask.dtype}; for a 0/1 array use mask.astype(bool)")
    if mask.ndim > 4:
        raise ValueError(f"mask must have at most 4 axes, broadcastable to (B, h, Tq, Tk) = "
                         f"{shape}, got shape {mask.shape}")
    try:
        return np.broadcast_to(mask, shape)
    except ValueError:
        raise ValueError(f"mask of shape {mask.shape} does not broadcast to (B, h, Tq, Tk) = "
                         f"{shape}; e.g. use causal_mask(T) of shape (Tq, Tk)") from None


class AttentionCache(NamedTuple):
    q: np.ndarray  # (B, h, Tq, d)
    k: np.ndarray  # (B, h, Tk, d)
    v: np.ndarray  # (B, h, Tk, dv)
    weights: np.ndarray  # (B, h, Tq, Tk): the softmax of the scores; rows sum to 1 (or 0)
    scale: float


def masked_softmax(scores, axis=-1):
    """``softmax(scores)`` along ``axis``, where ``-inf`` marks a masked entry.

    Each row is shifted by its own largest score before ``exp`` (so it never
    overflows), and a row whose every entry is ``-inf`` (every key masked) gives
    weights of zero, not NaN, as torch's attention does. A row with a NaN or a ``+inf``
    score gives NaN everywhere, as torch's softmax does. ``nnlib.activations.softmax``
    is the plain softmax; this one is attention's.
    """
    scores = as_float_array(scores, "scores")
    top = np.max(scores, axis=axis, keepdims=True)
    top[top == -np.inf] = 0.0  # a fully masked row: every score is -inf
    weights = scores - top  # subtract the max: exp never overflows
    np.exp(weights, out=weights)  # in place: each new array of this size costs page faults
    total = weights.sum(axis=axis, keepdims=True)
    # a fully masked row is all zeros already (exp(-inf) = 0) and stays so; a row with a
    # NaN or +inf score has a NaN total and becomes all NaN, as in torch's softmax
    return np.divide(weights, total, out=weights, where=total != 0)


def attention_scores(q, k, mask=None, scale=None):
    """The scores attention's softmax turns into weights: ``q @ k^T * scale``, ``-inf``
    where ``mask`` is False. Arguments as ``scaled_dot_product_attention_forward``'s
    (``q (B, h, Tq, d)``, ``k (B, h, Tk, d)``); returns ``(B, h, Tq, Tk)``."""
    q, k, _, mask, scale = _check_inputs(q, k, k, mask, scale)
    return _scores(q, k, mask, scale)


def _scores(q, k, mask, scale):
    scores = (q @ k.swapaxes(-1, -2)) * scale  # (B, h, Tq, Tk): how well each key fits
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return scores


def _check_inputs(q, k, v, mask, scale):
    """The checked ``(q, k, v, mask, scale)`` of an attention call, or a clear error."""
    q, k, v = (as_float_array(a, name) for a, name in ((q, "q"), (k, "k"), (v, "v")))
    for a, name, axes in ((q, "q", "(B, h, Tq, d)"), (k, "k", "(B, h, Tk, d)"),
                          (v, "v", "(B, h, Tk, dv)")):
        if a.ndim != 4:
            raise ValueError(f"{name} must have 4 axes {axes}, got shape {a.shape}")
    B, h, Tq, d = q.shape
    if d == 0:
        raise ValueError(f"q must have a width d >= 1 (its last axis), got shape {q.shape}")
    if k.shape[:2] != (B, h) or k.shape[3] != d:
        raise ValueError(f"k must have shape ({B}, {h}, Tk, {d}) to match q of shape {q.shape}, "
                         f"got {k.shape}")
    if v.shape[:3] != k.shape[:3]:
        raise ValueError(f"v must have shape ({B}, {h}, {k.shape[2]}, dv) to match k of shape "
                         f"{k.shape}, got {v.shape}")
    Tk = k.shape[2]
    if Tk == 0:
        raise ValueError(f"k and v must hold at least one key (Tk >= 1), got k of shape {k.shape}")
    mask = _check_mask(mask, (B, h, Tq, Tk))
    if scale is None:
        scale = 1.0 / math.sqrt(d)
    elif (isinstance(scale, bool) or not isinstance(scale, numbers.Real)
          or not math.isfinite(scale)):
        raise ValueError(f"scale must be a finite real number or None (1/sqrt(d)), got {scale!r}")
    scale = float(scale)
    return q, k, v, mask, scale


def scaled_dot_product_attention_forward(q, k, v, mask=None, scale=None):
    """``softmax(q @ k^T * scale, over the keys) @ v``, with ``scale = 1/sqrt(d)``.

    Args:
        q: queries ``(B, h, Tq, d)``.
        k: keys ``(B, h, Tk, d)``.
        v: values ``(B, h, Tk, dv)``.
        mask: optional boolean array broadcastable to ``(B, h, Tq, Tk)``; True
            means "query may attend to key". A fully masked row gives weights of
            zero and an output of zero (as torch does), never NaN.
        scale: multiplies the scores; None means ``1 / sqrt(d)``. Dividing by
            ``sqrt(d)`` keeps the scores' spread near 1 whatever ``d`` is, so the
            softmax does not saturate (notebook 12 measures it).

    Returns:
        ``out (B, h, Tq, dv)`` and a cache whose ``weights (B, h, Tq, Tk)`` are
        the attention weights. Tested against
        ``torch.nn.functional.scaled_dot_product_attention``.
    """
    q, k, v, mask, scale = _check_inputs(q, k, v, mask, scale)
    weights = masked_softmax(_scores(q, k, mask, scale))  # (B, h, Tq, Tk)
    return weights @ v, AttentionCache(q, k, v, weights, scale)


def scaled_dot_product_attention_backward(dout, cache):
    """Gradients of attention with respect to ``q``, ``k`` and ``v``.

    With ``S`` the scaled scores and ``P = softmax(S)`` the weights::

        dv = P^T @ dout            dP = dout @ v^T
        dS = P * (dP - sum(P * dP, over keys))   (the softmax's Jacobian, row by row)
        dq = dS @ k * scale        dk = dS^T @ q * scale

    Masked keys have ``P = 0`` and so get ``dS = 0``: no gradient flows through them.

    Returns:
        ``dq (B, h, Tq, d), dk (B, h, Tk, d), dv (B, h, Tk, dv)``.
    """
    dout = as_float_array(dout, "dout")
    P = cache.weights
    expected = P.shape[:3] + cache.v.shape[3:]
    if dout.shape != expected:
        raise ValueError(f"dout must have the forward output's shape {expected}, got {dout.shape}")
    dv = P.swapaxes(-1, -2) @ dout
    dS = dout @ cache.v.swapaxes(-1, -2)  # dP, turned into dS in place (half the time)
    dS -= np.einsum("...k,...k->...", P, dS)[..., None]  # sum(P * dP) over the keys
    dS *= P
    dS *= cache.scale
    dq = dS @ cache.k
    dk = dS.swapaxes(-1, -2) @ cache.q
    return dq, dk, dv


def causal_mask(T):
    """Boolean ``(T, T)``: True on and below the diagonal, so position ``t`` sees ``0..t``.

    A language model predicting token ``t + 1`` must not look at it: with this mask
    the training of all ``T`` positions runs at once, in parallel, without cheating.
    """
    T = check_int("T", T, 1)
    return np.tril(np.ones((T, T), dtype=bool))


def attention_entropy(weights):
    """Entropy in nats of each row of attention weights (0 = all on one key, ln Tk = uniform)."""
    weights = as_float_array(weights, "weights")
    if np.any(weights < 0):
        raise ValueError(f"weights must be non-negative (softmax outputs), got a minimum of "
                         f"{weights.min():g}")
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(weights > 0, -weights * np.log(weights), 0.0)
    return terms.sum(axis=-1)


# --------------------------------------------------------------------------- multi-head


def _check_params(params, E):
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict with keys {MHA_PARAMS}, "
                        f"got {type(params).__name__}")
    missing = [key for key in MHA_PARAMS if key not in params]
    if missing:
        raise ValueError(f"params is missing {missing}; expected the keys {MHA_PARAMS}")
    arrays = {}
    for key in MHA_PARAMS:
        a = as_float_array(params[key], f"params[{key!r}]")
        expected = (E, E) if key.startswith("w") else (E,)
        if a.shape != expected:
            raise ValueError(f"params[{key!r}] must have shape {expected} for E = {E}, "
                             f"got {a.shape}")
        arrays[key] = a
    return arrays


def _split_heads(x, n_heads):
    """``(B, T, E)`` -> ``(B, h, T, d)``: head ``i`` takes columns ``i*d .. (i+1)*d - 1``."""
    B, T, E = x.shape
    return x.reshape(B, T, n_heads, E // n_heads).transpose(0, 2, 1, 3)


def _merge_heads(x):
    """``(B, h, T, d)`` -> ``(B, T, h*d)``, the heads side by side (undoes ``_split_heads``)."""
    B, h, T, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(B, T, h * d)


class MultiHeadAttentionCache(NamedTuple):
    x_q: np.ndarray  # (B, Tq, E)
    x_kv: np.ndarray  # (B, Tk, E)
    params: dict
    n_heads: int
    attention: AttentionCache  # per head: .weights (B, h, Tq, Tk)
    heads: np.ndarray  # (B, Tq, E): the heads' outputs, concatenated

    @property
    def weights(self):
        """The attention weights of every head, ``(B, h, Tq, Tk)``."""
        return self.attention.weights


def multi_head_attention_forward(x_q, x_kv, params, n_heads, mask=None):
    """Multi-head attention: ``h`` attentions of width ``d = E / h`` side by side.

    ``Q = x_q @ w_q + b_q``, ``K = x_kv @ w_k + b_k``, ``V = x_kv @ w_v + b_v``;
    each is split into ``n_heads`` blocks of ``d`` columns, each head attends on
    its own, and the heads' outputs are concatenated and projected by ``w_o, b_o``.

    Args:
        x_q: ``(B, Tq, E)``, the positions that ask.
        x_kv: ``(B, Tk, E)``, the positions that answer; pass ``x_q`` again for
            self-attention, the encoder's output for cross-attention.
        params: dict of ``w_q, w_k, w_v, w_o (E, E)`` and ``b_q, b_k, b_v, b_o (E,)``.
        n_heads: ``h``, which must divide ``E``.
        mask: boolean ``(Tq, Tk)`` or 4-D, broadcastable to ``(B, h, Tq, Tk)``, True =
            may attend (``(B, 1, 1, Tk)`` hides padded keys). A 3-D mask is refused: numpy
            would broadcast ``(B, Tq, Tk)`` over the heads, not the batch.

    Returns:
        ``out (B, Tq, E)`` and a cache whose ``weights`` are ``(B, h, Tq, Tk)``.
        Tested against ``torch.nn.MultiheadAttention(E, h, batch_first=True)``
        whose packed ``in_proj_weight`` is ``[w_q.T; w_k.T; w_v.T]``.
    """
    x_q, x_kv = as_float_array(x_q, "x_q"), as_float_array(x_kv, "x_kv")
    if x_q.ndim != 3:
        raise ValueError(f"x_q must have shape (B, Tq, E), got {x_q.shape}")
    B, _, E = x_q.shape
    if E == 0:
        raise ValueError(f"x_q must have an embedding width E >= 1, got shape {x_q.shape}")
    if x_kv.ndim != 3 or x_kv.shape[0] != B or x_kv.shape[2] != E:
        raise ValueError(f"x_kv must have shape ({B}, Tk, {E}) to match x_q of shape "
                         f"{x_q.shape}, got {x_kv.shape}")
    n_heads = check_int("n_heads", n_heads, 1)
    if E % n_heads:
        raise ValueError(f"n_heads must divide the embedding width E = {E}, got n_heads = "
                         f"{n_heads} (E / n_heads = {E / n_heads:g})")
    p = _check_params(params, E)
    if mask is not None and np.ndim(mask) == 3:  # (B, Tq, Tk) would broadcast as (1, h, Tq, Tk)
        raise ValueError(f"mask must be (Tq, Tk) or 4-D (B, h or 1, Tq, Tk), got the 3-D shape "
                         f"{np.shape(mask)}: for one mask per example use mask[:, None]")
    q = _split_heads(x_q @ p["w_q"] + p["b_q"], n_heads)
    k = _split_heads(x_kv @ p["w_k"] + p["b_k"], n_heads)
    v = _split_heads(x_kv @ p["w_v"] + p["b_v"], n_heads)
    out, attention = scaled_dot_product_attention_forward(q, k, v, mask)
    heads = _merge_heads(out)
    return heads @ p["w_o"] + p["b_o"], MultiHeadAttentionCache(x_q, x_kv, p, n_heads,
                                                                attention, heads)


def _sum_rows(a):
    """Sum over every axis but the last: a bias's gradient."""
    return a.reshape(-1, a.shape[-1]).sum(axis=0)


def _weight_grad(x, dy):
    """``x^T @ dy`` summed over batch and positions: ``(E_in, E_out)``, a weight's gradient."""
    return x.reshape(-1, x.shape[-1]).T @ dy.reshape(-1, dy.shape[-1])


def multi_head_attention_backward(dout, cache):
    """Gradients of multi-head attention.

    Returns:
        ``dx_q (B, Tq, E), dx_kv (B, Tk, E), grads`` where ``grads`` has the keys
        of ``params``. For self-attention (``x_kv is x_q``) the input's gradient
        is ``dx_q + dx_kv``: it was used in both roles.
    """
    dout = as_float_array(dout, "dout")
    p = cache.params
    if dout.shape != cache.x_q.shape:
        raise ValueError(f"dout must have the forward output's shape {cache.x_q.shape}, "
                         f"got {dout.shape}")
    grads = {"w_o": _weight_grad(cache.heads, dout), "b_o": _sum_rows(dout)}
    dheads = _split_heads(dout @ p["w_o"].T, cache.n_heads)
    dq, dk, dv = (_merge_heads(g) for g in
                  scaled_dot_product_attention_backward(dheads, cache.attention))
    for name, x, g in (("q", cache.x_q, dq), ("k", cache.x_kv, dk), ("v", cache.x_kv, dv)):
        grads[f"w_{name}"], grads[f"b_{name}"] = _weight_grad(x, g), _sum_rows(g)
    dx_q = dq @ p["w_q"].T
    dx_kv = dk @ p["w_k"].T + dv @ p["w_v"].T
    return dx_q, dx_kv, {key: grads[key] for key in MHA_PARAMS}


# --------------------------------------------------------------------------- positions


def sinusoidal_positional_encoding(T, E):
    """The original transformer's position signal, ``(T, E)``.

    ``PE[t, 2i] = sin(t / 10000^(2i/E))`` and ``PE[t, 2i+1] = cos(t / 10000^(2i/E))``:
    each pair of columns is a clock hand turning at its own speed, from one turn
    every 2*pi positions (columns 0, 1) to one every 2*pi * 10000^((E-2)/E) positions
    (almost 10000 times slower) for the last pair. The
    code for ``t + k`` is a fixed rotation of the code for ``t``, whatever ``t``,
    so attention can learn relative offsets. For odd ``E`` the last column is a sine.
    """
    T, E = check_int("T", T, 1), check_int("E", E, 1)
    positions = np.arange(T, dtype=np.float64)[:, None]
    rates = 1.0 / 10000.0 ** (np.arange(0, E, 2, dtype=np.float64) / E)  # one per pair
    angles = positions * rates  # (T, ceil(E/2))
    pe = np.empty((T, E))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : E // 2])
    return pe
