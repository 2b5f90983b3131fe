"""Exercises of the LSTM notebook: one LSTM step (the forget gate and the cell update), the
same step backward, and the gradient along the cell path.

``a = x_t @ w_ih + h_prev @ w_hh + b`` holds the four gates' preactivations side by
side in torch's order ``i, f, g, o`` (blocks of ``H`` columns); ``i, f, o`` go
through a sigmoid and ``g`` through tanh; ``c_t = f * c_prev + i * g`` and
``h_t = o * tanh(c_t)``. ``lstm_step`` answers the pair ``(h_t, c_t)``;
``lstm_step_backward`` the six gradients ``(dx_t, dh_prev, dc_prev, dw_ih, dw_hh, db)``
of one step, as ``nnlib.rnn.lstm_backward`` computes them inside its loop;
``cell_path_gradient`` the product of forget gates that carries a gradient back along
the cell states (the gates held fixed).
"""

import numpy as np

from nnlib.activations import sigmoid
from nnlib.exercises import Case, Exercise, Mistake
from nnlib.exercises.rnn import gated_cell_cases

__all__ = ["lstm_step", "lstm_step_backward", "cell_path_gradient"]

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

# ------------------------------------------------------------------ lstm_step_backward


def _sigmoid_slope(s):
    return s * (1.0 - s)  # sigma'(a), written with the gate's value s = sigma(a)


def _tanh_slope(s):
    return 1.0 - s**2  # tanh'(a), written with s = tanh(a)


def _lstm_back(dh, dc, x_t, h_prev, c_prev, w_ih, w_hh, b, highway=True, tanh_c_slope=True,
               keep="total", slopes="right", order="ifgo", stack=None, o_reads="tanh_c",
               f_reads="c_prev", swap_states=False):
    """The backward pass of one LSTM step; the keyword arguments swap in the parts a typical
    mistake gets wrong (the defaults: the right answer).

    ``order`` names the gate each block of H columns of ``a`` is read as; ``stack`` the
    order in which the preactivations' gradients are put back side by side (``order`` if
    None). ``keep``: what ``dc_prev`` multiplies by f, "total" (the whole gradient of c_t),
    "incoming" (dc only) or "nothing" (dc_prev = total gradient, f forgotten).
    """
    H = h_prev.shape[1]
    a = x_t @ w_ih + h_prev @ w_hh + b  # (B, 4H), the forward step again
    block = {name: a[:, k * H:(k + 1) * H] for k, name in enumerate(order)}
    i, f = sigmoid(block["i"]), sigmoid(block["f"])
    g, o = np.tanh(block["g"]), sigmoid(block["o"])
    c_t = f * c_prev + i * g
    tanh_c = np.tanh(c_t)
    # everything that reaches c_t: directly from step t+1 (the highway), and through h_t
    dc_total = (dc if highway else 0.0) + dh * o * (_tanh_slope(tanh_c) if tanh_c_slope else 1.0)
    d_gate = {"i": dc_total * g, "f": dc_total * (c_prev if f_reads == "c_prev" else c_t),
              "g": dc_total * i, "o": dh * (tanh_c if o_reads == "tanh_c" else c_t)}
    value = {"i": i, "f": f, "g": g, "o": o}
    slope = {"right": {"i": _sigmoid_slope, "f": _sigmoid_slope, "g": _tanh_slope,
                       "o": _sigmoid_slope},
             "all sigmoid": dict.fromkeys("ifgo", _sigmoid_slope),
             "all tanh": dict.fromkeys("ifgo", _tanh_slope),
             "none": dict.fromkeys("ifgo", lambda s: 1.0)}[slopes]
    da = {name: d_gate[name] * slope[name](value[name]) for name in "ifgo"}
    da = np.concatenate([da[name] for name in (stack or order)], axis=1)  # (B, 4H)
    dc_prev = {"total": dc_total * f, "incoming": dc * f, "nothing": dc_total}[keep]
    dh_prev = da @ w_hh.T
    states = (dc_prev, dh_prev) if swap_states else (dh_prev, dc_prev)
    return (da @ w_ih.T, *states, x_t.T @ da, h_prev.T @ da, da.sum(axis=0))


def _reference_lstm_step_backward(dh, dc, x_t, h_prev, c_prev, w_ih, w_hh, b):
    # the loop body of nnlib.rnn.lstm_backward, with a gradient dc arriving at c_t from the
    # step after (lstm_backward's loop carries it); tests/test_exercises_lstm.py checks it
    # against lstm_backward (one step, and two steps chained), torch and finite differences
    return _lstm_back(dh, dc, x_t, h_prev, c_prev, w_ih, w_hh, b)


