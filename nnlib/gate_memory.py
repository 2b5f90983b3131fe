"""How long gated cells remember: the experiments behind the LSTM and GRU views, in numpy.

* LSTM (notebook 09): the cell state carries what was written into it forward by one
  multiplication per step, ``c_t = f_t * c_{t-1} + i_t * g_t``, so what was written at
  step 0 is still there at step ``t`` times ``f_1 * f_2 * ... * f_t``. If the forget gate
  sat exactly at ``sigmoid(b_f)`` that product would be ``sigmoid(b_f) ** t``, and the
  content would fall to ``1/e`` after ``-1 / ln sigmoid(b_f)`` steps
  (:func:`theory_memory`). :func:`forget_memory` measures the real product in a small
  random LSTM, whose gate also hears the input; :func:`memory_curve` does it for every
  bias at once.
* GRU (notebook 10): the update gate blends the old state with a new candidate,
  ``h_t = (1 - z_t) * n_t + z_t * h_{t-1}``; :func:`gru_blend` runs a small GRU on an
  :func:`input_signal` and returns every gate.

Both run ``nnlib.rnn``'s forward passes; the views in ``nnlib.views.lstm`` and
``nnlib.views.gru`` draw the results.
"""

from typing import NamedTuple

import numpy as np

from nnlib.rnn import gru_forward, lstm_forward

__all__ = ["LSTM_STEPS", "LSTM_UNITS", "BIASES", "theory_memory", "ForgetMemory",
           "forget_memory", "memory_curve", "GRU_STEPS", "GRU_UNITS", "SIGNALS", "SIGNAL_START",
           "input_signal", "GRUBlend", "gru_blend"]

LSTM_STEPS = 100  # steps of the forget-memory experiment
LSTM_UNITS = 8  # units of its LSTM
BIASES = np.arange(-4.0, 8.0 + 1e-9, 0.5)  # the forget biases of memory_curve (the slider's)
GRU_STEPS = 40  # steps of the GRU blend
GRU_UNITS = 3  # units of its GRU
SIGNALS = ("step", "pulse", "noisy sine")
SIGNAL_START = 8  # where the step and the pulse begin


# --------------------------------------------------------------------------- LSTM


def theory_memory(bias):
    """Steps until ``sigmoid(bias) ** t`` falls to ``1/e``: ``-1 / ln sigmoid(bias)``.

    ``-ln sigmoid(b) = ln(1 + e^-b)``, written with ``log1p`` so that a large bias
    (a gate near 1) keeps its precision. For large ``b`` this is about
    ``1 / (1 - sigmoid(b)) = 1 + e^b`` steps.
    """
    return 1.0 / np.log1p(np.exp(-np.asarray(bias, dtype=float)))


def _lstm_network(seed):
    """A small random LSTM with 3 input channels: a pulse, other inputs, and a bias channel.

    Channel 0, the pulse, opens the input gate (weight +7 against its bias -3:
    ``sigmoid(4) = 0.98``) and writes ``g = +-tanh(1..2)`` into every unit at step 0;
    afterwards the input gate is almost shut (``sigmoid(-3) = 0.05``). Channel 1
    carries the "other inputs" (random weights into every gate). Channel 2 feeds the
    forget gate only, with weight 1: a constant ``b`` there is the same as a forget
    bias ``b``, so ``memory_curve`` runs every bias as one batch. The recurrent
    weights are small, so at zero input the forget gate stays near ``sigmoid(b_f)``.
    """
    H = LSTM_UNITS
    rng = np.random.default_rng(seed)
    w_ih = np.zeros((3, 4 * H))  # gates i, f, g, o side by side (torch's order)
    w_ih[0, :H] = 7.0
    w_ih[0, 2 * H:3 * H] = rng.choice([-1.0, 1.0], H) * rng.uniform(1.0, 2.0, H)
    w_ih[1] = rng.standard_normal(4 * H)
    w_ih[2, H:2 * H] = 1.0
    w_hh = rng.standard_normal((H, 4 * H)) * 0.2 / np.sqrt(H)
    b = np.zeros(4 * H)
    b[:H] = -3.0
    other = rng.standard_normal(LSTM_STEPS)  # the other inputs, before scaling by the noise control
    other[0] = 0.0
    return w_ih, w_hh, b, other


