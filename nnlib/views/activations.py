"""Live views for the activations notebook: one function and its derivative; a deep stack."""

import functools

import numpy as np

from nnlib.activations import ACTIVATIONS
from nnlib.display.plotting import PALETTE, new_figure
from nnlib.display.widgets import LiveView
from nnlib.init import INIT_SCHEMES, signal_propagation

__all__ = ["activation_explorer", "depth_explorer", "SATURATION"]

SATURATION = 0.1  # "saturated": the derivative is below 10% of its largest value
X = np.linspace(-6, 6, 481)


def activation_explorer():
    """Pick an activation: its curve, its derivative, where it saturates, and a probe point."""
    import ipywidgets as W

    fig, ax = new_figure(figsize=(6.4, 4.0))
    band = ax.imshow(np.zeros((1, len(X))), extent=(X[0], X[-1], -10, 10), aspect="auto",
                     cmap="Greys", vmin=0, vmax=4, alpha=0.35, origin="lower",
                     interpolation="nearest")
    (value_line,) = ax.plot(X, X, color=PALETTE["blue"], lw=2.5, label=r"$\varphi(x)$")
    (grad_line,) = ax.plot(X, X, color=PALETTE["vermillion"], lw=2, ls="--",
                           label=r"$\varphi'(x)$")
    (value_dot,) = ax.plot([], [], "o", color=PALETTE["blue"], ms=8, zorder=5)
    (grad_dot,) = ax.plot([], [], "o", color=PALETTE["vermillion"], ms=8, zorder=5)
    readout = ax.text(0.02, 0.97, "", transform=ax.transAxes, va="top", family="monospace",
                      fontsize=9, bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "0.7"})
    ax.axhline(0, color="0.4", lw=0.8)
    ax.set(xlabel="input $x$", ylabel="output")
    saturated_label = "saturated: $|\\varphi'| < 10\\%$ of max"
    ax.fill_between([], [], color="0.6", alpha=0.35, label=saturated_label)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=9)

    def update(activation, x):
        phi, phi_grad = ACTIVATIONS[activation]
        values, grads = phi(X), phi_grad(X)
        value_line.set_ydata(values)
        grad_line.set_ydata(grads)
        band.set_data((np.abs(grads) < SATURATION * np.abs(grads).max())[None, :] * 1.0)
        low = min(values.min(), grads.min(), 0.0)
        high = max(min(values.max(), 3.0), grads.max())
        ax.set_ylim(low - 0.1 * (high - low), high + 0.1 * (high - low))
        ax.set_title(f"{activation} and its derivative")
        v, g = float(phi(np.array(x))), float(phi_grad(np.array(x)))
        value_dot.set_data([x], [v])
        grad_dot.set_data([x], [g])
        saturated = abs(g) < SATURATION * np.abs(grads).max()
        readout.set_text(f"x = {x:+.2f}\nφ(x)  = {v:+.4f}\nφ'(x) = {g:+.4f}"
                         + ("\nsaturated: almost no gradient" if saturated else ""))
        return None

    controls = {
        "activation": W.Dropdown(options=list(ACTIVATIONS), value="sigmoid",
                                 description="activation"),
        "x": W.FloatSlider(value=1.0, min=-6.0, max=6.0, step=0.05, description="probe x",
                           readout_format="+.2f"),
    }
    dynamic = [band, value_line, grad_line, value_dot, grad_dot, readout]
    return LiveView(fig, update, controls, title="activation explorer", dynamic=dynamic,
                    static_controls=("activation",))


MAX_DEPTH = 20
LOG_BINS = np.linspace(-20, 10, 61)  # log10 of magnitudes: 1e-20 ... 1e10


def _log_histograms(arrays):
    """One row per layer: the share of entries in each log10|value| bin (zeros -> lowest bin)."""
    rows = np.full((MAX_DEPTH, len(LOG_BINS) - 1), np.nan)
    for layer, a in enumerate(arrays):
        with np.errstate(divide="ignore"):
            logs = np.clip(np.log10(np.abs(a).ravel()), LOG_BINS[0], LOG_BINS[-1] - 1e-9)
        counts, _ = np.histogram(logs, bins=LOG_BINS)
        rows[layer] = counts / counts.sum()
    return rows


