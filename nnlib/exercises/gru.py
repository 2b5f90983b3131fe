"""Exercises of the GRU notebook: one GRU step, with torch's formula and gate order r, z, n;
its backward pass; and the parameter count of torch's recurrent layers.

``r = sigmoid(x_t @ W_ir + b_ir + h_prev @ W_hr + b_hr)``, ``z`` alike,
``n = tanh(x_t @ W_in + b_in + r * (h_prev @ W_hn + b_hn))`` and
``h_t = (1 - z) * n + z * h_prev``, where ``W_ir, W_iz, W_in`` are the three blocks of
``H`` columns of ``w_ih (D, 3H)`` (and alike for ``w_hh``, ``b_ih``, ``b_hh``).
The backward pass's reference is ``nnlib.rnn.gru_backward`` on a sequence of one step.
"""

import numpy as np

from nnlib.activations import sigmoid
from nnlib.exercises import Case, Exercise, Mistake
from nnlib.exercises.rnn import gated_cell_cases
from nnlib.rnn import gru_backward, gru_forward

__all__ = ["gru_step", "gru_step_backward", "recurrent_param_count"]

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


# ------------------------------------------------------------------ gru_step_backward


def _gru_back(dh, x_t, h_prev, w_ih, w_hh, b_ih, b_hh, blend="torch", dz_sign=1.0,
              reset_on="hidden", gate_slope=True, tanh_slope=True, direct=True,
              through_n=True):
    """The backward pass of one GRU step; the keyword arguments swap in the parts a typical
    mistake gets wrong. ``reset_on``: which side's n-block gradient r multiplies, "hidden"
    (right: r scales h_prev @ W_hn + b_hn), "input" or "nowhere"."""
    H = h_prev.shape[1]
    a_x = x_t @ w_ih + b_ih  # (B, 3H)
    a_h = h_prev @ w_hh + b_hh  # (B, 3H)
    r = sigmoid(a_x[:, :H] + a_h[:, :H])
    z = sigmoid(a_x[:, H:2 * H] + a_h[:, H:2 * H])
    hidden_n = a_h[:, 2 * H:]  # h_prev @ W_hn + b_hn, which r scales
    n = np.tanh(a_x[:, 2 * H:] + r * hidden_n)
    if blend == "torch":  # h_t = (1 - z) * n + z * h_prev
        dn, dz, keep = dh * (1.0 - z), dz_sign * dh * (h_prev - n), dh * z
    else:  # the derivative of z * n + (1 - z) * h_prev
        dn, dz, keep = dh * z, dh * (n - h_prev), dh * (1.0 - z)
    da_n = dn * (1.0 - n**2) if tanh_slope else dn
    dr = da_n * hidden_n
    da_r = dr * r * (1.0 - r) if gate_slope else dr
    da_z = dz * z * (1.0 - z) if gate_slope else dz
    n_x, n_h = {"hidden": (da_n, da_n * r), "input": (da_n * r, da_n),
                "nowhere": (da_n, da_n)}[reset_on]
    da_x = np.concatenate([da_r, da_z, n_x], axis=1)  # (B, 3H), input side
    da_h = np.concatenate([da_r, da_z, n_h], axis=1)  # (B, 3H), hidden side
    back = da_h if through_n else np.concatenate([da_r, da_z, 0 * n_h], axis=1)
    dh_prev = back @ w_hh.T + (keep if direct else 0.0)
    return (da_x @ w_ih.T, dh_prev, x_t.T @ da_x, h_prev.T @ da_h, da_x.sum(axis=0),
            da_h.sum(axis=0))


def _reference_gru_step_backward(dh, x_t, h_prev, w_ih, w_hh, b_ih, b_hh):
    # gru_backward on a sequence of one step (tests/test_exercises_rnn_gru.py checks it)
    _, cache = gru_forward(x_t[:, None], h_prev, w_ih, w_hh, b_ih, b_hh)
    dx, dh_prev, dw_ih, dw_hh, db_ih, db_hh = gru_backward(dh[:, None], cache)
    return dx[:, 0], dh_prev, dw_ih, dw_hh, db_ih, db_hh


