"""nnlib.attention against torch in float64: scaled dot-product attention against
F.scaled_dot_product_attention (forward, dq, dk, dv; every mask shape, cross-attention, the
scale keyword, fully masked rows, huge scores), multi-head attention against
torch.nn.MultiheadAttention given the same weights (output, per-head weights, input and every
parameter gradient), finite differences, the causal mask's "no peeking", the sinusoidal
positional encoding against the paper's formula, attention entropy, and bad input."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from parity import TORCH_ATOL, TORCH_RTOL, check_pair, check_pair_numerically

from nnlib.attention import (
    MHA_PARAMS,
    attention_entropy,
    causal_mask,
    multi_head_attention_backward,
    multi_head_attention_forward,
    scaled_dot_product_attention_backward,
    scaled_dot_product_attention_forward,
    sinusoidal_positional_encoding,
)

SDPA_GRADS = ("q", "k", "v")


def qkv(B, h, Tq, Tk, d, dv=None, seed=0, spread=1.0):
    rng = np.random.default_rng(seed)
    return {"q": rng.standard_normal((B, h, Tq, d)) * spread,
            "k": rng.standard_normal((B, h, Tk, d)) * spread,
            "v": rng.standard_normal((B, h, Tk, dv or d))}


def random_mask(shape, seed=0):
    """A random boolean mask whose first key is always allowed (no fully masked row)."""
    mask = np.random.default_rng(seed).random(shape) < 0.5
    mask[..., 0] = True
    return mask


def torch_sdpa(q, k, v, mask=None, scale=None):
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale)


def sdpa_forward(q, k, v, mask=None, scale=None):
    return scaled_dot_product_attention_forward(q, k, v, mask, scale=scale)


# ------------------------------------------------------------------ SDPA against torch
# (B, h, Tq, Tk, d, dv): batch 1, one head, one query, one key, cross-attention, dv != d
SDPA_SHAPES = [
    (1, 1, 1, 1, 1, 1), (1, 1, 4, 4, 3, 3), (2, 3, 5, 5, 4, 4), (2, 1, 3, 6, 4, 4),
    (3, 2, 6, 2, 3, 5), (1, 4, 7, 7, 8, 2),
]
SDPA_IDS = ["B{}h{}Tq{}Tk{}d{}dv{}".format(*s) for s in SDPA_SHAPES]


@pytest.mark.parametrize("B, h, Tq, Tk, d, dv", SDPA_SHAPES, ids=SDPA_IDS)
def test_sdpa_without_mask_matches_torch(B, h, Tq, Tk, d, dv):
    out, _ = check_pair(sdpa_forward, scaled_dot_product_attention_backward, torch_sdpa,
                        qkv(B, h, Tq, Tk, d, dv), SDPA_GRADS)
    assert out.shape == (B, h, Tq, dv)


@pytest.mark.parametrize("B, h, T, d", [(1, 1, 1, 2), (2, 3, 6, 4), (1, 2, 9, 3)],
                         ids=["B1h1T1", "B2h3T6", "B1h2T9"])
def test_sdpa_with_causal_mask_matches_torch(B, h, T, d):
    inputs = {**qkv(B, h, T, T, d), "mask": causal_mask(T)}
    check_pair(sdpa_forward, scaled_dot_product_attention_backward, torch_sdpa, inputs,
               SDPA_GRADS)

    def torch_is_causal(q, k, v, mask):  # and torch's own causal switch, without a mask
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)

    check_pair(sdpa_forward, scaled_dot_product_attention_backward, torch_is_causal, inputs,
               SDPA_GRADS)


B_, H_, TQ_, TK_ = 2, 3, 4, 5
MASK_SHAPES = {
    "Tq,Tk": (TQ_, TK_),
    "B,1,Tq,Tk": (B_, 1, TQ_, TK_),
    "B,h,Tq,Tk": (B_, H_, TQ_, TK_),
    "key padding B,1,1,Tk": (B_, 1, 1, TK_),
    "1,h,1,Tk": (1, H_, 1, TK_),
}


@pytest.mark.parametrize("mask_shape", MASK_SHAPES.values(), ids=MASK_SHAPES.keys())
def test_sdpa_with_random_boolean_mask_matches_torch(mask_shape):
    inputs = {**qkv(B_, H_, TQ_, TK_, 3, 2, seed=1), "mask": random_mask(mask_shape, seed=2)}
    check_pair(sdpa_forward, scaled_dot_product_attention_backward, torch_sdpa, inputs,
               SDPA_GRADS)
    _, cache = sdpa_forward(**inputs)
    mask = np.broadcast_to(inputs["mask"], (B_, H_, TQ_, TK_))
    assert np.all(cache.weights[~mask] == 0.0)  # masked keys get exactly nothing
    assert np.all(cache.weights[mask] > 0.0)


@pytest.mark.parametrize("scale", [0.3, 2.0, -0.5], ids=str)
def test_sdpa_scale_keyword_matches_torch(scale):
    inputs = {**qkv(2, 2, 4, 3, 5, seed=3), "mask": random_mask((4, 3), seed=4)}
    check_pair(sdpa_forward, scaled_dot_product_attention_backward, torch_sdpa, inputs,
               SDPA_GRADS, kwargs={"scale": scale})
    # and the scale really is used: it differs from the default 1/sqrt(d)
    default, _ = sdpa_forward(**inputs)
    scaled, _ = sdpa_forward(**inputs, scale=scale)
    assert not np.allclose(default, scaled)


SDPA_NUMERIC = {
    "no mask": ({**qkv(2, 2, 3, 3, 2, seed=5)}, {}),
    "causal": ({**qkv(1, 2, 4, 4, 3, seed=6), "mask": causal_mask(4)}, {}),
    "cross, dv != d, padding": ({**qkv(2, 1, 3, 5, 2, 3, seed=7),
                                 "mask": random_mask((2, 1, 1, 5), seed=8)}, {}),
    "scale": ({**qkv(1, 1, 2, 3, 2, seed=9)}, {"scale": 1.7}),
}


@pytest.mark.parametrize("inputs, kwargs", SDPA_NUMERIC.values(), ids=SDPA_NUMERIC.keys())
def test_sdpa_matches_finite_differences(inputs, kwargs):
    check_pair_numerically(sdpa_forward, scaled_dot_product_attention_backward, inputs,
                           SDPA_GRADS, kwargs=kwargs)


# ------------------------------------------------------------------ fully masked rows
def test_fully_masked_rows_give_zeros_without_warnings_and_match_torch():
    B, h, Tq, Tk = 2, 2, 4, 5
    inputs = qkv(B, h, Tq, Tk, 3, 2, seed=10)
    mask = random_mask((B, h, Tq, Tk), seed=11)
    mask[0, 1, 2] = False  # one query in one head sees nothing
    mask[1, :, 0] = False  # one query in every head
    mask[1, 0, 3] = False
    empty = ~mask.any(axis=-1)  # (B, h, Tq)
    assert empty.sum() == 4
    dout = np.random.default_rng(12).standard_normal((B, h, Tq, 2))

    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        out, cache = scaled_dot_product_attention_forward(**inputs, mask=mask)
        dq, dk, dv = scaled_dot_product_attention_backward(dout, cache)

    assert np.all(out[empty] == 0.0) and np.all(cache.weights[empty] == 0.0)
    assert np.all(dq[empty] == 0.0)  # a query that attends to nothing gets no gradient
    for g in (out, dq, dk, dv):
        assert np.isfinite(g).all()
    np.testing.assert_allclose(cache.weights.sum(axis=-1), np.where(empty, 0.0, 1.0),
                               rtol=0, atol=1e-14)
    # a key that no query may see gets no gradient either
    unseen = ~mask.any(axis=-2)  # (B, h, Tk)
    assert np.all(dk[unseen] == 0.0) and np.all(dv[unseen] == 0.0)

    check_pair(sdpa_forward, scaled_dot_product_attention_backward, torch_sdpa,
               {**inputs, "mask": mask}, SDPA_GRADS, seed=12)


def test_every_row_masked_gives_all_zeros():
    inputs = qkv(1, 2, 3, 4, 2, seed=13)
    mask = np.zeros((3, 4), dtype=bool)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        out, cache = scaled_dot_product_attention_forward(**inputs, mask=mask)
        grads = scaled_dot_product_attention_backward(np.ones_like(out), cache)
    assert np.all(out == 0.0) and np.all(cache.weights == 0.0)
    assert all(np.all(g == 0.0) for g in grads)
    check_pair(sdpa_forward, scaled_dot_product_attention_backward, torch_sdpa,
               {**inputs, "mask": mask}, SDPA_GRADS)


# ------------------------------------------------------------------ softmax stability
@pytest.mark.parametrize("masked", [False, True], ids=["no mask", "causal"])
def test_huge_scores_stay_finite_and_match_torch(masked):
    inputs = qkv(2, 2, 5, 5, 4, seed=14, spread=20.0)  # scores of several hundred to 1000s
    mask = causal_mask(5) if masked else None
    scores = inputs["q"] @ inputs["k"].swapaxes(-1, -2) / 2.0
    assert np.abs(scores).max() > 500
    with np.errstate(all="raise", under="ignore"):  # exp(-1000) = 0 is the right answer
        out, cache = scaled_dot_product_attention_forward(**inputs, mask=mask)
        grads = scaled_dot_product_attention_backward(np.ones_like(out), cache)
    assert np.isfinite(out).all() and all(np.isfinite(g).all() for g in grads)
    assert np.isfinite(cache.weights).all()
    extra = {} if mask is None else {"mask": mask}
    check_pair(sdpa_forward, scaled_dot_product_attention_backward, torch_sdpa,
               {**inputs, **extra}, SDPA_GRADS)


def test_scores_of_plus_and_minus_a_thousand():
    # one query, two keys: scores exactly +1000 and -1000 -> weights (1, 0) to the last bit
    q = np.array([[[[1000.0]]]])
    k = np.array([[[[1.0], [-1.0]]]])
    v = np.array([[[[3.0], [5.0]]]])
    with np.errstate(all="raise", under="ignore"):
        out, cache = scaled_dot_product_attention_forward(q, k, v)
    np.testing.assert_array_equal(cache.weights, [[[[1.0, 0.0]]]])
    np.testing.assert_array_equal(out, [[[[3.0]]]])


# ------------------------------------------------------------------ the cached weights
def test_cached_weights_are_torchs_softmax_and_rows_sum_to_one():
    B, h, Tq, Tk, d = 2, 3, 4, 6, 5
    inputs = qkv(B, h, Tq, Tk, d, seed=15)
    mask = random_mask((B, 1, Tq, Tk), seed=16)
    mask[1, 0, 2] = False  # and one fully masked row
    _, cache = scaled_dot_product_attention_forward(**inputs, mask=mask)
    assert cache.weights.shape == (B, h, Tq, Tk)

    q, k = torch.tensor(inputs["q"]), torch.tensor(inputs["k"])
    scores = (q @ k.transpose(-1, -2) / np.sqrt(d)).masked_fill(~torch.tensor(mask),
                                                               -torch.inf)
    expected = torch.softmax(scores, dim=-1).nan_to_num(0.0).numpy()  # NaN rows -> 0
    np.testing.assert_allclose(cache.weights, expected, rtol=TORCH_RTOL, atol=TORCH_ATOL)

    full = np.broadcast_to(mask, cache.weights.shape)
    empty = ~full.any(axis=-1)
    np.testing.assert_allclose(cache.weights.sum(axis=-1), np.where(empty, 0.0, 1.0),
                               rtol=0, atol=1e-14)
    assert np.all(cache.weights[~full] == 0.0)
    assert np.all(cache.weights >= 0.0)


# ------------------------------------------------------------------ causal mask
@pytest.mark.parametrize("T", [1, 2, 5])
def test_causal_mask_is_lower_triangular_boolean(T):
    mask = causal_mask(T)
    assert mask.dtype == np.bool_ and mask.shape == (T, T)
    for t in range(T):
        for s in range(T):
            assert mask[t, s] == (s <= t)


def test_causal_mask_hand_value():
    np.testing.assert_array_equal(causal_mask(3), [[True, False, False],
                                                   [True, True, False],
                                                   [True, True, True]])


@pytest.mark.parametrize("T", [0, -1, 2.5, True, "3", None], ids=repr)
def test_causal_mask_rejects_bad_T(T):
    with pytest.raises(ValueError, match="T must be an integer >= 1"):
        causal_mask(T)


def test_causal_sdpa_does_not_peek_at_later_positions():
    B, h, T, d = 2, 2, 6, 3
    inputs = qkv(B, h, T, T, d, seed=17)
    out, _ = scaled_dot_product_attention_forward(**inputs, mask=causal_mask(T))
    rng = np.random.default_rng(18)
    for t in range(T - 1):
        changed = {name: a.copy() for name, a in inputs.items()}
        for a in changed.values():
            a[:, :, t + 1:] = rng.standard_normal(a[:, :, t + 1:].shape)  # rewrite the future
        new, _ = scaled_dot_product_attention_forward(**changed, mask=causal_mask(T))
        np.testing.assert_array_equal(new[:, :, : t + 1], out[:, :, : t + 1])
        assert not np.allclose(new[:, :, t + 1:], out[:, :, t + 1:])
    # without the mask the first position does see the future
    free, _ = scaled_dot_product_attention_forward(**inputs)
    changed = {name: a.copy() for name, a in inputs.items()}
    changed["v"][:, :, -1] += 1.0
    assert not np.allclose(scaled_dot_product_attention_forward(**changed)[0][:, :, 0],
                           free[:, :, 0])


def test_causal_multi_head_self_attention_does_not_peek():
    B, T, E = 2, 5, 8
    x = np.random.default_rng(19).standard_normal((B, T, E))
    params = mha_params(E, seed=20)
    out, _ = multi_head_attention_forward(x, x, params, 2, causal_mask(T))
    for t in range(T - 1):
        later = x.copy()
        later[:, t + 1:] += 1.0
        new, _ = multi_head_attention_forward(later, later, params, 2, causal_mask(T))
        np.testing.assert_array_equal(new[:, : t + 1], out[:, : t + 1])
        assert not np.allclose(new[:, t + 1:], out[:, t + 1:])


# ------------------------------------------------------------------ multi-head attention
def mha_params(E, seed=0):
    rng = np.random.default_rng(seed)
    return {key: rng.standard_normal((E, E) if key.startswith("w") else E) / np.sqrt(E)
            for key in MHA_PARAMS}


def torch_mha(params, n_heads):
    """torch.nn.MultiheadAttention holding our weights (its convention is ``x @ W.T``)."""
    E = params["w_q"].shape[0]
    layer = torch.nn.MultiheadAttention(E, n_heads, batch_first=True).double()
    p = {key: torch.tensor(value) for key, value in params.items()}
    with torch.no_grad():
        layer.in_proj_weight.copy_(torch.cat([p["w_q"].T, p["w_k"].T, p["w_v"].T]))
        layer.in_proj_bias.copy_(torch.cat([p["b_q"], p["b_k"], p["b_v"]]))
        layer.out_proj.weight.copy_(p["w_o"].T)
        layer.out_proj.bias.copy_(p["b_o"])
    return layer


def torch_mha_grads(layer):
    """Our parameter names for torch's packed gradients."""
    E = layer.embed_dim
    w, b = layer.in_proj_weight.grad.numpy(), layer.in_proj_bias.grad.numpy()
    grads = {}
    for i, name in enumerate("qkv"):
        grads[f"w_{name}"] = w[i * E:(i + 1) * E].T
        grads[f"b_{name}"] = b[i * E:(i + 1) * E]
    grads["w_o"] = layer.out_proj.weight.grad.numpy().T
    grads["b_o"] = layer.out_proj.bias.grad.numpy()
    return grads


