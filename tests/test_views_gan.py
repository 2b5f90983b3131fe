"""What the GAN views show. Rendering, every control's extremes and responsiveness are checked
for every registered view in tests/test_views.py; speed (a frame within 100 ms, at least 10
updates a second) is measured by ``scripts/benchmark.py --views``, not by timed tests."""

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nnlib.data.toy import TOY_DATASETS  # noqa: E402
from nnlib.models.gan import PRESETS  # noqa: E402
from nnlib.models.gan_metrics import digit_quality, mode_coverage  # noqa: E402
from nnlib.views.gan import (  # noqa: E402
    ARROW_SHARE,
    DIGIT_COLUMNS,
    DIGIT_ROWS,
    DIGIT_UPDATES_PER_FRAME,
    GRID,
    N_ARROWS,
    N_GENERATED,
    UPDATES_PER_FRAME,
    _mosaic,
    digit_trainer,
    gan_lab,
)


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def lab():
    return gan_lab()


@pytest.fixture(scope="module")
def digits():
    return digit_trainer()


def _poison(network):
    """Make a network's output NaN, as a run that blew up would."""
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.fill_(float("nan"))


# ---------------------------------------------------------------------------- the lab


def test_a_frame_trains_a_few_steps_and_moves_the_picture(lab):
    gan, artists = lab.state.gan, lab.artists
    before = artists["generated"].get_offsets().copy()
    heat_before = np.array(artists["heatmap"].get_array())
    png = lab.png
    lab.advance()
    assert gan.steps == UPDATES_PER_FRAME // 2  # one D step per G step: two updates a step
    lab.advance(2)
    assert gan.steps == 3 * UPDATES_PER_FRAME // 2 and lab.frames == 3
    assert not np.allclose(artists["generated"].get_offsets(), before)
    assert not np.allclose(artists["heatmap"].get_array(), heat_before)
    assert len(artists["d_loss"].get_xdata()) == gan.steps
    np.testing.assert_allclose(artists["g_loss"].get_ydata(), gan.history["g_loss"])
    np.testing.assert_allclose(artists["d_fake"].get_ydata(), gan.history["d_fake"])
    assert lab.png != png and lab.message == ""


def test_more_discriminator_steps_take_fewer_generator_steps_a_frame(lab):
    lab.controls["d_steps"].value = 4
    lab.advance()
    assert lab.state.gan.settings.d_steps == 4
    assert lab.state.gan.steps == UPDATES_PER_FRAME // 5


def test_the_heatmap_is_the_discriminators_probability_on_the_grid(lab):
    lab.advance(2)
    gan, grid = lab.state.gan, lab.state.grid
    assert grid.shape == (GRID * GRID, 2)
    shown = np.asarray(lab.artists["heatmap"].get_array())
    np.testing.assert_allclose(shown, gan.decision(grid).reshape(GRID, GRID), rtol=1e-6)
    # the grid covers the plane shown, with the data inside it
    left, right, bottom, top = lab.artists["heatmap"].get_extent()
    assert grid[:, 0].min() == pytest.approx(left) and grid[:, 1].max() == pytest.approx(top)
    data = lab.state.data
    assert left < data[:, 0].min() and data[:, 1].max() < top
    assert lab.fig.axes[0].get_xlim() == pytest.approx((left, right))


def test_the_arrows_are_the_generators_gradient_scaled_to_fit(lab):
    lab.advance(2)
    points, push = lab.state.gan.generator_arrows(N_ARROWS)
    arrows = lab.artists["arrows"]
    np.testing.assert_allclose(arrows.get_offsets(), points, rtol=1e-6)
    shown = np.column_stack([arrows.U, arrows.V])
    longest = np.sqrt((push**2).sum(axis=1)).max()
    width = lab.state.half * 2
    np.testing.assert_allclose(shown, push * (ARROW_SHARE * width / longest), rtol=1e-5,
                               atol=1e-9)
    # the generated points are the fixed-noise samples, of which the arrows start at the first
    generated = lab.artists["generated"].get_offsets()
    assert len(generated) == N_GENERATED
    np.testing.assert_allclose(generated[:N_ARROWS], points, rtol=1e-6)


def test_the_loss_control_changes_the_arrows_at_once(lab):
    before = lab.artists["arrows"].U.copy()
    lab.controls["loss"].value = "minimax"
    lab.render()
    assert lab.state.gan.settings.loss == "minimax"
    assert not np.allclose(lab.artists["arrows"].U, before)


def test_the_ring_title_counts_the_modes_covered(lab):
    lab.advance()
    coverage = mode_coverage(lab.state.gan.sample(N_GENERATED, fixed=True))
    title = lab.fig.axes[0].get_title()
    assert f"modes covered {coverage.covered} / 8" in title
    assert f"quality {100 * coverage.quality:.0f}%" in title
    lab.controls["dataset"].value = "moons"
    lab.render()
    assert "modes" not in lab.fig.axes[0].get_title()


def test_choosing_the_mode_collapse_preset_sets_the_controls_and_resets(lab):
    lab.advance(2)
    lab.preset.value = "mode collapse"
    preset = PRESETS["mode collapse"]
    for name in ("lr_g", "lr_d", "d_steps", "loss", "noise_dim"):
        assert lab.controls[name].value == pytest.approx(getattr(preset, name)), name
    gan = lab.state.gan
    assert gan.settings == preset  # the width and the batch size come from the preset too
    assert gan.steps == 0 and lab.frames == 0
    assert lab.preset.value == "mode collapse"
    lab.advance()
    assert gan.steps > 0