def _six_gradients(out):
    """``(dx_t, dh_prev, dw_ih, dw_hh, db_ih, db_hh)`` as one flat array, after checking that
    their shapes fit together."""
    if not isinstance(out, tuple | list) or len(out) != 6 or any(a is None for a in out):
        raise ValueError("not six arrays")
    dx, dh_prev, dw_ih, dw_hh, db_ih, db_hh = (np.asarray(a, dtype=float) for a in out)
    if dx.ndim != 2 or dh_prev.ndim != 2 or dx.shape[0] != dh_prev.shape[0]:
        raise ValueError("dx_t must be (B, D) and dh_prev (B, H)")
    D, H = dx.shape[1], dh_prev.shape[1]
    if (dw_ih.shape != (D, 3 * H) or dw_hh.shape != (H, 3 * H) or db_ih.shape != (3 * H,)
            or db_hh.shape != (3 * H,)):
        raise ValueError("the shapes do not fit together")
    return np.concatenate([np.ravel(a) for a in (dx, dh_prev, dw_ih, dw_hh, db_ih, db_hh)])


def _backward_case(B, D, H, x_scale=1.0, zero_state=False):
    """Random ``(dh, x_t, h_prev, w_ih, w_hh, b_ih, b_hh)``: an upstream gradient, then the
    step's arguments as in ``gru_step``'s cases."""
    return (_rng.standard_normal((B, H)), *_case(B, D, H, x_scale, zero_state))


gru_step_backward = Exercise(
    "gru_step_backward",
    reference=_reference_gru_step_backward,
    cases=gated_cell_cases(_backward_case, "h_prev = 0 (the first step)"),
    mistakes=[
        Mistake(lambda *a: _gru_back(*a, blend="reversed"),
                "the blend's derivatives are swapped: h_t = (1 - z) * n + z * h_prev gives "
                "dn = dh * (1 - z), dz = dh * (h_prev - n) and the direct path dh * z into "
                "h_prev; yours are those of z * n + (1 - z) * h_prev"),
        Mistake(lambda *a: _gru_back(*a, dz_sign=-1.0),
                "dz has the wrong sign: h_t = n - z * n + z * h_prev, so "
                "dh_t/dz = h_prev - n, and dz = dh * (h_prev - n)"),
        Mistake(lambda *a: _gru_back(*a, reset_on="input"),
                "r multiplies the hidden term, r * (h_prev @ W_hn + b_hn), so r belongs to "
                "the HIDDEN side's n-block gradient, da_n * r (for dw_hh, db_hh and dh_prev); "
                "the input side's n-block gradient is da_n itself"),
        Mistake(lambda *a: _gru_back(*a, reset_on="nowhere"),
                "the hidden side's n-block gradient is missing r: the candidate reads "
                "r * (h_prev @ W_hn + b_hn), so W_hn, b_hn and h_prev receive da_n * r; "
                "the input side receives da_n"),
        Mistake(lambda *a: _gru_back(*a, gate_slope=False),
                "the sigmoid's derivative is missing: r = sigmoid(a_r), so "
                "da_r = dr * r * (1 - r), and likewise da_z = dz * z * (1 - z)"),
        Mistake(lambda *a: _gru_back(*a, tanh_slope=False),
                "tanh's derivative is missing: n = tanh(a_n), so da_n = dn * (1 - n**2) "
                "before it reaches the weights, r and h_prev"),
        Mistake(lambda *a: _gru_back(*a, direct=False),
                "dh_prev is missing the direct path: h_t = ... + z * h_prev, so h_prev also "
                "receives dh * z, besides what comes back through the gates, "
                "dh_prev = dh * z + da_h @ w_hh.T"),
        Mistake(lambda *a: _gru_back(*a, through_n=False),
                "dh_prev is missing the path through the candidate: n reads "
                "r * (h_prev @ W_hn + b_hn), so h_prev also receives (da_n * r) @ W_hn.T; "
                "with all three blocks at once, dh_prev = dh * z + da_h @ w_hh.T"),
    ],
    adapt=_six_gradients,
    parts=("dx_t", "dh_prev", "dw_ih", "dw_hh", "db_ih", "db_hh"),
    adapt_hint="return six arrays (dx_t, dh_prev, dw_ih, dw_hh, db_ih, db_hh), shaped like "
               "x_t (B, D), h_prev (B, H), w_ih (D, 3H), w_hh (H, 3H), b_ih and b_hh (3H,)",
    # a correct answer computed in float32 is accepted: about 1e-7 off, far from every mistake
    rtol=1e-5, atol=1e-6,
)


