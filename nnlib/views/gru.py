"""Views of the GRU's gates: the update gate blending the old state with a new candidate
(notebook 10).

Each step the GRU proposes a candidate ``n_t`` and moves its state only part of the way
there: ``h_t = (1 - z_t) * n_t + z_t * h_{t-1}`` (torch's formula). With ``z`` near 1 the
state barely moves and the GRU remembers; with ``z`` near 0 it copies the candidate
and forgets. A state that moves a fraction ``1 - z`` of the way each step follows its
input with a lag of about ``1 / (1 - z)`` steps.
"""


import numpy as np

from nnlib.display.plotting import PALETTE, new_figure
from nnlib.display.widgets import LiveView
from nnlib.gate_memory import GRU_STEPS, GRU_UNITS, SIGNALS, gru_blend

__all__ = ["blend_steps", "update_gate_explorer"]

_T, _H = GRU_STEPS, GRU_UNITS  # steps and units of the experiment (unit 0 drawn bold)



def blend_steps(blend, count=3, spacing=5):
    """The ``count`` steps where unit 0's candidate is farthest from its old state
    (at least ``spacing`` steps apart), in time order: where the blend shows best."""
    gaps = np.abs(blend.n[:, 0] - blend.h_prev[:, 0])
    chosen = []
    for t in np.argsort(-gaps, kind="stable"):
        if all(abs(int(t) - c) >= spacing for c in chosen):
            chosen.append(int(t))
        if len(chosen) == count:
            break
    return sorted(chosen)


