"""The LSTM gate view of notebook 09 (nnlib.views.gates) shows a trained character model's
gates over a typed text, and odd texts give messages. Rendering, extremes and
responsiveness are checked for every view in tests/test_views.py."""

import numpy as np
import pytest

from nnlib.models.convert import char_lstm_weights
from nnlib.models.recurrent import CharModel
from nnlib.sampling import char_lstm_forward
from nnlib.views.gates import gate_explorer
from nnlib.views.rnn import small_char_model

TEXT = "Call me Ishmael. Some years ago—never mind how long"


@pytest.fixture(scope="module")
def lstm():
    return small_char_model("lstm")  # (model, vocab), trained once and cached


@pytest.fixture(scope="module")
def gates(lstm):
    return gate_explorer()


def test_gate_view_draws_the_gates_of_the_typed_text(gates, lstm):
    model, vocab = lstm
    gates.render(first_unit=16, text=TEXT)
    cache = char_lstm_forward(char_lstm_weights(model), vocab.encode(TEXT))[1]
    for ax, name in zip(gates.fig.axes, "ifo"):  # the first three axes, top to bottom
        shown = ax.images[0].get_array()
        np.testing.assert_allclose(shown, cache.gate(name)[0, :, 16:32].T)
    np.testing.assert_allclose(gates.fig.axes[3].images[0].get_array(),
                               np.tanh(cache.cs[0, :, 16:32]).T)


def test_gate_view_long_unknown_and_empty_texts_give_messages(gates, lstm):
    model, vocab = lstm
    long = TEXT + " and then the whale é came up from the deep, white and vast"
    gates.render(first_unit=0, text=long)
    assert "'é' is not in the book's alphabet; dropped" in gates.message
    assert f"last 60 of {len(long) - 1} characters" in gates.message
    kept = long.replace("é", "")
    cache = char_lstm_forward(char_lstm_weights(model), vocab.encode(kept))[1]
    np.testing.assert_allclose(gates.fig.axes[1].images[0].get_array(),
                               cache.gate("f")[0, -60:, :16].T)
    gates.render(first_unit=0, text="")
    assert gates.message.startswith("type some text")
    gates.render(first_unit=0, text="☃")
    assert "not in the book's alphabet" in gates.message and "type some text" in gates.message


def test_gate_view_refuses_a_model_that_is_not_an_lstm(lstm):
    gru = CharModel(len(lstm[1]), hidden=16, cell="gru", embedding=8)
    with pytest.raises(ValueError, match="needs an LSTM"):
        gate_explorer(gru, lstm[1])
