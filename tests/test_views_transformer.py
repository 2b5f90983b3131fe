"""The transformer notebook's views of trained models (12) show what they say they show.

The head maps are the model's own attention weights, and the sampler's bars are the
softmax of torch's logits. Rendering, extremes and responsiveness are checked for every
registered view in tests/test_views.py.
"""

import numpy as np
import pytest
import torch
from helpers import float64_copy, torch_last_logits

from nnlib.data.sequences import BOS, sequence_task
from nnlib.sampling import temperature_softmax
from nnlib.views.transformer import (
    _check_answer,
    head_maps,
    small_char_transformer,
    small_sequence_model,
    transformer_sampler,
)


@pytest.fixture(scope="module")
def heads():
    return head_maps()


@pytest.fixture(scope="module")
def sampler():
    return transformer_sampler()


def test_head_maps_are_the_models_attention_weights(heads):
    model = small_sequence_model("sort")
    for attention in ("encoder", "decoder", "cross"):
        heads.render(row=1, attention=attention, digits="3141592", layer=2)
        src = torch.as_tensor([[3, 1, 4, 1, 5, 9, 2]])
        answer = model.generate(src)[0]
        assert heads.shown["answer"] == "".join(map(str, answer))
        maps = model.attention_maps(src, torch.as_tensor([[BOS, *answer[:-1]]]))
        np.testing.assert_array_equal(heads.shown["weights"], maps[attention][1][0])
        np.testing.assert_allclose(heads.shown["weights"].sum(axis=-1), 1.0, rtol=1e-6)
    # the decoder's self-attention is causal: no output position reads a later one
    heads.render(row=1, attention="decoder", digits="3141592", layer=1)
    w = heads.shown["weights"]
    assert np.all(w[:, np.triu_indices(7, 1)[0], np.triu_indices(7, 1)[1]] == 0)


def test_the_small_sorter_mostly_sorts():
    model = small_sequence_model("sort")
    data = sequence_task(200, "sort", seed=123)
    answer = model.generate(data.src)
    real = data.src != 10
    assert ((answer == data.tgt_out) | ~real).all(axis=1).mean() > 0.8


def test_the_title_checks_the_answer():
    assert _check_answer("3141", "1134", "sort") == "✓ sorted"
    assert _check_answer("3141", "1143", "sort") == "✗ (sorted: 1134)"
    assert _check_answer("3141", "1413", "reverse") == "✓ reversed"
    assert _check_answer("3141", "1413", "copy") == ""


def test_head_maps_refuse_odd_digits_with_messages(heads):
    heads.render(row=1, attention="cross", digits="", layer=1)
    assert heads.message.startswith("type a few digits")
    heads.render(row=1, attention="cross", digits="12a3☃", layer=1)
    assert heads.message.startswith("a ☃ dropped") and heads.shown["digits"] == "123"
    heads.render(row=9, attention="cross", digits="3141592653", layer=1)
    assert "at most 8 digits" in heads.message and heads.shown["digits"] == "31415926"
    assert heads.shown["row"] == 7  # the last row, counted from 0


def test_sampler_bars_are_softmax_of_torchs_logits(sampler):
    model, vocab = small_char_transformer()
    ref = float64_copy(model)
    prompt = "The whale"
    logits = torch_last_logits(ref, vocab.encode(prompt))
    entropies = []
    for temperature in (3.0, 1.0, 0.3, 0.1):
        sampler.render(temperature=temperature, prompt=prompt, seed=0)
        np.testing.assert_allclose(sampler.shown["Transformer"]["probs"],
                                   temperature_softmax(logits, temperature)[0],
                                   rtol=1e-9, atol=1e-12)
        entropies.append(sampler.shown["Transformer"]["entropy"])
        assert len(sampler.shown["Transformer"]["text"]) == 200
    assert np.all(np.diff(entropies) < 0)


def test_sampler_reads_at_most_the_transformers_context(sampler):
    # sampling_explorer's determinism and prompt messages: tests/test_views_recurrent.py
    model, _ = small_char_transformer()
    sampler.render(temperature=1.0, prompt="a" * 100, seed=0)
    assert f"Transformer reads the last {model.context}" in sampler.message
    sampler.render(temperature=1.0, prompt="a" * model.context, seed=0)
    assert sampler.message == ""


def test_head_maps_say_when_the_row_is_past_the_answer(heads):
    heads.render(row=8, attention=heads.controls["attention"].value, digits="31")
    assert heads.message == "row 8 is past the last of 2 rows: showing row 2"
    assert heads.shown["row"] == 1
