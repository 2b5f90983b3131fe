"""Live views for the losses notebook: each loss at a prediction, and robust line fits."""

import numpy as np

from nnlib.data.toy import outlier_data
from nnlib.display.plotting import PALETTE, new_figure
from nnlib.display.widgets import LiveView
from nnlib.losses import fit_line, pointwise_losses

__all__ = ["loss_explorer", "outlier_fit_explorer"]

# One colour per loss, in every figure of the notebook.
LOSS_COLORS = {"MSE": PALETTE["blue"], "MAE": PALETTE["orange"], "Huber": PALETTE["green"]}
PRED_RANGE = (-4.0, 4.0)


def _slider(value, description, lo, hi, step_size=0.1, width="260px"):
    import ipywidgets as W

    return W.FloatSlider(value=value, min=lo, max=hi, step=step_size, description=description,
                         continuous_update=True, readout_format=".1f",
                         style={"description_width": "initial"}, layout=W.Layout(width=width))


def loss_explorer():
    """MSE, MAE and Huber of one prediction: the curves, their gradients, and where you are.

    Controls: the prediction, the target and Huber's delta. Left: each loss as a
    function of the prediction, with a marker at the current one. Right: the
    gradients dL/dpred, which say how hard each loss pushes the prediction.
    """
    fig, (ax_l, ax_g) = new_figure(1, 2, figsize=(10, 4.3))
    grid = np.linspace(*PRED_RANGE, 401)
    curves, grad_curves, dots, grad_dots = {}, {}, {}, {}
    # Distinct marker shapes and sizes, so that coinciding markers stay visible.
    markers = {"MSE": ("o", 11), "MAE": ("s", 9), "Huber": ("D", 6)}
    for zorder, (name, color) in enumerate(LOSS_COLORS.items(), start=5):
        marker, size = markers[name]
        style = {"marker": marker, "ms": size, "color": color, "mec": "k", "ls": "none",
                 "zorder": zorder}
        (curves[name],) = ax_l.plot([], [], color=color, lw=2, label=name)
        (dots[name],) = ax_l.plot([], [], **style)
        (grad_curves[name],) = ax_g.plot([], [], color=color, lw=2, label=name)
        (grad_dots[name],) = ax_g.plot([], [], **style)
    target_lines = [ax.axvline(0, color="0.35", ls=":", lw=1.5, label="target")
                    for ax in (ax_l, ax_g)]
    delta_band = ax_l.axvspan(0, 0, color=LOSS_COLORS["Huber"], alpha=0.12,
                              label="Huber: |error| ≤ δ")
    # Bottom right of the gradient panel stays empty for every slider setting.
    readout = ax_g.text(0.97, 0.03, "", transform=ax_g.transAxes, va="bottom", ha="right",
                        family="monospace", fontsize=9, zorder=8,
                        bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "0.7"})
    ax_l.set(xlim=PRED_RANGE, ylim=(-0.2, 8), xlabel="prediction $\\hat y$",
             ylabel="loss $L$ (one example)", title="Loss vs prediction")
    ax_g.set(xlim=PRED_RANGE, ylim=(-6, 6), xlabel="prediction $\\hat y$",
             ylabel="gradient $\\partial L / \\partial \\hat y$",
             title="Gradient: how hard each loss pushes")
    ax_g.axhline(0, color="0.6", lw=0.8)
    fig.legend(*ax_l.get_legend_handles_labels(), loc="outside lower center", ncol=5,
               fontsize=9)

    def update(prediction, target, delta):
        losses, grads = pointwise_losses(grid, target, delta)
        at_loss, at_grad = pointwise_losses(np.array(prediction), target, delta)
        for name in LOSS_COLORS:
            curves[name].set_data(grid, losses[name])
            grad_curves[name].set_data(grid, grads[name])
            dots[name].set_data([prediction], [min(float(at_loss[name]), 7.9)])
            grad_dots[name].set_data([prediction], [float(np.clip(at_grad[name], -5.9, 5.9))])
        for line in target_lines:
            line.set_xdata([target, target])
        delta_band.set_x(target - delta)
        delta_band.set_width(2 * delta)
        error = prediction - target
        rows = [f"error ŷ - y = {error:+.2f}", f"{'':6}{'loss':>7} {'grad':>7}"]
        rows += [f"{name:<6}{float(at_loss[name]):7.2f} {float(at_grad[name]):+7.2f}"
                 for name in LOSS_COLORS]
        readout.set_text("\n".join(rows))
        if abs(float(at_loss["MSE"])) > 7.9:
            return "The MSE marker sits at the top edge: its value is off the chart (see the box)."
        return None

    controls = {"prediction": _slider(2.5, "prediction ŷ", *PRED_RANGE),
                "target": _slider(0.0, "target y", -2.0, 2.0),
                "delta": _slider(1.0, "Huber δ", 0.1, 3.0)}
    dynamic = [*curves.values(), *grad_curves.values(), *dots.values(), *grad_dots.values(),
               *target_lines, delta_band, readout]
    return LiveView(fig, update, controls, title="loss explorer", dynamic=dynamic)


def outlier_fit_explorer():
    """Drag one outlier up and down and watch the MSE, MAE and Huber lines respond.

    Controls: the outlier's y-value and Huber's delta. The dashed grey line is
    the MSE fit without the outlier, the reference every fit is compared with.
    """
    fig, ax = new_figure(figsize=(7.8, 4.8))
    x, y = outlier_data()
    clean_a, clean_c = fit_line(x[:-1], y[:-1], "MSE")
    span = np.array([-1.2, 1.2])
    ax.plot(span, clean_a * span + clean_c, color="0.5", ls="--", lw=1.5,
            label="MSE fit without the outlier")
    ax.scatter(x[:-1], y[:-1], s=45, color="0.25", zorder=4, label="data")
    outlier = ax.scatter([], [], s=160, marker="*", color=PALETTE["vermillion"], edgecolor="k",
                         zorder=6, label="outlier (drag the slider)")
    lines = {name: ax.plot([], [], color=color, lw=2.4, label=f"{name} fit")[0]
             for name, color in LOSS_COLORS.items()}
    readout = ax.text(0.02, 0.98, "", transform=ax.transAxes, va="top", family="monospace",
                      fontsize=9, zorder=7,
                      bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "0.7"})
    ax.set(xlim=(-1.2, 1.2), ylim=(-11, 14), xlabel="input $x$", ylabel="target $y$",
           title="Line fits y = a·x + c under three losses")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)

    def update(outlier_y, delta):
        ys = y.copy()
        ys[-1] = outlier_y
        outlier.set_offsets([[x[-1], min(max(outlier_y, -10.8), 13.8)]])
        rows = [f"slope a (no outlier: {clean_a:.2f})"]
        for name, line in lines.items():
            a, c = fit_line(x, ys, name, delta)
            line.set_data(span, a * span + c)
            rows.append(f"{name:<6} a = {a:+6.2f}  (moved {a - clean_a:+.2f})")
        readout.set_text("\n".join(rows))
        if not -10.8 <= outlier_y <= 13.8:
            side = "below" if outlier_y < 0 else "above"
            return (f"The outlier (y = {outlier_y:.1f}) lies {side} the chart; the star marks "
                    "its x on the edge.")
        return None

    controls = {"outlier_y": _slider(-4.0, "outlier y", -30.0, 30.0, 0.5, width="320px"),
                "delta": _slider(1.0, "Huber δ", 0.1, 5.0)}
    dynamic = [outlier, *lines.values(), readout]
    return LiveView(fig, update, controls, title="outlier fit explorer", dynamic=dynamic)
