"""The attention views of the transformer notebook (12) show what they say they show.

The calculator's weights are ``nnlib.attention``'s softmax of the scores it draws, the
``1/sqrt(d)`` scale keeps them from saturating, and the positional encoding's similarity
depends only on the offset. The views of trained transformers are tested in
tests/test_views_transformer.py, their numpy twins in tests/test_sampling.py.
Rendering, extremes and responsiveness are checked for every registered view in
tests/test_views.py.
"""


import numpy as np
import pytest

from nnlib.attention import sinusoidal_positional_encoding
from nnlib.views.attention import (
    MAX_TOKENS,
    POSITIONS,
    attention_calculator,
    attention_example,
    positional_encoding_explorer,
    split_words,
)

WORDS = "the cat sat on the mat".split()


@pytest.fixture(scope="module")
def calculator():
    return attention_calculator()


@pytest.fixture(scope="module")
def positions():
    return positional_encoding_explorer()


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


# --------------------------------------------------------------------------- numpy transformer


