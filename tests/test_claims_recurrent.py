"""The recurrent notebooks' claims about training hold for several seeds.

* Recall over 60 steps (``RECALL_RECIPE``: 48 units, at most 900 steps of Adam, stopping
  once solved): the LSTM, its forget gate starting open, is near-perfect, and so is the
  GRU, its update gate starting open; the plain RNN, same budget, stays near chance
  (1/8); the same LSTM with its forget-gate bias at 0 stays near chance too.
* Character models on Moby Dick (``CHAR_RECIPE``, seed 0): RNN, LSTM and GRU all beat the
  unigram baseline (3.08 nats/char) by a wide margin; notebook 10 asserts this itself.

Measured (single thread): LSTM 99.9-100% (seeds 0-4, 660-900 steps), GRU 100.0% (seeds
0-4); the RNN 11.2-13.2% (seeds 0-4); the LSTM with a closed forget gate 13.0-13.7%
(seeds 0-2). Character models (seed 0): RNN 2.07, LSTM 2.11, GRU 2.02 nats/char. With 600
steps (64 units) the GRU reached only 37-78%: its direct path keeps sigma(3) = 0.95 per
step where the LSTM's keeps 0.98, so less gradient reaches the symbol
(``input_gradients_through_time``); a larger learning rate rescued it but also let the
RNN learn the task on some seeds.
"""

import pytest

from nnlib.models.recurrent import fit_recall

pytestmark = pytest.mark.claims  # training runs: `pytest -m "not claims"` skips them

CHANCE = 1 / 8
# Seed 0 is the notebooks' own run: 09 asserts the LSTM, RNN and closed-gate claims for it,
# 10 the GRU's and all three character models', under all three numerical settings of
# `make test`; it is not trained a second time here.
SEEDS = range(1, 3)


@pytest.mark.parametrize("seed", SEEDS)
def test_lstm_recalls_over_60_steps_where_the_rnn_cannot(seed):
    lstm = fit_recall("lstm", seed=seed, device="cpu")
    rnn = fit_recall("rnn", seed=seed, device="cpu")
    assert lstm.accuracy >= 0.97, (seed, lstm.accuracy)
    assert rnn.accuracy <= CHANCE + 0.07, (seed, rnn.accuracy)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_gru_also_solves_it_with_three_quarters_of_the_lstms_parameters(seed):
    from nnlib.models.recurrent import (
        RECALL_RECIPE,
        build_sequence_classifier,
        count_recurrent_parameters,
    )

    gru = fit_recall("gru", seed=seed, device="cpu")
    lstm = build_sequence_classifier("lstm", 9, RECALL_RECIPE.hidden, 8)
    assert gru.accuracy >= 0.97, (seed, gru.accuracy)
    assert 4 * count_recurrent_parameters(gru.model) == 3 * count_recurrent_parameters(lstm)


@pytest.mark.parametrize("seed", SEEDS)
def test_without_an_open_forget_gate_the_lstm_does_not_learn_it_either(seed):
    closed = fit_recall("lstm", seed=seed, gate_bias=0.0, device="cpu")
    assert closed.accuracy <= CHANCE + 0.07, (seed, closed.accuracy)
