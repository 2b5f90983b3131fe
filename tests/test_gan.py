"""The GAN modules: nnlib.models.gan_networks (the losses against hand computations and the
exercises' numpy references, the saturating minimax gradient), nnlib.models.gan_metrics
(mode_coverage on constructed samples), nnlib.data.toy.toy_data, and nnlib.models.gan (the
GAN's contract: seeded steps, divergence without an exception, clear errors)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nnlib.data import toy  # noqa: E402
from nnlib.exercises import gan as exercises  # noqa: E402
from nnlib.models import gan, gan_metrics, gan_networks  # noqa: E402

LN2 = np.log(2.0)


def t(values):
    return torch.tensor(values, dtype=torch.float64)


# ----------------------------------------------------------------------------- losses


def test_losses_by_hand_at_zero_logits():
    # D = 1/2 everywhere: each cross-entropy term is log 2
    assert gan_networks.discriminator_loss(t([0.0, 0.0]), t([0.0])).item() == pytest.approx(2 * LN2)
    assert gan_networks.generator_loss(t([0.0, 0.0])).item() == pytest.approx(LN2)
    assert gan_networks.generator_loss(t([0.0]), "minimax").item() == pytest.approx(-LN2)


def test_discriminator_loss_by_hand():
    real, fake = [1.0, -2.0], [0.5]
    expected = (np.log1p(np.exp(-1.0)) + np.log1p(np.exp(2.0))) / 2 + np.log1p(np.exp(0.5))
    loss = gan_networks.discriminator_loss(t(real), t(fake)).item()
    assert loss == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("case", exercises.discriminator_loss.cases, ids=lambda c: c.label)
def test_discriminator_loss_matches_the_exercise_reference(case):
    real, fake = case.args
    expected = exercises.discriminator_loss.reference(real, fake)
    got = gan_networks.discriminator_loss(t(real), t(fake)).item()
    assert np.isfinite(got)
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("case", exercises.generator_loss.cases, ids=lambda c: c.label)
def test_generator_loss_matches_the_exercise_reference(case):
    (fake,) = case.args
    kind = case.kwargs["kind"]
    expected = exercises.generator_loss.reference(fake, kind)
    got = gan_networks.generator_loss(t(fake), kind).item()
    assert np.isfinite(got)
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_the_minimax_gradient_saturates_where_the_non_saturating_one_does_not():
    # a discriminator that rejects every fake confidently: logits near -10, D ~ 5e-5
    logits = t([-10.0, -11.0, -12.0, -10.5])
    grads = {}
    for kind in gan_networks.GAN_LOSSES:
        a = logits.clone().requires_grad_(True)
        gan_networks.generator_loss(a, kind).backward()
        grads[kind] = a.grad.abs()
    B = len(logits)
    # d/da mean(softplus(-a)) = -sigmoid(-a) / B ~ -1/B; d/da -mean(softplus(a)) = -sigmoid(a) / B
    assert torch.allclose(grads["non-saturating"], torch.full((B,), 1 / B, dtype=torch.float64),
                          rtol=1e-4)
    assert torch.all(grads["minimax"] < 1e-4 / B)
    assert torch.all(grads["minimax"] * 1e3 < grads["non-saturating"])
    # both push the logits up (the fakes towards "real")
    for kind in gan_networks.GAN_LOSSES:
        a = logits.clone().requires_grad_(True)
        gan_networks.generator_loss(a, kind).backward()
        assert torch.all(a.grad < 0)


def test_losses_stay_finite_for_huge_logits():
    big = t([-800.0, 800.0])
    assert torch.isfinite(gan_networks.discriminator_loss(big, big))
    for kind in gan_networks.GAN_LOSSES:
        assert torch.isfinite(gan_networks.generator_loss(big, kind))


def test_unknown_loss_is_a_clear_error():
    with pytest.raises(ValueError, match="non-saturating"):
        gan_networks.generator_loss(t([0.0]), "wasserstein")


# ----------------------------------------------------------------------------- data


@pytest.mark.parametrize("name", toy.TOY_DATASETS)
def test_toy_data_shapes_and_extent(name):
    x = toy.toy_data(name, n=500, seed=1)
    assert x.shape == (500, 2) and x.dtype == np.float32
    assert np.all(np.isfinite(x))
    assert 1.5 < np.abs(x).max() < 3.0
    assert np.array_equal(x, toy.toy_data(name, n=500, seed=1))
    assert not np.array_equal(x, toy.toy_data(name, n=500, seed=2))


def test_the_ring_has_eight_modes_of_radius_two():
    x = toy.toy_data("ring", n=2000)
    assert np.allclose(np.linalg.norm(x, axis=1), 2.0, atol=0.25)
    coverage = gan_metrics.mode_coverage(x)
    assert coverage.covered == 8 and coverage.quality > 0.98
    assert np.all(np.abs(coverage.counts - 250) <= 5)


def test_unknown_toy_data_is_a_clear_error():
    with pytest.raises(ValueError, match="ring"):
        toy.toy_data("swiss roll")


# ----------------------------------------------------------------------------- coverage


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


# ----------------------------------------------------------------------------- networks


def test_networks_shapes():
    G = gan_networks.build_generator(noise_dim=3, hidden=16, out_dim=64, output="sigmoid")
    x = G(torch.randn(5, 3))
    assert x.shape == (5, 64) and torch.all((x > 0) & (x < 1))
    D = gan_networks.build_discriminator(in_dim=64, hidden=16)
    assert D(x).shape == (5,)
    with pytest.raises(ValueError, match="output"):
        gan_networks.build_generator(output="tanh")


# ----------------------------------------------------------------------------- the GAN


def small_gan(seed=0, **changes):
    settings = gan.PRESETS["well tuned"]._replace(batch_size=32, hidden=16, **changes)
    return gan.GAN(toy.toy_data("ring", 200), settings, seed=seed, device="cpu")


def test_step_returns_and_records_the_metrics():
    g = small_gan()
    record = g.step()
    assert set(record) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert 0 < record["d_real"] < 1 and 0 < record["d_fake"] < 1
    assert record["d_loss"] > 0 and record["g_loss"] > 0
    g.train(4)
    assert g.steps == 5 and all(len(v) == 5 for v in g.history.values())
    assert not g.diverged


def test_steps_are_deterministic_for_a_seed():
    a, b, c = small_gan(seed=3), small_gan(seed=3), small_gan(seed=4)
    for g in (a, b, c):
        g.train(20)
    assert a.history == b.history
    assert np.array_equal(a.sample(50), b.sample(50))
    assert a.history != c.history
    a.reset()
    a.train(20)
    assert a.history == b.history


def test_fixed_samples_repeat_and_fresh_ones_do_not():
    g = small_gan()
    assert np.array_equal(g.sample(100), g.sample(100))
    assert np.array_equal(g.sample(300)[:100], g.sample(100))  # the same noise, grown
    assert not np.array_equal(g.sample(100, fixed=False), g.sample(100, fixed=False))
    assert g.sample(7).shape == (7, 2) and g.sample(7).dtype == np.float32


def test_decision_and_generator_arrows():
    g = small_gan()
    g.train(10)
    grid = np.stack(np.meshgrid(np.linspace(-3, 3, 5), np.linspace(-3, 3, 5)), -1).reshape(-1, 2)
    p = g.decision(grid)
    assert p.shape == (25,) and np.all((p > 0) & (p < 1))
    points, directions = g.generator_arrows(16)
    assert points.shape == directions.shape == (16, 2)
    assert np.array_equal(points, g.sample(16))
    # the direction is minus the gradient of the per-sample loss softplus(-D_logit(x))
    x = torch.tensor(points[:1], requires_grad=True)
    torch.nn.functional.softplus(-g.discriminator(x)).sum().backward()
    assert np.allclose(directions[:1], -x.grad.numpy(), rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match=r"\(m, 2\)"):
        g.decision(np.zeros(4))


def test_update_settings_takes_effect_or_rebuilds():
    g = small_gan()
    g.train(3)
    g.update_settings(lr_g=5e-3, d_steps=2, loss="minimax")
    assert g.steps == 3 and g.opt_g.param_groups[0]["lr"] == 5e-3
    assert g.settings.d_steps == 2 and g.settings.loss == "minimax"
    g.update_settings(noise_dim=4)
    assert g.steps == 0 and g.generator[0].in_features == 4
    assert g.sample(5).shape == (5, 2)
    with pytest.raises(ValueError, match="unknown settings"):
        g.update_settings(momentum=0.9)
    with pytest.raises(ValueError, match="loss"):
        g.update_settings(loss="hinge")
    with pytest.raises(ValueError, match="lr_d"):
        g.update_settings(lr_d=-1.0)


def test_an_absurd_learning_rate_diverges_without_raising():
    g = small_gan(lr_g=1e30, lr_d=1e30)
    with np.errstate(all="ignore"):
        history = g.train(50)
    assert g.diverged
    steps = g.steps
    assert steps < 50
    assert not np.isfinite(history["d_loss"][-1]) or not np.isfinite(history["g_loss"][-1])
    record = g.step()  # changes nothing any more
    assert g.steps == steps and set(record) == {"d_loss", "g_loss", "d_real", "d_fake"}
    g.reset()
    assert not g.diverged and g.steps == 0


def test_train_reports_progress():
    class Progress:
        def __init__(self):
            self.updates, self.finished = [], False

        def update(self, step, **metrics):
            self.updates.append((step, metrics))

        def finish(self):
            self.finished = True

    progress = Progress()
    small_gan().train(200, progress)
    assert progress.finished and progress.updates[-1][0] == 200
    assert set(progress.updates[0][1]) == {"discriminator loss", "generator loss"}


def test_bad_inputs_are_clear_errors():
    real = toy.toy_data("ring", 100)
    with pytest.raises(ValueError, match=r"\(N, dim\)"):
        gan.GAN(real[:, 0])
    with pytest.raises(ValueError, match="settings"):
        gan.GAN(real, settings={"lr_g": 1e-3})
    with pytest.raises(ValueError, match="preset"):
        gan.fit_ring_gan("magic")
    with pytest.raises(ValueError, match="d_steps"):
        gan.GAN(real, gan.PRESETS["well tuned"]._replace(d_steps=0))
    with pytest.raises(ValueError, match="images"):
        gan_metrics.digit_quality(np.zeros((3, 7, 7)))


# ----------------------------------------------------------------------------- digits


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


def test_fit_digit_gan_calls_back_and_samples_images():
    seen = []
    g = gan.fit_digit_gan(steps=20, callback=lambda g: seen.append(g.steps), device="cpu")
    assert seen == list(range(2, 21, 2))
    images = g.sample(10)
    assert images.shape == (10, 64) and np.all((images >= 0) & (images <= 1))
