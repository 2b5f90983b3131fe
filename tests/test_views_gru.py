"""The GRU view of notebook 10 draws nnlib.gate_memory.gru_blend: the update gate blending
the old state with the candidate, and a message at the extremes. Rendering, extremes and
responsiveness are checked for every view in tests/test_views.py."""

import numpy as np
import pytest

from nnlib.gate_memory import gru_blend
from nnlib.views.gru import blend_steps, update_gate_explorer


def _line(ax, label):
    (line,) = [line for line in ax.get_lines() if line.get_label() == label]
    return line


@pytest.fixture(scope="module")
def gru_view():
    return update_gate_explorer()


def test_the_view_draws_the_blend(gru_view):
    settings = {"z_bias": 1.5, "r_bias": -1.0, "signal": "pulse", "seed": 2}
    gru_view.render(**settings)
    b = gru_blend(settings["signal"], settings["z_bias"], settings["r_bias"],
                  settings["seed"])
    ax_x, ax_g, ax_h = gru_view.fig.axes
    np.testing.assert_allclose(ax_x.get_lines()[0].get_ydata(), b.x)
    np.testing.assert_allclose(_line(ax_g, "update gate $z_t$ (unit 0)").get_ydata(),
                               b.z[:, 0])
    np.testing.assert_allclose(_line(ax_h, "candidate $n_t$ (unit 0)").get_ydata(), b.n[:, 0])
    h_line = [line for line in ax_h.get_lines() if line.get_label().startswith("new state")]
    np.testing.assert_allclose(h_line[0].get_ydata(), b.h[:, 0])
    # each bar runs from h_{t-1} to n_t, and its dot h_t sits 1 - z_t of the way along
    chosen = blend_steps(b)
    (bars,) = ax_h.collections[:1]
    for t, segment in zip(chosen, bars.get_segments()):
        (t0, start), (t1, end) = segment
        assert t0 == t1 == t
        assert (start, end) == (b.h_prev[t, 0], b.n[t, 0])
        fraction = (b.h[t, 0] - start) / (end - start)
        assert fraction == pytest.approx(1 - b.z[t, 0], rel=1e-9)
    assert len(chosen) == 3 and len(set(chosen)) == 3
    assert f"mean z = {b.z.mean():.3f}" in "".join(t.get_text() for t in ax_g.texts)


def test_the_message_names_the_extremes(gru_view):
    gru_view.render(z_bias=6.0, r_bias=0.0, signal="step", seed=0)
    assert "the GRU remembers" in gru_view.message
    gru_view.render(z_bias=-4.0, r_bias=0.0, signal="step", seed=0)
    assert "no memory" in gru_view.message
    gru_view.render(z_bias=1.0, r_bias=0.0, signal="step", seed=0)
    assert gru_view.message == ""
