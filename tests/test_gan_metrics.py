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


def test_collapse_spot_tells_one_spot_from_a_spread_ring():
    spot = gan_metrics.collapse_spot(ring_points([2], 500, jitter=0.05))
    assert spot.share == 1.0 and spot.angle == pytest.approx(90.0, abs=2)
    spread = gan_metrics.collapse_spot(ring_points(range(8), 100, jitter=0.05))
    assert spread.share < 0.2
    # angles are in [0, 360): the mode at 315 degrees is not reported as -45
    assert gan_metrics.collapse_spot(ring_points([7], 100)).angle == pytest.approx(315.0)
    with pytest.raises(ValueError, match="radius"):
        gan_metrics.collapse_spot(np.zeros((4, 2)), radius=0)


def test_spot_path_counts_collapsed_snapshots_sectors_and_jumps():
    Spot = gan_metrics.Spot
    hopping = [Spot(0.9, 0.0), Spot(0.95, 90.0), Spot(0.2, 180.0), Spot(0.9, 350.0),
               Spot(0.9, 10.0), Spot(0.9, 100.0)]
    path = gan_metrics.spot_path(hopping)
    # collapsed: all but the 0.2 one; sectors of 45 degrees: 0 (0, 350, 10), 2 (90, 100)
    assert path == gan_metrics.SpotPath(collapsed=5, sectors=2, jumps=2)
    # 0 -> 90 jumps; 90 -> 180 and 180 -> 350 involve a spread snapshot; 350 -> 10 is 20
    # degrees across 0, not 340; 10 -> 100 jumps
    frozen = [Spot(0.99, 44.0)] * 10
    assert gan_metrics.spot_path(frozen) == gan_metrics.SpotPath(10, 1, 0)
    assert gan_metrics.spot_path([]) == gan_metrics.SpotPath(0, 0, 0)


def test_angle_shares_sum_to_one_and_find_the_direction():
    shares = gan_metrics.angle_shares(ring_points([0, 2], 100), bins=8)
    # mode 0 sits at angle 0, on the edge of bin 0; jitter-free it lands in bin 0
    assert shares.sum() == pytest.approx(1.0)
    assert shares[0] == pytest.approx(0.5) and shares[2] == pytest.approx(0.5)
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        gan_metrics.angle_shares(np.zeros(5))


def test_digit_classifier_recognises_the_real_digits():
    from nnlib.data import load_digits

    model = gan_metrics.digit_classifier()
    assert model is gan_metrics.digit_classifier()  # cached
    assert model.test_accuracy >= 0.95
    data = load_digits()
    quality = gan_metrics.digit_quality(data.x_test)
    assert quality.classes_present == 10 and quality.confident_share > 0.85
    assert quality.class_counts.sum() + round(quality.rejected_share * len(data.x_test)) \
        == len(data.x_test)


def _not_digits_to_judge(seed, n=300):
    """Pure noise, grey and blank images, and an untrained generator's output: never digits."""
    from nnlib.models.gan import digit_gan

    rng = np.random.default_rng(1000 + seed)  # not the stream the classifier was shown
    return {
        "gaussian noise": np.clip(0.5 + 0.25 * rng.standard_normal((n, 64)), 0, 1),
        "uniform noise": rng.random((n, 64)),
        "grey 0.5": np.full((n, 64), 0.5),
        "constant grey": np.repeat(rng.random((n, 1)), 64, axis=1),
        "blank": np.stack([np.zeros(64), np.ones(64)]),
        "step-0 generator": digit_gan(seed=seed, device="cpu").sample(n, fixed=False),
    }


@pytest.mark.parametrize("seed", range(3))
def test_noise_grey_and_an_untrained_generator_score_low(seed):
    from nnlib.data import load_digits

    classifier = gan_metrics.digit_classifier(seed)
    assert classifier.test_accuracy >= 0.94, seed
    real = gan_metrics.digit_quality(load_digits().x_test, classifier)
    assert real.confident_share > 0.85 and real.classes_present == 10, (seed, real)
    for name, images in _not_digits_to_judge(seed).items():
        quality = gan_metrics.digit_quality(images, classifier)
        assert quality.confident_share < 0.1, (seed, name, quality)
        assert quality.rejected_share > 0.9, (seed, name, quality)


def test_not_digits_is_seeded_and_in_range():
    a, b = gan_metrics.not_digits(50, seed=3), gan_metrics.not_digits(50, seed=3)
    assert a.shape == (50, 64) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert a.min() >= 0 and a.max() <= 1
    assert not np.array_equal(a, gan_metrics.not_digits(50, seed=4))


def test_digit_quality_needs_the_not_a_digit_class():
    ten_classes = torch.nn.Linear(64, 10)
    with pytest.raises(ValueError, match="11 logits"):
        gan_metrics.digit_quality(np.zeros((3, 64)), ten_classes)
