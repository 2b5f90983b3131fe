"""Views of the LSTM's gates: how the forget-gate bias sets how long the cell remembers
(notebook 09).

The cell state carries what was written into it forward by one multiplication per
step, ``c_t = f_t * c_{t-1} + i_t * g_t``. What was written at step 0 is still there
at step ``t`` times ``f_1 * f_2 * ... * f_t``. If the forget gate sat exactly at
``sigmoid(b_f)`` (its bias, nothing else), that product would be ``sigmoid(b_f) ** t``
and the content would fall to ``1/e`` of its value after ``-1 / ln sigmoid(b_f)``
steps. The real gate also hears the input and the hidden state, so the views show
the measured product next to that theory.
"""


import numpy as np

from nnlib.display.plotting import PALETTE, new_figure
from nnlib.display.widgets import LiveView
from nnlib.gate_memory import (
    BIASES,
    LSTM_STEPS,
    LSTM_UNITS,
    forget_memory,
    memory_curve,
    theory_memory,
)

__all__ = ["forget_bias_explorer"]

_T, _H = LSTM_STEPS, LSTM_UNITS  # steps and units of the experiment
_UNITS = 4  # units drawn as cell-state trajectories
_RECALL_T = 60  # the recall task of notebook 09 (nnlib.models.recurrent.RECALL_RECIPE.T)
_COURSE_BIAS = 4.0  # the forget bias the course starts its LSTM with (RECALL_RECIPE)
_MEMORY_LIMITS = (0.15, 5000.0)


