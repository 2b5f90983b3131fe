"""What the gate views of notebooks 09 and 10 claim, computed: the forget-gate bias sets the
LSTM's memory length, and the GRU's update gate blends the old state with the candidate.
Rendering, extremes and responsiveness are checked for every view in tests/test_views.py."""

import numpy as np
import pytest

from nnlib.models.recurrent import RECALL_RECIPE
from nnlib.views.gru import SIGNALS, blend_steps, gru_blend, update_gate_explorer
from nnlib.views.lstm import (
    BIASES,
    forget_bias_explorer,
    forget_memory,
    memory_curve,
    theory_memory,
)

SEEDS = range(10)


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


@pytest.fixture(scope="module")
def lstm_view():
    return forget_bias_explorer()


@pytest.fixture(scope="module")
def gru_view():
    return update_gate_explorer()


def _line(ax, label):
    (line,) = [line for line in ax.get_lines() if line.get_label() == label]
    return line


# --------------------------------------------------------------------------- forget gate


def test_theory_memory_is_the_steps_to_one_over_e():
    for bias in (-4.0, 0.0, 2.0, 4.0, 8.0):
        steps = theory_memory(bias)
        assert _sigmoid(bias) ** steps == pytest.approx(np.exp(-1.0), rel=1e-9)
    assert theory_memory(0.0) == pytest.approx(1 / np.log(2))
    # the course's start (forget bias 4) keeps a written value for about as long as the
    # recall task of notebook 09 is: within 10% of T = 60, about 1 / (1 - sigmoid(4)) steps
    assert RECALL_RECIPE.lstm_forget_bias == 4.0
    assert abs(theory_memory(4.0) / RECALL_RECIPE.T - 1) < 0.1
    assert theory_memory(4.0) == pytest.approx(1 / (1 - _sigmoid(4.0)), rel=0.01)


def test_the_slider_sets_the_forget_gate_bias_block():
    # At step 0 the forget gate sees only its bias: the pulse has no weight into f, h0 = 0.
    for bias in (-4.0, 1.0, 8.0):
        run = forget_memory(bias, noise=0.0, seed=0)
        np.testing.assert_allclose(run.forget[0], _sigmoid(bias), rtol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_measured_memory_equals_theory_without_other_inputs(seed):
    for bias in (-4.0, -2.0, 0.0, 1.0, 2.0, 4.0, 6.0, 8.0):
        run = forget_memory(bias, noise=0.0, seed=seed)
        assert run.memory == pytest.approx(run.theory_memory, rel=0.05), bias
        assert np.abs(run.kept - run.theory).max() < 0.02
        if bias <= 4.0:  # and the cell holds what was written, as the gates' product says
            # (with a gate more open than that, the trickle through the almost shut
            # input gate, sigmoid(-3) = 0.05, adds up over the long memory)
            assert np.abs(run.cell.mean(axis=1) - run.kept).max() < 0.08


def test_the_product_of_forget_gates_is_what_the_cell_keeps():
    run = forget_memory(4.0, noise=0.0, seed=0)
    kept = np.concatenate([np.ones((1, run.forget.shape[1])),
                           np.cumprod(run.forget[1:], axis=0)])
    np.testing.assert_allclose(run.kept, kept.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(run.theory, _sigmoid(4.0) ** run.steps, rtol=1e-9)


@pytest.mark.parametrize("noise", [0.0, 0.5, 1.5])
def test_raising_the_forget_bias_lengthens_memory(noise):
    for seed in SEEDS:
        assert np.all(np.diff(memory_curve(noise, seed)) > 0), seed


def test_the_batched_curve_equals_one_run_per_bias():
    curve = memory_curve(0.7, seed=3)
    for bias, memory in zip(BIASES[::4], curve[::4]):
        assert forget_memory(bias, 0.7, seed=3).memory == pytest.approx(memory, rel=1e-9)


def test_other_inputs_shorten_the_memory_of_an_open_gate():
    # log sigmoid is concave: a forget gate that wobbles around sigmoid(4) keeps less
    # than one that sits there.
    for seed in SEEDS:
        quiet = forget_memory(4.0, noise=0.0, seed=seed).memory
        noisy = forget_memory(4.0, noise=1.0, seed=seed).memory
        assert noisy < 0.9 * quiet, seed


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


# --------------------------------------------------------------------------- update gate


@pytest.mark.parametrize("signal", SIGNALS)
def test_the_blend_identity_holds(signal):
    for z_bias, r_bias, seed in [(-4.0, 0.0, 0), (1.0, -2.0, 1), (6.0, 4.0, 2)]:
        b = gru_blend(signal, z_bias, r_bias, seed)
        np.testing.assert_allclose(b.h, (1 - b.z) * b.n + b.z * b.h_prev, rtol=1e-12,
                                   atol=1e-15)
        np.testing.assert_array_equal(b.h_prev[1:], b.h[:-1])
        np.testing.assert_array_equal(b.h_prev[0], 0.0)


def test_the_sliders_set_the_gate_bias_blocks():
    # The step input is 0 at step 0 and h0 = 0: each gate sees only its bias.
    b = gru_blend("step", z_bias=2.5, r_bias=-1.5, seed=0)
    np.testing.assert_allclose(b.z[0], _sigmoid(2.5), rtol=1e-12)
    np.testing.assert_allclose(b.r[0], _sigmoid(-1.5), rtol=1e-12)


@pytest.mark.parametrize("signal", SIGNALS)
def test_a_high_update_bias_moves_the_state_less_per_step(signal):
    for seed in SEEDS:
        moves = []  # the largest step of the state, any unit
        for z_bias in (-2.0, 1.0, 4.0):
            b = gru_blend(signal, z_bias, 0.0, seed)
            moves.append(np.abs(b.h - b.h_prev).max())
        assert moves[0] > moves[1] > moves[2], (seed, moves)
        assert moves[2] < 0.25 * moves[0]


def test_with_z_near_zero_the_state_is_the_candidate():
    b = gru_blend("noisy sine", z_bias=-4.0, r_bias=0.0, seed=0)
    assert np.abs(b.h - b.n).max() < 0.1


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
