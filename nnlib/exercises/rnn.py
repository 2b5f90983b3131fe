"""Exercise of the RNN notebook: one step of a tanh RNN,
``h_t = tanh(x_t @ w_ih + h_prev @ w_hh + b)``."""

import numpy as np

from nnlib.activations import sigmoid
from nnlib.exercises import Case, Exercise, Mistake

__all__ = ["rnn_step", "gated_cell_cases"]

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

# The published solutions, and which function there answers which exercise
# (tests/test_exercises.py checks every pair, and every listed mistake).
SOLUTIONS_FILE = "08_rnn.py"
EXERCISES = {"rnn_step": rnn_step}
