"""The recurrent notebooks' claims about training hold for several seeds.

* Recall over 60 steps (``RECALL_RECIPE``: 48 units, at most 900 steps of Adam, stopping
  once solved): the LSTM, its forget gate starting open, is near-perfect, and so is the
  GRU, its update gate starting open at the same bias (4), though its training loss falls
  below 1 later than the LSTM's; the plain RNN, same budget, stays near chance (1/8); the
  same LSTM with its forget-gate bias at 0 stays near chance too.
* Character models on Moby Dick (``CHAR_RECIPE``, seed 0): RNN, LSTM and GRU all beat the
  unigram baseline (3.08 nats/char) by a wide margin; notebook 10 asserts this itself.

Measured (single thread): LSTM 99.9-100% (seeds 0-4, 660-900 steps, stopping at a loss of
0.01; at 0.03, the recipe now, 99.7-100% after 630-720 steps and the GRU 99.8-100% after
660-690, seeds 0-2), the RNN 11.2-13.2%
(seeds 0-4); the LSTM with a closed forget gate 13.0-13.7% (seeds 0-2). Both gated cells
at bias 4 (seeds 0-2): the LSTM's training loss below 1 from step 360, the GRU's from
480-510, both 99.9-100% in the end; at bias 3 for both, 360-420 against 480-540. The GRU's
update gate also sets how little it writes (1 - z), so at its best start (bias near
ln 59) far less gradient reaches the symbol than in the LSTM
(``input_gradients_through_time``). Character models (seed 0): RNN 2.07, LSTM 2.11, GRU
2.02 nats/char.
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
    assert rnn.accuracy <= CHANCE + 0.04, (seed, rnn.accuracy)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_gru_also_solves_it_with_three_quarters_of_the_lstms_parameters(seed):
    from nnlib.models.recurrent import count_recurrent_parameters

    gru = fit_recall("gru", seed=seed, device="cpu")
    lstm = fit_recall("lstm", seed=seed, device="cpu")
    assert gru.accuracy >= 0.97, (seed, gru.accuracy)
    assert 4 * count_recurrent_parameters(gru.model) == 3 * count_recurrent_parameters(lstm.model)

    def first_below_one(result):
        return next(step for step, loss in result.train_loss if loss < 1.0)

    # notebook 10: with the same start, the GRU needs more of the budget than the LSTM
    assert first_below_one(gru) > first_below_one(lstm), (seed, gru.train_loss, lstm.train_loss)


@pytest.mark.parametrize("seed", SEEDS)
def test_without_an_open_forget_gate_the_lstm_does_not_learn_it_either(seed):
    closed = fit_recall("lstm", seed=seed, gate_bias=0.0, device="cpu")
    assert closed.accuracy <= CHANCE + 0.04, (seed, closed.accuracy)