def _inputs(batch, noise, other):
    x = np.zeros((batch, LSTM_STEPS, 3))
    x[:, 0, 0] = 1.0  # the pulse
    x[:, :, 1] = noise * other
    return x


def _kept(forget):
    """Mean over units of ``f_1 * ... * f_t`` (1 at t = 0): ``(B, T)`` from gates ``(B, T, H)``."""
    kept = np.cumprod(forget[:, 1:], axis=1).mean(axis=2)
    return np.concatenate([np.ones((forget.shape[0], 1)), kept], axis=1)


def _memory_length(kept):
    """Steps until each row of ``kept (B, T)`` falls below ``1/e``, interpolated in log.

    Between two steps the log of a product of gates changes linearly, so the crossing
    is found exactly for a constant gate. A row that never falls below ``1/e`` in the
    steps drawn is extrapolated at its average rate: ``-(T - 1) / ln kept[T - 1]``.
    """
    log_kept = np.log(np.maximum(kept, 1e-300))
    below = log_kept < -1.0
    last = log_kept.shape[1] - 1
    memory = np.empty(len(kept))
    for row, (logs, mask) in enumerate(zip(log_kept, below)):
        if mask.any():
            t = int(mask.argmax())  # first step below 1/e (t >= 1: kept[0] = 1)
            memory[row] = t - 1 + (logs[t - 1] + 1.0) / (logs[t - 1] - logs[t])
        else:
            memory[row] = -last / min(logs[last], -1e-12)
    return memory


class ForgetMemory(NamedTuple):
    steps: np.ndarray  # (T,), 0 .. T-1
    cell: np.ndarray  # (T, H), c_t / c_0 for every unit: the written value, normalised
    forget: np.ndarray  # (T, H), the forget gates f_t from lstm_forward's cache
    kept: np.ndarray  # (T,), mean over units of f_1 ... f_t: what is left of step 0's content
    theory: np.ndarray  # (T,), sigmoid(bias) ** t
    memory: float  # measured steps until kept < 1/e
    theory_memory: float  # -1 / ln sigmoid(bias)


def forget_memory(bias, noise=0.0, seed=0):
    """Write a pulse into a small LSTM at step 0 and watch it fade: measured and theory.

    The LSTM (8 units, random weights from ``seed``) has its forget-gate bias (the
    second block of ``b``, torch's gate order ``i, f, g, o``) set to ``bias``. It
    reads a pulse at step 0, then ``noise`` times random inputs for 99 more steps
    (``noise = 0``: zeros, and the forget gate stays close to ``sigmoid(bias)``).

    Returns a ``ForgetMemory``: the cell states normalised by what was written at
    step 0, the forget gates, the fraction of that content still there (the mean
    over units of the product of forget gates), the theory ``sigmoid(bias) ** t``,
    and both memory lengths (steps until the content falls below ``1/e``).
    """
    w_ih, w_hh, b, other = _lstm_network(seed)
    b[LSTM_UNITS:2 * LSTM_UNITS] = bias  # the forget gate's bias block
    x = _inputs(1, noise, other)
    zeros = np.zeros((1, LSTM_UNITS))
    _, cache = lstm_forward(x, zeros, zeros, w_ih, w_hh, b)
    forget = cache.gate("f")
    kept = _kept(forget)
    steps = np.arange(LSTM_STEPS)
    theory = np.exp(-steps / theory_memory(bias))  # sigmoid(b)^t without underflow warnings
    return ForgetMemory(steps, cache.cs[0] / cache.cs[0, 0], forget[0], kept[0], theory,
                        float(_memory_length(kept)[0]), float(theory_memory(bias)))


