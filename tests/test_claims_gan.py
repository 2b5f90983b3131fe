"""The GAN notebook's claims hold for several seeds (single thread, about a minute in all).

* Ring of 8 Gaussians (``fit_ring_gan``, ``RING_RECIPE``): the "well tuned" preset covers
  at least 6 of the 8 modes with most samples near a mode; the "mode collapse" preset
  (generator learning rate 300x the discriminator's) puts every sample in one spot and
  covers at most one mode.
* Digits (``fit_digit_gan``): most generated images are classified confidently as a digit
  (top class a digit, softmax probability >= 0.9) by a classifier trained on the real
  digits and on a "not a digit" class (which takes noise, grey images and the untrained
  generator's output: ``tests/test_gan_metrics.py``), and they spread over at least 8 of
  the 10 classes.
"""

import numpy as np
import pytest

pytest.importorskip("torch")

from nnlib.models.gan import fit_digit_gan, fit_ring_gan  # noqa: E402
from nnlib.models.gan_metrics import digit_classifier, digit_quality

pytestmark = pytest.mark.claims  # training runs: `pytest -m "not claims"` skips them

# Seed 0 is the notebook's own run too, but notebooks/11_gan.ipynb asserts looser bounds
# for it (at least 7 classes, more than half confident, collapse covering 3 modes fewer
# than the tuned run), so the stricter ones here are checked for it as well.

SEEDS = range(3)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_well_tuned_gan_covers_most_modes(seed):
    _, coverage = fit_ring_gan("well tuned", seed=seed, device="cpu")
    assert coverage.covered >= 6, (seed, coverage)
    assert coverage.quality >= 0.6, (seed, coverage)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_collapse_preset_puts_every_sample_in_one_spot(seed):
    gan, coverage = fit_ring_gan("mode collapse", seed=seed, device="cpu")
    assert coverage.covered <= 1, (seed, coverage)
    x = gan.sample(2000, fixed=False)
    near_median = np.mean(np.linalg.norm(x - np.median(x, axis=0), axis=1) < 0.5)
    assert near_median >= 0.9, (seed, near_median)


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_digits_are_recognised_and_varied(seed):
    gan = fit_digit_gan(seed=seed, device="cpu")
    quality = digit_quality(gan.sample(1000, fixed=False), digit_classifier())
    assert quality.confident_share >= 0.6, (seed, quality)
    assert quality.classes_present >= 8, (seed, quality)