def assert_close(actual, expected, what):
    np.testing.assert_allclose(actual, expected, rtol=TORCH_RTOL, atol=TORCH_ATOL,
                               err_msg=f"{what} differs from torch")


# (B, Tq, Tk, E, h, self-attention, causal)
MHA_CASES = [
    (1, 1, 1, 4, 1, True, False),
    (2, 5, 5, 8, 1, True, False),
    (2, 5, 5, 8, 4, True, False),
    (2, 6, 6, 8, 4, True, True),
    (1, 4, 4, 6, 1, True, True),
    (2, 3, 7, 8, 4, False, False),
    (3, 4, 2, 12, 1, False, False),
    (2, 5, 5, 8, 2, False, True),
]
MHA_IDS = ["B{}Tq{}Tk{}E{}h{}".format(*c[:5]) + ("-self" if c[5] else "-cross")
           + ("-causal" if c[6] else "") for c in MHA_CASES]


@pytest.mark.parametrize("B, Tq, Tk, E, h, self_attention, causal", MHA_CASES, ids=MHA_IDS)
def test_multi_head_attention_matches_torch(B, Tq, Tk, E, h, self_attention, causal):
    rng = np.random.default_rng(21)
    x_q = rng.standard_normal((B, Tq, E))
    x_kv = x_q if self_attention else rng.standard_normal((B, Tk, E))
    params = mha_params(E, seed=22)
    mask = causal_mask(Tq) if causal else None

    out, cache = multi_head_attention_forward(x_q, x_kv, params, h, mask)
    dout = rng.standard_normal(out.shape)
    dx_q, dx_kv, grads = multi_head_attention_backward(dout, cache)
    assert out.shape == (B, Tq, E) and cache.weights.shape == (B, h, Tq, Tk)
    assert set(grads) == set(MHA_PARAMS)

    layer = torch_mha(params, h)
    tq = torch.tensor(x_q, requires_grad=True)
    tkv = tq if self_attention else torch.tensor(x_kv, requires_grad=True)
    attn_mask = None if mask is None else torch.tensor(~mask)  # torch: True = blocked
    ref, ref_weights = layer(tq, tkv, tkv, attn_mask=attn_mask, need_weights=True,
                             average_attn_weights=False)
    ref.backward(torch.tensor(dout))

    assert_close(out, ref.detach().numpy(), "output")
    assert_close(cache.weights, ref_weights.detach().numpy(), "attention weights")
    if self_attention:  # one input in both roles: its gradient is the sum of the two
        assert_close(dx_q + dx_kv, tq.grad.numpy(), "dx (self-attention)")
    else:
        assert_close(dx_q, tq.grad.numpy(), "dx_q")
        assert_close(dx_kv, tkv.grad.numpy(), "dx_kv")
    expected = torch_mha_grads(layer)
    for key in MHA_PARAMS:
        assert grads[key].shape == params[key].shape
        assert_close(grads[key], expected[key], f"grads[{key!r}]")