# -------------------------------------------------------------- recurrent_param_count

_BLOCKS = {"rnn": 1, "lstm": 4, "gru": 3}


def _count(cell, D, H, blocks=_BLOCKS, biases=2, recurrent="H x H"):
    """torch's parameter count of one recurrent layer; the keyword arguments swap in the parts
    a typical mistake gets wrong."""
    w_hh = {"H x H": H * H, "D x H": D * H, "none": 0}[recurrent]
    return blocks[cell] * (D * H + w_hh + biases * H)


recurrent_param_count = Exercise(
    "recurrent_param_count",
    reference=_count,
    cases=[
        Case(("gru", 9, 48), "a GRU with D = 9 and H = 48 (the recall task)"),
        Case(("lstm", 9, 48), "an LSTM with D = 9 and H = 48"),
        Case(("rnn", 9, 48), "an RNN with D = 9 and H = 48"),
        Case(("gru", 32, 64), "a GRU with D = 32 and H = 64 (the character model)"),
        Case(("lstm", 1, 1), "an LSTM with D = H = 1"),
    ],
    mistakes=[
        Mistake(lambda cell, D, H: _count(cell, D, H, biases=1),
                "torch keeps TWO bias vectors per block, b_ih and b_hh (the GRU needs both: "
                "b_hn sits inside r * (...)), so each block has 2H biases: "
                "blocks * (D*H + H*H + 2*H)"),
        Mistake(lambda cell, D, H: _count(cell, D, H, biases=0),
                "you forgot the biases: each block has two bias vectors of H in torch, "
                "b_ih and b_hh, so blocks * (D*H + H*H + 2*H)"),
        Mistake(lambda cell, D, H: _count(cell, D, H, blocks={**_BLOCKS, "gru": 4}),
                "a GRU has 3 blocks, r, z and the candidate n (w_ih is (D, 3H)); 4 blocks "
                "(i, f, g, o) is the LSTM"),
        Mistake(lambda cell, D, H: _count(cell, D, H, blocks={"rnn": 1, "lstm": 3, "gru": 2}),
                "you counted only the gates: the candidate (g in the LSTM, n in the GRU) has "
                "its own weights too, so the LSTM has 4 blocks (i, f, g, o) and the GRU 3 "
                "(r, z, n)"),
        Mistake(lambda cell, D, H: _count(cell, D, H, recurrent="D x H"),
                "the recurrent matrix of a block reads the old state, H numbers, and writes "
                "H: it is H x H, whatever D is; only the input matrix is D x H"),
        Mistake(lambda cell, D, H: _count(cell, D, H, recurrent="none"),
                "you forgot the recurrent weights: each block has an H x H matrix for the old "
                "state besides the D x H one for the input, blocks * (D*H + H*H + 2*H)"),
    ],
    rtol=0.0, atol=0.5,  # counts are whole numbers: off by one is wrong
)


# The published solutions, and which function there answers which exercise
# (tests/test_exercises.py checks every pair, and every listed mistake).
SOLUTIONS_FILE = "10_gru.py"
EXERCISES = {"gru_step": gru_step, "gru_step_backward": gru_step_backward,
             "recurrent_param_count": recurrent_param_count}
