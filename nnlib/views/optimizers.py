"""Live views for the optimizers notebook: paths on a 2-D landscape, and a training race.

``landscape_explorer`` runs SGD, momentum, Nesterov, RMSprop and Adam on one of
``nnlib.surfaces.SURFACES`` and draws their paths over the contour plot.
``optimizer_race`` trains the same small digits MLP with all five at once
(same initialization, same mini-batches) and plots their loss curves live.
"""

import numpy as np

from nnlib.display.plotting import COLORS, PALETTE, new_figure
from nnlib.display.widgets import LiveView, TrainerView
from nnlib.optim import OPTIMIZERS, make_optimizer
from nnlib.surfaces import SURFACES, run_path

__all__ = ["OPTIMIZER_COLORS", "OPTIMIZER_STYLES", "ADAPTIVE", "LR_OPTIONS", "RACE_SIZES",
           "EXAMPLES_PER_TICK", "landscape_explorer", "optimizer_race", "race_data"]

# One colour per optimizer in every figure of the notebook (Okabe-Ito, colour-blind safe),
# in the order of nnlib.display.plotting.COLORS, so that a TrainingMonitor agrees.
OPTIMIZER_COLORS = dict(zip(OPTIMIZERS, COLORS))
OPTIMIZER_STYLES = {"SGD": "-", "momentum": "-", "Nesterov": "--", "RMSprop": "-", "Adam": "--"}
# RMSprop and Adam scale each step by a running RMS of the gradient, so their
# learning rate is roughly a step length; the SGD family's multiplies the gradient.
ADAPTIVE = ("RMSprop", "Adam")
# Learning rates on a log scale, 1-1.5-2-3-5-7 per decade (a selection slider
# keeps the values readable and lets every setting be revisited exactly).
LR_OPTIONS = tuple(float(f"{m * 10.0**e:.4g}") for e in range(-4, 1) for m in (1, 1.5, 2, 3, 5, 7)
                   ) + (10.0,)

SHOW_OPTIONS = {
    "all five": OPTIMIZERS,
    "SGD, momentum, Nesterov": ("SGD", "momentum", "Nesterov"),
    "RMSprop, Adam": ADAPTIVE,
    "SGD, momentum": ("SGD", "momentum"),
    "SGD, Adam": ("SGD", "Adam"),
    **{name: (name,) for name in OPTIMIZERS},
}
MAX_STEPS = 300


def _lr_for(name, lr, adaptive_lr):
    return adaptive_lr if name in ADAPTIVE else lr


def _nearest_lr(value):
    return min(LR_OPTIONS, key=lambda option: abs(np.log(option / value)))


def _lr_slider(value, description):
    import ipywidgets as W

    return W.SelectionSlider(options=list(LR_OPTIONS),
                             value=_nearest_lr(value), description=description,
                             continuous_update=True, style={"description_width": "initial"},
                             layout=W.Layout(width="330px"))


def _beta_slider(value=0.9):
    import ipywidgets as W

    return W.FloatSlider(value=value, min=0.0, max=0.99, step=0.01, readout_format=".2f",
                         description="β (momentum, Adam β1)", continuous_update=True,
                         style={"description_width": "initial"}, layout=W.Layout(width="330px"))


def _inside(xy, surface, margin=0.25):
    """Which points of ``xy (n, 2)`` lie within the plot range, widened by ``margin``."""
    (x0, x1), (y0, y1) = surface.xlim, surface.ylim
    dx, dy = margin * (x1 - x0), margin * (y1 - y0)
    return ((xy[:, 0] >= x0 - dx) & (xy[:, 0] <= x1 + dx)
            & (xy[:, 1] >= y0 - dy) & (xy[:, 1] <= y1 + dy))


def _as_list(names):
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]


