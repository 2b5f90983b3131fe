"""Exercise of the GRU notebook: one GRU step, with torch's formula and gate order r, z, n.

``r = sigmoid(x_t @ W_ir + b_ir + h_prev @ W_hr + b_hr)``, ``z`` alike,
``n = tanh(x_t @ W_in + b_in + r * (h_prev @ W_hn + b_hn))`` and
``h_t = (1 - z) * n + z * h_prev``, where ``W_ir, W_iz, W_in`` are the three blocks of
``H`` columns of ``w_ih (D, 3H)`` (and alike for ``w_hh``, ``b_ih``, ``b_hh``).
"""

import numpy as np

from nnlib.activations import sigmoid
from nnlib.exercises import Exercise, Mistake
from nnlib.exercises.rnn import gated_cell_cases

__all__ = ["gru_step"]

_rng = np.random.default_rng(10)


def _gru(x_t, h_prev, w_ih, w_hh, b_ih, b_hh, order="rzn", candidate=np.tanh,
         reset="after the product", blend="torch"):
    """One GRU step; the keyword arguments swap in the parts a typical mistake gets wrong.

    ``order`` names the gate each block of H columns is read as; ``reset`` is where r
    acts: "after the product" (torch), "before the bias" (on h_prev @ W_hn only),
    "on h_prev" (before the product, as in the 2014 paper) or "nowhere".
    """
    H = h_prev.shape[1]
    a_x = x_t @ w_ih + b_ih  # (B, 3H), the input side of all three blocks
    a_h = h_prev @ w_hh + b_hh  # (B, 3H), the hidden side
    k = {name: slice(j * H, (j + 1) * H) for j, name in enumerate(order)}
    r = sigmoid(a_x[:, k["r"]] + a_h[:, k["r"]])
    z = sigmoid(a_x[:, k["z"]] + a_h[:, k["z"]])
    w_hn, b_hn = w_hh[:, k["n"]], b_hh[k["n"]]
    hidden = {"after the product": r * a_h[:, k["n"]],
              "before the bias": r * (h_prev @ w_hn) + b_hn,
              "on h_prev": (r * h_prev) @ w_hn + b_hn,
              "nowhere": a_h[:, k["n"]]}[reset]
    n = candidate(a_x[:, k["n"]] + hidden)
    if blend == "torch":
        return (1.0 - z) * n + z * h_prev
    return z * n + (1.0 - z) * h_prev


def _reference_gru_step(x_t, h_prev, w_ih, w_hh, b_ih, b_hh):
    # one step of nnlib.rnn.gru_forward (tests/test_exercises_recurrent.py checks it)
    return _gru(x_t, h_prev, w_ih, w_hh, b_ih, b_hh)


def _case(B, D, H, x_scale=1.0, zero_state=False):
    """Random ``(x_t, h_prev, w_ih, w_hh, b_ih, b_hh)``; both biases non-zero, since b_hn
    is where torch's formula differs from its variants."""
    h_prev = np.zeros((B, H)) if zero_state else np.tanh(2.0 * _rng.standard_normal((B, H)))
    return (x_scale * _rng.standard_normal((B, D)), h_prev,
            _rng.standard_normal((D, 3 * H)) / np.sqrt(D),
            _rng.standard_normal((H, 3 * H)) / np.sqrt(H),
            0.5 * _rng.standard_normal(3 * H), _rng.standard_normal(3 * H))


gru_step = Exercise(
    "gru_step",
    reference=_reference_gru_step,
    cases=gated_cell_cases(_case, "h_prev = 0 (the first step)"),
    mistakes=[
        Mistake(lambda *a: _gru(*a, blend="reversed"),
                "the blend is reversed: h_t = z * n + (1 - z) * h_prev is the convention of some "
                "books and papers, but torch (and this course) use "
                "h_t = (1 - z) * n + z * h_prev, so z near 1 KEEPS the old state and z near 0 "
                "takes the new candidate n"),
        Mistake(lambda *a: _gru(*a, reset="before the bias"),
                "the reset gate must scale b_hn too: torch computes "
                "n = tanh(x_t @ W_in + b_in + r * (h_prev @ W_hn + b_hn)), with b_hn INSIDE the "
                "brackets; that is why a GRU has two biases, b_ih and b_hh, and not one"),
        Mistake(lambda *a: _gru(*a, reset="on h_prev"),
                "r is applied to h_prev before the product, (r * h_prev) @ W_hn: that is the "
                "2014 paper's version (Keras' reset_after=False). torch applies it after the "
                "product: n = tanh(x_t @ W_in + b_in + r * (h_prev @ W_hn + b_hn))"),
        Mistake(lambda *a: _gru(*a, reset="nowhere"),
                "the candidate ignores the reset gate: r scales the old state's part of it, "
                "n = tanh(x_t @ W_in + b_in + r * (h_prev @ W_hn + b_hn)), so that r near 0 "
                "lets the candidate start afresh from the input alone"),
        Mistake(lambda *a: _gru(*a, candidate=sigmoid),
                "the candidate n goes through tanh, not a sigmoid: it is the new content of the "
                "state, in (-1, 1) like the state itself. The gates r and z are the sigmoids"),
        Mistake(lambda *a: _gru(*a, order="zrn"),
                "the r and z blocks are swapped: torch's gate order is r, z, n, so the reset "
                "gate is the first block of H columns, [:, :H], and the update gate z the "
                "second, [:, H:2*H]"),
    ],
    shape_names=("B", "H"),
    # a correct answer computed in float32 is accepted: about 1e-7 off, far from every mistake
    rtol=1e-5, atol=1e-6,
)

# The published solutions, and which function there answers which exercise
# (tests/test_exercises.py checks every pair, and every listed mistake).
SOLUTIONS_FILE = "10_gru.py"
EXERCISES = {"gru_step": gru_step}
