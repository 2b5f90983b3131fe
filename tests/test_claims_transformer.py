"""The transformer notebook's claims about training hold for several seeds.

* Sorting digit strings of 1-8 digits (``SEQUENCE_RECIPE``: one encoder and one
  decoder block, width 32, 550 steps of Adam): greedy decoding gets at least 99% of
  the digits of 1,000 fresh test strings right.
* A one-block character transformer on Moby Dick (``CHAR_TRANSFORMER_RECIPE``,
  context 32, 500 steps) beats the unigram baseline (3.08 nats/char) by a wide
  margin on the held-out end of the book.
* Step time against length is asserted by the notebook itself (its shapes, under all
  three numerical settings of ``make test``; which model is cheaper depends on the CPU's
  kernels), so it is not measured a second time here.

Measured (single thread, a shared 2-core machine): sort token accuracy 99.87%, 99.80%,
99.89% (seeds 0-2; sequence accuracy 99.6-99.8%), 6-11 s each; character model 2.053,
2.056, 2.058 nats/char (seeds 0-2), 5-8 s each (the LSTM of ``CHAR_RECIPE``: 2.11).
Seed 0 is the notebook's own run, asserted there; seeds 1 and 2 are trained here.
"""

import pytest

from nnlib.data.text import char_dataset, unigram_loss
from nnlib.models.seq2seq import fit_sequence_model
from nnlib.models.transformer import fit_char_transformer

pytestmark = pytest.mark.claims  # training runs: `pytest -m "not claims"` skips them

SEEDS = range(1, 3)  # seed 0 is the notebook's


@pytest.mark.parametrize("seed", SEEDS)
def test_the_transformer_learns_to_sort_digits(seed):
    result = fit_sequence_model("sort", seed=seed, device="cpu")
    assert result.token_accuracy >= 0.99, (seed, result.token_accuracy)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_char_transformer_beats_the_unigram_baseline_by_a_wide_margin(seed):
    data = char_dataset("moby_dick")
    baseline = unigram_loss(data.train_ids, data.val_ids, len(data.vocab))
    result = fit_char_transformer(seed=seed, device="cpu")
    assert result.val_loss <= baseline - 0.7, (seed, result.val_loss, baseline)

