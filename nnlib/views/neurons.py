"""Live views for the neurons notebook: one neuron on the plane, and two layers for XOR."""

import numpy as np

from nnlib.display.plotting import PALETTE, class_cmap, new_figure
from nnlib.display.widgets import LiveView
from nnlib.perceptron import LOGIC_GATES, LOGIC_INPUTS, step, xor_network

__all__ = ["neuron_explorer", "xor_network_explorer"]

LIMITS = (-0.5, 1.5)
GRID = 50  # heatmaps stay around 50 x 50 so a redraw takes milliseconds


def _activations():
    from nnlib.activations import relu, sigmoid, tanh

    # name -> (function, colour range of its output)
    return {"step": (step, (0.0, 1.0)), "sigmoid": (sigmoid, (0.0, 1.0)),
            "tanh": (tanh, (-1.0, 1.0)), "relu": (relu, (0.0, 3.0))}



def _grid():
    ticks = np.linspace(*LIMITS, GRID)
    x1, x2 = np.meshgrid(ticks, ticks)
    return np.column_stack([x1.ravel(), x2.ravel()])


def _line_through(w1, w2, b, limits=LIMITS):
    """Two points of the line w1 x1 + w2 x2 + b = 0 spanning the plot, or None if w = 0."""
    lo, hi = limits[0] - 1, limits[1] + 1
    if abs(w2) > 1e-12:
        return [lo, hi], [-(w1 * lo + b) / w2, -(w1 * hi + b) / w2]
    if abs(w1) > 1e-12:
        return [-b / w1, -b / w1], [lo, hi]
    return None


def _slider(value, description, lo=-4.0, hi=4.0, step_size=0.1):
    import ipywidgets as W

    return W.FloatSlider(value=value, min=lo, max=hi, step=step_size, description=description,
                         continuous_update=True, readout_format=".1f",
                         style={"description_width": "initial"},
                         layout=W.Layout(width="250px"))


def _gate_markers(ax):
    """Scatter artists for targets 0 and 1 and for rings around mistakes."""
    zero = ax.scatter([], [], s=110, marker="o", color=PALETTE["orange"], edgecolor="k",
                      zorder=4, label="target 0")
    one = ax.scatter([], [], s=110, marker="s", color=PALETTE["blue"], edgecolor="k",
                     zorder=4, label="target 1")
    wrong = ax.scatter([], [], s=380, facecolors="none", edgecolors=PALETTE["vermillion"],
                       linewidths=2.5, zorder=5, label="misclassified")
    return zero, one, wrong


def _show_gate(markers, points, targets, predictions):
    zero, one, wrong = markers
    zero.set_offsets(points[targets == 0].reshape(-1, 2))
    one.set_offsets(points[targets == 1].reshape(-1, 2))
    wrong.set_offsets(points[predictions != targets].reshape(-1, 2))