def test_multi_head_attention_key_padding_matches_torch():
    B, Tq, Tk, E, h = 3, 4, 5, 8, 2
    rng = np.random.default_rng(23)
    x_q, x_kv = rng.standard_normal((B, Tq, E)), rng.standard_normal((B, Tk, E))
    lengths = np.array([5, 2, 3])
    keep = np.arange(Tk)[None, :] < lengths[:, None]  # (B, Tk)
    params = mha_params(E, seed=24)
    out, cache = multi_head_attention_forward(x_q, x_kv, params, h, keep[:, None, None, :])
    dout = rng.standard_normal(out.shape)
    dx_q, dx_kv, grads = multi_head_attention_backward(dout, cache)

    layer = torch_mha(params, h)
    tq, tkv = (torch.tensor(a, requires_grad=True) for a in (x_q, x_kv))
    ref, ref_weights = layer(tq, tkv, tkv, key_padding_mask=torch.tensor(~keep),
                             need_weights=True, average_attn_weights=False)
    ref.backward(torch.tensor(dout))
    assert_close(out, ref.detach().numpy(), "output")
    assert_close(cache.weights, ref_weights.detach().numpy(), "attention weights")
    assert_close(dx_q, tq.grad.numpy(), "dx_q")
    assert_close(dx_kv, tkv.grad.numpy(), "dx_kv")
    assert np.all(dx_kv[1, 2:] == 0.0)  # padded positions get no gradient
    expected = torch_mha_grads(layer)
    for key in MHA_PARAMS:
        assert_close(grads[key], expected[key], f"grads[{key!r}]")


