"""A GAN Lab in Jupyter, and a digit GAN that trains while you watch.

``gan_lab`` follows the GAN Lab web app (Kahng et al., 2018) on 2-D toy data
(``nnlib.data.toy.toy_data``):

* left, the plane: the discriminator's probability that a point is real as a
  green (real) to purple (fake) heatmap, the real points, the generated points
  (the same fixed noise every frame, so the cloud moves smoothly) and arrows
  showing where the generator's gradient pushes some of its samples;
* right, the two players' losses over the steps, and the discriminator's mean
  output on real and on generated points (both settle near 1/2 when neither
  player wins); on the ring of 8 Gaussians, the number of modes covered.

The learning rates, the discriminator steps per generator step and the loss act
from the next step on; the noise dimension, the data set and the seed start
afresh. A preset fills the controls in one go ("mode collapse" shows most
samples in one spot that hops round the ring).

``digit_trainer`` trains the 64-pixel digit GAN of ``nnlib.models.gan`` live and shows a
grid of its samples from fixed noise, its losses and how often a classifier
trained on real digits and on "not a digit" images calls them confidently a digit.
"""

from types import SimpleNamespace

import numpy as np

from nnlib.display.plotting import PALETTE, use_course_style
from nnlib.display.widgets import TrainerView

__all__ = ["gan_lab", "digit_trainer"]

GRID = 48  # heatmap resolution: 48 x 48 discriminator outputs a frame
N_REAL_SHOWN = 400  # real points drawn (of the 2,000 the GAN trains on)
N_GENERATED = 400  # generated points drawn, from fixed noise
N_ARROWS = 40  # generated points that carry a gradient arrow
ARROW_SHARE = 0.1  # the longest arrow spans this share of the plane's width
UPDATES_PER_FRAME = 12  # discriminator + generator updates a frame (fewer steps as D steps grow)
FIRST_X_LIMIT = 500  # steps shown on the loss axes at first; doubles as training goes on
CURVE_POINTS = 1500  # the loss curves are thinned to about this many points
DEVICE = "cpu"  # the networks are tiny: the CPU steps them faster than a GPU launches kernels
REAL, FAKE = PALETTE["green"], PALETTE["purple"]
_GAP = "#C6DCEE"  # pale blue between the digits, apart from their white ground for every reader
DIVERGED_MESSAGE = ("Diverged at step {steps}: a loss is no longer finite. Lower the learning "
                    "rates and press reset.")


def _decision_cmap():
    """Purple (D(x) = 0: looks fake) through white to green (D(x) = 1: looks real), pale."""
    from matplotlib.colors import LinearSegmentedColormap, to_rgb

    def tint(color, share):  # blend a colour with white, so the points on top stand out
        return tuple(share * c + (1 - share) for c in to_rgb(color))

    # Unequal shares: equally pale, the two ends look alike under deuteranopia (CIEDE2000
    # 6.7); these keep the ends, each end and white, and each dot colour on its own end
    # apart by at least 10 under all three simulations (tests/test_palette.py).
    return LinearSegmentedColormap.from_list(
        "gan_decision", [tint(FAKE, 0.45), (1, 1, 1), tint(REAL, 0.65)])


def _figure(figsize, width_ratios):
    """A figure with a square panel on the left and two stacked panels on the right."""
    from matplotlib.figure import Figure

    use_course_style()
    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplot_mosaic([["left", "top"], ["left", "bottom"]],
                              width_ratios=width_ratios)
    return fig, axes["left"], axes["top"], axes["bottom"]


def _x_limit(steps):
    limit = FIRST_X_LIMIT
    while limit < steps:
        limit *= 2
    return limit


