"""nnlib.sampling: the numpy twins of trained character models reproduce torch in float64.

Every cell (RNN, LSTM, GRU) step by step, the transformer with its key/value cache past
its context, and sampling as the Gumbel-max trick on those logits.
"""

import numpy as np
import pytest
import torch
from helpers import float64_copy, torch_last_logits

from nnlib.models.convert import char_lstm_weights, numpy_twin
from nnlib.models.recurrent import CELLS, CharModel
from nnlib.models.transformer import CharTransformer
from nnlib.sampling import char_lstm_forward, temperature_softmax
from nnlib.views.rnn import small_char_model
from nnlib.views.transformer import small_char_transformer

TEXT = "Call me Ishmael. Some years ago—never mind how long"


@pytest.fixture(scope="module")
def lstm():
    return small_char_model("lstm")  # (model, vocab), trained once and cached


def _torch_logits(model, ids):
    """torch's float64 logits after reading ``ids``, and its hidden states."""
    m = float64_copy(model)
    with torch.no_grad():
        hs = m.recurrent(m.embed(torch.as_tensor(ids)[None]))[0]
        return m.out(hs)[0, -1].numpy(), hs[0].numpy()


def test_temperature_softmax_is_the_softmax_of_the_scaled_logits_and_its_entropy():
    logits = np.array([2.0, -1.0, 0.5, 1000.0])
    for temperature in (0.1, 1.0, 3.0):
        z = logits / temperature
        expected = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        p, entropy = temperature_softmax(logits, temperature)
        np.testing.assert_allclose(p, expected, rtol=1e-12, atol=1e-300)
        nz = expected > 0
        assert entropy == pytest.approx(-(expected[nz] * np.log(expected[nz])).sum(), abs=1e-12)


# --------------------------------------------------------------------------- RNN, LSTM, GRU


@pytest.mark.parametrize("cell", CELLS)
def test_numpy_char_model_matches_torch_for_every_cell(cell, lstm):
    vocab = lstm[1]
    model = CharModel(len(vocab), hidden=24, cell=cell, embedding=8, seed=3)
    ids = vocab.encode(TEXT)
    net = numpy_twin(model)
    logits, hs = _torch_logits(model, ids)
    state = net.start()
    for t, token in enumerate(ids):
        state = net.step(token, state)
        np.testing.assert_allclose(state[0], hs[t], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(net.logits(state), logits, rtol=1e-10, atol=1e-12)


def test_sampling_draws_from_the_shown_distribution(lstm):
    # Gumbel-max: argmax(logits / T + Gumbel noise) is a draw from softmax(logits / T)
    model, vocab = lstm
    net = numpy_twin(model)
    state = net.read(vocab.encode("The sea was "))
    probs, _ = temperature_softmax(net.logits(state), 0.7)
    noise = np.random.default_rng(0).gumbel(size=(20_000, 1, len(vocab)))
    firsts = np.array([net.sample(state, n, 0.7)[0] for n in noise])
    counts = np.bincount(firsts, minlength=len(vocab)) / len(firsts)
    np.testing.assert_allclose(counts, probs, atol=0.01)


def test_char_lstm_forward_reproduces_torchs_hidden_states(lstm):
    model, vocab = lstm
    ids = vocab.encode(TEXT)
    hs, cache = char_lstm_forward(char_lstm_weights(model), ids)
    np.testing.assert_allclose(hs[0], _torch_logits(model, ids)[1], rtol=1e-10, atol=1e-12)
    # and h = o * tanh(c), from the gates the view draws
    np.testing.assert_allclose(hs, cache.gate("o") * np.tanh(cache.cs), rtol=1e-12)


# --------------------------------------------------------------------------- transformer


@pytest.fixture(scope="module")
def random_transformer():
    model = CharTransformer(30, d_model=32, n_heads=4, n_layers=2, d_ff=48, context=12, seed=2)
    with torch.no_grad():  # move the layer norms off gain 1, bias 0 so their folding shows
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    return model


def test_numpy_transformer_steps_reproduce_torch(random_transformer):
    net, ref = numpy_twin(random_transformer), float64_copy(random_transformer)
    ids = np.random.default_rng(0).integers(0, 30, 30)
    state = net.start()
    for token in ids:  # past the context of 12: the window refills from its second half
        state = net.step(token, state)
        assert len(state.ids) <= 12
        np.testing.assert_allclose(net.logits(state), torch_last_logits(ref, state.ids),
                                   rtol=1e-10, atol=1e-12)
    # batch 1, length 1, and a long read that keeps the last window
    for window in (ids[:1], ids[:12], ids):
        np.testing.assert_allclose(net.logits(net.read(window)),
                                   torch_last_logits(ref, window[-12:]), rtol=1e-10,
                                   atol=1e-12)


def test_numpy_transformer_matches_the_trained_model_and_torchs_step():
    model, vocab = small_char_transformer()
    net, ref = numpy_twin(model), float64_copy(model)
    ids = vocab.encode("Call me Ishmael.")
    np.testing.assert_allclose(net.logits(net.read(ids)), torch_last_logits(ref, ids),
                               rtol=1e-10, atol=1e-12)
    with torch.no_grad():  # CharTransformer.step (a full window each call) agrees too
        logits, _ = ref.step(torch.as_tensor(ids)[None])
    np.testing.assert_allclose(net.logits(net.read(ids)), logits[0, -1].numpy(), rtol=1e-10,
                               atol=1e-12)


def test_sampling_is_stepping_with_the_gumbel_max_trick(random_transformer):
    net = numpy_twin(random_transformer)
    start = net.read([1, 2, 3])
    noise = np.random.default_rng(5).gumbel(size=(40, 30))
    out = net.sample(start, noise, 0.7)
    state, expected = start, []
    for n in range(40):
        token = int(np.argmax(net.logits(state) / 0.7 + noise[n]))
        expected.append(token)
        state = net.step(token, state)
    assert out.tolist() == expected
    assert np.array_equal(net.sample(start, noise, 0.7), out)  # the cached state is unchanged