def mha_pair(n_heads, mask=None):
    """MHA as a pair over named arrays, so check_pair_numerically can perturb each."""

    def forward(x_q, x_kv, **params):
        return multi_head_attention_forward(x_q, x_kv, params, n_heads, mask)

    def backward(dout, cache):
        dx_q, dx_kv, grads = multi_head_attention_backward(dout, cache)
        return (dx_q, dx_kv, *(grads[key] for key in MHA_PARAMS))

    return forward, backward


@pytest.mark.parametrize("n_heads, causal", [(1, False), (2, True)], ids=["h1", "h2-causal"])
def test_multi_head_attention_matches_finite_differences(n_heads, causal):
    rng = np.random.default_rng(25)
    B, T, E = 2, 3, 4
    inputs = {"x_q": rng.standard_normal((B, T, E)), "x_kv": rng.standard_normal((B, T, E)),
              **mha_params(E, seed=26)}
    forward, backward = mha_pair(n_heads, causal_mask(T) if causal else None)
    check_pair_numerically(forward, backward, inputs, ("x_q", "x_kv", *MHA_PARAMS))


def test_heads_are_independent_column_blocks():
    # head i of the cache equals plain attention on columns i*d .. (i+1)*d of Q, K, V
    B, T, E, h = 2, 4, 6, 3
    d = E // h
    x = np.random.default_rng(27).standard_normal((B, T, E))
    params = mha_params(E, seed=28)
    _, cache = multi_head_attention_forward(x, x, params, h)
    Q, K, V = (x @ params[f"w_{n}"] + params[f"b_{n}"] for n in "qkv")
    for i in range(h):
        cols = slice(i * d, (i + 1) * d)
        out, single = scaled_dot_product_attention_forward(
            Q[:, None, :, cols], K[:, None, :, cols], V[:, None, :, cols])
        np.testing.assert_allclose(cache.weights[:, i], single.weights[:, 0], rtol=1e-13)
        np.testing.assert_allclose(cache.heads[:, :, cols], out[:, 0], rtol=1e-13)


