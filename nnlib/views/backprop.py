"""Live views for the backpropagation notebook: a 2-2-1 network stepped through
forward and backward, and the finite-difference error against the step size.

Every number the stepper shows comes from ``two_layer_pass``, which runs the
network with the library's layer pairs (``linear_forward`` / ``linear_backward``,
the activation and its derivative, ``mse``); tests/test_views_backprop.py checks
it against ``torch.autograd``. The epsilon explorer's curves come from
``difference_error``, which evaluates the difference quotient in the chosen
floating-point type.
"""

from typing import NamedTuple

import numpy as np

from nnlib.activations import sigmoid, sigmoid_grad, tanh, tanh_grad
from nnlib.display.plotting import PALETTE, new_figure
from nnlib.display.widgets import LiveView
from nnlib.gradcheck import (
    EPS_GRID,
    EPS_RANGE,
    FORMULAS,
    FUNCTIONS,
    difference_error,
    difference_quotient,
    error_model,
)
from nnlib.layers import linear_backward, linear_forward
from nnlib.losses import mse

__all__ = ["TwoLayerPass", "two_layer_pass", "STAGES", "backprop_stepper", "epsilon_explorer"]

# The stepper's network: x (1, 2) -> z = x W1 + b1 -> h = act(z) -> y_hat = h W2 + b2.
W1 = np.array([[0.8, -0.5],
               [0.3, 0.9]])  # W1[i, j]: input i -> hidden unit j
B1 = np.array([0.1, -0.2])
W2 = np.array([[1.2],
               [-0.7]])
B2 = np.array([0.05])
HIDDEN_ACTIVATIONS = {"tanh": (tanh, tanh_grad), "sigmoid": (sigmoid, sigmoid_grad)}


class TwoLayerPass(NamedTuple):
    """Every intermediate value and gradient of one forward and backward pass (batch of one)."""

    x: np.ndarray  # (1, 2) inputs
    w1: np.ndarray  # (2, 2)
    b1: np.ndarray  # (2,)
    z: np.ndarray  # (1, 2) hidden pre-activations
    h: np.ndarray  # (1, 2) hidden activations
    w2: np.ndarray  # (2, 1)
    b2: np.ndarray  # (1,)
    y_hat: np.ndarray  # (1, 1) output
    target: np.ndarray  # (1, 1)
    loss: float  # (y_hat - target)^2
    dy_hat: np.ndarray  # (1, 1) dL/dy_hat
    dw2: np.ndarray  # (2, 1)
    db2: np.ndarray  # (1,)
    dh: np.ndarray  # (1, 2)
    dz: np.ndarray  # (1, 2)
    dw1: np.ndarray  # (2, 2)
    db1: np.ndarray  # (2,)
    dx: np.ndarray  # (1, 2)


def two_layer_pass(x1=1.0, x2=-0.5, target=0.5, w11=W1[0, 0], activation="tanh"):
    """Forward and backward through the stepper's 2-2-1 network with nnlib's layer pairs.

    The network is ``z = x W1 + b1``, ``h = act(z)``, ``y_hat = h W2 + b2`` and
    the loss ``L = (y_hat - target)^2``; ``w11`` replaces ``W1[0, 0]`` (input 1
    to hidden unit 1). Returns a ``TwoLayerPass``. Tested against torch.autograd.
    """
    act, act_grad = HIDDEN_ACTIVATIONS[activation]
    x = np.array([[x1, x2]], dtype=np.float64)
    w1 = W1.copy()
    w1[0, 0] = w11
    z, cache1 = linear_forward(x, w1, B1)  # (1, 2)
    h = act(z)
    y_hat, cache2 = linear_forward(h, W2, B2)  # (1, 1)
    t = np.array([[target]], dtype=np.float64)
    loss, dy_hat = mse(y_hat, t)  # one element: L = (y_hat - t)^2, dL/dy_hat = 2 (y_hat - t)
    dh, dw2, db2 = linear_backward(dy_hat, cache2)
    dz = dh * act_grad(z)  # elementwise chain rule through the activation
    dx, dw1, db1 = linear_backward(dz, cache1)
    return TwoLayerPass(x, w1, B1.copy(), z, h, W2.copy(), B2.copy(), y_hat, t, float(loss),
                        dy_hat, dw2, db2, dh, dz, dw1, db1, dx)


