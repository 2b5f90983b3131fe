"""nnlib.models.seq2seq: the encoder-decoder's shapes, padding and masks, greedy decoding,
and a tiny deterministic training run."""

import numpy as np
import pytest
import torch

from nnlib.data import sequences as seq
from nnlib.models import seq2seq as s2s


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
