"""Exercises of the RNN notebook: one step of a tanh RNN,
``h_t = tanh(x_t @ w_ih + h_prev @ w_hh + b)``; backpropagation through time over a
whole sequence (``nnlib.rnn.rnn_backward``, from the forward pass's states); and
gradient clipping by global norm (what ``torch.nn.utils.clip_grad_norm_`` does)."""

import numpy as np

from nnlib.activations import sigmoid
from nnlib.exercises import Case, Exercise, Mistake
from nnlib.rnn import RNNCache, rnn_forward
from nnlib.rnn import rnn_backward as _rnn_backward

__all__ = ["rnn_step", "rnn_bptt", "clip_by_global_norm", "gated_cell_cases"]

_rng = np.random.default_rng(8)


def _reference_rnn_step(x_t, h_prev, w_ih, w_hh, b):
    # one step of nnlib.rnn.rnn_forward (tests/test_exercises_recurrent.py checks it)
    return np.tanh(x_t @ w_ih + h_prev @ w_hh + b)


def _case(B, D, H, x_scale=1.0, h_prev=None):
    """Random ``(x_t, h_prev, w_ih, w_hh, b)``: small weights, as at initialisation."""
    x_t = x_scale * _rng.standard_normal((B, D))
    h_prev = np.tanh(_rng.standard_normal((B, H))) if h_prev is None else h_prev
    return (x_t, h_prev, _rng.standard_normal((D, H)) / np.sqrt(D),
            _rng.standard_normal((H, H)) / np.sqrt(H), 0.5 * _rng.standard_normal(H))


def gated_cell_cases(make_case, first_step):
    """The five cases of the LSTM and GRU step exercises: ``make_case(B, D, H, x_scale=...,
    zero_state=...)`` builds the arguments; ``first_step`` labels the zero-state case."""
    return [
        Case(make_case(3, 4, 2), "B = 3 and D = 4 > H = 2"),
        Case(make_case(1, 3, 3), "a batch of one"),
        Case(make_case(4, 2, 3), "B = 4 and D = 2 < H = 3"),
        Case(make_case(2, 3, 2, zero_state=True), first_step),
        # preactivations in the hundreds: every gate saturates at 0 or 1, and exp(a) overflows
        Case(make_case(2, 3, 4, x_scale=1000.0), "large inputs (saturated gates)"),
    ]