# What each step of the stepper does: the layer, and the nnlib call that does it.
STAGES = (
    "the input x and the parameters are given",
    "forward 1/4: first layer, z = x W₁ + b₁",
    "forward 2/4: hidden activation, h = {act}(z)",
    "forward 3/4: output layer, ŷ = h W₂ + b₂",
    "forward 4/4: loss, L = (ŷ − y)²",
    "backward 1/4: loss, ∂L/∂ŷ = 2 (ŷ − y)",
    "backward 2/4: output layer (linear_backward)",
    "backward 3/4: activation, ∂L/∂z = ∂L/∂h · {act}′(z)",
    "backward 4/4: first layer (linear_backward)",
)

_POSITIVE, _NEGATIVE = PALETTE["blue"], PALETTE["orange"]
_GRAD = PALETTE["vermillion"]
_NEW = "#FBE9A6"  # pale yellow: computed in the current step


def _n(v, digits=3):
    """A number for a product: negative ones in parentheses, with a true minus sign."""
    text = f"{v:.{digits}f}".replace("-", "−")
    return f"({text})" if v < 0 else text


def _details(p, stage, activation):
    """The current step's arithmetic with the numbers filled in (one or two lines)."""
    x, z, h, w1, w2 = p.x[0], p.z[0], p.h[0], p.w1, p.w2[:, 0]
    y_hat, t = float(p.y_hat[0, 0]), float(p.target[0, 0])
    dy, dh, dz = float(p.dy_hat[0, 0]), p.dh[0], p.dz[0]
    if stage == 0:
        return "Drag the step slider: steps 1-4 run forward, 5-8 backward."
    if stage == 1:
        return "\n".join(f"z{s} = {_n(x[0], 2)}·{_n(w1[0, j], 2)} + {_n(x[1], 2)}·"
                         f"{_n(w1[1, j], 2)} + {_n(p.b1[j], 2)} = {_n(z[j])}"
                         for j, s in enumerate("₁₂"))
    if stage == 2:
        return "\n".join(f"h{s} = {activation}({_n(z[j])}) = {_n(h[j])}"
                         for j, s in enumerate("₁₂"))
    if stage == 3:
        return (f"ŷ = {_n(h[0])}·{_n(w2[0], 2)} + {_n(h[1])}·{_n(w2[1], 2)} + "
                f"{_n(p.b2[0], 2)} = {_n(y_hat)}")
    if stage == 4:
        return f"L = ({_n(y_hat)} − {_n(t, 2)})² = {p.loss:.4f}"
    if stage == 5:
        return f"∂L/∂ŷ = 2·({_n(y_hat)} − {_n(t, 2)}) = {_n(dy)}"
    if stage == 6:
        return (f"∂L/∂v₁ = h₁·∂L/∂ŷ = {_n(h[0])}·{_n(dy)} = {_n(p.dw2[0, 0])}\n"
                f"∂L/∂h₁ = ∂L/∂ŷ·v₁ = {_n(dy)}·{_n(w2[0], 2)} = {_n(dh[0])}")
    if stage == 7:
        local = 1 - h**2 if activation == "tanh" else h * (1 - h)  # the activation's slope
        rule = "(1 − h{s}²)" if activation == "tanh" else "h{s}(1 − h{s})"
        return "\n".join(f"∂L/∂z{s} = ∂L/∂h{s}·{rule.format(s=s)} = {_n(dh[j])}·"
                         f"{_n(local[j])} = {_n(dz[j])}" for j, s in enumerate("₁₂"))
    return (f"∂L/∂w₁₁ = x₁·∂L/∂z₁ = {_n(x[0], 2)}·{_n(dz[0])} = {_n(p.dw1[0, 0])}\n"
            f"∂L/∂x₁ = ∂L/∂z₁·w₁₁ + ∂L/∂z₂·w₁₂ = {_n(p.dx[0, 0])}")


