"""nnlib.models.transformer: attention parity with the numpy nnlib.attention, masks, shapes,
seeding, and the character transformer. Fast: no real training here."""

import numpy as np
import pytest
import torch

from nnlib.attention import causal_mask, multi_head_attention_forward
from nnlib.data.text import CharVocab
from nnlib.models import convert
from nnlib.models import transformer as tr
from nnlib.models.recurrent import sample


def _attention(E=16, h=4, seed=0):
    torch.manual_seed(seed)
    return tr.MultiHeadAttention(E, h).double()


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("shape", [(2, 5, 7), (1, 1, 1), (3, 4, 4)])
def test_attention_equals_numpy_multi_head_attention(shape, masked):
    B, Tq, Tk = shape
    attn = _attention()
    rng = np.random.default_rng(0)
    x_q, x_kv = rng.standard_normal((B, Tq, 16)), rng.standard_normal((B, Tk, 16))
    mask = rng.random((B, 1, Tq, Tk)) < 0.6 if masked else None
    if masked:
        mask[..., 0] = True  # at least one key per query
    ref, cache = multi_head_attention_forward(x_q, x_kv, convert.attention_params(attn), 4,
                                              mask)
    t_mask = None if mask is None else torch.as_tensor(mask)
    with torch.no_grad():
        out, weights = attn(torch.as_tensor(x_q), torch.as_tensor(x_kv), t_mask,
                            need_weights=True)
        fast, none = attn(torch.as_tensor(x_q), torch.as_tensor(x_kv), t_mask)
    assert none is None
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(weights.numpy(), cache.weights, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fast.numpy(), out.numpy(), rtol=1e-10, atol=1e-12)


def test_fast_and_explicit_paths_have_the_same_gradients():
    attn = _attention()
    x = torch.randn(2, 6, 16, dtype=torch.float64, requires_grad=True)
    mask = torch.as_tensor(causal_mask(6))
    g = torch.randn(2, 6, 16, dtype=torch.float64)
    grads = []
    for need in (False, True):
        x.grad = None
        (attn(x, x, mask, need)[0] * g).sum().backward()
        grads.append(x.grad.clone())
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-10, atol=1e-12)


def test_masked_keys_have_zero_weight_and_no_influence():
    attn = _attention()
    x = torch.randn(1, 5, 16, dtype=torch.float64)
    mask = torch.tensor([True, True, False, True, False])[None, None, None, :]
    with torch.no_grad():
        out, w = attn(x, x, mask, need_weights=True)
        changed = x.clone()
        changed[0, [2, 4]] += 100.0  # what the masked keys hold
        out2 = attn(changed, changed, mask)[0]
    assert (w[..., [2, 4]] == 0).all()
    torch.testing.assert_close(w.sum(-1), torch.ones(1, 4, 5, dtype=torch.float64))
    torch.testing.assert_close(out[0, [0, 1, 3]], out2[0, [0, 1, 3]], rtol=1e-10, atol=1e-12)


def test_a_fully_masked_query_gives_zero_weights_not_nan():
    attn = _attention()
    x = torch.randn(1, 3, 16, dtype=torch.float64)
    mask = torch.tensor([[True, True, True], [False, False, False], [True, False, True]])
    with torch.no_grad():
        out, w = attn(x, x, mask, need_weights=True)
        fast = attn(x, x, mask)[0]
    assert torch.isfinite(out).all() and torch.isfinite(fast).all()
    assert (w[0, :, 1] == 0).all()
    torch.testing.assert_close(out[0, 1], attn.o.bias.detach())
    torch.testing.assert_close(fast, out, rtol=1e-10, atol=1e-12)


def test_attention_rejects_bad_input():
    attn = tr.MultiHeadAttention(8, 2)
    x = torch.zeros(2, 3, 8)
    with pytest.raises(ValueError, match="n_heads must divide"):
        tr.MultiHeadAttention(10, 4)
    with pytest.raises(ValueError, match="x_kv must have shape"):
        attn(x, torch.zeros(2, 3, 6))
    with pytest.raises(TypeError, match="boolean"):
        attn(x, x, torch.ones(3, 3))


