"""The transformer notebook's views (12) show what they say they show.

The calculator's weights are ``nnlib.attention``'s softmax of the scores it draws, the
``1/sqrt(d)`` scale keeps them from saturating, the positional encoding's similarity
depends only on the offset, the head maps are the model's own attention weights, and
the numpy transformer behind the sampler reproduces torch's logits in float64.
Rendering, extremes and responsiveness are checked for every registered view in
tests/test_views.py.
"""

import copy

import numpy as np
import pytest
import torch

from nnlib.attention import sinusoidal_positional_encoding
from nnlib.data.sequences import BOS, sequence_task
from nnlib.models.convert import numpy_twin
from nnlib.models.transformer import CharTransformer
from nnlib.sampling import temperature_softmax
from nnlib.views.attention import (
    MAX_TOKENS,
    POSITIONS,
    attention_calculator,
    attention_example,
    positional_encoding_explorer,
    split_words,
)
from nnlib.views.transformer import (
    _check_answer,
    head_maps,
    small_char_transformer,
    small_sequence_model,
    transformer_sampler,
)

WORDS = "the cat sat on the mat".split()


@pytest.fixture(scope="module")
def calculator():
    return attention_calculator()


@pytest.fixture(scope="module")
def positions():
    return positional_encoding_explorer()


@pytest.fixture(scope="module")
def heads():
    return head_maps()


@pytest.fixture(scope="module")
def sampler():
    return transformer_sampler()


def _softmax_rows(s):
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------- calculator


def test_split_words_lowers_and_drops_symbols():
    assert split_words("The  Cat sat!") == (["the", "cat", "sat!"], [])
    assert split_words("déjà vu ☃\t") == (["déjà", "vu"], ["☃"])
    assert split_words("") == ([], [])


@pytest.mark.parametrize("scale", [True, False])
def test_weights_are_the_softmax_of_the_scores_drawn(scale):
    for d, temperature in ((2, 0.1), (16, 1.0), (512, 5.0)):
        ex = attention_example(WORDS, d, temperature, scale, causal=False, seed=3)
        factor = (1 / np.sqrt(d) if scale else 1.0) / temperature
        np.testing.assert_allclose(ex.scores, ex.q @ ex.k.T * factor, rtol=1e-12)
        np.testing.assert_allclose(ex.weights, _softmax_rows(ex.scores), rtol=1e-10,
                                   atol=1e-300)
        np.testing.assert_allclose(ex.weights.sum(axis=1), 1.0, rtol=1e-12)


def test_repeated_words_attend_alike_and_are_attended_alike():
    ex = attention_example(WORDS, 16, seed=0)
    np.testing.assert_array_equal(ex.weights[0], ex.weights[4])  # "the" ... "the"
    np.testing.assert_array_equal(ex.weights[:, 0], ex.weights[:, 4])
    # and the projections are not the identity: no word need attend most to itself
    assert not np.all(np.argmax(ex.weights, axis=1) == np.arange(len(WORDS)))


def test_the_scale_keeps_the_scores_spread_near_one_whatever_d():
    for d in (2, 8, 32, 128, 512):
        scaled = [attention_example(WORDS, d, seed=s).scores.std() for s in range(20)]
        raw = [attention_example(WORDS, d, scale=False, seed=s).scores.std() for s in range(20)]
        assert 0.5 < np.mean(scaled) < 1.5, (d, np.mean(scaled))
        assert np.mean(raw) == pytest.approx(np.sqrt(d) * np.mean(scaled), rel=1e-12)


def test_without_the_scale_a_wide_head_saturates_and_the_view_says_so(calculator):
    base = dict(d=512, temperature=1.0, causal=False, words=" ".join(WORDS), seed=0)
    calculator.render(**base, scale=False)
    assert calculator.message.startswith("saturated:")
    assert np.mean(calculator.shown["weights"].max(axis=1) > 0.99) > 0.5
    calculator.render(**base, scale=True)
    assert "saturated" not in calculator.message
    assert calculator.shown["weights"].max(axis=1).mean() < 0.9


def test_entropy_rises_with_the_temperature():
    entropies = [attention_example(WORDS, 16, temperature=t, seed=1).entropy.mean()
                 for t in (0.1, 0.3, 1.0, 3.0, 5.0)]
    assert np.all(np.diff(entropies) > 0), entropies
    assert entropies[-1] < np.log(len(WORDS)) + 1e-12