def _slider(value, description, lo, hi, step_size=0.05, width="240px"):
    import ipywidgets as W

    return W.FloatSlider(value=value, min=lo, max=hi, step=step_size, description=description,
                         continuous_update=True, readout_format=".2f",
                         style={"description_width": "initial"}, layout=W.Layout(width=width))


def backprop_stepper(step=0):
    """Step a 2-2-1 network forward, then backward, one layer at a time.

    Controls: the step (0-8, starting at ``step``), the two inputs, the target,
    the weight from input 1 to hidden unit 1, and the hidden activation. Edge
    width is proportional to |weight|, blue for positive and orange for
    negative; values are black, gradients ``∂L/∂·`` vermillion, and what the
    current step computes is shaded yellow. Below the network: the step's rule
    and its arithmetic with the numbers filled in.
    """
    import ipywidgets as W
    from matplotlib.patches import Circle, FancyBboxPatch

    # One data unit is 1.25 inches in both directions, so circles stay round.
    fig, ax = new_figure(figsize=(10.0, 6.25))
    fig.set_layout_engine("none")
    ax.set_position([0, 0, 1, 1])
    ax.set(xlim=(-1.3, 6.7), ylim=(-3.05, 1.95))
    ax.axis("off")
    nodes = {"x1": (0.3, 0.7), "x2": (0.3, -0.7), "h1": (2.4, 0.7), "h2": (2.4, -0.7),
             "y": (4.4, 0.0)}
    radius, line_h = 0.3, 0.13
    centred = {"ha": "center", "va": "center", "zorder": 6}

    label_box = {"boxstyle": "round,pad=0.12", "facecolor": "white", "edgecolor": "none",
                 "alpha": 0.92}  # keeps a label readable where it sits on its edge

    def ends(a, b):
        (xa, ya), (xb, yb) = nodes[a], nodes[b]
        d = np.hypot(xb - xa, yb - ya)
        ux, uy = (xb - xa) / d, (yb - ya) / d
        return (xa + ux * radius, ya + uy * radius), (xb - ux * radius, yb - uy * radius)

    # Edges x_i -> h_j and h_j -> y_hat, each labelled with its weight and, once the
    # backward pass reaches it, its gradient: two labels stacked on the line, placed so
    # that the two crossing edges' labels never meet. Only w11 moves with a control, so
    # the other weights are drawn once (cheaper redraws).
    where = {("x1", "h1"): 0.3, ("x2", "h2"): 0.3, ("x1", "h2"): 0.72, ("x2", "h1"): 0.72,
             ("h1", "y"): 0.5, ("h2", "y"): 0.5}
    names = {("x1", "h1"): "w₁₁", ("x1", "h2"): "w₁₂", ("x2", "h1"): "w₂₁",
             ("x2", "h2"): "w₂₂", ("h1", "y"): "v₁", ("h2", "y"): "v₂"}
    fixed = {("x1", "h2"): W1[0, 1], ("x2", "h1"): W1[1, 0], ("x2", "h2"): W1[1, 1],
             ("h1", "y"): W2[0, 0], ("h2", "y"): W2[1, 0]}
    edges, weight_labels, grad_labels = {}, {}, {}
    for key, frac in where.items():
        (xa, ya), (xb, yb) = ends(*key)
        (edges[key],) = ax.plot([xa, xb], [ya, yb], solid_capstyle="round", zorder=2)
        lx, ly = xa + frac * (xb - xa), ya + frac * (yb - ya)
        weight_labels[key] = ax.text(lx, ly + 0.085, "", fontsize=9, color="0.1",
                                     bbox=label_box, **centred)
        grad_labels[key] = ax.text(lx, ly - 0.085, "", fontsize=9, color=_GRAD,
                                   bbox=label_box, **centred)
    for key, w in fixed.items():
        edges[key].set_color(_POSITIVE if w >= 0 else _NEGATIVE)
        edges[key].set_linewidth(0.8 + 4.0 * abs(w))
        weight_labels[key].set_text(f"{names[key]} = {w:.2f}")

    loss_xy, target_xy = (5.75, 0.0), (5.75, -1.0)
    ax.annotate("", xy=(loss_xy[0] - 0.36, 0), xytext=(nodes["y"][0] + radius, 0),
                arrowprops={"arrowstyle": "-|>", "color": "0.4", "lw": 1.4}, zorder=2)
    ax.annotate("", xy=(loss_xy[0], -0.27), xytext=(target_xy[0], target_xy[1] + 0.12),
                arrowprops={"arrowstyle": "-|>", "color": "0.4", "lw": 1.2, "ls": "--"},
                zorder=2)

    circles, values, notes, grads = {}, {}, {}, {}
    titles = {"x1": "input x₁", "x2": "input x₂", "h1": "hidden h₁", "h2": "hidden h₂",
              "y": "output ŷ"}
    for key, (cx, cy) in nodes.items():
        circles[key] = Circle((cx, cy), radius, facecolor="white", edgecolor="0.25", lw=1.4,
                              zorder=4)
        ax.add_patch(circles[key])
        values[key] = ax.text(cx, cy, "", fontsize=10.5, fontweight="bold", **centred)
        # Notes go above the upper row, below the lower row and the output: the
        # title first, then grey notes on the left and gradients on the right.
        sign = 1 if cy > 0 else -1
        va = "bottom" if sign > 0 else "top"
        ax.text(cx, cy + sign * (radius + 0.12), titles[key], fontsize=10, color="0.2",
                fontweight="bold", **centred)
        anchor = cy + sign * (radius + 0.26)
        notes[key] = ax.text(cx - 0.1, anchor, "", fontsize=9, color="0.35", ha="right",
                             va=va, zorder=6)
        grads[key] = ax.text(cx + 0.1, anchor, "", fontsize=9, color=_GRAD, ha="left",
                             va=va, zorder=6, linespacing=1.35)
        bias = {"h1": f"b = {B1[0]:.2f}", "h2": f"b = {B1[1]:.2f}"}.get(key)
        if bias:  # fixed: drawn once, one line further out than the pre-activation z
            ax.text(cx - 0.1, anchor + sign * line_h * 1.35, bias, fontsize=9, color="0.35",
                    ha="right", va=va)
    notes["y"].set_text(f"b₂ = {B2[0]:.2f}")
    for key in ("x1", "x2"):  # inputs have no notes: centre their gradient
        grads[key].set_x(nodes[key][0])
        grads[key].set_ha("center")
    loss_box = FancyBboxPatch((loss_xy[0] - 0.36, -0.27), 0.72, 0.54,
                              boxstyle="round,pad=0.02", facecolor="white", edgecolor="0.25",
                              lw=1.4, zorder=4)
    ax.add_patch(loss_box)
    loss_value = ax.text(*loss_xy, "", fontsize=10.5, fontweight="bold", **centred)
    ax.text(loss_xy[0], 0.42, "loss L", fontsize=10, color="0.2", fontweight="bold",
            **centred)
    loss_grad = ax.text(loss_xy[0], 0.56, "∂L/∂L = 1", fontsize=9, color=_GRAD,
                        ha="center", va="bottom", zorder=6)
    ax.text(target_xy[0] - 0.05, target_xy[1], "target y =", fontsize=9.5, ha="right",
            va="top", zorder=6)
    target_text = ax.text(target_xy[0] - 0.0, target_xy[1], "", fontsize=9.5, zorder=6,
                          ha="left", va="top", fontweight="bold")

    # Bottom: nine boxes for the steps, then the step's title, rule and arithmetic.
    ax.plot([-1.2, 6.6], [-1.83, -1.83], color="0.8", lw=1)
    boxes = []
    for i in range(len(STAGES)):
        left = 0.35 + i * 0.5 + (0.2 if i > 4 else 0.0)
        box = FancyBboxPatch((left, -2.16), 0.4, 0.14, boxstyle="round,pad=0.01", lw=0.8,
                             edgecolor="0.4", facecolor="white", zorder=4)
        ax.add_patch(box)
        boxes.append(box)
        ax.text(left + 0.2, -2.21, str(i), fontsize=8, color="0.4", ha="center", va="top")
    ax.text(0.25, -2.09, "step", fontsize=9, ha="right", va="center", color="0.3")
    ax.text(1.55, -1.93, "forward", fontsize=9, ha="center", va="center",
            color=PALETTE["blue"])
    ax.text(4.0, -1.93, "backward", fontsize=9, ha="center", va="center", color=_GRAD)
    step_title = ax.text(-1.2, -2.53, "", fontsize=10.5, fontweight="bold", ha="left",
                         va="center", zorder=6)
    step_detail = ax.text(-1.2, -2.7, "", fontsize=10, ha="left", va="top", zorder=6,
                          family="DejaVu Sans Mono", linespacing=1.3)
    legend = [ax.plot([], [], color=_POSITIVE, lw=3, label="weight > 0")[0],
              ax.plot([], [], color=_NEGATIVE, lw=3, label="weight < 0")[0],
              ax.plot([], [], ls="none", marker="s", ms=9, color=_NEW, mec="0.3",
                      label="computed in this step")[0],
              ax.plot([], [], ls="none", marker="s", ms=7, color=_GRAD,
                      label="gradient ∂L/∂· (under a weight: ∂L/∂w)")[0]]
    ax.legend(handles=legend, loc="upper right", bbox_to_anchor=(1.0, 0.99), fontsize=9,
              handlelength=1.6, title="line width = |weight|", title_fontsize=9)
    ax.text(-1.2, 1.85, "Backpropagation on a 2-2-1 network", fontsize=12.5,
            fontweight="bold", ha="left", va="top")
    ax.text(-1.2, 1.6, "one example, squared-error loss", fontsize=10, color="0.35",
            ha="left", va="top")
    w11_key = ("x1", "h1")

    def update(step, x1, x2, target, w11, activation):
        p = two_layer_pass(x1, x2, target, w11, activation)
        done = {name: step >= k for k, name in enumerate(
            ("x", "z", "h", "y", "L", "dy", "dh", "dz", "dx"))}
        edges[w11_key].set_color(_POSITIVE if w11 >= 0 else _NEGATIVE)
        edges[w11_key].set_linewidth(0.8 + 4.0 * abs(w11))
        weight_labels[w11_key].set_text(f"w₁₁ = {w11:.2f}")
        dweights = {("x1", "h1"): p.dw1[0, 0], ("x1", "h2"): p.dw1[0, 1],
                    ("x2", "h1"): p.dw1[1, 0], ("x2", "h2"): p.dw1[1, 1],
                    ("h1", "y"): p.dw2[0, 0], ("h2", "y"): p.dw2[1, 0]}
        for key, dw in dweights.items():
            first_layer = key[1] != "y"
            label = grad_labels[key]
            label.set_text(f"{dw:.3f}")  # vermillion under a weight: ∂L/∂(that weight)
            label.set_visible(done["dx"] if first_layer else done["dh"])
            just_now = step == (8 if first_layer else 6)
            label.get_bbox_patch().set_facecolor(_NEW if just_now else "white")
        new = {0: ("x1", "x2"), 1: ("h1", "h2"), 2: ("h1", "h2"), 3: ("y",), 5: ("y",),
               6: ("h1", "h2"), 7: ("h1", "h2"), 8: ("x1", "x2")}.get(step, ())
        for key, circle in circles.items():
            circle.set_facecolor(_NEW if key in new else "white")
        loss_box.set_facecolor(_NEW if step in (4, 5) else "white")
        for i, sub in enumerate("₁₂"):
            values[f"x{i + 1}"].set_text(f"{p.x[0, i]:.2f}")
            grads[f"x{i + 1}"].set_text(f"∂L/∂x{sub} = {p.dx[0, i]:.3f}" if done["dx"] else "")
            key = f"h{i + 1}"
            values[key].set_text(f"{p.h[0, i]:.3f}" if done["h"] else activation)
            values[key].set_color("0.1" if done["h"] else "0.6")
            notes[key].set_text(f"z = {p.z[0, i]:.3f}" if done["z"] else "z = ?")
            rows = ([f"∂L/∂h = {p.dh[0, i]:.3f}"] * done["dh"]
                    + [f"∂L/∂z = {p.dz[0, i]:.3f}"] * done["dz"])
            grads[key].set_text("\n".join(rows[::-1] if i == 0 else rows))  # grow outwards
        values["y"].set_text(f"{p.y_hat[0, 0]:.3f}" if done["y"] else "?")
        values["y"].set_color("0.1" if done["y"] else "0.6")
        grads["y"].set_text(f"∂L/∂ŷ = {p.dy_hat[0, 0]:.3f}" if done["dy"] else "")
        loss_value.set_text(f"{p.loss:.4f}" if done["L"] else "?")
        loss_value.set_color("0.1" if done["L"] else "0.6")
        loss_grad.set_visible(done["dy"])
        target_text.set_text(f"{target:.2f}")
        for i, box in enumerate(boxes):
            box.set_facecolor("white" if i > step else PALETTE["blue"] if i <= 4 else _GRAD)
        step_title.set_text(f"Step {step}, " + STAGES[step].format(act=activation))
        step_detail.set_text(_details(p, step, activation))
        return None

    controls = {
        "step": W.IntSlider(value=step, min=0, max=len(STAGES) - 1,
                            description="step", continuous_update=True,
                            style={"description_width": "initial"},
                            layout=W.Layout(width="300px")),
        "x1": _slider(1.0, "input x₁", -2.0, 2.0),
        "x2": _slider(-0.5, "input x₂", -2.0, 2.0),
        "target": _slider(0.5, "target y", -2.0, 2.0),
        "w11": _slider(float(W1[0, 0]), "weight w₁₁", -2.0, 2.0),
        "activation": W.Dropdown(options=list(HIDDEN_ACTIVATIONS), value="tanh",
                                 description="hidden activation",
                                 style={"description_width": "initial"},
                                 layout=W.Layout(width="240px")),
    }
    dynamic = [edges[w11_key], weight_labels[w11_key], *grad_labels.values(),
               *circles.values(), *values.values(), notes["h1"], notes["h2"],
               *grads.values(), loss_box, loss_value, loss_grad, target_text, step_title,
               step_detail, *boxes]
    return LiveView(fig, update, controls, title="backprop stepper", dynamic=dynamic)


