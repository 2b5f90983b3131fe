"""The GAN notebook's claims hold for several seeds (single thread, about a minute in all).

* Ring of 8 Gaussians (``fit_ring_gan``, ``RING_RECIPE``): the "well tuned" preset covers
  at least 6 of the 8 modes with most samples near a mode; the "mode collapse" preset
  (generator learning rate 10x the discriminator's) puts most samples in one spot and,
  while the learning rates are constant, that spot hops round the ring (the cycling of
  mode collapse).
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
from nnlib.models.gan_metrics import collapse_spot, digit_classifier, digit_quality, spot_path

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
def test_the_collapse_preset_puts_most_samples_in_one_spot_that_cycles(seed):
    from nnlib.models.gan import RING_RECIPE

    spots = []
    gan, _ = fit_ring_gan("mode collapse", seed=seed, device="cpu", callback_every=50,
                          callback=lambda gan: spots.append(collapse_spot(gan.sample(500))))
    # one spot: 93-99% of the samples on one thread, 85-99% under other numerics (notebook
    # 11 asserts more than 75%); the stragglers can give it a mode or a few in the count
    assert collapse_spot(gan.sample(2000, fixed=False)).share > 0.75, seed
    constant = round((1 - RING_RECIPE.anneal) * RING_RECIPE.steps) // 50  # before annealing
    path = spot_path(spots[:constant])
    # notebook 11 asserts: collapsed in 10+ snapshots, 5+ sectors, 8+ jumps (seeds 0-4:
    # 14-21 of 25, 6-8 sectors, 11-18 jumps)
    assert path.collapsed >= 10 and path.sectors >= 5 and path.jumps >= 8, (seed, path)
    assert abs(np.mean(gan.history["d_real"][-100:]) - 0.5) < 0.08, seed  # D "in balance"


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_digits_are_recognised_and_varied(seed):
    gan = fit_digit_gan(seed=seed, device="cpu")
    quality = digit_quality(gan.sample(1000, fixed=False), digit_classifier())
    assert quality.confident_share >= 0.6, (seed, quality)
    assert quality.classes_present >= 8, (seed, quality)