@functools.cache
def _depth_stats(depth, activation, init):
    """What ``depth_explorer`` draws for one setting: the two panels' histograms, and each
    layer's activation RMS and weight-gradient norm (a setting met again only draws)."""
    stats = signal_propagation(depth, 128, activation, init, batch=64, seed=0)
    histograms = (_log_histograms(stats.activations), _log_histograms(stats.weight_grads))
    rms = [float(np.sqrt(np.mean(h**2))) for h in stats.activations]
    norms = [float(np.linalg.norm(g)) for g in stats.weight_grads]
    return histograms, rms, norms


def depth_explorer():
    """Per-layer distributions of activations and weight gradients in a deep stack.

    Controls: depth, activation and initialization scheme. The heatmaps show,
    for each layer (row), how the magnitudes of its activations and its weight
    gradients spread over orders of magnitude (columns, log10 scale).
    """
    import ipywidgets as W
    from matplotlib.ticker import MaxNLocator

    fig, (ax_h, ax_g, ax_n) = new_figure(1, 3, figsize=(11.5, 4.2))
    fig.get_layout_engine().set(w_pad=0.15)  # room between the colour bar and the last panel
    extent = (LOG_BINS[0], LOG_BINS[-1], 0.5, MAX_DEPTH + 0.5)
    images = []
    panels = ((ax_h, "activations $|h_l|$"),
              (ax_g, r"weight gradients $|\partial \mathcal{L}/\partial W_l|$"))
    for ax, what in panels:
        images.append(ax.imshow(np.full((MAX_DEPTH, len(LOG_BINS) - 1), np.nan), origin="lower",
                                extent=extent, aspect="auto", cmap="viridis", vmin=0, vmax=0.5,
                                interpolation="nearest"))
        ax.set(xlabel=f"log$_{{10}}$ of {what}", ylabel="layer", title=what)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(False)
    fig.colorbar(images[1], ax=ax_g, label="share of entries", shrink=0.85)
    (h_line,) = ax_n.semilogy([], [], "o-", color=PALETTE["blue"], label="activations (RMS)")
    (g_line,) = ax_n.semilogy([], [], "s-", color=PALETTE["vermillion"],
                              label="weight gradients (norm)")
    ax_n.set(xlim=(0.5, MAX_DEPTH + 0.5), ylim=(1e-20, 1e12), xlabel="layer",
             ylabel="size (log scale)", title="Size per layer")
    ax_n.legend(loc="lower right", fontsize=8)
    ratio_text = ax_n.text(0.03, 0.97, "", transform=ax_n.transAxes, va="top", fontsize=9,
                           bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "0.7"})

    def update(depth, activation, init):
        histograms, rms, norms = _depth_stats(depth, activation, init)
        images[0].set_data(histograms[0])
        images[1].set_data(histograms[1])
        layers = np.arange(1, depth + 1)
        h_line.set_data(layers, np.maximum(rms, 1e-30))
        g_line.set_data(layers, np.maximum(norms, 1e-30))
        if not np.all(np.isfinite(norms + rms)):
            ratio_text.set_text("overflow: values exceeded float64")
            return "Diverged: activations or gradients overflowed float64 (inf or NaN)."
        # Both ends of both lines: a ratio alone hides what ReLU does to the scale (with
        # ReLU every layer's weight gradient scales alike with the weights' size).
        ratio_text.set_text(f"{activation} + {init}, depth {depth}\n"
                            f"activation RMS, layer 1 -> {depth}:\n"
                            f"  {rms[0]:.1e} -> {rms[-1]:.1e}\n"
                            f"weight-gradient norm, layer 1 -> {depth}:\n"
                            f"  {norms[0]:.1e} -> {norms[-1]:.1e}")
        return None

    controls = {
        "depth": W.IntSlider(value=10, min=1, max=MAX_DEPTH, description="depth"),
        "activation": W.Dropdown(options=["sigmoid", "tanh", "relu", "gelu"], value="sigmoid",
                                 description="activation"),
        "init": W.Dropdown(options=INIT_SCHEMES, value="small", description="init"),
    }
    dynamic = [*images, h_line, g_line, ratio_text]
    return LiveView(fig, update, controls, title="depth and initialization", dynamic=dynamic,
                    image_format="jpeg")