rnn_step = Exercise(
    "rnn_step",
    reference=_reference_rnn_step,
    cases=[
        # Square shapes first (B = D = H): there a transposed weight or a product in the wrong
        # order still runs, and can be named; the later cases have D != H, where it would fail
        # with numpy's shape error instead.
        Case(_case(3, 3, 3), "B = D = H = 3"),
        Case(_case(4, 5, 3), "B = 4 with D = 5 ≠ H = 3"),
        Case(_case(1, 2, 4), "a batch of one"),
        Case(_case(3, 4, 2, h_prev=np.zeros((3, 2))), "h_prev = 0 (the first step)"),
        # preactivations in the hundreds: tanh saturates at ±1, and exp(a) overflows
        Case(_case(2, 3, 4, x_scale=300.0), "large inputs (tanh saturates)"),
    ],
    mistakes=[
        Mistake(lambda x_t, h_prev, w_ih, w_hh, b: np.tanh(x_t @ w_ih + b),
                "you left out the recurrent term h_prev @ w_hh: without it each step sees only "
                "its own input, and the network has no memory of the past. "
                "h_t = tanh(x_t @ w_ih + h_prev @ w_hh + b)"),
        Mistake(lambda x_t, h_prev, w_ih, w_hh, b: x_t @ w_ih + h_prev @ w_hh + b,
                "apply tanh to the sum: without a nonlinearity the steps compose into one big "
                "linear map, and the state can grow without bound. "
                "h_t = tanh(x_t @ w_ih + h_prev @ w_hh + b)"),
        Mistake(lambda x_t, h_prev, w_ih, w_hh, b: sigmoid(x_t @ w_ih + h_prev @ w_hh + b),
                "that is a sigmoid: the RNN's state uses tanh, which is centred on 0 and ranges "
                "over (-1, 1), so the state can be negative as well as positive"),
        Mistake(lambda x_t, h_prev, w_ih, w_hh, b: np.maximum(
                    x_t @ w_ih + h_prev @ w_hh + b, 0.0),
                "that is a ReLU: the plain RNN uses tanh, which keeps the state in (-1, 1); a "
                "ReLU is unbounded above, and repeated over many steps the state can explode"),
        Mistake(lambda x_t, h_prev, w_ih, w_hh, b: np.tanh(x_t @ w_ih + b) + h_prev @ w_hh,
                "h_prev @ w_hh belongs inside the tanh, with the input term: "
                "h_t = tanh(x_t @ w_ih + h_prev @ w_hh + b)"),
        Mistake(lambda x_t, h_prev, w_ih, w_hh, b: np.tanh(x_t @ w_ih + h_prev @ w_hh.T + b),
                "w_hh is transposed: the state is a row vector, h_prev (B, H), so it multiplies "
                "from the left, h_prev @ w_hh, and w_hh[j, k] carries unit j of the old state "
                "to unit k of the new one. Being square, w_hh.T has the right shape but is a "
                "different matrix"),
        Mistake(lambda x_t, h_prev, w_ih, w_hh, b: np.tanh(x_t @ w_ih + w_hh @ h_prev + b),
                "the product is in the wrong order: with the batch first, states are the rows "
                "of h_prev (B, H), so write h_prev @ w_hh, (B, H) @ (H, H). w_hh @ h_prev only "
                "ran because B = H here; with another batch size it fails"),
        Mistake(lambda x_t, h_prev, w_ih, w_hh, b: np.tanh(w_ih @ x_t + w_hh @ h_prev + b),
                "both products are in the wrong order: with the batch first, inputs and states "
                "are rows, so write x_t @ w_ih, (B, D) @ (D, H), and h_prev @ w_hh, "
                "(B, H) @ (H, H). The other order only ran because B = D = H here"),
        Mistake(lambda x_t, h_prev, w_ih, w_hh, b: np.tanh(x_t @ w_ih.T + h_prev @ w_hh + b),
                "w_ih is transposed: x_t (B, D) @ w_ih (D, H) gives (B, H). w_ih.T only ran "
                "because D = H here; with D != H it fails"),
        Mistake(lambda x_t, h_prev, w_ih, w_hh, b: np.tanh(x_t @ w_ih + h_prev @ w_hh),
                "you forgot the bias: h_t = tanh(x_t @ w_ih + h_prev @ w_hh + b); b shifts every "
                "unit's preactivation before the tanh"),
        Mistake(lambda x_t, h_prev, w_ih, w_hh, b: np.tanh(x_t @ w_ih + h_prev @ w_hh) + b,
                "add the bias inside the tanh, to the preactivation: "
                "h_t = tanh(x_t @ w_ih + h_prev @ w_hh + b). Added afterwards it pushes the "
                "state out of (-1, 1)"),
    ],
    shape_names=("B", "H"),
    # a correct answer computed in float32 is accepted: about 1e-7 off, far from every mistake
    rtol=1e-5, atol=1e-6,
)


# --------------------------------------------------------------------- rnn_bptt


def _previous_states(h0, hs):
    """``h_{t-1}`` for every step, ``(B, T, H)``: h0, then hs without its last step."""
    return np.concatenate([h0[:, None], hs[:, :-1]], axis=1)


def _bptt(dhs, x, h0, hs, w_ih, w_hh, carry=True, through_tanh=True, accumulate=True,
          transpose=True, backwards=True, previous_state=True, dh0_through_w_hh=True,
          wrap_around=False):
    """BPTT written step by step; the keyword arguments swap in the parts a typical mistake
    gets wrong (all True: the right answer, equal to ``nnlib.rnn.rnn_backward``)."""
    B, T, H = hs.shape
    h_prev = _previous_states(h0, hs)
    if wrap_around:  # hs[:, t - 1] at t = 0 is hs[:, -1], the LAST state
        h_prev = np.concatenate([hs[:, -1:], hs[:, :-1]], axis=1)
    dx, dw_ih, dw_hh, db = (np.zeros_like(x), np.zeros_like(w_ih), np.zeros_like(w_hh),
                            np.zeros(H))
    back = w_hh.T if transpose else w_hh
    sent = np.zeros((B, H))  # what the step handled before sends back into this one
    first = None
    for t in (range(T - 1, -1, -1) if backwards else range(T)):
        dh = dhs[:, t] + sent if carry else dhs[:, t]
        da = dh * (1.0 - hs[:, t] ** 2) if through_tanh else dh
        dx[:, t] = da @ w_ih.T
        state = h_prev[:, t] if previous_state else hs[:, t]
        step = (x[:, t].T @ da, state.T @ da, da.sum(axis=0))
        if accumulate:
            dw_ih, dw_hh, db = dw_ih + step[0], dw_hh + step[1], db + step[2]
        else:
            dw_ih, dw_hh, db = step
        sent = da @ back
        if t == 0:
            first = dh
    return dx, sent if dh0_through_w_hh else first, dw_ih, dw_hh, db


def _reference_rnn_bptt(dhs, x, h0, hs, w_ih, w_hh):
    return _rnn_backward(dhs, RNNCache(x, h0, hs, w_ih, w_hh))