def test_multi_head_attention_does_not_modify_its_inputs():
    rng = np.random.default_rng(29)
    x_q, x_kv = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    params = mha_params(4, seed=30)
    saved = [x_q.copy(), x_kv.copy(), {k: v.copy() for k, v in params.items()}]
    out, cache = multi_head_attention_forward(x_q, x_kv, params, 2)
    multi_head_attention_backward(rng.standard_normal(out.shape), cache)
    np.testing.assert_array_equal(x_q, saved[0])
    np.testing.assert_array_equal(x_kv, saved[1])
    for key in MHA_PARAMS:
        np.testing.assert_array_equal(params[key], saved[2][key])


# ------------------------------------------------------------------ positional encoding
def paper_encoding(T, E):
    """The paper's formula, one entry at a time."""
    pe = np.zeros((T, E))
    for t in range(T):
        for i in range(0, E, 2):
            angle = t / 10000 ** (i / E)
            pe[t, i] = np.sin(angle)
            if i + 1 < E:
                pe[t, i + 1] = np.cos(angle)
    return pe


@pytest.mark.parametrize("T, E", [(1, 1), (1, 4), (7, 1), (10, 6), (50, 16), (9, 7), (33, 5)],
                         ids=str)
def test_positional_encoding_is_the_papers_formula(T, E):
    pe = sinusoidal_positional_encoding(T, E)
    assert pe.shape == (T, E) and pe.dtype == np.float64
    np.testing.assert_allclose(pe, paper_encoding(T, E), rtol=1e-12, atol=1e-12)
    assert np.all(np.abs(pe) <= 1.0)


def test_positional_encoding_hand_values():
    pe = sinusoidal_positional_encoding(2, 4)
    np.testing.assert_allclose(pe, [[0.0, 1.0, 0.0, 1.0],
                                    [np.sin(1.0), np.cos(1.0), np.sin(0.01), np.cos(0.01)]],
                               rtol=1e-15)