def neuron_explorer():
    """One neuron y = phi(w1 x1 + w2 x2 + b) over the plane, with a logic gate's four points.

    Controls: the weights and bias, the activation, the gate to compare with,
    and a probe point whose weighted sum is written out.
    """
    import ipywidgets as W

    activations = _activations()
    grid = _grid()
    fig, ax = new_figure(figsize=(6.2, 4.8))
    image = ax.imshow(np.zeros((GRID, GRID)), origin="lower", extent=(*LIMITS, *LIMITS),
                      cmap=class_cmap(), vmin=0, vmax=1, aspect="equal", alpha=0.85)
    fig.colorbar(image, ax=ax, label="neuron output $y$", shrink=0.85)
    (line,) = ax.plot([], [], color="k", lw=2, label="decision line $z = 0$")
    arrow = ax.annotate("", xy=(0, 0), xytext=(0, 0),
                        arrowprops={"arrowstyle": "-|>", "color": "k", "lw": 1.8})
    arrow_label = ax.text(0, 0, "$w$", fontsize=12, ha="center", va="center")
    markers = _gate_markers(ax)
    (probe,) = ax.plot([], [], marker="*", ms=18, color=PALETTE["yellow"], mec="k", ls="none",
                       zorder=6, label="probe point")
    readout = ax.text(0.02, 0.98, "", transform=ax.transAxes, va="top", family="monospace",
                      fontsize=8, bbox={"facecolor": "white", "alpha": 0.75, "edgecolor": "0.7"})
    ax.set(xlim=LIMITS, ylim=LIMITS, xlabel="input $x_1$", ylabel="input $x_2$")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, fontsize=8)
    ax.grid(False)

    def update(w1, w2, b, activation, gate, p1, p2):
        phi, (lo, hi) = activations[activation]
        w = np.array([w1, w2])
        image.set_data(phi(grid @ w + b).reshape(GRID, GRID))
        image.set_clim(lo, hi)

        targets = LOGIC_GATES[gate]
        predictions = (LOGIC_INPUTS @ w + b > 0).astype(int)
        _show_gate(markers, LOGIC_INPUTS, targets, predictions)
        correct = int((predictions == targets).sum())
        ax.set_title(f"{gate}: {correct} of 4 points classified correctly")

        z = w1 * p1 + w2 * p2 + b
        probe.set_data([p1], [p2])
        readout.set_text(f"z = {w1:.1f}·{p1:.2f} + {w2:.1f}·{p2:.2f} + ({b:.1f})\n"
                         f"  = {z:.2f}\ny = {activation}(z) = {float(phi(np.array(z))):.2f}")

        points = _line_through(w1, w2, b)
        line.set_visible(points is not None)
        arrow.set_visible(points is not None)
        arrow_label.set_visible(points is not None)
        if points is None:
            return "With w1 = w2 = 0 the inputs are ignored: the output is the same everywhere."
        line.set_data(*points)
        # The weight vector is normal to the line and points to where z > 0.
        centre = np.array([0.5, 0.5])
        foot = centre - (centre @ w + b) / (w @ w) * w
        tip = foot + 0.35 * w / np.linalg.norm(w)
        arrow.xy, arrow.xyann = tuple(tip), tuple(foot)
        arrow_label.set_position(tuple(foot + 0.45 * w / np.linalg.norm(w)))
        return None

    controls = {
        "w1": _slider(1.0, "weight w1"), "w2": _slider(1.0, "weight w2"),
        "b": _slider(-0.5, "bias b"),
        "activation": W.Dropdown(options=list(activations), value="step",
                                 description="activation", layout=W.Layout(width="200px")),
        "gate": W.Dropdown(options=list(LOGIC_GATES), value="AND", description="gate",
                           layout=W.Layout(width="160px")),
        "p1": _slider(1.0, "probe x1", *LIMITS, 0.05),
        "p2": _slider(1.0, "probe x2", *LIMITS, 0.05),
    }
    dynamic = [image, line, arrow, arrow_label, *markers, probe, readout, ax.title]
    return LiveView(fig, update, controls, title="neuron explorer", dynamic=dynamic,
                    static_controls=("activation",))


XOR_PRESETS = {
    "OR and NAND, then AND": (1.0, 1.0, -0.5, -1.0, -1.0, 1.5, 1.0, 1.0, -1.5),
    "x1 AND NOT x2, NOT x1 AND x2, then OR": (1.0, -1.0, -0.5, -1.0, 1.0, -0.5, 1.0, 1.0, -0.5),
    "a random start": (0.6, -1.3, 0.2, 1.1, 0.4, -0.9, -0.7, 1.2, 0.3),
}
XOR_NAMES = ("h1_w1", "h1_w2", "h1_b", "h2_w1", "h2_w2", "h2_b", "out_w1", "out_w2", "out_b")