def _five_gradients(out):
    """``(dx, dh0, dw_ih, dw_hh, db)`` as one flat array, after checking their shapes agree."""
    if not isinstance(out, tuple | list) or len(out) != 5 or any(a is None for a in out):
        raise ValueError("not five arrays")
    dx, dh0, dw_ih, dw_hh, db = (np.asarray(a, dtype=float) for a in out)
    if dx.ndim != 3 or dh0.ndim != 2:
        raise ValueError("dx must be (B, T, D) and dh0 (B, H)")
    (B, _, D), H = dx.shape, dh0.shape[1]
    if (dh0.shape[0] != B or dw_ih.shape != (D, H) or dw_hh.shape != (H, H)
            or db.shape != (H,)):
        raise ValueError("the shapes do not fit together")
    return np.concatenate([np.ravel(a) for a in (dx, dh0, dw_ih, dw_hh, db)])


def _sequence_case(B, T, D, H, zero_state=False, last_step_only=False):
    """Random ``(dhs, x, h0, hs, w_ih, w_hh)``, ``hs`` computed by ``rnn_forward``."""
    x = _rng.standard_normal((B, T, D))
    h0 = np.zeros((B, H)) if zero_state else np.tanh(_rng.standard_normal((B, H)))
    w_ih = _rng.standard_normal((D, H)) / np.sqrt(D)
    w_hh = _rng.standard_normal((H, H)) / np.sqrt(H)
    hs, _ = rnn_forward(x, h0, w_ih, w_hh, 0.5 * _rng.standard_normal(H))
    dhs = _rng.standard_normal((B, T, H))
    if last_step_only:
        dhs[:, :-1] = 0.0
    return dhs, x, h0, hs, w_ih, w_hh


rnn_bptt = Exercise(
    "rnn_bptt",
    reference=_reference_rnn_bptt,
    cases=[
        Case(_sequence_case(2, 4, 3, 3), "B = 2 and T = 4 with D = H = 3"),
        Case(_sequence_case(3, 5, 4, 2), "B = 3 and T = 5 with D = 4 ≠ H = 2"),
        Case(_sequence_case(1, 3, 2, 4), "a batch of one"),
        Case(_sequence_case(2, 6, 3, 4, last_step_only=True),
             "a loss on the last step only (many-to-one)"),
        Case(_sequence_case(3, 4, 2, 3, zero_state=True), "h0 = 0"),
        Case(_sequence_case(2, 1, 3, 2), "a sequence of one step (T = 1)"),
    ],
    mistakes=[
        Mistake(lambda *a: _bptt(*a, carry=False),
                "each step used only its own dhs[:, t]: h_t also fed step t+1, so its total "
                "gradient adds what that step sends back, "
                "dh_t = dhs[:, t] + da_{t+1} @ w_hh.T. Carry it in a variable from one step "
                "of the loop to the next (it starts at zero after the last step)"),
        Mistake(lambda *a: _bptt(*a, through_tanh=False),
                "you skipped tanh's derivative: h_t = tanh(a_t), so "
                "da_t = dh_t * (1 - h_t**2) (h_t is in hs, no need to recompute a_t); every "
                "gradient after that uses da_t, not dh_t"),
        Mistake(lambda *a: _bptt(*a, accumulate=False),
                "dw_ih, dw_hh and db kept only one step's contribution (the last one the "
                "loop visited, t = 0): every step used the same weights, so add up the "
                "contributions of all steps, dw_hh += h_{t-1}.T @ da_t and so on"),
        Mistake(lambda *a: _bptt(*a, transpose=False),
                "the gradient goes back through w_hh transposed: a_t = ... + h_{t-1} @ w_hh, "
                "so da_t sends da_t @ w_hh.T to h_{t-1}, (B, H) @ (H, H). Square, w_hh itself "
                "fits the shapes but is a different matrix"),
        Mistake(lambda *a: _bptt(*a, backwards=False),
                "the loop walks forwards in time: step t needs the gradient that step t+1 "
                "sends back, so start at the last step and go down, "
                "for t in range(T - 1, -1, -1)"),
        Mistake(lambda *a: _bptt(*a, previous_state=False),
                "dw_hh pairs da_t with h_t; the weight multiplies the PREVIOUS state, "
                "a_t = x_t @ w_ih + h_{t-1} @ w_hh + b, so dw_hh = sum over t of "
                "h_{t-1}.T @ da_t, with h0 for the first step"),
        Mistake(lambda *a: _bptt(*a, wrap_around=True),
                "at t = 0 the previous state is h0, not hs[:, t - 1]: in Python hs[:, -1] is "
                "the LAST state, so dw_hh got h_{T-1}.T @ da_0 where it needs h0.T @ da_0"),
        Mistake(lambda *a: _bptt(*a, dh0_through_w_hh=False),
                "dh0 is the gradient of the initial state h0, which feeds the first step "
                "through w_hh: dh0 = da_1 @ w_hh.T (what the loop carries after its last "
                "iteration), not dh_1, the gradient of the first step's own state"),
    ],
    adapt=_five_gradients,
    parts=("dx", "dh0", "dw_ih", "dw_hh", "db"),
    adapt_hint="return five arrays (dx, dh0, dw_ih, dw_hh, db), shaped like x (B, T, D), "
               "h0 (B, H), w_ih (D, H), w_hh (H, H) and b (H,)",
    # a correct answer computed in float32 is accepted: about 1e-7 off, far from every mistake
    rtol=1e-5, atol=1e-6,
)


