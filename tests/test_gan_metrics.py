"""nnlib.models.gan_metrics: mode_coverage on constructed samples, and the digit classifier
that judges generated digits."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from nnlib.models import gan_metrics  # noqa: E402


def ring_points(modes, per_mode, jitter=0.0, seed=0):
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.repeat(np.asarray(modes), per_mode) / 8
    points = 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return points + jitter * rng.standard_normal(points.shape)


def test_mode_coverage_all_modes():
    coverage = gan_metrics.mode_coverage(ring_points(range(8), 100, jitter=0.02))
    assert coverage.covered == 8
    assert coverage.quality == 1.0
    assert coverage.counts.tolist() == [100] * 8


def test_mode_coverage_one_mode():
    coverage = gan_metrics.mode_coverage(ring_points([3], 800, jitter=0.02))
    assert coverage.covered == 1
    assert coverage.counts[3] == 800 and coverage.counts.sum() == 800
    assert coverage.quality == 1.0


def test_mode_coverage_between_the_modes_counts_nothing():
    # points on the circle halfway between modes: 0.77 from the nearest centre
    between = ring_points(np.arange(8) + 0.5, 50)
    coverage = gan_metrics.mode_coverage(between)
    assert coverage.covered == 0 and coverage.quality == 0.0
    # a blob at the origin: no mode at all
    blob = gan_metrics.mode_coverage(np.random.default_rng(0).normal(0, 0.3, (1000, 2)))
    assert blob.covered == 0 and blob.quality == 0.0


def test_mode_coverage_needs_a_fair_share():
    # 7 modes well covered and a trickle at the 8th: 10 of 1410 samples < 1/4 of 1/8
    points = np.concatenate([ring_points(range(7), 200), ring_points([7], 10)])
    assert gan_metrics.mode_coverage(points).covered == 7
    assert gan_metrics.mode_coverage(points, min_share=0.01).covered == 8


def test_mode_coverage_checks_its_input():
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        gan_metrics.mode_coverage(np.zeros((10, 3)))
    with pytest.raises(ValueError, match="min_share"):
        gan_metrics.mode_coverage(np.zeros((10, 2)), min_share=2.0)


def test_digit_classifier_recognises_the_real_digits():
    from nnlib.data import load_digits

    model = gan_metrics.digit_classifier()
    assert model is gan_metrics.digit_classifier()  # cached
    assert model.test_accuracy >= 0.95
    data = load_digits()
    quality = gan_metrics.digit_quality(data.x_test)
    assert quality.classes_present == 10 and quality.confident_share > 0.85
    assert quality.class_counts.sum() == len(data.x_test)
    # noise is not a digit
    noise = gan_metrics.digit_quality(np.random.default_rng(0).random((200, 64)))
    assert noise.confident_share < quality.confident_share