def test_the_causal_mask_hides_the_future(calculator):
    ex = attention_example(WORDS, 16, causal=True, seed=0)
    T = len(WORDS)
    assert np.all(ex.weights[np.triu_indices(T, 1)] == 0)
    assert np.all(np.isneginf(ex.scores[np.triu_indices(T, 1)]))
    assert ex.weights[0, 0] == 1.0
    np.testing.assert_allclose(ex.uniform_entropy, np.log(np.arange(1, T + 1)))
    calculator.render(d=16, temperature=1.0, scale=True, causal=True, words=" ".join(WORDS),
                      seed=0)
    hatch = [c for c in calculator.fig.axes[0].collections if c.get_hatch()][0]
    assert len(hatch.get_paths()) == T * (T - 1) // 2


def test_odd_texts_give_messages_not_errors(calculator):
    settings = dict(d=16, temperature=1.0, scale=True, causal=False, seed=0)
    calculator.render(**settings, words="")
    assert calculator.message.startswith("type a few words")
    calculator.render(**settings, words="cat")
    assert "attends only to itself" in calculator.message
    np.testing.assert_array_equal(calculator.shown["weights"], [[1.0]])
    calculator.render(**settings, words="a b c d e f g h i j " * 3)
    assert f"showing the first {MAX_TOKENS} of 30 words" in calculator.message
    assert calculator.shown["weights"].shape == (MAX_TOKENS, MAX_TOKENS)
    calculator.render(**settings, words="the ☃ cat")
    assert calculator.message.startswith("dropped ☃")
    assert calculator.shown["words"] == ["the", "cat"]


# --------------------------------------------------------------------------- positions


def test_similarity_depends_only_on_the_offset():
    for E in (8, 32, 128):
        pe = sinusoidal_positional_encoding(POSITIONS, E)
        gram = pe @ pe.T
        np.testing.assert_allclose(np.diag(gram), E / 2, rtol=1e-12)  # sin^2 + cos^2 per pair
        for k in (0, 1, 5, 20):
            np.testing.assert_allclose(np.diag(gram, k), gram[0, k], rtol=1e-9, atol=1e-9)
        assert np.all(gram <= E / 2 + 1e-9)  # no position is more alike than itself


def test_the_explorer_draws_the_similarity_and_compares_offsets(positions):
    positions.render(t=20, E=32, k=7)
    assert positions.message == ""
    ax_s = positions.fig.axes[2]
    line = [line for line in ax_s.get_lines() if line.get_label().startswith("PE[t]")][0]
    pe = sinusoidal_positional_encoding(POSITIONS, 32)
    sims = np.asarray(line.get_ydata())
    np.testing.assert_allclose(sims, pe @ pe[20] / 16, rtol=1e-12)
    assert np.argmax(sims) == 20 and sims[20] == pytest.approx(1.0)
    positions.render(t=60, E=32, k=7)
    assert "beyond position 63" in positions.message


# --------------------------------------------------------------------------- head maps


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


# --------------------------------------------------------------------------- numpy transformer


def _double(model):
    return copy.deepcopy(model).double().cpu().eval()


def _torch_last_logits(model, ids):
    with torch.no_grad():
        return model(torch.as_tensor(np.asarray(ids))[None])[0, -1].numpy()


@pytest.fixture(scope="module")
def random_transformer():
    model = CharTransformer(30, d_model=32, n_heads=4, n_layers=2, d_ff=48, context=12, seed=2)
    with torch.no_grad():  # move the layer norms off gain 1, bias 0 so their folding shows
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    return model


def test_numpy_transformer_steps_reproduce_torch(random_transformer):
    net, ref = numpy_twin(random_transformer), _double(random_transformer)
    ids = np.random.default_rng(0).integers(0, 30, 30)
    state = net.start()
    for token in ids:  # past the context of 12: the window refills from its second half
        state = net.step(token, state)
        assert len(state.ids) <= 12
        np.testing.assert_allclose(net.logits(state), _torch_last_logits(ref, state.ids),
                                   rtol=1e-10, atol=1e-12)
    # batch 1, length 1, and a long read that keeps the last window
    for window in (ids[:1], ids[:12], ids):
        np.testing.assert_allclose(net.logits(net.read(window)),
                                   _torch_last_logits(ref, window[-12:]), rtol=1e-10,
                                   atol=1e-12)


def test_numpy_transformer_matches_the_trained_model_and_torchs_step():
    model, vocab = small_char_transformer()
    net, ref = numpy_twin(model), _double(model)
    ids = vocab.encode("Call me Ishmael.")
    np.testing.assert_allclose(net.logits(net.read(ids)), _torch_last_logits(ref, ids),
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


def test_sampler_bars_are_softmax_of_torchs_logits(sampler):
    model, vocab = small_char_transformer()
    ref = _double(model)
    prompt = "The whale"
    logits = _torch_last_logits(ref, vocab.encode(prompt))
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
