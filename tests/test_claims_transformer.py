"""The transformer notebook's claims about training hold for several seeds.

* Sorting digit strings of 1-8 digits (``SEQUENCE_RECIPE``: one encoder and one
  decoder block, width 32, 550 steps of Adam): greedy decoding gets at least 99% of
  the digits of 1,000 fresh test strings right.
* A one-block character transformer on Moby Dick (``CHAR_TRANSFORMER_RECIPE``,
  context 32, 500 steps) beats the unigram baseline (3.08 nats/char) by a wide
  margin on the held-out end of the book.
* Step time against length, on one CPU core: the LSTM's grows about linearly with
  the length; the transformer's cost per position grows once its ``T^2`` attention
  dominates, and at 512 positions its step is slower than the LSTM's. (On a
  GPU the transformer's positions run in parallel and the comparison turns round;
  nothing in this suite can measure that.)

Measured (single thread, a shared 2-core machine): sort token accuracy 99.87%, 99.80%,
99.89% (seeds 0-2; sequence accuracy 99.6-99.8%), 6-11 s each; character model 2.053,
2.056, 2.058 nats/char (seeds 0-2), 5-8 s each (the LSTM of ``CHAR_RECIPE``: 2.11).
Step times (ms, lengths 32..512, width 64, batch 16): transformer 5.9 -> 145 (x25),
LSTM 4.7 -> 46 (x10). This file: about 45 s.
"""

import pytest

from nnlib.sequences import char_dataset, unigram_loss
from nnlib.transformer import fit_char_transformer, fit_sequence_model, step_time_comparison


@pytest.mark.parametrize("seed", range(3))
def test_the_transformer_learns_to_sort_digits(seed):
    result = fit_sequence_model("sort", seed=seed, device="cpu")
    assert result.token_accuracy >= 0.99, (seed, result.token_accuracy)


@pytest.mark.parametrize("seed", range(3))
def test_the_char_transformer_beats_the_unigram_baseline_by_a_wide_margin(seed):
    data = char_dataset("moby_dick")
    baseline = unigram_loss(data.train_ids, data.val_ids, len(data.vocab))
    result = fit_char_transformer(seed=seed, device="cpu")
    assert result.val_loss <= baseline - 0.7, (seed, result.val_loss, baseline)


def test_on_one_cpu_core_recurrence_grows_linearly_and_attention_costs_more_at_length():
    times = step_time_comparison(device="cpu", threads=1)
    length_ratio = times.lengths[-1] / times.lengths[0]
    lstm_growth = times.lstm_ms[-1] / times.lstm_ms[0]
    assert lstm_growth >= 0.3 * length_ratio, times  # the T steps, one after another
    assert times.lstm_ms[-1] < times.transformer_ms[-1] / 1.5, times  # T^2, nothing parallel
    per_position = [ms / T for ms, T in zip(times.transformer_ms, times.lengths)]
    assert per_position[-1] > 1.3 * per_position[-3], times  # attention's cost per position grows
