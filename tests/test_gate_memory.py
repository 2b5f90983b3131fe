"""nnlib.gate_memory: what the gate views of notebooks 09 and 10 claim, computed. The
forget-gate bias sets the LSTM's memory length, and the GRU's update gate blends the old
state with the candidate. The views themselves: tests/test_views_lstm.py and
tests/test_views_gru.py."""

import numpy as np
import pytest

from nnlib.gate_memory import BIASES, SIGNALS, forget_memory, gru_blend, memory_curve, theory_memory
from nnlib.models.recurrent import RECALL_RECIPE

SEEDS = range(10)


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


# --------------------------------------------------------------------------- forget gate


def test_theory_memory_is_the_steps_to_one_over_e():
    for bias in (-4.0, 0.0, 2.0, 4.0, 8.0):
        steps = theory_memory(bias)
        assert _sigmoid(bias) ** steps == pytest.approx(np.exp(-1.0), rel=1e-9)
    assert theory_memory(0.0) == pytest.approx(1 / np.log(2))
    # the course's start (forget bias 4) keeps a written value for about as long as the
    # recall task of notebook 09 is: within 10% of T = 60, about 1 / (1 - sigmoid(4)) steps
    assert RECALL_RECIPE.gate_bias == 4.0
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