def test_moving_a_preset_control_by_hand_makes_the_settings_custom(lab):
    lab.preset.value = "mode collapse"
    lab.controls["lr_g"].value = 1e-3
    assert lab.preset.value == "custom"
    lab.advance()
    assert lab.state.gan.settings.lr_g == pytest.approx(1e-3)
    assert lab.state.gan.settings.batch_size == PRESETS["mode collapse"].batch_size
    lab.controls["seed"].value = 3  # not a preset's setting: stays custom, and resets
    lab.render()
    assert lab.preset.value == "custom" and lab.state.gan.steps == 0


def test_every_data_set_and_noise_size_trains(lab):
    for dataset in TOY_DATASETS:
        for noise_dim in (1, 8):
            lab.render(dataset=dataset, noise_dim=noise_dim)
            lab.advance(dataset=dataset, noise_dim=noise_dim)
            assert lab.state.gan.settings.noise_dim == noise_dim
            assert lab.state.gan.steps > 0 and lab.message == ""


def test_a_diverged_run_says_so_without_warnings(lab):
    lab.advance()
    _poison(lab.state.gan.generator)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            png = lab.advance()
    assert lab.state.gan.diverged
    assert lab.message.startswith("Diverged") and "press reset" in lab.message
    assert png.startswith(b"\xff\xd8")
    assert np.isfinite(np.asarray(lab.artists["heatmap"].get_array())).all()
    lab.reset()
    assert not lab.state.gan.diverged and lab.message == ""


def test_the_largest_learning_rates_keep_ticking_without_warnings(lab):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(30):
            lab.advance(lr_g=0.1, lr_d=0.1, d_steps=5, loss="minimax")
    assert not lab.message.startswith("Could not")
    assert lab.message == "" or lab.message.startswith("Diverged")


def test_unknown_arguments_are_refused():
    with pytest.raises(ValueError, match="dataset"):
        gan_lab(dataset="circles")
    with pytest.raises(ValueError, match="preset"):
        gan_lab(preset="perfect")


# ---------------------------------------------------------------------------- digits


def test_the_mosaic_shows_fixed_noise_samples():
    images = np.arange(DIGIT_ROWS * DIGIT_COLUMNS * 64).reshape(-1, 64) % 7 / 7
    canvas = _mosaic(images, DIGIT_ROWS, DIGIT_COLUMNS)
    assert canvas.shape == (9 * DIGIT_ROWS - 1, 9 * DIGIT_COLUMNS - 1)
    np.testing.assert_array_equal(canvas[9:17, 18:26], images[DIGIT_COLUMNS + 2].reshape(8, 8))
    assert (canvas[8, :] == -1).all() and (canvas[:, 8] == -1).all()  # the gaps


def test_the_digit_trainer_trains_and_shows_its_samples(digits):
    digits.reset()
    gan = digits.state.gan
    assert gan.output == "sigmoid" and gan.dim == 64
    digits.advance(2)
    assert gan.steps == 2 * (DIGIT_UPDATES_PER_FRAME // 2)
    samples = gan.sample(DIGIT_ROWS * DIGIT_COLUMNS, fixed=True)
    np.testing.assert_allclose(digits.artists["mosaic"].get_array(),
                               _mosaic(samples, DIGIT_ROWS, DIGIT_COLUMNS), rtol=1e-6)
    assert len(digits.artists["g_loss"].get_xdata()) == gan.steps
    quality = digit_quality(gan.sample(256, fixed=True))
    assert digits.state.judged_at[-1] == gan.steps
    assert digits.state.confident[-1] == pytest.approx(100 * quality.confident_share)
    title = digits.fig.axes[0].get_title()
    assert f"{100 * quality.confident_share:.0f}% confidently a digit" in title
    assert f"{quality.classes_present}/10 classes" in title
    assert digits.message == ""


def test_the_digit_trainer_passes_its_controls_on_and_reports_divergence(digits):
    digits.reset()
    digits.advance(lr_g=1e-3, d_steps=2)
    gan = digits.state.gan
    assert gan.settings.lr_g == pytest.approx(1e-3) and gan.settings.d_steps == 2
    assert gan.steps == DIGIT_UPDATES_PER_FRAME // 3
    _poison(gan.discriminator)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        digits.advance()
    assert gan.diverged and digits.message.startswith("Diverged")
    digits.reset()
    assert digits.message == "" and digits.state.gan.steps == 0


def test_the_digit_trainer_can_open_on_a_trained_gan_and_reset_to_a_fresh_one():
    from nnlib.models.gan import digit_gan

    trained = digit_gan(seed=1)
    trained.train(12)
    view = digit_trainer(start=trained)
    view.render()
    assert view.state.gan is trained and trained.steps == 12
    assert view.state.judged_at == [12]  # judged where it stands
    assert view.fig.axes[0].get_title().startswith("step 12:")
    view.advance()
    assert trained.steps > 12
    view.reset()  # afterwards, a fresh GAN from the seed
    assert view.state.gan is not trained and view.state.gan.steps == 0
    import matplotlib.pyplot as plt

    plt.close(view.fig)
    with pytest.raises(ValueError, match="start must be a digit GAN"):
        digit_trainer(start=object())
