"""nnlib.models.gan: the GAN's contract (seeded steps, fixed and fresh samples, the views'
pieces, settings, divergence without an exception, clear errors) and the digit GAN."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nnlib.data import toy  # noqa: E402
from nnlib.models import gan, gan_metrics  # noqa: E402

# ----------------------------------------------------------------------------- losses


# ----------------------------------------------------------------------------- data


# ----------------------------------------------------------------------------- coverage


# ----------------------------------------------------------------------------- networks


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


def test_fit_digit_gan_calls_back_and_samples_images():
    seen = []
    g = gan.fit_digit_gan(steps=20, callback=lambda g: seen.append(g.steps), device="cpu")
    assert seen == list(range(2, 21, 2))
    images = g.sample(10)
    assert images.shape == (10, 64) and np.all((images >= 0) & (images <= 1))
