"""Over-fitting experiments and the L1-vs-L2 view of the regularization notebook.

``overfit_experiment`` trains a too-big network on a small, noisy training set
(the setting where regularization matters) and reports the train/validation
gap; the notebook asserts its claims with it and tests/test_claims_regularization.py
checks that they hold for several seeds. ``penalty_explorer`` shows, for one
penalty strength, the weights that L1 and L2 leave behind, side by side.
"""

import functools
from typing import NamedTuple

import numpy as np

from nnlib.display.plotting import PALETTE, class_cmap, new_figure
from nnlib.display.widgets import LiveView
from nnlib.mlp import MLP, fit
from nnlib.optim import SGD
from nnlib.views.playground import playground_data

__all__ = ["overfit_experiment", "OverfitResult", "weights_of", "near_zero_share",
           "penalty_explorer", "EXPLORER_STRENGTHS"]

NEAR_ZERO = 0.01  # a weight this small barely changes a unit's input: effectively pruned


class OverfitResult(NamedTuple):
    model: MLP
    train_loss: float  # final, on the whole training set, without dropout
    val_loss: float
    val_accuracy: float
    history: object  # nnlib.mlp.History, per epoch

    @property
    def gap(self):
        """Validation loss minus training loss: how much worse on unseen points."""
        return self.val_loss - self.train_loss


def overfit_experiment(seed=0, l1=0.0, l2=0.0, dropout=0.0, epochs=300, dataset="moons",
                       noise=0.25, n_train=40, n_val=400, width=64, lr=0.1):
    """Train ``MLP([2, width, width, 2])`` (ReLU) on ``n_train`` noisy points of two moons.

    Full-batch SGD with momentum 0.9, one step per epoch (plain SGD keeps the
    classic picture of the penalties; Adam rescales each weight's step, which
    blurs the difference between L1 and L2). ``seed`` picks both the data and
    the initialization. Returns an ``OverfitResult``.
    """
    X, y = playground_data(dataset, noise, n=n_train + n_val, seed=seed)
    x_train, y_train, x_val, y_val = X[:n_train], y[:n_train], X[n_train:], y[n_train:]
    model = MLP([2, width, width, 2], activation="relu", dropout=dropout, seed=seed)
    history = fit(model, SGD(model.params, lr=lr, momentum=0.9), x_train, y_train, epochs=epochs,
                  batch_size=n_train, x_val=x_val, y_val=y_val, l1=l1, l2=l2, seed=seed)
    train_loss = model.evaluate(x_train, y_train)
    return OverfitResult(model, train_loss, history.val_loss[-1], history.val_accuracy[-1],
                         history)


def weights_of(model):
    """All weight matrices' entries (biases left out) as one flat array."""
    return np.concatenate([p.ravel() for k, p in model.params.items() if k.startswith("w")])


def near_zero_share(model, threshold=NEAR_ZERO):
    """The share of weights with ``|w| < threshold``."""
    return float(np.mean(np.abs(weights_of(model)) < threshold))


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
    network's decision map on the same 40 training points. The models are trained
    once per strength (about 0.3 s each) and cached.
    """
    import ipywidgets as W

    fig, (ax_hist, ax_l1, ax_l2) = new_figure(1, 3, figsize=(12.5, 4.1),
                                              gridspec_kw={"width_ratios": [1.3, 1, 1]})
    ticks = np.linspace(-_LIMIT, _LIMIT, _GRID)
    g1, g2 = np.meshgrid(ticks, ticks)
    grid = np.column_stack([g1.ravel(), g2.ravel()])
    X, y = playground_data("moons", 0.25, n=440, seed=0)
    colors = np.array([PALETTE["orange"], PALETTE["blue"]])
    maps, texts, points = {}, {}, []
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

    def update(strength, axis):
        signed = axis == "signed w"
        bins = np.linspace(-1.5, 1.5, 41) if signed else _LOG_BINS
        for name in ("L1", "L2"):
            result = _trained(name, strength)
            w = weights_of(result.model)
            values = w if signed else np.log10(np.maximum(np.abs(w), 1e-12))
            counts, _ = np.histogram(np.clip(values, bins[0], bins[-1]), bins)
            stairs[name].set_data(counts / w.size, bins)
            probs = result.model.predict_proba(grid)[:, 1]
            maps[name].set_data(probs.reshape(_GRID, _GRID))
            texts[name].set_text(f"|w| < {NEAR_ZERO}: {near_zero_share(result.model):5.0%}\n"
                                 f"val accuracy {result.val_accuracy:5.1%}\n"
                                 f"gap {result.gap:+.3f}")
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
                    static_controls=("axis",))