@pytest.mark.parametrize("E", [8, 9])
@pytest.mark.parametrize("k", [1, 3, 10])
def test_positional_encoding_shift_is_a_rotation_independent_of_t(k, E):
    # for each pair (sin, cos) of frequency w: PE[t + k] = R(k w) @ PE[t] for every t,
    # with the rotation read off PE[k] (PE[0] is (0, 1) in each pair)
    T = 40
    pe = sinusoidal_positional_encoding(T + k, E)
    for i in range(0, E - 1, 2):
        s, c = pe[k, i], pe[k, i + 1]
        rotation = np.array([[c, s], [-s, c]])
        pairs = pe[:T, i:i + 2]  # (T, 2)
        np.testing.assert_allclose(pairs @ rotation.T, pe[k:k + T, i:i + 2], atol=1e-12)


@pytest.mark.parametrize("T, E, name", [(0, 4, "T"), (-2, 4, "T"), (2.0, 4, "T"),
                                        (True, 4, "T"), (3, 0, "E"), (3, 1.5, "E"),
                                        (3, False, "E")], ids=repr)
def test_positional_encoding_rejects_bad_sizes(T, E, name):
    with pytest.raises(ValueError, match=f"{name} must be an integer >= 1"):
        sinusoidal_positional_encoding(T, E)


# ------------------------------------------------------------------ entropy
def test_attention_entropy_of_one_hot_and_uniform_rows():
    Tk = 6
    one_hot = np.eye(Tk)[None, None]  # (1, 1, Tk, Tk)
    np.testing.assert_array_equal(attention_entropy(one_hot), np.zeros((1, 1, Tk)))
    uniform = np.full((2, 3, 4, Tk), 1.0 / Tk)
    np.testing.assert_allclose(attention_entropy(uniform), np.full((2, 3, 4), np.log(Tk)),
                               rtol=1e-14)
    half = np.array([0.5, 0.5, 0.0, 0.0])
    np.testing.assert_allclose(attention_entropy(half), np.log(2), rtol=1e-14)


def test_attention_entropy_of_real_weights_lies_between_the_extremes():
    inputs = qkv(2, 2, 5, 5, 3, seed=31)
    _, cache = scaled_dot_product_attention_forward(**inputs, mask=causal_mask(5))
    entropy = attention_entropy(cache.weights)
    assert entropy.shape == (2, 2, 5)
    np.testing.assert_array_equal(entropy[..., 0], 0.0)  # the first query sees one key
    assert np.all(entropy >= 0) and np.all(entropy <= np.log(np.arange(1, 6)) + 1e-12)


# ------------------------------------------------------------------ bad input
def sdpa_good(**changes):
    return {**qkv(2, 3, 4, 5, 6, 7), **changes}


def mha_good(**changes):
    rng = np.random.default_rng(0)
    args = {"x_q": rng.standard_normal((2, 3, 8)), "x_kv": rng.standard_normal((2, 5, 8)),
            "params": mha_params(8), "n_heads": 2}
    return {**args, **changes}


def params_with(**changes):
    return {**mha_params(8), **changes}


_, SDPA_CACHE = scaled_dot_product_attention_forward(**sdpa_good())
_, MHA_CACHE = multi_head_attention_forward(**mha_good())