# ---------------------------------------------------------- clip_by_global_norm


def _global_norm(grads):
    return np.sqrt(sum(np.sum(np.square(g)) for g in grads))


def _clip(grads, max_norm, norm=_global_norm, always=False):
    total = norm(grads)
    scale = max_norm / total if always or total > max_norm else 1.0
    return [g * scale for g in grads]


def _flat_list(out):
    """A list (or tuple) of arrays as one flat array."""
    if not isinstance(out, tuple | list) or any(g is None for g in out):
        raise ValueError("not a list of arrays")
    return np.concatenate([np.ravel(np.asarray(g, dtype=float)) for g in out])


def _gradient_list(scale, D=3, H=4, sizes=(1.0, 2.0, 0.5)):
    """Gradients shaped like an RNN's ``[dw_ih, dw_hh, db]``, of different sizes."""
    shapes = [(D, H), (H, H), (H,)]
    return [scale * size * _rng.standard_normal(shape) / np.sqrt(np.prod(shape))
            for size, shape in zip(sizes, shapes)]


clip_by_global_norm = Exercise(
    "clip_by_global_norm",
    reference=_clip,
    cases=[
        Case((_gradient_list(2.0), 1.0), "three arrays with a global norm about 6 > max_norm = 1"),
        Case((_gradient_list(0.3), 1.0), "a global norm below max_norm (unchanged)"),
        Case(([_rng.standard_normal((3, 3))], 0.5), "a single array and max_norm = 0.5"),
        Case((_gradient_list(500.0, D=2, H=3), 1.0), "an exploding gradient (norm about 1000)"),
    ],
    mistakes=[
        Mistake(lambda grads, max_norm: [np.clip(g, -max_norm, max_norm) for g in grads],
                "that clips every entry to [-max_norm, max_norm] (clipping by value): it "
                "changes the gradient's direction. Clipping by norm rescales ALL the arrays by "
                "one factor, max_norm / ||g||, so the direction stays"),
        Mistake(lambda grads, max_norm: [_clip([g], max_norm)[0] for g in grads],
                "each array was clipped by its own norm: that changes the direction of the "
                "whole gradient. The norm is global, over every entry of every array, "
                "||g|| = sqrt(sum of all squares), and one factor scales them all"),
        Mistake(lambda grads, max_norm: _clip(grads, max_norm, norm=lambda gs: sum(
                    np.sqrt(np.sum(np.square(g))) for g in gs)),
                "the global norm is not the sum of the arrays' norms: it is the length of all "
                "the entries taken as one vector, ||g|| = sqrt(sum over arrays of "
                "sum(g**2))"),
        Mistake(lambda grads, max_norm: _clip(grads, max_norm, norm=lambda gs: sum(
                    np.sum(np.square(g)) for g in gs)),
                "take the square root: ||g|| = sqrt(sum over arrays of sum(g**2)); the sum of "
                "squares alone is ||g||²"),
        Mistake(lambda grads, max_norm: _clip(grads, max_norm, always=True),
                "a gradient whose norm is already at most max_norm must be left alone: rescale "
                "only when ||g|| > max_norm. Rescaling every gradient to length max_norm "
                "throws away the information in its size"),
    ],
    adapt=_flat_list,
    adapt_hint="return a list of arrays, one for each array in grads and shaped like it",
    # torch's clip_grad_norm_ divides by ||g|| + 1e-6: well within these tolerances
    rtol=1e-5, atol=1e-8,
)


# The published solutions, and which function there answers which exercise
# (tests/test_exercises.py checks every pair, and every listed mistake).
SOLUTIONS_FILE = "08_rnn.py"
EXERCISES = {"rnn_step": rnn_step, "rnn_bptt": rnn_bptt,
             "clip_by_global_norm": clip_by_global_norm}
