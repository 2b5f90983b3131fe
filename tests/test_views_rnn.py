"""The sampling view of trained character models (notebooks 08-10) shows what the models
compute.

The bars are ``softmax(logits / T)`` of torch's logits (the numpy models behind the
views are tested in tests/test_sampling.py), and odd input (unknown characters, nothing
at all) gives a message, not an exception. Rendering, extremes and responsiveness are checked for
every registered view in tests/test_views.py.
"""


import numpy as np
import pytest
import torch
from helpers import float64_copy

from nnlib.models.recurrent import CharModel
from nnlib.sampling import temperature_softmax
from nnlib.views.rnn import sampling_explorer, small_char_model

TEXT = "Call me Ishmael. Some years ago—never mind how long"


@pytest.fixture(scope="module")
def lstm():
    return small_char_model("lstm")  # (model, vocab), trained once and cached


@pytest.fixture(scope="module")
def sampler(lstm):
    return sampling_explorer()


def _torch_logits(model, ids):
    """torch's float64 logits after reading ``ids``, and its hidden states."""
    m = float64_copy(model)
    with torch.no_grad():
        hs = m.recurrent(m.embed(torch.as_tensor(ids)[None]))[0]
        return m.out(hs)[0, -1].numpy(), hs[0].numpy()


def test_bars_are_softmax_of_logits_over_temperature_and_entropy_falls_with_it(sampler, lstm):
    model, vocab = lstm
    prompt = "The whale"
    logits = _torch_logits(model, vocab.encode(prompt))[0]
    entropies = []
    for temperature in (3.0, 1.5, 1.0, 0.5, 0.2, 0.1):
        sampler.render(temperature=temperature, prompt=prompt, seed=0)
        shown = sampler.shown["LSTM"]
        z = logits / temperature
        expected = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        np.testing.assert_allclose(shown["probs"], expected, rtol=1e-9, atol=1e-12)
        assert shown["entropy"] == pytest.approx(-(expected * np.log(expected)).sum(),
                                                 rel=1e-9)
        entropies.append(shown["entropy"])
    assert np.all(np.diff(entropies) < 0), entropies
    assert entropies[0] < np.log(len(vocab))  # still below the uniform distribution's


def test_sampling_is_deterministic_for_a_seed_and_changes_with_it(sampler, lstm):
    settings = {"temperature": 0.8, "prompt": "It was ", "seed": 3}
    png = sampler.render(**settings)
    text = sampler.shown["LSTM"]["text"]
    assert sampler.render(**settings) == png and sampler.shown["LSTM"]["text"] == text
    sampler.render(**{**settings, "seed": 4})
    assert sampler.shown["LSTM"]["text"] != text
    assert len(text) == 200 and set(text) <= set(lstm[1].chars)


def test_unknown_characters_and_an_empty_prompt_give_messages(sampler):
    sampler.render(temperature=1.0, prompt="Ishmaël ☃", seed=0)
    assert sampler.message == "'ë' and '☃' are not in the book's alphabet; dropped"
    sampler.render(temperature=1.0, prompt="", seed=0)
    assert sampler.message.startswith("the prompt is empty")
    assert len(sampler.shown["LSTM"]["text"]) == 200


def test_sampling_view_works_with_rnn_and_gru_models(lstm):
    vocab = lstm[1]
    models = {cell.upper(): CharModel(len(vocab), hidden=32, cell=cell, embedding=8, seed=1)
              for cell in ("rnn", "gru")}
    view = sampling_explorer({**models, "LSTM": lstm[0]}, vocab)
    for settings in view.sweep():
        view.render(**settings)
        assert not view.message.startswith("Could not draw"), view.message
    assert list(view.shown) == ["RNN", "GRU", "LSTM"]
    logits = _torch_logits(models["GRU"], vocab.encode("The sea was "))[0]
    view.render(temperature=1.0, prompt="The sea was ", seed=0)
    np.testing.assert_allclose(view.shown["GRU"]["probs"], temperature_softmax(logits)[0],
                               rtol=1e-9)