def _six_gradients(out):
    """``(dx_t, dh_prev, dc_prev, dw_ih, dw_hh, db)`` as one flat array, after checking that
    their shapes fit together."""
    if not isinstance(out, tuple | list) or len(out) != 6 or any(a is None for a in out):
        raise ValueError("not six arrays")
    dx, dh_prev, dc_prev, dw_ih, dw_hh, db = (np.asarray(a, dtype=float) for a in out)
    if dx.ndim != 2 or dh_prev.ndim != 2 or dx.shape[0] != dh_prev.shape[0]:
        raise ValueError("dx_t must be (B, D) and dh_prev (B, H)")
    D, H = dx.shape[1], dh_prev.shape[1]
    if (dc_prev.shape != dh_prev.shape or dw_ih.shape != (D, 4 * H)
            or dw_hh.shape != (H, 4 * H) or db.shape != (4 * H,)):
        raise ValueError("the shapes do not fit together")
    return np.concatenate([np.ravel(a) for a in (dx, dh_prev, dc_prev, dw_ih, dw_hh, db)])


def _backward_case(B, D, H, x_scale=1.0, zero_state=False, dc_scale=1.0):
    """Random ``(dh, dc, x_t, h_prev, c_prev, w_ih, w_hh, b)``: the gradients arriving at h_t
    and c_t, then the step's arguments as in ``lstm_step``'s cases."""
    dh, dc = _rng.standard_normal((B, H)), dc_scale * _rng.standard_normal((B, H))
    return (dh, dc, *_case(B, D, H, x_scale, zero_state))


lstm_step_backward = Exercise(
    "lstm_step_backward",
    reference=_reference_lstm_step_backward,
    cases=[*gated_cell_cases(_backward_case, "h_prev = c_prev = 0 (the first step)"),
           Case(_backward_case(3, 2, 2, dc_scale=0.0),
                "dc = 0 (the last step: nothing comes back along the cell)")],
    mistakes=[
        Mistake(lambda *a: _lstm_back(*a, highway=False),
                "the gradient of c_t is missing dc, the part that arrives directly from the "
                "next step's cell update (the cell's highway). c_t reaches the loss two ways, "
                "so add both: dc_t = dc + dh * o * (1 - tanh(c_t)**2)"),
        Mistake(lambda *a: _lstm_back(*a, tanh_c_slope=False),
                "the path through h_t = o * tanh(c_t) needs tanh's derivative at c_t: "
                "dc_t = dc + dh * o * (1 - tanh(c_t)**2), not dc + dh * o"),
        Mistake(lambda *a: _lstm_back(*a, keep="nothing"),
                "dc_prev is the gradient of c_t times f: c_prev enters only as f * c_prev, "
                "so dc_prev = dc_t * f, where dc_t = dc + dh * o * (1 - tanh(c_t)**2)"),
        Mistake(lambda *a: _lstm_back(*a, keep="incoming"),
                "dc_prev = dc * f uses only the gradient that arrived along the cell; f "
                "multiplies the TOTAL gradient of c_t, the path through h_t included: "
                "dc_prev = (dc + dh * o * (1 - tanh(c_t)**2)) * f"),
        Mistake(lambda *a: _lstm_back(*a, slopes="all sigmoid"),
                "the candidate g is a tanh, so its preactivation's gradient uses tanh's "
                "derivative, da_g = dg * (1 - g**2); the sigmoid's g * (1 - g) is only for "
                "the gates i, f and o"),
        Mistake(lambda *a: _lstm_back(*a, slopes="all tanh"),
                "i, f and o are sigmoids: their derivative is sigma' = s * (1 - s), e.g. "
                "da_i = di * i * (1 - i); 1 - s**2 is tanh's, used only for the candidate g"),
        Mistake(lambda *a: _lstm_back(*a, slopes="none"),
                "the gradients stop at the gates' values: go on through each gate's "
                "nonlinearity to its preactivation, da_i = di * i * (1 - i) (likewise f and "
                "o) and da_g = dg * (1 - g**2), before the weights"),
        Mistake(lambda *a: _lstm_back(*a, order="ifog"),
                "the gate order is i, f, o, g (CS231n's); torch's, and this course's, is "
                "i, f, g, o: the candidate g is the third block a[:, 2*H:3*H] and o the "
                "last, and da goes back in the same order"),
        Mistake(lambda *a: _lstm_back(*a, stack="ifog"),
                "each gate's gradient is right, but da is stacked as i, f, o, g: put the "
                "blocks back in the order the forward read them, "
                "np.concatenate([da_i, da_f, da_g, da_o], axis=1)"),
        Mistake(lambda *a: _lstm_back(*a, stack="figo"),
                "each gate's gradient is right, but da has the i and f blocks swapped: "
                "the order is i, f, g, o, np.concatenate([da_i, da_f, da_g, da_o], axis=1)"),
        Mistake(lambda *a: _lstm_back(*a, o_reads="c"),
                "h_t = o * tanh(c_t), so the output gate's gradient is do = dh * tanh(c_t), "
                "not dh * c_t"),
        Mistake(lambda *a: _lstm_back(*a, f_reads="c"),
                "the forget gate multiplies the OLD cell, f * c_prev, so df = dc_t * c_prev, "
                "not dc_t * c_t"),
        Mistake(lambda *a: _lstm_back(*a, swap_states=True),
                "dh_prev and dc_prev are swapped: return them in the order of the arguments, "
                "(dx_t, dh_prev, dc_prev, dw_ih, dw_hh, db)"),
    ],
    adapt=_six_gradients,
    parts=("dx_t", "dh_prev", "dc_prev", "dw_ih", "dw_hh", "db"),
    adapt_hint="return six arrays (dx_t, dh_prev, dc_prev, dw_ih, dw_hh, db), shaped like "
               "x_t (B, D), h_prev and c_prev (B, H), w_ih (D, 4H), w_hh (H, 4H) and b (4H,)",
    # a correct answer computed in float32 is accepted: about 1e-7 off, far from every mistake
    rtol=1e-5, atol=1e-6,
)