def xor_network_explorer():
    """Set two hidden neurons and an output neuron by hand until XOR comes out right.

    Left: the input plane with the hidden neurons' lines and the network's output.
    Right: the hidden plane (h1, h2), where the four points have become separable
    by the output neuron's single line.
    """
    import ipywidgets as W

    grid = _grid()
    fig, (ax_in, ax_h) = new_figure(1, 2, figsize=(9.5, 4.4))
    image = ax_in.imshow(np.zeros((GRID, GRID)), origin="lower", extent=(*LIMITS, *LIMITS),
                         cmap=class_cmap(), vmin=0, vmax=1, alpha=0.6, aspect="equal")
    (line1,) = ax_in.plot([], [], color=PALETTE["green"], lw=2.2,
                          label="$h_1$ switches ($z_1 = 0$)")
    (line2,) = ax_in.plot([], [], color=PALETTE["purple"], lw=2.2, ls="--",
                          label="$h_2$ switches ($z_2 = 0$)")
    markers_in = _gate_markers(ax_in)
    ax_in.set(xlim=LIMITS, ylim=LIMITS, xlabel="input $x_1$", ylabel="input $x_2$",
              title="Input space: the output $y$ (shaded)")
    ax_in.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, fontsize=8)

    h_limits = (-0.3, 1.3)
    h_ticks = np.linspace(*h_limits, GRID)
    h_grid = np.column_stack([g.ravel() for g in np.meshgrid(h_ticks, h_ticks)])
    image_h = ax_h.imshow(np.zeros((GRID, GRID)), origin="lower", extent=(*h_limits, *h_limits),
                          cmap=class_cmap(), vmin=0, vmax=1, alpha=0.6, aspect="equal")
    (line_out,) = ax_h.plot([], [], color="k", lw=2, label="output neuron's line")
    markers_h = _gate_markers(ax_h)
    labels = [ax_h.text(0, 0, f"x=({a:.0f},{b:.0f})", fontsize=8) for a, b in LOGIC_INPUTS]
    ax_h.set(xlim=h_limits, ylim=h_limits, xlabel="hidden $h_1$", ylabel="hidden $h_2$")
    ax_h.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, fontsize=8)
    for ax in (ax_in, ax_h):
        ax.grid(False)
    targets = LOGIC_GATES["XOR"]

    def update(h1_w1, h1_w2, h1_b, h2_w1, h2_w2, h2_b, out_w1, out_w2, out_b):
        params = (h1_w1, h1_w2, h1_b, h2_w1, h2_w2, h2_b, out_w1, out_w2, out_b)
        y_grid, _ = xor_network(grid, *params)
        image.set_data(y_grid.reshape(GRID, GRID))
        y, h = xor_network(LOGIC_INPUTS, *params)
        predictions = y.astype(int)
        _show_gate(markers_in, LOGIC_INPUTS, targets, predictions)
        _show_gate(markers_h, h, targets, predictions)
        # Inputs that land on the same hidden point share it: stack their labels.
        seen = {}
        for label, point in zip(labels, h):
            k = seen[tuple(point)] = seen.get(tuple(point), -1) + 1
            label.set_position((point[0] + 0.06, point[1] - 0.06 - 0.09 * k))
        image_h.set_data(step(h_grid @ np.array([out_w1, out_w2]) + out_b).reshape(GRID, GRID))
        for artist, (a, b, c), lims in ((line1, (h1_w1, h1_w2, h1_b), LIMITS),
                                        (line2, (h2_w1, h2_w2, h2_b), LIMITS),
                                        (line_out, (out_w1, out_w2, out_b), h_limits)):
            points = _line_through(a, b, c, lims)
            artist.set_visible(points is not None)
            if points is not None:
                artist.set_data(*points)
        correct = int((predictions == targets).sum())
        ax_h.set_title(f"Hidden space: XOR {correct}/4 correct")
        return "XOR solved: 4/4." if correct == 4 else None

    controls = {name: _slider(value, name.replace("_", " "), -3.0, 3.0)
                for name, value in zip(XOR_NAMES, XOR_PRESETS["OR and NAND, then AND"])}
    preset = W.Dropdown(options=list(XOR_PRESETS), description="preset",
                        style={"description_width": "initial"}, layout=W.Layout(width="380px"))
    dynamic = [image, line1, line2, *markers_in, image_h, line_out, *markers_h, *labels,
               ax_h.title]
    view = LiveView(fig, update, controls, title="two-layer XOR", dynamic=dynamic,
                    extra_widgets=[preset])

    def apply_preset(change):
        with view.hold():
            for name, value in zip(XOR_NAMES, XOR_PRESETS[change["new"]]):
                controls[name].value = value

    preset.observe(apply_preset, names="value")
    return view