def forget_bias_explorer():
    """Move the forget-gate bias: how long the cell keeps what was written into it.

    Controls: the forget bias ``b_f`` (-4 to 8), the size of the other inputs that
    follow the pulse (0: the gate sits at ``sigmoid(b_f)``, the theory holds), and the
    seed of the network and of those inputs.
    Left: the cell state of four units after a pulse at step 0, divided by the value
    written then; the mean product of the forget gates (measured), and
    ``sigmoid(b_f) ** t`` (theory). Right: the memory length over the slider's whole
    range, theory and measured, against the 60 steps of notebook 09's recall task.
    """
    import ipywidgets as W

    fig, (ax_c, ax_m) = new_figure(1, 2, figsize=(12, 4.4))
    steps = np.arange(_T)
    zeros = np.zeros(_T)
    unit_colors = [PALETTE[name] for name in ("blue", "orange", "green", "purple")]
    units = [ax_c.plot(steps, zeros, color=unit_colors[k], lw=1.0, alpha=0.8,
                       label="cell $c_t / c_0$ of 4 units (thin)" if k == 0 else None)[0]
             for k in range(_UNITS)]
    theory_line, = ax_c.plot(steps, zeros, color=PALETTE["vermillion"], lw=2.2, ls="--",
                             label=r"theory $\sigma(b_f)^{\,t}$")
    kept_line, = ax_c.plot(steps, zeros, color=PALETTE["black"], lw=2.0,
                           label=r"measured $f_1 f_2 \cdots f_t$ (mean of 8 units)")
    ax_c.axhline(np.exp(-1.0), color="0.45", lw=1.0, ls=":")
    ax_c.text(_T - 1, np.exp(-1.0), "1/e", ha="right", va="center", color="0.35", fontsize=9,
              bbox={"facecolor": "white", "edgecolor": "none", "pad": 1}, zorder=1)
    ax_c.axhline(0.0, color="0.6", lw=0.8)
    memory_mark = ax_c.axvline(0.0, color=PALETTE["black"], lw=1.0, ls=":")
    ax_c.set(xlim=(0, _T - 1), ylim=(-0.6, 1.5), xlabel="time step $t$ (pulse written at 0)",
             ylabel="content left, relative to step 0",
             title="What the cell wrote at step 0, over time")
    ax_c.legend(loc="upper right", fontsize=8.5)
    text = ax_c.text(0.02, 0.03, "", transform=ax_c.transAxes, va="bottom", fontsize=9.5,
                     family="monospace",
                     bbox={"facecolor": "white", "alpha": 0.9, "edgecolor": "0.7"})

    ax_m.plot(BIASES, theory_memory(BIASES), color=PALETTE["vermillion"], lw=2.2, ls="--",
              label=r"theory $-1/\ln\sigma(b_f)$")
    measured_curve, = ax_m.plot(BIASES, np.ones_like(BIASES), color=PALETTE["black"], lw=1.2,
                                marker="o", ms=3.5, label="measured (the LSTM's forget gates)")
    ax_m.axhspan(_T, _MEMORY_LIMITS[1], color="0.9", zorder=0)
    ax_m.text(BIASES[0] + 0.2, _T * 1.25, f"beyond the {_T} steps drawn: extrapolated",
              fontsize=8.5, color="0.35", va="bottom")
    ax_m.axhline(_RECALL_T, color=PALETTE["green"], lw=1.5)
    ax_m.text(BIASES[0] + 0.2, _RECALL_T * 0.85, f"recall task, notebook 09 (T = {_RECALL_T})",
              color=PALETTE["green"], fontsize=9, va="top")
    course = float(theory_memory(_COURSE_BIAS))
    ax_m.annotate(f"course's start: $b_f$ = {_COURSE_BIAS:g}\n→ {course:.0f} steps",
                  xy=(_COURSE_BIAS, course), xytext=(_COURSE_BIAS + 0.6, course / 12),
                  fontsize=8.5, color="0.25",
                  arrowprops={"arrowstyle": "->", "color": "0.4", "lw": 0.8})
    bias_mark = ax_m.axvline(0.0, color=PALETTE["blue"], lw=1.5)
    current_theory, = ax_m.plot([0.0], [1.0], ls="none", marker="o", ms=9, zorder=5,
                                markerfacecolor="white", markeredgecolor=PALETTE["vermillion"],
                                markeredgewidth=2)
    current, = ax_m.plot([0.0], [1.0], ls="none", marker="o", ms=7, zorder=6,
                         markerfacecolor=PALETTE["blue"], markeredgecolor="white")
    ax_m.set(yscale="log", xlim=(BIASES[0], BIASES[-1]), ylim=_MEMORY_LIMITS,
             xlabel="forget-gate bias $b_f$", ylabel="memory length (steps, log scale)",
             title="Memory: steps until the content falls below 1/e")
    ax_m.legend(loc="upper left", fontsize=8.5)

    curves = {}  # (noise, seed) -> memory_curve: moving the bias alone reuses it

    def update(forget_bias, noise, seed):
        run = forget_memory(forget_bias, noise, seed)
        if (noise, seed) not in curves:
            if len(curves) > 256:
                curves.clear()
            curves[noise, seed] = memory_curve(noise, seed)
        for k, line in enumerate(units):
            line.set_ydata(run.cell[:, k])
        theory_line.set_ydata(run.theory)
        kept_line.set_ydata(run.kept)
        memory_mark.set_xdata([min(run.memory, _T - 1)] * 2)
        measured_curve.set_ydata(curves[noise, seed])
        bias_mark.set_xdata([forget_bias] * 2)
        current.set_data([forget_bias], [np.clip(run.memory, *_MEMORY_LIMITS)])
        current_theory.set_data([forget_bias], [np.clip(run.theory_memory, *_MEMORY_LIMITS)])
        gate = 1.0 / (1.0 + np.exp(-forget_bias))
        text.set_text(f"σ(b_f) = {gate:.4f} kept per step\n"
                      f"memory: theory {run.theory_memory:.1f}, measured {run.memory:.1f} steps")
        if run.memory < 2:
            return (f"memory {run.memory:.1f} steps: the cell forgets almost at once "
                    f"(it keeps {gate:.0%} a step)")
        if run.memory > _T:
            return (f"memory {run.memory:.0f} steps: longer than the {_T} steps drawn "
                    f"(extrapolated from the rate of forgetting)")
        return None

    controls = {
        "forget_bias": W.FloatSlider(value=1.0, min=float(BIASES[0]), max=float(BIASES[-1]),
                                     step=0.25, description="forget bias", continuous_update=True,
                                     style={"description_width": "initial"}),
        "noise": W.FloatSlider(value=0.0, min=0.0, max=1.5, step=0.05, description="input noise",
                               continuous_update=True, style={"description_width": "initial"}),
        "seed": W.IntSlider(value=0, min=0, max=9, description="seed"),
    }
    dynamic = [*units, theory_line, kept_line, memory_mark, measured_curve, bias_mark,
               current_theory, current, text]
    return LiveView(fig, update, controls, title="forget-gate bias", dynamic=dynamic)