def landscape_explorer():
    """Five optimizers' paths over a 2-D loss surface.

    Controls: the surface (its contours are drawn once per surface), the start
    point (the numbered dots), which optimizers to show, the learning rates of
    the SGD family and of RMSprop / Adam, beta (the momentum, which is also
    Adam's beta1) and the number of steps. The box on the right gives each
    optimizer's final loss; a path that diverges is named under the figure.
    Choosing a surface in Jupyter also sets the learning rates it suggests.
    """
    import ipywidgets as W

    fig, (ax, ax_info) = new_figure(1, 2, figsize=(10.5, 5.2),
                                    gridspec_kw={"width_ratios": [3.0, 1.15]})
    ax_info.set_axis_off()
    ax.grid(False)
    background = {}  # surface name -> its artists (filled contours, lines, start labels)

    def draw_surface(name):
        surface = SURFACES[name]
        X, Y, F = surface.grid(160)
        top = float(np.quantile(F, 0.98))
        levels = np.geomspace(top * 1e-4, top, 14)
        filled = ax.contourf(X, Y, F, levels=[0.0, *levels, F.max() + 1.0], cmap="Greys",
                             alpha=0.55, zorder=0)
        lines = ax.contour(X, Y, F, levels=levels, colors="0.45", linewidths=0.6, zorder=1)
        mx, my = zip(*surface.minima)
        marks = [ax.plot(mx, my, marker="*", ms=15, color=PALETTE["yellow"], mec="k",
                         ls="none", zorder=3)[0]]
        for i, start in enumerate(surface.starts.values(), start=1):
            marks.append(ax.text(*start, str(i), fontsize=9, fontweight="bold", ha="center",
                                 va="center", zorder=3,
                                 bbox={"boxstyle": "circle,pad=0.2", "facecolor": "white",
                                       "edgecolor": "0.3"}))
        background[name] = [filled, lines, *marks]

    paths = {name: ax.plot([], [], color=color, lw=1.8, ls=OPTIMIZER_STYLES[name], marker="o",
                           ms=2.5, label=name, zorder=5)[0]
             for name, color in OPTIMIZER_COLORS.items()}
    ends = {name: ax.plot([], [], marker="o", ms=7, color=color, mec="k", ls="none", zorder=6)[0]
            for name, color in OPTIMIZER_COLORS.items()}
    (start_dot,) = ax.plot([], [], marker="o", ms=16, mfc="none", mec="k", mew=2, ls="none",
                           zorder=4)
    handles = [*paths.values(),
               ax.plot([], [], marker="*", ms=13, color=PALETTE["yellow"], mec="k",
                       ls="none", label="minimum")[0],
               ax.plot([], [], marker="o", ms=12, mfc="none", mec="k", mew=2, ls="none",
                       label="start")[0]]
    ax_info.legend(handles=handles, loc="upper left", fontsize=9, title="optimizer",
                   title_fontproperties={"weight": "bold"})
    readout = ax_info.text(0.0, 0.42, "", transform=ax_info.transAxes, va="top",
                           family="monospace", fontsize=8.5)
    ax.set(xlabel="parameter $x$", ylabel="parameter $y$")
    # Same tick-label widths on every surface: the layout is solved once, at the first draw.
    ax.xaxis.set_major_formatter("{x:.1f}")
    ax.yaxis.set_major_formatter("{x:.1f}")
    cache = {}

    def path(surface, name, lr, beta, start, steps):
        key = (surface, name, lr, beta, start)
        found = cache.get(key)
        if found is None or (len(found.xy) <= steps and not found.diverged):
            if len(cache) > 400:
                cache.clear()
            s = SURFACES[surface]
            found = cache[key] = run_path(s, name, lr, beta, list(s.starts.values())[start - 1],
                                          steps=max(steps, 100))
        return found

    def update(surface, start, show, lr, adaptive_lr, beta, steps):
        s = SURFACES[surface]
        if surface not in background:
            draw_surface(surface)
        for name, artists in background.items():
            for artist in artists:
                artist.set_visible(name == surface)
        ax.set(xlim=s.xlim, ylim=s.ylim, aspect="equal")
        ax.set_title(s.title)
        start_point = list(s.starts.values())[start - 1]
        start_dot.set_data([start_point[0]], [start_point[1]])
        rows = [f"after {steps} steps from start {start}:", f"{'':9}{'final loss':>11}"]
        diverged, growing = [], []
        for name in OPTIMIZERS:
            line, end = paths[name], ends[name]
            shown = name in SHOW_OPTIONS[show]
            line.set_visible(shown)
            end.set_visible(shown)
            if not shown:
                rows.append(f"{name:<9}{'(hidden)':>11}")
                continue
            run = path(surface, name, _lr_for(name, lr, adaptive_lr), beta, start, steps)
            xy, loss = run.xy[:steps + 1], run.loss[:steps + 1]
            escaped = run.diverged and len(run.xy) <= steps
            if escaped or loss[-1] > loss[0]:
                # Draw a blown-up path only until it leaves the picture, not across it.
                outside = np.flatnonzero(~_inside(xy, s))
                xy = xy[:outside[0] + 1] if len(outside) else xy
                (diverged if escaped else growing).append(name)
            line.set_data(xy[:, 0], xy[:, 1])
            end.set_data([xy[-1, 0]], [xy[-1, 1]])
            rows.append(f"{name:<9}{'diverged' if escaped else f'{loss[-1]:.2e}':>11}")
        rows += ["", f"lr (SGD family) {lr:g}", f"lr (RMSprop, Adam) {adaptive_lr:g}",
                 f"β {beta:.2f}"]
        readout.set_text("\n".join(rows))
        messages = []
        for names, verb in ((diverged, "diverged"), (growing, "ended above its start")):
            if names:
                sliders = sorted({"the adaptive learning rate" if n in ADAPTIVE
                                  else "the learning rate" for n in names})
                verb = verb.replace("its", "their") if len(names) > 1 else verb
                messages.append(f"{_as_list(names)} {verb}: lower {' / '.join(sliders)}")
        return "; ".join(messages) + "." if messages else None

    controls = {
        "surface": W.Dropdown(options=list(SURFACES), value="valley", description="surface",
                              layout=W.Layout(width="220px")),
        "start": W.Dropdown(options=[1, 2, 3], value=1,
                            description="start", layout=W.Layout(width="130px")),
        "show": W.Dropdown(options=list(SHOW_OPTIONS), value="all five", description="show",
                           layout=W.Layout(width="280px")),
        "lr": _lr_slider(SURFACES["valley"].lr, "lr: SGD, momentum, Nesterov"),
        "adaptive_lr": _lr_slider(SURFACES["valley"].adaptive_lr, "lr: RMSprop, Adam"),
        "beta": _beta_slider(),
        "steps": W.IntSlider(value=100, min=10, max=MAX_STEPS, step=10, description="steps",
                             continuous_update=True, layout=W.Layout(width="300px")),
    }
    dynamic = [*paths.values(), *ends.values(), start_dot, readout]
    view = LiveView(fig, update, controls, title="optimizer landscape", dynamic=dynamic,
                    static_controls=("surface",))

    def suggest_learning_rates(change):
        surface = SURFACES[change["new"]]
        with view.hold():
            controls["lr"].value = _nearest_lr(surface.lr)
            controls["adaptive_lr"].value = _nearest_lr(surface.adaptive_lr)

    controls["surface"].observe(suggest_learning_rates, names="value")
    return view


