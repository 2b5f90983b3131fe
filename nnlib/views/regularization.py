"""The L1-vs-L2 view of the regularization notebook.

``penalty_explorer`` shows, for one penalty strength, the weights that L1 and L2 leave
behind, side by side (trained by ``nnlib.overfitting.overfit_experiment``).
"""

import functools

import numpy as np

from nnlib.data.toy import playground_data
from nnlib.display.plotting import PALETTE, class_cmap, new_figure
from nnlib.display.widgets import LiveView
from nnlib.overfitting import NEAR_ZERO, near_zero_share, overfit_experiment, weights_of

__all__ = ["penalty_explorer", "EXPLORER_STRENGTHS"]

EXPLORER_STRENGTHS = (1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03)
_GRID = 48
_LIMIT = 1.5
_LOG_BINS = np.linspace(-6, 1, 36)  # log10 |w|


@functools.cache
def _trained(penalty, strength, seed=0):
    kwargs = {"l1": strength} if penalty == "L1" else {"l2": strength}
    return overfit_experiment(seed=seed, width=32, epochs=250, **kwargs)


def penalty_explorer():
    """L1 and L2 at the same strength: the weights they leave and the functions they learn.

    Controls: the penalty strength, and the histogram's x-axis (log10 |w|, which
    shows how close to zero the small weights are, or the signed weights).
    Left: the distribution of all weights for each penalty. Middle and right: each
    network's decision map on the same 40 training points.

    Speed: the models for every strength are trained here, once per process (about
    0.3 s a strength, 1.7 s in all; trained on the first visit instead, a new strength
    cost a 290 ms pause), and what each panel shows is cached per setting, so a press
    only draws: 17 ms headless, 55-80 ms on screen in JupyterLab on two cores. JPEG,
    because it encodes in 3 ms against PNG's 13 ms.
    """
    import ipywidgets as W

    for strength in EXPLORER_STRENGTHS:
        for penalty in ("L1", "L2"):
            _trained(penalty, strength)

    fig, (ax_hist, ax_l1, ax_l2) = new_figure(1, 3, figsize=(12.5, 4.1),
                                              gridspec_kw={"width_ratios": [1.3, 1, 1]})
    ticks = np.linspace(-_LIMIT, _LIMIT, _GRID)
    g1, g2 = np.meshgrid(ticks, ticks)
    grid = np.column_stack([g1.ravel(), g2.ravel()])
    X, y = playground_data("moons", 0.25, n=440, seed=0)
    colors = np.array([PALETTE["orange"], PALETTE["blue"]])
    maps, texts, points, cache = {}, {}, [], {}
    for ax, name in ((ax_l1, "L1"), (ax_l2, "L2")):
        maps[name] = ax.imshow(np.zeros((_GRID, _GRID)), cmap=class_cmap(), vmin=0, vmax=1,
                               origin="lower", extent=(-_LIMIT, _LIMIT, -_LIMIT, _LIMIT),
                               alpha=0.9)
        points.append(ax.scatter(X[:40, 0], X[:40, 1], c=colors[y[:40]], s=25, zorder=3,
                                 edgecolors="0.15", linewidths=0.6))
        ax.set(xlim=(-_LIMIT, _LIMIT), ylim=(-_LIMIT, _LIMIT), aspect="equal", xlabel="$x_1$",
               title=f"{name}: decision map")
        texts[name] = ax.text(0.03, 0.03, "", transform=ax.transAxes, fontsize=9, zorder=5,
                              family="monospace",
                              bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "0.7"})
    ax_l1.set_ylabel("$x_2$")
    stairs = {name: ax_hist.stairs(np.zeros(len(_LOG_BINS) - 1), _LOG_BINS, fill=True,
                                   alpha=0.45, color=color, label=name)
              for name, color in (("L1", PALETTE["vermillion"]), ("L2", PALETTE["blue"]))}
    threshold_line = ax_hist.axvline(np.log10(NEAR_ZERO), color="0.3", ls=":", lw=1.5,
                                     label=f"|w| = {NEAR_ZERO}")
    ax_hist.set(ylabel="share of weights", title="Where the weights end up")
    ax_hist.legend(loc="upper left", fontsize=9)

    def drawn(name, strength, signed):
        """What the panels show for one network: histogram, decision map, text (cached)."""
        key = (name, strength, signed)
        if key not in cache:
            result = _trained(name, strength)
            w = weights_of(result.model)
            bins = np.linspace(-1.5, 1.5, 41) if signed else _LOG_BINS
            values = w if signed else np.log10(np.maximum(np.abs(w), 1e-12))
            counts, _ = np.histogram(np.clip(values, bins[0], bins[-1]), bins)
            probs = result.model.predict_proba(grid)[:, 1].reshape(_GRID, _GRID)
            text = (f"|w| < {NEAR_ZERO}: {near_zero_share(result.model):5.0%}\n"
                    f"val accuracy {result.val_accuracy:5.1%}\n"
                    f"gap {result.gap:+.3f}")
            cache[key] = (counts / w.size, bins, probs, text)
        return cache[key]

    def update(strength, axis):
        signed = axis == "signed w"
        for name in ("L1", "L2"):
            shares, bins, probs, text = drawn(name, strength, signed)
            stairs[name].set_data(shares, bins)
            maps[name].set_data(probs)
            texts[name].set_text(text)
        threshold_line.set_visible(not signed)
        return None

    def axes_for(axis):
        signed = axis == "signed w"
        ax_hist.set(xlim=(-1.5, 1.5) if signed else (_LOG_BINS[0], _LOG_BINS[-1]), ylim=(0, 0.6),
                    xlabel="weight $w$" if signed else "$\\log_{10} |w|$")

    controls = {
        "strength": W.SelectionSlider(options=EXPLORER_STRENGTHS, value=1e-3,
                                      description="penalty strength",
                                      style={"description_width": "initial"},
                                      layout=W.Layout(width="330px")),
        "axis": W.ToggleButtons(options=["log10 |w|", "signed w"], value="log10 |w|",
                                description="x-axis"),
    }

    def update_all(strength, axis):
        axes_for(axis)
        return update(strength, axis)

    dynamic = [*stairs.values(), *maps.values(), *points, *texts.values(), threshold_line]
    return LiveView(fig, update_all, controls, title="L1 vs L2 weights", dynamic=dynamic,
                    static_controls=("axis",), image_format="jpeg")