def update_gate_explorer():
    """Move the update-gate bias: how far the GRU's state moves towards its candidate.

    Controls: the update gate's bias (-4 to 6), the reset gate's bias (-4 to 4), the
    input signal and the seed of the network.
    Top: the input. Middle: the gates ``z_t`` and ``r_t`` of unit 0 (the other units'
    ``z`` faint). Bottom: unit 0's candidate ``n_t`` and new state ``h_t``; at three
    steps a grey bar runs from the old state ``h_{t-1}`` (the dash) to the candidate, and
    the dot on it is the new state, a fraction ``1 - z_t`` of the way along.
    """
    import ipywidgets as W
    from matplotlib.collections import LineCollection

    fig, (ax_x, ax_g, ax_h) = new_figure(3, 1, figsize=(9.2, 7.0), sharex=True,
                                         gridspec_kw={"height_ratios": [0.8, 1.3, 2.2]})
    steps = np.arange(_T)
    zeros = np.zeros(_T)
    x_line, = ax_x.plot(steps, zeros, color=PALETTE["black"], lw=1.6, marker="o", ms=3)
    ax_x.axhline(0, color="0.6", lw=0.8)
    ax_x.set(ylim=(-1.9, 1.9), ylabel="input $x_t$", title="Input")

    faint_z = [ax_g.plot(steps, zeros, color=PALETTE["blue"], lw=1.0, alpha=0.3,
                         label="$z_t$, other units" if k == 1 else None)[0]
               for k in range(1, _H)]
    z_line, = ax_g.plot(steps, zeros, color=PALETTE["blue"], lw=2.2,
                        label="update gate $z_t$ (unit 0)")
    r_line, = ax_g.plot(steps, zeros, color=PALETTE["orange"], lw=1.6, ls="--",
                        label="reset gate $r_t$ (unit 0)")
    ax_g.set(ylim=(-0.03, 1.45), yticks=[0, 0.25, 0.5, 0.75, 1], ylabel="gate value",
             title="Gates: z keeps the old state, r scales it inside the candidate")
    ax_g.legend(loc="upper left", fontsize=8.5, ncol=3)  # above the gates' range [0, 1]
    text = ax_g.text(0.99, 0.97, "", transform=ax_g.transAxes, ha="right", va="top",
                     fontsize=9.5, family="monospace",
                     bbox={"facecolor": "white", "alpha": 0.9, "edgecolor": "0.7"})

    faint_h = [ax_h.plot(steps, zeros, color=PALETTE["green"], lw=1.0, alpha=0.3,
                         label="$h_t$, other units" if k == 1 else None)[0]
               for k in range(1, _H)]
    bars = LineCollection([], colors="0.55", linewidths=5, alpha=0.45, zorder=3,
                          capstyle="butt")
    ax_h.add_collection(bars)
    n_line, = ax_h.plot(steps, zeros, color=PALETTE["vermillion"], lw=1.4, ls="--", marker="x",
                        ms=5, label="candidate $n_t$ (unit 0)")
    h_line, = ax_h.plot(steps, zeros, color=PALETTE["green"], lw=2.2, marker="o", ms=3.5,
                        label="new state $h_t = (1-z_t)\\,n_t + z_t\\,h_{t-1}$ (unit 0)")
    starts = ax_h.scatter([], [], s=160, marker="_", color="0.3", linewidths=2, zorder=4)
    rings = ax_h.scatter([], [], s=80, facecolors=PALETTE["green"], edgecolors="k",
                         linewidths=1.2, zorder=5)
    labels = [ax_h.text(0, 0, "", fontsize=8.5, va="center", ha="left", zorder=6,
                        bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none",
                              "pad": 1}) for _ in range(3)]
    ax_h.axhline(0, color="0.6", lw=0.8)
    ax_h.set(xlim=(-0.5, _T - 0.5), ylim=(-1.12, 1.65), yticks=[-1, -0.5, 0, 0.5, 1],
             xlabel="time step $t$",
             ylabel="unit 0",
             title="Each step h moves a fraction 1 − z of the way from $h_{t-1}$ to $n_t$")
    ax_h.legend(loc="upper left", fontsize=8.5, ncol=2)  # above the states' range [-1, 1]

    def update(z_bias, r_bias, signal, seed):
        blend = gru_blend(signal, z_bias, r_bias, seed)
        x_line.set_ydata(blend.x)
        z_line.set_ydata(blend.z[:, 0])
        r_line.set_ydata(blend.r[:, 0])
        for k, line in enumerate(faint_z, start=1):
            line.set_ydata(blend.z[:, k])
        for k, line in enumerate(faint_h, start=1):
            line.set_ydata(blend.h[:, k])
        n_line.set_ydata(blend.n[:, 0])
        h_line.set_ydata(blend.h[:, 0])
        chosen = blend_steps(blend)
        bars.set_segments([[(t, blend.h_prev[t, 0]), (t, blend.n[t, 0])] for t in chosen])
        starts.set_offsets([(t, blend.h_prev[t, 0]) for t in chosen])
        rings.set_offsets([(t, blend.h[t, 0]) for t in chosen])
        for label, t in zip(labels, chosen):
            label.set_position((t + 0.3, (blend.h_prev[t, 0] + blend.n[t, 0]) / 2))
            label.set_text(f"1−z = {1 - blend.z[t, 0]:.2f}")
        z_mean = float(blend.z.mean())
        lag = 1.0 / (1.0 - z_mean)
        text.set_text(f"mean z = {z_mean:.3f} (all units, steps)\n"
                      f"lag ≈ 1/(1 − z̄) = {lag:.1f} steps")
        if z_mean > 0.95:
            return (f"z near 1 (mean {z_mean:.3f}): the state barely moves, the GRU remembers "
                    f"(lag ≈ {lag:.0f} steps)")
        if z_mean < 0.1:
            return f"z near 0 (mean {z_mean:.3f}): h_t ≈ n_t, no memory"
        return None

    controls = {
        "z_bias": W.FloatSlider(value=1.0, min=-4.0, max=6.0, step=0.25,
                                description="update bias", continuous_update=True,
                                style={"description_width": "initial"}),
        "r_bias": W.FloatSlider(value=0.0, min=-4.0, max=4.0, step=0.25,
                                description="reset bias", continuous_update=True,
                                style={"description_width": "initial"}),
        "signal": W.Dropdown(options=list(SIGNALS), value="step", description="input"),
        "seed": W.IntSlider(value=0, min=0, max=9, description="seed"),
    }
    dynamic = [x_line, *faint_z, z_line, r_line, text, *faint_h, bars, n_line, h_line, starts,
               rings,
               *labels]
    return LiveView(fig, update, controls, title="GRU update gate", dynamic=dynamic)