# ---------------------------------------------------------------------------- the race

RACE_SIZES = (64, 64, 10)  # a small MLP keeps a tick of all five well under 100 ms
EXAMPLES_PER_TICK = 128  # each optimizer sees this many training images per tick
DIVERGED_LOSS = 100.0  # far above chance (ln 10 = 2.3): the run has blown up
ACCURACY_EVERY = 4  # ticks between held-out evaluations (359 digits x 5 networks)
BATCH_OPTIONS = [8, 32, 128, 1438]  # 1438: the whole training set, full-batch descent


def race_data():
    """Digits for the race: ``(x_train (1438, 64), y_train, x_test (359, 64), y_test)``.

    Pixels are standardised with the training set's mean and standard
    deviation (plus 0.1, so that the nearly constant border pixels are not
    blown up), the test set with the same numbers.
    """
    global _RACE_DATA
    if _RACE_DATA is None:
        from nnlib.data import load_digits, standardize

        digits = load_digits()
        x, x_test = standardize(digits.x_train, digits.x_test)
        _RACE_DATA = (x, digits.y_train, x_test, digits.y_test)
    return _RACE_DATA


_RACE_DATA = None


def _set_hyper(optimizer, name, lr, adaptive_lr, beta):
    """Slider values act from the next step on, as in TensorFlow Playground."""
    optimizer.lr = float(_lr_for(name, lr, adaptive_lr))
    if name in ("momentum", "Nesterov"):
        optimizer.momentum = float(beta)  # Nesterov with beta = 0 is plain SGD
    elif name == "Adam":
        optimizer.betas = (float(beta), optimizer.betas[1])


