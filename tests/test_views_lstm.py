"""The LSTM view of notebook 09 draws the forget-memory experiment of nnlib.gate_memory and
says when the memory is off its chart. Rendering, extremes and responsiveness are checked
for every view in tests/test_views.py."""

import numpy as np
import pytest

from nnlib.gate_memory import forget_memory, memory_curve
from nnlib.views.lstm import forget_bias_explorer


@pytest.fixture(scope="module")
def lstm_view():
    return forget_bias_explorer()


def _line(ax, label):
    (line,) = [line for line in ax.get_lines() if line.get_label() == label]
    return line


def test_the_view_draws_the_run_and_says_when_memory_is_off_the_chart(lstm_view):
    lstm_view.render(forget_bias=2.0, noise=0.5, seed=4)
    run = forget_memory(2.0, 0.5, 4)
    ax_c, ax_m = lstm_view.fig.axes
    kept = _line(ax_c, r"measured $f_1 f_2 \cdots f_t$ (mean of 8 units)")
    np.testing.assert_allclose(kept.get_ydata(), run.kept)
    curve = _line(ax_m, "measured (the LSTM's forget gates)")
    np.testing.assert_allclose(curve.get_ydata(), memory_curve(0.5, 4))
    assert lstm_view.message == ""
    lstm_view.render(forget_bias=-4.0, noise=0.0, seed=0)
    assert "forgets almost at once" in lstm_view.message
    lstm_view.render(forget_bias=8.0, noise=0.0, seed=0)
    assert "longer than the 100 steps drawn" in lstm_view.message
    lstm_view.render(forget_bias=1.0, noise=0.0, seed=0)