# ----------------------------------------------------------------------------- epsilon


_ERROR_FLOOR = 1.2e-14  # an error below this (or exactly 0) is drawn at the axis bottom


def epsilon_explorer():
    """Numerical vs analytic derivative: the relative error against the step size ε.

    Controls: ε (a log slider), the floating-point type, the function, and the
    difference formula. Both types' error curves are drawn, the chosen one bold,
    with the two textbook error terms: truncation (∝ ε² centred, ∝ ε forward)
    dominates on the right, round-off (∝ 1/ε) on the left.
    """
    import ipywidgets as W

    fig, ax = new_figure(figsize=(10.0, 5.0))
    colors = {"float64": PALETTE["blue"], "float32": PALETTE["orange"]}
    curves = {dt: ax.plot([], [], color=c, label=f"{dt}: measured error")[0]
              for dt, c in colors.items()}
    (truncation_line,) = ax.plot([], [], color="k", ls="--", lw=1.1, zorder=4,
                                 label="truncation error, theory")
    (roundoff_line,) = ax.plot([], [], color="k", ls=":", lw=1.5, zorder=4,
                               label="round-off error, theory")
    eps_line = ax.axvline(1e-6, color="0.5", lw=1, zorder=1)
    (marker,) = ax.plot([], [], marker="o", ms=10, color="0.6", mec="k", ls="none", zorder=6,
                        label="your ε")
    (best,) = ax.plot([], [], marker="v", ms=9, mec="k", mfc="white", ls="none", zorder=5,
                      label="best ε on the curve")
    # Right of the plot: the legend, then the readout (monospace: a fixed width).
    readout = ax.text(1.03, 0.0, "", transform=ax.transAxes, ha="left", va="bottom",
                      family="DejaVu Sans Mono", fontsize=8.5, zorder=8, linespacing=1.4,
                      bbox={"facecolor": "white", "edgecolor": "0.7", "pad": 5})
    ax.set(xscale="log", yscale="log", xlim=(10**EPS_RANGE[0], 10**EPS_RANGE[1]),
           ylim=(1e-14, 30), xlabel="step size ε",
           ylabel="relative error |estimate − f′(x)| / |f′(x)|")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8.5)
    ax.set_title(" ")
    cache = {}

    def curve(name, dtype, formula):
        if (name, dtype, formula) not in cache:
            errors = difference_error(name, dtype, formula)
            cache[name, dtype, formula] = np.maximum(errors, _ERROR_FLOOR)
        return cache[name, dtype, formula]

    def update(epsilon, dtype, function, formula):
        for dt, line in curves.items():
            line.set_data(EPS_GRID, curve(function, dt, formula))
            line.set_linewidth(2.6 if dt == dtype else 1.3)
            line.set_alpha(1.0 if dt == dtype else 0.4)
        truncation, roundoff = error_model(function, dtype, formula, EPS_GRID)
        truncation_line.set_data(EPS_GRID, np.where(truncation > _ERROR_FLOOR, truncation,
                                                      np.nan))
        roundoff_line.set_data(EPS_GRID, roundoff)
        errors = curve(function, dtype, formula)
        k = int(np.argmin(errors))
        best.set_data([EPS_GRID[k]], [errors[k]])
        f, x0, (d1, _, _) = FUNCTIONS[function]
        estimate = float(difference_quotient(f, x0, epsilon, dtype, formula))
        error = max(abs(estimate - d1) / abs(d1), _ERROR_FLOOR)
        marker.set_data([epsilon], [min(error, 20.0)])
        marker.set_color(colors[dtype])
        marker.set_markeredgecolor("k")
        eps_line.set_xdata([epsilon, epsilon])
        ax.set_title(f"{formula.capitalize()} difference {FORMULAS[formula]} "
                     f"for {function.split(' at ')[0]}")
        shown = "< 1e-14" if error <= _ERROR_FLOOR else f"{error:.1e}"
        readout.set_text(
            f"{function}\n"
            f"{dtype}, ε = {epsilon:.1e}\n"
            f"numerical  {estimate:+.10f}\n"
            f"analytic   {d1:+.10f}\n"
            f"rel. error {shown}\n"
            f"best ε here: {EPS_GRID[k]:.0e}\n"
            f"   (error {errors[k]:.0e})")
        if error >= 0.999 and estimate == 0.0:
            return (f"In {dtype}, x + ε rounds back to x at this ε: both function values are "
                    "equal and the estimate is 0.")
        return None

    controls = {
        "epsilon": W.FloatLogSlider(value=1e-6, base=10, min=EPS_RANGE[0], max=EPS_RANGE[1],
                                    step=0.1, description="step size ε",
                                    readout_format=".1e", continuous_update=True,
                                    style={"description_width": "initial"},
                                    layout=W.Layout(width="330px")),
        "dtype": W.ToggleButtons(options=["float64", "float32"], value="float64",
                                 description="type", style={"button_width": "70px"}),
        "function": W.Dropdown(options=list(FUNCTIONS), value="tanh(x) at x = 0.5",
                               description="function", layout=W.Layout(width="250px")),
        "formula": W.ToggleButtons(options=list(FORMULAS), value="centred",
                                   description="difference", style={"button_width": "70px"}),
    }
    dynamic = [*curves.values(), truncation_line, roundoff_line, eps_line, marker, best,
               readout, ax.title]
    return LiveView(fig, update, controls, title="gradient check epsilon", dynamic=dynamic)