def optimizer_race(seed=0):
    """The five optimizers train the same digits MLP side by side: press play.

    Every optimizer starts from the same weights (``MLP(RACE_SIZES, seed)``) and
    sees the same mini-batches in the same order. Each tick, each of them takes
    ``EXAMPLES_PER_TICK // batch_size`` steps (at least one), so the x-axis,
    in epochs, counts the same work for all. Left: the training loss (the mean
    over each tick's mini-batches, log scale). Right: accuracy on the 359
    held-out digits, every ``ACCURACY_EVERY`` ticks. The learning rates and
    beta act from the next step on; the batch size starts a new race. A run
    whose loss blows up stops, and the message says so.
    """
    import ipywidgets as W

    from nnlib.mlp import MLP

    x, y, x_test, y_test = race_data()
    N = len(x)
    fig, (ax, ax_acc) = new_figure(1, 2, figsize=(10.5, 4.4),
                                   gridspec_kw={"width_ratios": [2.3, 1.0]})
    curves = {name: ax.plot([], [], color=color, lw=2, ls=OPTIMIZER_STYLES[name], label=name)[0]
              for name, color in OPTIMIZER_COLORS.items()}
    crosses = {name: ax.plot([], [], marker="X", ms=11, color=color, mec="k", ls="none",
                             zorder=6)[0] for name, color in OPTIMIZER_COLORS.items()}
    ax.axhline(np.log(10), color="0.5", ls=":", lw=1.2, label="chance (ln 10)")
    ax.set(yscale="log", ylim=(3e-3, 20), xlim=(0, 2),
           xlabel="epochs (passes over the 1,438 training digits)",
           ylabel="training loss (cross-entropy)", title="Training loss, same start, same batches")
    ax.legend(loc="upper right", fontsize=8.5, ncol=2)
    readout = ax.text(0.02, 0.03, "", transform=ax.transAxes, va="bottom", family="monospace",
                      fontsize=8, zorder=7,
                      bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "0.7"})
    names = list(OPTIMIZERS)
    bars = ax_acc.barh(range(len(names)), np.zeros(len(names)),
                       color=[OPTIMIZER_COLORS[n] for n in names], height=0.65)
    bar_labels = [ax_acc.text(2, i, "", va="center", fontsize=9, zorder=5)
                  for i in range(len(names))]
    ax_acc.set(xlim=(0, 100), ylim=(len(names) - 0.5, -0.5), yticks=range(len(names)),
               yticklabels=names, xlabel="held-out accuracy (%)", title="Held-out digits")
    ax_acc.axvline(10, color="0.5", ls=":", lw=1.2)
    ax_acc.grid(False, axis="y")
    state = {}

    def reset(lr, adaptive_lr, beta, batch_size):
        models = {name: MLP(list(RACE_SIZES), seed=seed) for name in names}  # equal weights
        start_loss = models["SGD"].evaluate(x, y)
        start_accuracy = models["SGD"].accuracy(x_test, y_test)
        state.update(
            models=models,
            optimizers={name: make_optimizer(name, m.params, 1.0) for name, m in models.items()},
            rng=np.random.default_rng(seed), order=np.arange(0), epoch=0.0, ticks=0, xmax=2.0,
            xs={name: [0.0] for name in names}, losses={name: [start_loss] for name in names},
            accuracy={name: start_accuracy for name in names},
            diverged={name: None for name in names})

    def next_batch(size):
        """The next ``size`` indices of a shuffled pass; a new shuffle when one runs out."""
        if len(state["order"]) == 0:
            state["order"] = state["rng"].permutation(N)
        batch, state["order"] = state["order"][:size], state["order"][size:]
        return batch

    def step(lr, adaptive_lr, beta, batch_size):
        batches = [next_batch(batch_size) for _ in range(max(1, EXAMPLES_PER_TICK // batch_size))]
        state["epoch"] += sum(len(b) for b in batches) / N
        state["ticks"] += 1
        for name in names:
            if state["diverged"][name] is not None:
                continue
            model, optimizer = state["models"][name], state["optimizers"][name]
            _set_hyper(optimizer, name, lr, adaptive_lr, beta)
            total = 0.0
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                for batch in batches:
                    loss, grads = model.loss(x[batch], y[batch])
                    if not loss <= DIVERGED_LOSS:  # also catches inf and NaN
                        state["diverged"][name] = state["epoch"]
                        break
                    optimizer.step(grads)
                    total += loss * len(batch)
            if state["diverged"][name] is None:
                state["xs"][name].append(state["epoch"])
                state["losses"][name].append(total / sum(len(b) for b in batches))
                if state["ticks"] % ACCURACY_EVERY == 0:
                    state["accuracy"][name] = model.accuracy(x_test, y_test)

    def update(lr, adaptive_lr, beta, batch_size):
        while state["epoch"] > state["xmax"]:
            state["xmax"] *= 2
        ax.set_xlim(0, state["xmax"])  # a new limit forces one full redraw (static_key)
        for i, name in enumerate(names):
            xs, losses = state["xs"][name], state["losses"][name]
            curves[name].set_data(xs, losses)
            stopped = state["diverged"][name] is not None
            crosses[name].set_data([xs[-1]] if stopped else [], [losses[-1]] if stopped else [])
            accuracy = 100 * state["accuracy"][name]
            bars[i].set_width(0 if stopped else accuracy)
            bar_labels[i].set_text("diverged" if stopped else f"{accuracy:.1f}%")
            bar_labels[i].set_x(2 if stopped or accuracy > 80 else accuracy + 2)
            bar_labels[i].set_color("white" if accuracy > 80 and not stopped else "black")
        steps = max(1, EXAMPLES_PER_TICK // batch_size)
        # Short lines: drawing text is most of a redraw's cost.
        batch = "full batch" if batch_size >= N else f"batch {batch_size}"
        readout.set_text(f"epoch {state['epoch']:.2f}, {batch} ({steps}/tick)\n"
                         f"lr {lr:g}, adaptive lr {adaptive_lr:g}, β {beta:.2f}")
        stopped = [n for n in names if state["diverged"][n] is not None]
        if stopped:
            return (f"{_as_list(stopped)} diverged (loss above {DIVERGED_LOSS:g}): lower "
                    f"{'its' if len(stopped) == 1 else 'their'} learning rate and press reset.")
        return None

    controls = {"lr": _lr_slider(0.05, "lr: SGD, momentum, Nesterov"),
                "adaptive_lr": _lr_slider(1e-3, "lr: RMSprop, Adam"),
                "beta": _beta_slider(),
                "batch_size": W.Dropdown(options=BATCH_OPTIONS, value=32, description="batch",
                                         layout=W.Layout(width="180px"))}
    dynamic = [*curves.values(), *crosses.values(), *bars, *bar_labels, readout]
    return TrainerView(fig, update, controls, step, reset, reset_controls=("batch_size",),
                       title="optimizer race", dynamic=dynamic,
                       static_key=lambda: state.get("xmax"))