def _thinned(values):
    """``(steps, values)`` with at most about ``CURVE_POINTS`` points, NaN and inf kept out."""
    values = np.asarray(values, dtype=float)
    every = max(1, len(values) // CURVE_POINTS)
    steps = np.arange(1, len(values) + 1)[::every]
    return steps, np.nan_to_num(values[::every], nan=0.0, posinf=1e3, neginf=-1e3)


def _loss_axes(ax):
    lines = {
        "d_loss": ax.plot([], [], color=REAL, lw=1.5, label="discriminator")[0],
        "g_loss": ax.plot([], [], color=FAKE, lw=1.5, label="generator")[0],
    }
    ax.axhline(2 * np.log(2), color="0.5", ls=":", lw=1.2, label="2 ln 2: D's loss at D = 1/2")
    ax.set(xlim=(0, FIRST_X_LIMIT), xlabel="generator step", ylabel="loss (nats)")
    ax.set_title(_settings_title(1e-3, 1e-3, 1, "non-saturating"), fontsize=11)
    ax.legend(loc="upper right", fontsize=8, ncol=3)
    return lines


def _settings_title(lr_g, lr_d, d_steps, loss=None):
    """"Losses: lr G 1e-3, D 2.5e-4, 1 D step, minimax": the controls that act on the next step."""
    def short(lr):
        mantissa, exponent = f"{lr:.1e}".split("e")
        return f"{mantissa.removesuffix('.0')}e{int(exponent)}"

    d_word = "step" if d_steps == 1 else "steps"
    loss = f", {loss}" if loss else ""
    return f"Losses: lr G {short(lr_g)}, D {short(lr_d)}, {d_steps} D {d_word}{loss}"


def _draw_curves(lines, history):
    for name, line in lines.items():
        line.set_data(*_thinned(history.get(name, [])))


def _loss_range(history):
    """Y limits that hold the recent losses, from a few fixed ranges (so they rarely change)."""
    recent = np.asarray([v for name in ("d_loss", "g_loss") for v in history[name][-500:]],
                        dtype=float)
    recent = recent[np.isfinite(recent)]
    low = float(recent.min()) if len(recent) else 0.0
    high = float(recent.max()) if len(recent) else 1.0
    bottom = 0.0 if low >= 0 else -_ceiling(-low)
    return bottom, 1.25 * _ceiling(max(high, 1.5))  # headroom for the legend


def _ceiling(x):
    """The smallest of 1, 2, 4, ... 64 that is at least ``x`` (64 for anything larger)."""
    top = 1.0
    while top < x and top < 64:
        top *= 2
    return top


def _lr_slider(value, description):
    import ipywidgets as W

    return W.FloatLogSlider(value=value, base=10, min=-5, max=-1, step=0.1,
                            description=description, readout_format=".1e",
                            style={"description_width": "initial"},
                            layout=W.Layout(width="330px"))


def _set_learning(gan, **wanted):
    """Pass the controls that act from the next step on to the GAN (only when they moved)."""
    if any(getattr(gan.settings, name) != value for name, value in wanted.items()):
        gan.update_settings(**wanted)


def _same(a, b):
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return bool(np.isclose(a, b, rtol=1e-6))


def _probability_axes(ax):
    lines = {
        "d_real": ax.plot([], [], color=REAL, lw=1.5, label="mean D(real)")[0],
        "d_fake": ax.plot([], [], color=FAKE, lw=1.5, label="mean D(generated)")[0],
    }
    ax.axhline(0.5, color="0.5", ls=":", lw=1.2, label="1/2: D cannot tell")
    ax.set(xlim=(0, FIRST_X_LIMIT), ylim=(-0.02, 1.3), yticks=[0, 0.25, 0.5, 0.75, 1],
           xlabel="generator step", ylabel="D(x)", title="The discriminator's verdict")
    ax.legend(loc="upper right", fontsize=8, ncol=3)
    return lines


def gan_lab(dataset="ring", preset="well tuned", seed=0):
    """GAN Lab: a generator and a discriminator on 2-D points, training as you watch.

    Args:
        dataset: one of ``nnlib.data.toy.TOY_DATASETS`` ("ring", "moons", "spirals").
        preset: a key of ``nnlib.models.gan.PRESETS``: fills the learning rates, the
            discriminator steps, the loss and the noise dimension, and gives the
            networks' width and the batch size.
        seed: seeds the networks, the batches and the noise.

    Returns:
        a ``TrainerView``; ``view.state.gan`` is the ``nnlib.models.gan.GAN`` being
        trained, ``view.preset`` the preset menu (choosing a preset resets),
        ``view.artists`` the heatmap, the points, the arrows and the curves.
    """
    import ipywidgets as W
    from matplotlib.patches import Patch

    from nnlib.data.toy import TOY_DATASETS, toy_data
    from nnlib.models.gan import GAN, PRESETS
    from nnlib.models.gan_metrics import mode_coverage
    from nnlib.models.gan_networks import GAN_LOSSES

    if dataset not in TOY_DATASETS:
        raise ValueError(f"dataset must be one of {TOY_DATASETS}, got {dataset!r}")
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {tuple(PRESETS)}, got {preset!r}")
    start = PRESETS[preset]

    fig, ax_map, ax_loss, ax_prob = _figure((11.5, 5.6), (1.15, 1.0))
    cmap = _decision_cmap()
    # "nearest": a smoothed 48 x 48 image costs 10-15 ms more a frame
    heat = ax_map.imshow(np.full((GRID, GRID), 0.5), cmap=cmap, vmin=0, vmax=1,
                         origin="lower", interpolation="nearest", zorder=0)
    real_dots = ax_map.scatter([], [], s=9, color=REAL, edgecolors="none", alpha=0.6, zorder=2)
    fake_dots = ax_map.scatter([], [], s=12, color=FAKE, edgecolors="white", linewidths=0.3,
                               zorder=3)
    zeros = np.zeros(N_ARROWS)
    arrows = ax_map.quiver(zeros, zeros, zeros, zeros, angles="xy", scale_units="xy", scale=1,
                           color="0.15", width=0.004, headwidth=4, zorder=4)
    # the titles carry the readouts (drawing text costs about 0.1 ms a character, a box 5 ms)
    ax_map.set(aspect="equal", xlabel="$x_1$", ylabel="$x_2$",
               title="step 0: modes covered 0 / 8 (quality 0%)")
    ax_map.grid(False)
    ax_map.legend(handles=[Patch(color=cmap(1.0), label="D(x) → 1: looks real"),
                           Patch(color=cmap(0.0), label="D(x) → 0: looks fake"),
                           ax_map.scatter([], [], s=12, color=REAL, label="real data"),
                           ax_map.scatter([], [], s=12, color=FAKE, label="generated"),
                           ax_map.plot([], [], color="0.15", label="generator's push")[0]],
                  loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, fontsize=9)
    loss_lines = _loss_axes(ax_loss)
    prob_lines = _probability_axes(ax_prob)

    style = {"description_width": "initial"}
    controls = {
        "lr_g": _lr_slider(start.lr_g, "generator lr"),
        "lr_d": _lr_slider(start.lr_d, "discriminator lr"),
        "d_steps": W.IntSlider(value=start.d_steps, min=1, max=5, description="D steps per G step",
                               style=style, layout=W.Layout(width="300px")),
        "loss": W.Dropdown(options=GAN_LOSSES, value=start.loss, description="generator loss",
                           style=style, layout=W.Layout(width="290px")),
        "noise_dim": W.IntSlider(value=start.noise_dim, min=1, max=8, description="noise dim",
                                 style=style, layout=W.Layout(width="260px")),
        "dataset": W.Dropdown(options=TOY_DATASETS, value=dataset, description="data",
                              style=style, layout=W.Layout(width="170px")),
        "seed": W.IntSlider(value=seed, min=0, max=9, description="seed", style=style,
                            layout=W.Layout(width="230px")),
    }
    preset_menu = W.Dropdown(options=[*PRESETS, "custom"], value=preset, description="preset",
                             style=style, layout=W.Layout(width="230px"))
    preset_fields = ("lr_g", "lr_d", "d_steps", "loss", "noise_dim")  # what a preset sets

    ticks = np.linspace(-1.0, 1.0, GRID)
    state = SimpleNamespace(base=start, gan=None, data_key=None, data=None, grid=None, half=1.0)

    def reset(lr_g, lr_d, d_steps, loss, noise_dim, dataset, seed, **_):
        if state.data_key != (dataset, seed):
            state.data, state.data_key = toy_data(dataset, seed=seed), (dataset, seed)
            shown = np.random.default_rng(seed).permutation(len(state.data))[:N_REAL_SHOWN]
            real_dots.set_offsets(state.data[shown])
            state.half = half = 1.2 * float(np.abs(state.data).max())  # a square around the data
            heat.set_extent((-half, half, -half, half))
            ax_map.set(xlim=(-half, half), ylim=(-half, half))
            g1, g2 = np.meshgrid(half * ticks, half * ticks)
            state.grid = np.column_stack([g1.ravel(), g2.ravel()])  # (GRID^2, 2)
        # the preset gives what has no control (the width, the batch size)
        settings = state.base._replace(lr_g=lr_g, lr_d=lr_d, d_steps=d_steps, loss=loss,
                                       noise_dim=noise_dim)
        state.gan = GAN(state.data, settings=settings, seed=seed, device=DEVICE)

    def step(lr_g, lr_d, d_steps, loss, **_):
        gan = state.gan
        _set_learning(gan, lr_g=lr_g, lr_d=lr_d, d_steps=d_steps, loss=loss)
        for _ in range(max(1, UPDATES_PER_FRAME // (d_steps + 1))):
            if gan.diverged:
                break
            gan.step()

    def update(lr_g, lr_d, d_steps, loss, dataset, **_):
        gan = state.gan
        _set_learning(gan, loss=loss)  # the arrows follow the chosen loss before any step
        with np.errstate(all="ignore"):
            probs = np.nan_to_num(gan.decision(state.grid), nan=0.5)
            fake = np.nan_to_num(gan.sample(N_GENERATED, fixed=True), nan=0.0)
            points, push = (np.nan_to_num(a) for a in gan.generator_arrows(N_ARROWS))
            longest = float(np.sqrt((push**2).sum(axis=1)).max())
            scale = ARROW_SHARE * 2 * state.half / longest if longest > 1e-12 else 0.0
        heat.set_data(probs.reshape(GRID, GRID))
        fake_dots.set_offsets(fake)
        arrows.set_offsets(points)
        arrows.set_UVC(scale * push[:, 0], scale * push[:, 1])
        _draw_curves(loss_lines, gan.history)
        _draw_curves(prob_lines, gan.history)
        for ax in (ax_loss, ax_prob):
            ax.set_xlim(0, _x_limit(gan.steps))
        ax_loss.title.set_text(_settings_title(lr_g, lr_d, d_steps, loss))
        title = f"step {gan.steps}"
        if dataset == "ring":
            coverage = mode_coverage(fake)
            title += (f": modes covered {coverage.covered} / 8 "
                      f"(quality {100 * coverage.quality:.0f}%)")
        ax_map.title.set_text(title)
        if gan.diverged:
            return DIVERGED_MESSAGE.format(steps=gan.steps)
        return None

    def axis_limits():  # part of the static key: when they change, the axes are redrawn
        loss_range = _loss_range(state.gan.history)
        ax_loss.set_ylim(*loss_range)
        return loss_range, _x_limit(state.gan.steps)

    dynamic = [heat, real_dots, fake_dots, arrows, ax_map.title, ax_loss.title,
               *loss_lines.values(), *prob_lines.values()]
    view = TrainerView(fig, update, controls, step=step, reset=reset,
                       reset_controls=("noise_dim", "dataset", "seed"), title="GAN lab",
                       dynamic=dynamic, static_controls=("dataset", "seed"),
                       static_key=axis_limits, extra_widgets=[preset_menu], interval_ms=20)
    row = W.Layout(flex_flow="row wrap")
    view.control_box = W.VBox([  # read when the view is first displayed
        W.HBox([view.play, view.step_button, view.reset_button, preset_menu,
                controls["dataset"]], layout=row),
        W.HBox([controls["lr_g"], controls["lr_d"], controls["d_steps"]], layout=row),
        W.HBox([controls["loss"], controls["noise_dim"], controls["seed"]], layout=row),
    ])  # the generator's learning rate is the first slider on the page
    view.state = state
    view.preset = preset_menu
    view.artists = {"heatmap": heat, "real": real_dots, "generated": fake_dots,
                    "arrows": arrows, **loss_lines, **prob_lines}

    applying = []  # non-empty while a preset fills the controls

    def apply_preset(change):
        if change["new"] == "custom":
            return
        state.base = PRESETS[change["new"]]
        applying.append(True)
        try:
            with view.hold():
                for name in preset_fields:
                    controls[name].value = getattr(state.base, name)
        finally:
            applying.clear()
        view.reset()  # a preset starts afresh, even where no reset control moved

    def moved(_change):  # a control set by hand: the settings are no longer the preset's
        if applying or preset_menu.value == "custom":
            return
        if any(not _same(controls[name].value, getattr(state.base, name))
               for name in preset_fields):
            preset_menu.value = "custom"

    preset_menu.observe(apply_preset, names="value")
    for name in preset_fields:
        controls[name].observe(moved, names="value")
    return view


# ---------------------------------------------------------------------------- digits

DIGIT_ROWS, DIGIT_COLUMNS = 6, 6  # the grid of samples
DIGIT_UPDATES_PER_FRAME = 6  # discriminator + generator updates a frame (a digit step costs ~4 ms)
N_JUDGED = 256  # fixed-noise samples the classifier judges each frame


def _mosaic(images, rows, columns, gap=1):
    """``(rows*9-1, columns*9-1)`` image of ``rows*columns`` 8 x 8 images, -1 between them
    (an under-range colour: cheaper to draw than NaN, which needs a mask)."""
    size = 8 + gap
    canvas = np.full((rows * size - gap, columns * size - gap), -1.0)  # below vmin: the gaps
    for k, image in enumerate(images[:rows * columns]):
        r, c = divmod(k, columns)
        canvas[r * size:r * size + 8, c * size:c * size + 8] = image.reshape(8, 8)
    return canvas


def digit_trainer(seed=0, start=None):
    """The digit GAN of ``nnlib.models.gan`` (``DIGIT_SETTINGS``, a sigmoid generator on the 8 x 8
    digits of ``load_digits``), training as you watch.

    ``start``: a digit GAN to continue from (e.g. ``fit_digit_gan``'s, so that the view opens
    on a trained state); reset, or a new seed, starts a fresh one. ``None``: fresh from the
    start.

    Left, 36 samples from fixed noise; right, the losses, and how many of 256 samples
    ``nnlib.models.gan_metrics.digit_classifier`` (ten digits and a "not a digit" class)
    calls a digit with probability >= 0.9, and how many classes they spread over
    (``digit_quality``). The learning rates and the
    discriminator steps act from the next step on; the seed starts afresh.

    Returns:
        a ``TrainerView``; ``view.state.gan`` is the ``nnlib.models.gan.GAN`` being trained,
        ``view.artists`` the mosaic and the curves.
    """
    import ipywidgets as W
    from matplotlib import colormaps

    from nnlib.models.gan import DIGIT_SETTINGS, digit_gan
    from nnlib.models.gan_metrics import digit_classifier, digit_quality

    if start is not None and not (getattr(start, "output", None) == "sigmoid"
                                  and getattr(start, "dim", None) == 64):
        raise ValueError("start must be a digit GAN (nnlib.models.gan.digit_gan or "
                         f"fit_digit_gan), got {type(start).__name__}")
    classifier = digit_classifier()  # trained once per process (about a second)

    fig, ax_grid, ax_loss, ax_quality = _figure((11.5, 5.2), (1.0, 1.25))
    grey = colormaps["gray_r"].with_extremes(under=_GAP)  # the gaps between the digits
    mosaic = ax_grid.imshow(_mosaic(np.zeros((36, 64)), DIGIT_ROWS, DIGIT_COLUMNS), cmap=grey,
                            vmin=0, vmax=1, interpolation="nearest")
    ax_grid.set_title("step 0")  # the first update writes the verdict
    ax_grid.set_xlabel("36 samples, from the same noise every frame")
    ax_grid.set(xticks=[], yticks=[])
    ax_grid.grid(False)
    loss_lines = _loss_axes(ax_loss)
    quality_lines = {
        # the last point marked: the current value shows even before there is a curve
        "confident": ax_quality.plot([], [], color=PALETTE["blue"], lw=1.8, marker="o", ms=5,
                                     markevery=[-1], label="samples confidently a digit")[0],
        "classes": ax_quality.plot([], [], color=PALETTE["orange"], lw=1.8, marker="o", ms=5,
                                   markevery=[-1], label="classes present (10 classes = 100%)")[0],
    }
    ax_quality.set(xlim=(0, FIRST_X_LIMIT), ylim=(0, 130), yticks=[0, 25, 50, 75, 100],
                   xlabel="generator step", ylabel="share (%)",
                   title="What a digit classifier sees")
    ax_quality.legend(loc="upper left", fontsize=8, ncol=2)

    style = {"description_width": "initial"}
    controls = {
        "lr_g": _lr_slider(DIGIT_SETTINGS.lr_g, "generator lr"),
        "lr_d": _lr_slider(DIGIT_SETTINGS.lr_d, "discriminator lr"),
        "d_steps": W.IntSlider(value=DIGIT_SETTINGS.d_steps, min=1, max=3,
                               description="D steps per G step", style=style,
                               layout=W.Layout(width="300px")),
        "seed": W.IntSlider(value=seed, min=0, max=9, description="seed", style=style,
                            layout=W.Layout(width="230px")),
    }
    state = SimpleNamespace(gan=None, judged_at=[], confident=[], classes=[], start=start)

    def judge():
        gan = state.gan
        if state.judged_at and state.judged_at[-1] == gan.steps:
            return
        with np.errstate(all="ignore"):
            samples = np.nan_to_num(gan.sample(N_JUDGED, fixed=True), nan=0.0)
        quality = digit_quality(samples, classifier)
        state.judged_at.append(gan.steps)
        state.confident.append(100 * quality.confident_share)
        state.classes.append(10 * quality.classes_present)

    def reset(lr_g, lr_d, d_steps, seed, **_):
        # as nnlib.models.gan.fit_digit_gan builds it, so that stepping it here trains the same GAN
        settings = DIGIT_SETTINGS._replace(lr_g=lr_g, lr_d=lr_d, d_steps=d_steps)
        if state.start is not None:  # the first reset continues the given GAN, once
            state.gan, state.start = state.start, None
            _set_learning(state.gan, lr_g=lr_g, lr_d=lr_d, d_steps=d_steps)
        else:
            state.gan = digit_gan(seed, settings, device=DEVICE)
        state.judged_at, state.confident, state.classes = [], [], []
        judge()

    def step(lr_g, lr_d, d_steps, **_):
        gan = state.gan
        _set_learning(gan, lr_g=lr_g, lr_d=lr_d, d_steps=d_steps)
        for _ in range(max(1, DIGIT_UPDATES_PER_FRAME // (d_steps + 1))):
            if gan.diverged:
                break
            gan.step()
        judge()

    def update(lr_g, lr_d, d_steps, **_):
        gan = state.gan
        with np.errstate(all="ignore"):
            samples = np.nan_to_num(gan.sample(DIGIT_ROWS * DIGIT_COLUMNS, fixed=True), nan=0.0)
        mosaic.set_data(_mosaic(samples, DIGIT_ROWS, DIGIT_COLUMNS))
        _draw_curves(loss_lines, gan.history)
        quality_lines["confident"].set_data(state.judged_at, state.confident)
        quality_lines["classes"].set_data(state.judged_at, state.classes)
        for ax in (ax_loss, ax_quality):
            ax.set_xlim(0, _x_limit(gan.steps))
        ax_grid.title.set_text(f"step {gan.steps}: {state.confident[-1]:.0f}% confidently a "
                               f"digit, {state.classes[-1] // 10}/10 classes")
        ax_loss.title.set_text(_settings_title(lr_g, lr_d, d_steps))
        if gan.diverged:
            return DIVERGED_MESSAGE.format(steps=gan.steps)
        return None

    def axis_limits():
        loss_range = _loss_range(state.gan.history)
        ax_loss.set_ylim(*loss_range)
        return loss_range, _x_limit(state.gan.steps)

    dynamic = [mosaic, ax_grid.title, ax_loss.title, *loss_lines.values(),
               *quality_lines.values()]
    view = TrainerView(fig, update, controls, step=step, reset=reset, reset_controls=("seed",),
                       title="digit GAN", dynamic=dynamic, static_controls=("seed",),
                       static_key=axis_limits, interval_ms=20)
    view.state = state
    view.artists = {"mosaic": mosaic, **loss_lines, **quality_lines}
    return view
