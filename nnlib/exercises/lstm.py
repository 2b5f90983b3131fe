"""Exercise of the LSTM notebook: one LSTM step, the forget gate and the cell update.

``a = x_t @ w_ih + h_prev @ w_hh + b`` holds the four gates' preactivations side by
side in torch's order ``i, f, g, o`` (blocks of ``H`` columns); ``i, f, o`` go
through a sigmoid and ``g`` through tanh; ``c_t = f * c_prev + i * g`` and
``h_t = o * tanh(c_t)``. The answer is the pair ``(h_t, c_t)``.
"""

import numpy as np

from nnlib.activations import sigmoid
from nnlib.exercises import Exercise, Mistake
from nnlib.exercises.rnn import gated_cell_cases

__all__ = ["lstm_step"]

_rng = np.random.default_rng(9)


def _keep_and_write(f, c_prev, i, g):
    return f * c_prev + i * g


def _lstm(x_t, h_prev, c_prev, w_ih, w_hh, b, order="ifgo", forget=sigmoid,
          candidate=np.tanh, cell=_keep_and_write, hidden=lambda o, c, c_prev: o * np.tanh(c)):
    """One LSTM step; the keyword arguments swap in the parts a typical mistake gets wrong.

    ``order`` names the gate that each block of H columns is read as.
    """
    H = h_prev.shape[1]
    a = x_t @ w_ih + h_prev @ w_hh + b  # (B, 4H)
    block = {name: a[:, k * H:(k + 1) * H] for k, name in enumerate(order)}
    i, f = sigmoid(block["i"]), forget(block["f"])
    g, o = candidate(block["g"]), sigmoid(block["o"])
    c_t = cell(f, c_prev, i, g)
    return hidden(o, c_t, c_prev), c_t


def _reference_lstm_step(x_t, h_prev, c_prev, w_ih, w_hh, b):
    # one step of nnlib.rnn.lstm_forward (tests/test_exercises_recurrent.py checks it)
    return _lstm(x_t, h_prev, c_prev, w_ih, w_hh, b)


def _pair(out):
    """``(h_t, c_t)`` as one ``(2, B, H)`` array."""
    if not isinstance(out, tuple | list) or len(out) != 2 or any(a is None for a in out):
        raise ValueError("not a pair of arrays")
    h_t, c_t = (np.asarray(a, dtype=float) for a in out)
    if h_t.shape != c_t.shape:
        raise ValueError("h_t and c_t differ in shape")
    return np.stack([h_t, c_t])


def _case(B, D, H, x_scale=1.0, zero_state=False):
    """Random ``(x_t, h_prev, c_prev, w_ih, w_hh, b)``; the cell state goes beyond tanh's
    linear range, so that c_t and tanh(c_t) differ clearly."""
    x_t = x_scale * _rng.standard_normal((B, D))
    h_prev = np.zeros((B, H)) if zero_state else np.tanh(_rng.standard_normal((B, H)))
    c_prev = np.zeros((B, H)) if zero_state else 2.0 * _rng.standard_normal((B, H))
    return (x_t, h_prev, c_prev, _rng.standard_normal((D, 4 * H)) / np.sqrt(D),
            _rng.standard_normal((H, 4 * H)) / np.sqrt(H), 0.5 * _rng.standard_normal(4 * H))


lstm_step = Exercise(
    "lstm_step",
    reference=_reference_lstm_step,
    cases=gated_cell_cases(_case, "h_prev = c_prev = 0 (the first step)"),
    mistakes=[
        Mistake(lambda *a: _lstm(*a)[::-1],
                "you returned (c_t, h_t): return the hidden state first, `return h_t, c_t`"),
        Mistake(lambda *a: _lstm(*a, cell=lambda f, c_prev, i, g: i * g),
                "c_t = i * g has lost the forget path f * c_prev: the cell then starts from "
                "nothing at every step and remembers nothing. The forget gate decides how much "
                "of the old cell to KEEP: c_t = f * c_prev + i * g"),
        Mistake(lambda *a: _lstm(*a, cell=lambda f, c_prev, i, g: f * c_prev),
                "c_t = f * c_prev only keeps (part of) the old cell and never writes anything "
                "new: add the input gate's write, c_t = f * c_prev + i * g"),
        Mistake(lambda *a: _lstm(*a, cell=lambda f, c_prev, i, g: (1.0 - f) * c_prev + i * g),
                "(1 - f) * c_prev reads f as the fraction FORGOTTEN; in torch (and in the "
                "course) f is the fraction KEPT despite its name: f near 1 keeps the memory, "
                "f near 0 erases it. c_t = f * c_prev + i * g"),
        Mistake(lambda *a: _lstm(*a, forget=np.tanh),
                "the forget gate goes through a sigmoid, not tanh: a gate is a fraction in "
                "(0, 1) of c_prev to keep. With tanh it can be negative and flip the cell's "
                "sign. Only the candidate g uses tanh"),
        Mistake(lambda *a: _lstm(*a, order="figo"),
                "the i and f blocks are swapped: torch's gate order is i, f, g, o, so the forget "
                "gate's preactivation is the SECOND block of H columns, a[:, H:2*H], and the "
                "input gate's the first, a[:, :H]"),
        Mistake(lambda *a: _lstm(*a, order="ifog"),
                "the g and o blocks are swapped: i, f, o, g is the order of some course notes "
                "(CS231n's), but torch's, and this course's, is i, f, g, o: the candidate g is "
                "the third block a[:, 2*H:3*H], the output gate o the last"),
        Mistake(lambda *a: _lstm(*a, candidate=sigmoid),
                "the candidate g goes through tanh, not a sigmoid: it is the new content, in "
                "(-1, 1), so it can push the cell down as well as up. The gates i, f, o are the "
                "sigmoids"),
        Mistake(lambda *a: _lstm(*a, hidden=lambda o, c, c_prev: o * c),
                "c_t is right, but h_t = o * c_t forgot the tanh on the cell: "
                "h_t = o * tanh(c_t). The cell state is unbounded, tanh squashes it into "
                "(-1, 1) before the output gate lets part of it out"),
        Mistake(lambda *a: _lstm(*a, hidden=lambda o, c, c_prev: np.tanh(o * c)),
                "c_t is right, but the tanh goes on the cell alone: h_t = o * tanh(c_t), not "
                "tanh(o * c_t). The output gate scales the squashed cell"),
        Mistake(lambda *a: _lstm(*a, hidden=lambda o, c, c_prev: o * np.tanh(c_prev)),
                "c_t is right, but h_t uses the old cell: h_t = o * tanh(c_t), with the c_t "
                "you just computed"),
    ],
    shape_names=("pair", "B", "H"),
    adapt=_pair,
    adapt_hint="return the pair (h_t, c_t), `return h_t, c_t`: the new hidden state and the "
               "new cell state, two arrays of shape (B, H). One array is not enough: the next "
               "step needs the cell state too",
    # a correct answer computed in float32 is accepted: about 1e-7 off, far from every mistake
    rtol=1e-5, atol=1e-6,
)

# The published solutions, and which function there answers which exercise
# (tests/test_exercises.py checks every pair, and every listed mistake).
SOLUTIONS_FILE = "09_lstm.py"
EXERCISES = {"lstm_step": lstm_step}
