"""nnlib.models.transformer: attention parity with the numpy nnlib.attention, masks, shapes,
seeding, the digit task, and the decoding helpers. Fast: no real training here."""

import numpy as np
import pytest
import torch

from nnlib.attention import causal_mask, multi_head_attention_forward
from nnlib.data import sequences as seq
from nnlib.data.text import CharVocab
from nnlib.models import convert
from nnlib.models import seq2seq as s2s
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


@pytest.mark.parametrize("kind", seq.TASKS)
def test_sequence_task_answers_are_right(kind):
    data = seq.sequence_task(200, kind, seed=0, max_len=6)
    assert data.src.shape == data.tgt_in.shape == data.tgt_out.shape == (200, 6)
    assert data.lengths.min() >= 1 and data.lengths.max() <= 6
    assert (data.tgt_in[:, 0] == seq.BOS).all()
    np.testing.assert_array_equal(data.tgt_in[:, 1:], data.tgt_out[:, :-1])
    for src, out, n in zip(data.src, data.tgt_out, data.lengths):
        digits = list(src[:n])
        assert (src[n:] == seq.PAD).all() and (out[n:] == seq.PAD).all()
        expected = sorted(digits) if kind == "sort" else digits[::-1]
        assert list(out[:n]) == expected
    again = seq.sequence_task(200, kind, seed=0, max_len=6)
    np.testing.assert_array_equal(again.src, data.src)


def test_sequence_task_rejects_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        seq.sequence_task(5, "shuffle")
    with pytest.raises(ValueError, match="min_len"):
        seq.sequence_task(5, min_len=4, max_len=3)
    with pytest.raises(ValueError, match="n must"):
        seq.sequence_task(0)


def test_encode_and_decode_digits():
    ids = seq.encode("3 1 4", max_len=5)
    np.testing.assert_array_equal(ids, [3, 1, 4, seq.PAD, seq.PAD])
    assert seq.decode(ids) == "314"
    assert seq.decode([seq.BOS, 2, 7, seq.PAD]) == "^27"
    with pytest.raises(ValueError, match="digits"):
        seq.encode("12a")
    with pytest.raises(ValueError, match="max_len"):
        seq.encode("123456", max_len=4)


def test_seq2seq_shapes_padding_masks_and_generate():
    model = s2s.Seq2SeqTransformer(seq.VOCAB_SIZE, d_model=16, n_heads=2, n_layers=2, d_ff=16,
                                  max_len=6, seed=1)
    data = seq.sequence_task(4, seed=2, max_len=6)
    with torch.no_grad():
        logits = model(torch.as_tensor(data.src), torch.as_tensor(data.tgt_in))
        assert logits.shape == (4, 6, seq.VOCAB_SIZE)
    maps = model.attention_maps(data.src, data.tgt_in)
    assert sorted(maps) == ["cross", "decoder", "encoder"]
    assert all(len(maps[k]) == 2 for k in maps)
    assert maps["cross"][0].shape == (4, 2, 6, 6)
    pad = data.src == seq.PAD
    pad_keys = np.broadcast_to(pad[:, None, None, :], (4, 2, 6, 6))  # PAD is never attended to
    assert pad.any() and (maps["cross"][1][pad_keys] == 0).all()
    assert (maps["encoder"][0][pad_keys] == 0).all()
    assert (np.triu(maps["decoder"][0], 1) == 0).all()
    out = model.generate(data.src)
    assert out.shape == (4, 6) and out.dtype == np.int64
    assert (out[pad] == seq.PAD).all() and (out[~pad] < seq.DIGITS).all()
    short = model.generate(data.src[:1, :3])  # a shorter batch works too
    assert short.shape == (1, 3)
    with pytest.raises(ValueError, match="max_len"):
        model.generate(np.zeros((1, 7), dtype=np.int64))


def test_seq2seq_padding_content_does_not_change_the_answer():
    model = s2s.Seq2SeqTransformer(seq.VOCAB_SIZE, d_model=16, n_heads=2, n_layers=1, d_ff=16,
                                  max_len=5, seed=0)
    src = seq.encode("42", max_len=5)[None]
    with torch.no_grad():
        memory, keys, _ = model.encode_source(src)
        logits = model.decode_target(memory, keys, torch.tensor([[seq.BOS, 2]]))[0]
        # a different width of padding: the real positions see the same keys
        memory3, keys3, _ = model.encode_source(seq.encode("42", max_len=3)[None])
        logits3 = model.decode_target(memory3, keys3, torch.tensor([[seq.BOS, 2]]))[0]
    torch.testing.assert_close(logits, logits3)


def test_fit_sequence_model_tiny_run_is_deterministic():
    recipe = s2s.SEQUENCE_RECIPE._replace(max_len=4, d_model=16, d_ff=16, steps=20,
                                         batch_size=16)
    a = s2s.fit_sequence_model("reverse", seed=0, recipe=recipe, device="cpu")
    b = s2s.fit_sequence_model("reverse", seed=0, recipe=recipe, device="cpu")
    assert a.train_loss == b.train_loss and a.token_accuracy == b.token_accuracy
    assert 0 <= a.sequence_accuracy <= a.token_accuracy <= 1
    assert isinstance(a.model, s2s.Seq2SeqTransformer)


def test_step_time_comparison_shape():
    times = tr.step_time_comparison(lengths=(4, 8), width=8, batch=2, rounds=1, device="cpu")
    assert times.lengths == (4, 8)
    assert len(times.transformer_ms) == len(times.lstm_ms) == 2
    assert all(t > 0 for t in times.transformer_ms + times.lstm_ms)