def memory_curve(noise=0.0, seed=0, biases=BIASES):
    """Measured memory length (steps to ``1/e``) for every forget bias in ``biases``.

    The same network and inputs as ``forget_memory(bias, noise, seed)``, all biases
    in one batch (the bias enters through the network's bias channel, see
    ``_lstm_network``); each entry equals ``forget_memory(bias, noise, seed).memory``.
    """
    w_ih, w_hh, b, other = _lstm_network(seed)
    biases = np.asarray(biases, dtype=float)
    x = _inputs(len(biases), noise, other)
    x[:, :, 2] = biases[:, None]
    zeros = np.zeros((len(biases), LSTM_UNITS))
    _, cache = lstm_forward(x, zeros, zeros, w_ih, w_hh, b)
    return _memory_length(_kept(cache.gate("f")))


# --------------------------------------------------------------------------- GRU


def input_signal(signal, seed=0):
    """The input sequence ``(T,)``: ``"step"`` (0, then 1 from step 8), ``"pulse"`` (1 for
    steps 8-10) or ``"noisy sine"`` (period 16, noise from ``seed``)."""
    t = np.arange(GRU_STEPS)
    if signal == "step":
        return (t >= SIGNAL_START).astype(float)
    if signal == "pulse":
        return ((t >= SIGNAL_START) & (t < SIGNAL_START + 3)).astype(float)
    if signal == "noisy sine":
        rng = np.random.default_rng(1000 + seed)
        return np.sin(2 * np.pi * t / 16) + 0.25 * rng.standard_normal(GRU_STEPS)
    raise ValueError(f"signal must be one of {SIGNALS}, got {signal!r}")


def _gru_network(seed):
    """A random GRU with one input: unit 0's candidate follows the input closely."""
    H = GRU_UNITS
    rng = np.random.default_rng(seed)
    w_ih = np.zeros((1, 3 * H))  # gates r, z, n side by side (torch's order)
    w_ih[0, :H] = 0.5 * rng.standard_normal(H)
    w_ih[0, H:2 * H] = 0.5 * rng.standard_normal(H)  # the input nudges z a little
    w_ih[0, 2 * H:] = rng.choice([-1.0, 1.0], H) * rng.uniform(1.0, 2.0, H)
    w_ih[0, 2 * H] = 2.0  # unit 0: n = tanh(2 x + ...) tracks the input
    w_hh = rng.standard_normal((H, 3 * H)) / np.sqrt(H)
    return w_ih, w_hh


class GRUBlend(NamedTuple):
    x: np.ndarray  # (T,), the input
    r: np.ndarray  # (T, H), the reset gate
    z: np.ndarray  # (T, H), the update gate
    n: np.ndarray  # (T, H), the candidate
    h: np.ndarray  # (T, H), the new state h_t
    h_prev: np.ndarray  # (T, H), the old state h_{t-1} (h_{-1} = 0)


def gru_blend(signal="step", z_bias=1.0, r_bias=0.0, seed=0):
    """Run a small GRU (3 units, random weights from ``seed``) on ``input_signal(signal)``.

    The update gate's bias (the second block of ``b_ih``, torch's gate order ``r, z, n``)
    is ``z_bias`` and the reset gate's (the first block) is ``r_bias``; ``b_hh`` is zero.
    Returns a ``GRUBlend`` with the gates, the candidate and the old and new states from
    ``gru_forward``'s cache: ``h == (1 - z) * n + z * h_prev`` holds step by step.
    """
    x = input_signal(signal, seed)
    w_ih, w_hh = _gru_network(seed)
    b_ih, b_hh = np.zeros(3 * GRU_UNITS), np.zeros(3 * GRU_UNITS)
    b_ih[:GRU_UNITS], b_ih[GRU_UNITS:2 * GRU_UNITS] = r_bias, z_bias
    hs, cache = gru_forward(x[None, :, None], np.zeros((1, GRU_UNITS)), w_ih, w_hh, b_ih, b_hh)
    h = hs[0]
    h_prev = np.concatenate([np.zeros((1, GRU_UNITS)), h[:-1]])
    return GRUBlend(x, cache.gate("r")[0], cache.gate("z")[0], cache.gate("n")[0], h, h_prev)
