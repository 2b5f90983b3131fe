"""Views of recurrent networks: how the spectral radius of the recurrent weights shapes the
hidden states and the gradients through time (notebook 08)."""

import numpy as np

from nnlib.plotting import COLORS, PALETTE, new_figure
from nnlib.rnn import run_through_time
from nnlib.widgets import LiveView

__all__ = ["spectral_radius_explorer"]

_T = 50
_UNITS = 5  # hidden units drawn as trajectories


def spectral_radius_explorer():
    """Move the spectral radius of ``w_hh``: hidden states on the left, gradients on the right.

    Controls: the spectral radius (0.5 to 1.5), the size of the inputs (log slider;
    small inputs keep tanh in its linear range) and the seed of the network.
    Left: five hidden units of one sequence over 50 steps. Right: ``||dL/dh_t||``
    for a loss on the last step, on a log scale, with the straight line
    ``radius ** (steps back)`` that the linear theory predicts.
    """
    import ipywidgets as W

    fig, (ax_h, ax_g) = new_figure(1, 2, figsize=(12, 4.2))
    steps = np.arange(_T)
    lines = [ax_h.plot(steps, np.zeros(_T), color=COLORS[k % len(COLORS)], lw=1.8)[0]
             for k in range(_UNITS)]
    ax_h.set(xlim=(0, _T - 1), ylim=(-1.05, 1.05), xlabel="time step $t$",
             ylabel="hidden unit $h_t$", title="Hidden states (5 units, one sequence)")
    ax_h.axhline(0, color="0.6", lw=0.8)
    measured, = ax_g.plot(steps, np.ones(_T), color=PALETTE["blue"], lw=2.2,
                          label=r"measured $\|\partial L / \partial h_t\|$")
    predicted, = ax_g.plot(steps, np.ones(_T), color=PALETTE["vermillion"], lw=1.5, ls="--",
                           label=r"radius$^{\,\mathrm{steps\ back}}$")
    ax_g.set(yscale="log", xlim=(0, _T - 1), ylim=(1e-16, 1e10), xlabel="time step $t$",
             ylabel="gradient norm (log scale)",
             title="Gradient of a loss on the last step, through time")
    ax_g.legend(loc="lower right", fontsize=9)
    text = ax_g.text(0.02, 0.96, "", transform=ax_g.transAxes, va="top", fontsize=10,
                     family="monospace",
                     bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "0.7"})

    def update(radius, input_scale, seed):
        run = run_through_time(radius, T=_T, input_scale=input_scale, seed=seed)
        for k, line in enumerate(lines):
            line.set_ydata(run.hs[0, :, k])
        norms = run.grad_norms
        measured.set_ydata(np.clip(norms, 1e-16, 1e10))
        back = _T - 1 - steps
        predicted.set_ydata(np.clip(norms[-1] * radius ** back.astype(float), 1e-16, 1e10))
        rate = np.exp(np.polyfit(back, np.log(np.maximum(norms, 1e-300)), 1)[0])
        text.set_text(f"radius {radius:.2f}\nmeasured rate {rate:.3f} per step\n"
                      f"after {_T - 1} steps: x{norms[0] / norms[-1]:.1e}")
        saturated = np.mean(np.abs(run.hs) > 0.9)
        if radius > 1 and saturated > 0.1:
            return (f"{saturated:.0%} of the hidden values are beyond ±0.9: tanh is saturated, "
                    f"its small slope caps the explosion")
        return None

    controls = {
        "radius": W.FloatSlider(value=0.9, min=0.5, max=1.5, step=0.05, description="radius",
                                continuous_update=True),
        "input_scale": W.FloatLogSlider(value=0.01, base=10, min=-4, max=0, step=0.25,
                                        description="input size"),
        "seed": W.IntSlider(value=0, min=0, max=9, description="seed"),
    }
    dynamic = [*lines, measured, predicted, text]
    return LiveView(fig, update, controls, title="spectral radius", dynamic=dynamic)