# ------------------------------------------------------------------ cell_path_gradient


def _reference_cell_path_gradient(forget, dc):
    # entry t: dc times the gates of step t and of every later step, a product taken from
    # the end (reverse, cumulative product, reverse back)
    return dc[:, None] * np.cumprod(forget[:, ::-1], axis=1)[:, ::-1]


def _from_the_end_without_own(forget, dc):
    """The product of the gates AFTER step t only (the last entry is dc itself)."""
    after = np.concatenate([forget[:, 1:], np.ones_like(forget[:, :1])], axis=1)
    return _reference_cell_path_gradient(after, dc)


def _forget_case(B, T, H, low=0.05, high=0.999, shut=None):
    """Random ``(forget (B, T, H), dc (B, H))``; ``shut``: a step whose gates are all 0."""
    forget = _rng.uniform(low, high, (B, T, H))
    if shut is not None:
        forget[:, shut] = 0.0
    return forget, _rng.standard_normal((B, H))


cell_path_gradient = Exercise(
    "cell_path_gradient",
    reference=_reference_cell_path_gradient,
    cases=[
        Case(_forget_case(2, 5, 3), "B = 2, T = 5, H = 3"),
        Case(_forget_case(1, 60, 4, low=0.9), "a batch of one, T = 60 steps, gates near 1"),
        Case(_forget_case(3, 1, 2), "a single step, T = 1"),
        Case(_forget_case(2, 6, 3, shut=3), "every gate of step 3 shut at 0"),
    ],
    mistakes=[
        Mistake(lambda forget, dc: dc[:, None] * np.cumprod(forget, axis=1),
                "your product runs from the first step: the gradient comes from the END, so "
                "entry t multiplies the gates between it and the last step, "
                "f_t * f_{t+1} * ... * f_{T-1} (a cumulative product of the reversed gates, "
                "reversed back, or a loop from t = T-1 down to 0)"),
        Mistake(_from_the_end_without_own,
                "off by one step: the cell state that step t READS, c_{t-1}, is multiplied "
                "by step t's own gate too (c_t = f_t * c_{t-1} + ...), so even the last "
                "entry is dc * f_{T-1}, and entry 0 is dc times all T gates"),
        Mistake(lambda forget, dc: dc[:, None] * forget,
                "entry t is not dc * f_t alone: the gradient is carried back step by step, "
                "so every gate from step t to the end multiplies it, "
                "dc * f_t * f_{t+1} * ... * f_{T-1}"),
        Mistake(lambda forget, dc: _reference_cell_path_gradient(1.0 - forget, dc),
                "use f itself, not 1 - f: the forget gate is the fraction KEPT "
                "(c_t = f_t * c_{t-1} + ...), so the gradient is multiplied by f_t"),
        Mistake(lambda forget, dc: np.cumprod(forget[:, ::-1], axis=1)[:, ::-1],
                "multiply by dc, the gradient arriving at the last cell state: the gates "
                "only scale what arrives, dc * f_t * ... * f_{T-1}"),
    ],
    shape_names=("B", "T", "H"),
    rtol=1e-9, atol=1e-12,  # products of 60 gates near 1: no round-off to speak of
)


# The published solutions, and which function there answers which exercise
# (tests/test_exercises.py checks every pair, and every listed mistake).
SOLUTIONS_FILE = "09_lstm.py"
EXERCISES = {"lstm_step": lstm_step, "lstm_step_backward": lstm_step_backward,
             "cell_path_gradient": cell_path_gradient}