BAD_INPUT = [
    (lambda: scaled_dot_product_attention_forward(**sdpa_good(q=np.ones((3, 4, 6)))),
     ValueError, r"q must have 4 axes \(B, h, Tq, d\), got shape \(3, 4, 6\)"),
    (lambda: scaled_dot_product_attention_forward(**sdpa_good(k=np.ones((2, 3, 5, 4)))),
     ValueError, r"k must have shape \(2, 3, Tk, 6\) .*got \(2, 3, 5, 4\)"),
    (lambda: scaled_dot_product_attention_forward(**sdpa_good(k=np.ones((1, 3, 5, 6)))),
     ValueError, r"k must have shape \(2, 3, Tk, 6\)"),
    (lambda: scaled_dot_product_attention_forward(**sdpa_good(v=np.ones((2, 3, 4, 7)))),
     ValueError, r"v must have shape \(2, 3, 5, dv\) .*got \(2, 3, 4, 7\)"),
    (lambda: scaled_dot_product_attention_forward(**sdpa_good(v=np.ones((2, 3, 5)))),
     ValueError, r"v must have 4 axes \(B, h, Tk, dv\)"),
    (lambda: scaled_dot_product_attention_forward(**sdpa_good(), mask=np.ones((4, 4), bool)),
     ValueError, r"mask of shape \(4, 4\) does not broadcast to \(B, h, Tq, Tk\) = "
                 r"\(2, 3, 4, 5\)"),
    (lambda: scaled_dot_product_attention_forward(**sdpa_good(), mask=np.ones((5, 4), bool)),
     ValueError, r"mask of shape \(5, 4\) does not broadcast"),
    (lambda: scaled_dot_product_attention_forward(**sdpa_good(),
                                                  mask=np.ones((1, 2, 3, 4, 5), bool)),
     ValueError, r"mask must have at most 4 axes"),
    (lambda: scaled_dot_product_attention_forward(**sdpa_good(), mask=np.ones((4, 5))),
     TypeError, r"mask must be a boolean array .*got dtype float64"),
    (lambda: scaled_dot_product_attention_forward(**sdpa_good(),
                                                  mask=np.ones((4, 5), dtype=int)),
     TypeError, r"mask must be a boolean array"),
    (lambda: scaled_dot_product_attention_forward(**sdpa_good(), scale=np.nan),
     ValueError, r"scale must be a finite real number"),
    (lambda: scaled_dot_product_attention_forward(**sdpa_good(), scale=True),
     ValueError, r"scale must be a finite real number"),
    (lambda: scaled_dot_product_attention_forward(**sdpa_good(), scale="2"),
     ValueError, r"scale must be a finite real number"),
    (lambda: scaled_dot_product_attention_forward(**sdpa_good(), scale=[1.0, 2.0]),
     ValueError, r"scale must be a finite real number"),
    (lambda: scaled_dot_product_attention_forward(
        **sdpa_good(k=np.ones((2, 3, 0, 6)), v=np.ones((2, 3, 0, 7)))),
     ValueError, r"at least one key \(Tk >= 1\)"),
    (lambda: scaled_dot_product_attention_forward(
        **sdpa_good(q=np.ones((2, 3, 4, 0)), k=np.ones((2, 3, 5, 0)))),
     ValueError, r"q must have a width d >= 1"),
    (lambda: scaled_dot_product_attention_forward(**sdpa_good(q=np.full((2, 3, 4, 6), "a"))),
     TypeError, r"q must hold real numbers"),
    (lambda: scaled_dot_product_attention_backward(np.ones((2, 3, 4, 6)), SDPA_CACHE),
     ValueError, r"dout must have the forward output's shape \(2, 3, 4, 7\), "
                 r"got \(2, 3, 4, 6\)"),
    (lambda: scaled_dot_product_attention_backward(np.ones((2, 3, 4)), SDPA_CACHE),
     ValueError, r"dout must have the forward output's shape \(2, 3, 4, 7\)"),
    (lambda: multi_head_attention_forward(**mha_good(n_heads=3)),
     ValueError, r"n_heads must divide the embedding width E = 8, got n_heads = 3"),
    (lambda: multi_head_attention_forward(**mha_good(n_heads=0)),
     ValueError, r"n_heads must be an integer >= 1, got 0"),
    (lambda: multi_head_attention_forward(**mha_good(n_heads=2.0)),
     ValueError, r"n_heads must be an integer >= 1"),
    (lambda: multi_head_attention_forward(**mha_good(), mask=causal_mask(3)),
     ValueError, r"mask of shape \(3, 3\) does not broadcast to \(B, h, Tq, Tk\) = "
                 r"\(2, 2, 3, 5\)"),
    (lambda: multi_head_attention_forward(**mha_good(), mask=np.ones((3, 5))),
     TypeError, r"mask must be a boolean array"),
    (lambda: multi_head_attention_forward(**mha_good(), mask=np.ones((2, 3, 5), bool)),
     ValueError, r"mask must be \(Tq, Tk\) or 4-D .*got the 3-D shape \(2, 3, 5\)"),
    (lambda: multi_head_attention_forward(**mha_good(x_kv=np.ones((2, 0, 8)))),
     ValueError, r"at least one key"),
    (lambda: multi_head_attention_forward(**mha_good(x_q=np.ones((3, 8)))),
     ValueError, r"x_q must have shape \(B, Tq, E\), got \(3, 8\)"),
    (lambda: multi_head_attention_forward(**mha_good(x_kv=np.ones((2, 5, 6)))),
     ValueError, r"x_kv must have shape \(2, Tk, 8\) .*got \(2, 5, 6\)"),
    (lambda: multi_head_attention_forward(**mha_good(x_kv=np.ones((3, 5, 8)))),
     ValueError, r"x_kv must have shape \(2, Tk, 8\)"),
    (lambda: multi_head_attention_forward(**mha_good(params={"w_q": np.ones((8, 8))})),
     ValueError, r"params is missing \['w_k', 'w_v', 'w_o', 'b_q', 'b_k', 'b_v', 'b_o'\]"),
    (lambda: multi_head_attention_forward(**mha_good(params=params_with(w_k=np.ones((8, 4))))),
     ValueError, r"params\['w_k'\] must have shape \(8, 8\) for E = 8, got \(8, 4\)"),
    (lambda: multi_head_attention_forward(**mha_good(params=params_with(b_o=np.ones((1, 8))))),
     ValueError, r"params\['b_o'\] must have shape \(8,\) for E = 8, got \(1, 8\)"),
    (lambda: multi_head_attention_forward(**mha_good(params=[np.ones((8, 8))] * 8)),
     TypeError, r"params must be a dict"),
    (lambda: multi_head_attention_backward(np.ones((2, 5, 8)), MHA_CACHE),
     ValueError, r"dout must have the forward output's shape \(2, 3, 8\), got \(2, 5, 8\)"),
    (lambda: multi_head_attention_backward(np.ones((2, 3, 2, 4)), MHA_CACHE),
     ValueError, r"dout must have the forward output's shape \(2, 3, 8\)"),
]