def test_char_transformer_shapes_causality_and_seeding():
    model = tr.CharTransformer(11, d_model=16, n_heads=2, n_layers=2, d_ff=32, context=12,
                               seed=3)
    ids = torch.randint(0, 11, (2, 9), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        logits = model(ids)
        changed = ids.clone()
        changed[:, 5:] = (changed[:, 5:] + 1) % 11  # the future must not change the past
        assert logits.shape == (2, 9, 11)
        torch.testing.assert_close(model(changed)[:, :5], logits[:, :5])
        assert not torch.allclose(model(changed)[:, 5:], logits[:, 5:])
    twin = tr.CharTransformer(11, d_model=16, n_heads=2, n_layers=2, d_ff=32, context=12,
                              seed=3)
    for a, b in zip(model.state_dict().values(), twin.state_dict().values()):
        assert torch.equal(a, b)
    maps = model.attention_maps(ids)
    assert len(maps) == 2 and maps[0].shape == (2, 2, 9, 9)
    np.testing.assert_allclose(maps[1].sum(-1), 1.0, atol=1e-6)
    assert (np.triu(maps[0], 1) == 0).all()  # causal: nothing above the diagonal


def test_char_transformer_rejects_too_long_or_float_input():
    model = tr.CharTransformer(5, d_model=8, n_heads=2, n_layers=1, d_ff=8, context=4)
    with pytest.raises(ValueError, match="context of 4"):
        model(torch.zeros(1, 5, dtype=torch.int64))
    with pytest.raises(TypeError, match="integer"):
        model(torch.zeros(1, 3))


def test_step_matches_forward_and_sample_runs_unchanged():
    vocab = CharVocab("abcdefgh ")
    model = tr.CharTransformer(len(vocab), d_model=16, n_heads=2, n_layers=1, d_ff=16,
                               context=6)
    model.eval()
    ids = torch.as_tensor(vocab.encode("abcdefgh"))[None]
    with torch.no_grad():
        logits, state = model.step(ids[:, :4])
        torch.testing.assert_close(logits, model(ids[:, :4]))
        logits, state = model.step(ids[:, 4:5], state)
        torch.testing.assert_close(logits, model(ids[:, :5])[:, -1:])
        for t in range(5, 8):  # past the context: the window slides
            logits, state = model.step(ids[:, t:t + 1], state)
        assert state.shape == (1, 6)
        torch.testing.assert_close(logits, model(ids[:, 2:8])[:, -1:])
    text = sample(model, vocab, "abc", length=20, seed=1)
    assert len(text) == 23 and text.startswith("abc")
    assert text == sample(model, vocab, "abc", length=20, seed=1)


def test_step_time_comparison_shape():
    times = tr.step_time_comparison(lengths=(4, 8), width=8, batch=2, rounds=1, device="cpu")
    assert times.lengths == (4, 8)
    assert len(times.transformer_ms) == len(times.lstm_ms) == 2
    assert all(t > 0 for t in times.transformer_ms + times.lstm_ms)


def test_autograd_depth_counts_the_longest_chain_of_operations():
    from nnlib.models.transformer import autograd_depth

    x = torch.ones(3, requires_grad=True)
    # sin <- add <- mul <- x's AccumulateGrad: four operations, one after another
    assert autograd_depth(((x * 2) + 1).sin()) == 4
    # two branches: the longer one counts
    assert autograd_depth((x * 2).exp().sin() + x) == 5
    with pytest.raises(ValueError, match="no autograd graph"):
        autograd_depth(torch.ones(3))


def test_the_lstm_chain_grows_with_the_length_and_the_transformers_with_its_layers():
    from nnlib.models.transformer import operation_chains

    chains = operation_chains(lengths=(4, 8, 16), width=16, layers=(1, 2, 3))
    assert len(set(chains.transformer)) == 1
    steps = [b - a for a, b in zip(chains.lstm, chains.lstm[1:])]
    assert steps[1] == 2 * steps[0] > 0  # a fixed number of operations per position
    by_layers = chains.transformer_by_layers
    per_layer = [b - a for a, b in zip(by_layers, by_layers[1:])]
    assert per_layer[0] == per_layer[1] > 0
    assert chains.transformer_by_layers[0] == chains.transformer[0]