@pytest.mark.parametrize("call, error, message", BAD_INPUT, ids=range(len(BAD_INPUT)))
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_attention_entropy_refuses_what_are_not_weights():
    with pytest.raises(ValueError, match="weights must be non-negative"):
        attention_entropy(np.array([-0.5, 1.5]))
    with pytest.raises(TypeError, match="weights must hold real numbers"):
        attention_entropy(np.array(["a", "b"]))


def test_masked_softmax_is_softmax_and_gives_zero_for_a_fully_masked_row():
    from nnlib.activations import softmax
    from nnlib.attention import masked_softmax

    scores = np.random.default_rng(3).standard_normal((2, 3, 5)) * 300  # large: shifted rows
    np.testing.assert_allclose(masked_softmax(scores), softmax(scores), rtol=1e-12, atol=1e-300)
    scores[0, 1] = -np.inf  # every key of one row masked
    scores[1, 2, :2] = -np.inf
    weights = masked_softmax(scores)
    assert np.all(weights[0, 1] == 0) and np.all(np.isfinite(weights))
    np.testing.assert_allclose(weights[1, 2].sum(), 1.0, rtol=1e-12)
    assert np.all(weights[1, 2, :2] == 0)


def test_masked_softmax_turns_a_row_with_a_nan_or_inf_score_into_nan_as_torch_does():
    from nnlib.attention import masked_softmax

    scores = np.array([[1.0, np.nan, 2.0], [np.inf, 1.0, 0.0], [1.0, -np.inf, 2.0]])
    with np.errstate(invalid="ignore"):
        weights = masked_softmax(scores)
    expected = torch.softmax(torch.tensor(scores), dim=-1).numpy()
    assert np.all(np.isnan(weights[:2])) and np.all(np.isnan(expected[:2]))  # never unnormalised
    np.testing.assert_allclose(weights[2], expected[2], rtol=1e-12)


def test_attention_scores_are_what_the_forward_pass_softmaxes():
    from nnlib.attention import attention_scores, masked_softmax

    rng = np.random.default_rng(4)
    q, k, v = (rng.standard_normal((2, 3, 4, 8)), rng.standard_normal((2, 3, 6, 8)),
               rng.standard_normal((2, 3, 6, 5)))
    mask = rng.random((2, 1, 4, 6)) < 0.7
    scores = attention_scores(q, k, mask=mask)
    np.testing.assert_allclose(scores[mask.repeat(3, axis=1)],
                               ((q @ k.swapaxes(-1, -2)) / np.sqrt(8))[mask.repeat(3, axis=1)],
                               rtol=1e-12)
    assert np.all(scores[~mask.repeat(3, axis=1)] == -np.inf)
    out, cache = scaled_dot_product_attention_forward(q, k, v, mask=mask)
    np.testing.assert_array_equal(cache.weights, masked_softmax(scores))
    with pytest.raises(ValueError, match=r"k must have shape \(2, 3, Tk, 8\)"):
        attention_scores(q, k[..., :4])


@pytest.mark.parametrize("seed", range(5))
def test_unscaled_attention_gives_queries_larger_but_lopsided_gradients(seed):
    """Notebook 12's claim about dropping 1/sqrt(d), at d = 1024 and T = 16, across seeds:
    the queries' gradient is larger, not smaller, and a few queries get nearly all of it."""
    rng = np.random.default_rng(seed)
    q, k, v, dout = (rng.standard_normal((64, 1, 16, 1024)) for _ in range(4))
    rms, top_share, starved = {}, {}, {}
    for scaled in (False, True):
        _, cache = scaled_dot_product_attention_forward(q, k, v, scale=None if scaled else 1.0)
        dq = scaled_dot_product_attention_backward(dout, cache)[0]
        per_query = np.sqrt((dq**2).sum(axis=-1)).ravel()
        rms[scaled] = np.sqrt((dq**2).mean())
        top_share[scaled] = (np.sort(per_query**2)[::-1][: per_query.size // 10].sum()
                             / (per_query**2).sum())
        starved[scaled] = (per_query < 0.01 * per_query.max()).mean()
    assert rms[False] > 10 * rms[True]
    assert top_share[False] > 0.9 and top_share[True] < 0.4
    assert starved[False] > 0.5 and starved[True] == 0
