"""Numpy inference of trained character models: the samplers behind the text views.

A trained torch character model is copied to float64 numpy arrays once
(``nnlib.models.convert.char_model_weights`` and ``char_transformer_weights``,
or ``numpy_twin`` for both steps) and then run here, one character at a time:

* :class:`NumpyCharModel`: an RNN, LSTM or GRU ``CharModel``, with the cell equations
  of ``nnlib.rnn``;
* :class:`NumpyCharTransformer`: a ``CharTransformer``, with ``nnlib.attention`` for a
  whole window and a key/value cache for each further character;
* :func:`temperature_softmax`: the next-character distribution at a temperature, and
  its entropy; :func:`char_lstm_forward`: an LSTM's gates over a text, for plotting.

A numpy step costs tens of microseconds where a call into torch costs hundreds: the
difference between a sampling view that redraws in 50 ms and one that takes a third
of a second. Numpy only.
"""

import math
from typing import NamedTuple

import numpy as np

from nnlib.activations import log_softmax, softmax
from nnlib.attention import causal_mask, multi_head_attention_forward
from nnlib.layers import layernorm_forward
from nnlib.rnn import lstm_forward

__all__ = ["CharModelWeights", "BlockWeights", "CharTransformerWeights", "NumpyCharModel",
           "NumpyCharTransformer", "TransformerState", "temperature_softmax",
           "char_lstm_forward"]


class CharModelWeights(NamedTuple):
    """A character RNN, LSTM or GRU as float64 arrays, in ``nnlib.rnn``'s layout."""

    cell: str  # "rnn", "lstm" or "gru"
    embed: np.ndarray  # (V, D), one row per character
    recurrent: tuple  # (w_ih, w_hh, b), or (w_ih, w_hh, b_ih, b_hh) for the GRU
    w_out: np.ndarray  # (H, V)
    b_out: np.ndarray  # (V,)


class BlockWeights(NamedTuple):
    """One transformer block: ``x + attn(ln1(x))``, then ``x + ff(ln2(x))``."""

    n_heads: int
    ln1: tuple  # (gain, bias, eps)
    attention: dict  # w_q, w_k, w_v, w_o (E, E) and b_q, b_k, b_v, b_o (E,)
    ln2: tuple
    w1: np.ndarray  # (E, F)
    b1: np.ndarray  # (F,)
    w2: np.ndarray  # (F, E)
    b2: np.ndarray  # (E,)


class CharTransformerWeights(NamedTuple):
    """A decoder-only character transformer as float64 arrays."""

    context: int  # the most positions it reads
    embed: np.ndarray  # (V, E)
    pe: np.ndarray  # (context, E), the positional encoding
    blocks: list  # of BlockWeights
    ln: tuple  # the final layer norm
    w_out: np.ndarray  # (E, V)
    b_out: np.ndarray  # (V,)


def char_lstm_forward(weights, ids):
    """Run a character LSTM over the ids ``(T,)`` from zero states: ``lstm_forward``'s
    ``(hs (1, T, H), cache)``, with the gates in ``cache.gate("f")`` and the cells in
    ``cache.cs``. The input at each step is the character's embedding row.

    ``weights``: the ``CharModelWeights`` of an LSTM."""
    w_ih, w_hh, b = weights.recurrent
    x = weights.embed[np.asarray(ids)][None]  # (1, T, D)
    zeros = np.zeros((1, w_hh.shape[0]))
    return lstm_forward(x, zeros, zeros, w_ih, w_hh, b)


class NumpyCharModel:
    """A trained ``CharModel`` (RNN, LSTM or GRU) run in numpy, one step at a time.

    Float64 copies of the weights and the cell's equations for one sequence, as in
    ``nnlib.rnn``'s forward functions (torch's gate orders: LSTM ``i, f, g, o``, GRU
    ``r, z, n``). A step costs some 20 µs, a call into torch some 500 µs: the
    difference between a sampling view that redraws in 50 ms and one that takes a
    third of a second. Two rearrangements, exact up to rounding, save numpy calls:

    * the embedding, the input weights and the biases fold into one table,
      ``x_table[k] = embed[k] @ w_ih + b_ih (+ b_hh)``: a character's input term is a row;
    * ``sigmoid(a) = (1 + tanh(a / 2)) / 2``: with the sigmoid gates' columns halved
      once, a single ``tanh`` per step serves every gate.
    """

    def __init__(self, weights):
        self.cell, H = weights.cell, weights.recurrent[1].shape[0]
        w_ih, w_hh, *biases = weights.recurrent  # (D, GH), (H, GH)
        # The GRU's b_hn sits inside r * (...), so it keeps b_hh apart; elsewhere biases add.
        b_hh = biases[1] if self.cell == "gru" else np.zeros(w_hh.shape[1])
        x_table = weights.embed @ w_ih + biases[0]  # (V, GH)
        scale = np.ones(w_hh.shape[1])
        if self.cell == "lstm":
            scale[:2 * H] = scale[3 * H:] = 0.5  # i, f and o are sigmoids, g a tanh
        elif self.cell == "gru":
            scale[:2 * H] = 0.5  # r and z are sigmoids, n a tanh
        self.x_table, self.w_hh, self.b_hh = x_table * scale, w_hh * scale, b_hh * scale
        self.w_out, self.b_out = weights.w_out, weights.b_out  # (H, V)
        self.hidden = H

    def start(self):
        """The zero state: ``(h,)``, or ``(h, c)`` for an LSTM."""
        zeros = np.zeros(self.hidden)
        return (zeros, zeros) if self.cell == "lstm" else (zeros,)

    def _next(self, token, recurrent, state):
        """The state after ``token``, given ``recurrent = h @ w_hh`` (scaled columns)."""
        H, x = self.hidden, self.x_table[token]
        if self.cell == "rnn":
            return (np.tanh(x + recurrent),)
        if self.cell == "lstm":
            t = np.tanh(x + recurrent)  # i, f, o as tanh(a / 2); g as tanh(a)
            s = 0.5 * t + 0.5
            c = s[H:2 * H] * state[1] + s[:H] * t[2 * H:3 * H]  # c = f * c + i * g
            return s[3 * H:] * np.tanh(c), c  # h = o * tanh(c)
        recurrent = recurrent + self.b_hh
        s = 0.5 * np.tanh(x[:2 * H] + recurrent[:2 * H]) + 0.5  # r, z
        n = np.tanh(x[2 * H:] + s[:H] * recurrent[2 * H:])
        return (n + s[H:] * (state[0] - n),)  # h = (1 - z) * n + z * h

    def step(self, token, state):
        """The state after reading character id ``token`` in ``state``."""
        return self._next(token, state[0] @ self.w_hh, state)

    def read(self, ids, state=None):
        """The state after reading the ids ``(T,)``, from ``state`` (zero by default)."""
        state = self.start() if state is None else state
        for token in ids:
            state = self.step(token, state)
        return state

    def logits(self, state):
        """Scores ``(V,)`` for the next character."""
        return state[0] @ self.w_out + self.b_out

    def sample(self, state, noise, temperature):
        """Ids of ``len(noise)`` characters written from ``state``, one at a time.

        Each is ``argmax(logits / temperature + noise[k])``: with ``noise (L, V)``
        standard Gumbel draws this is a draw from ``softmax(logits / temperature)``
        (the Gumbel-max trick), and the same noise gives the same text.
        """
        GH = self.w_hh.shape[1]
        w = np.concatenate([self.w_hh, self.w_out / temperature], axis=1)  # one product a step
        noise = noise + self.b_out / temperature
        out = np.empty(len(noise), dtype=np.int64)
        for k in range(len(noise)):
            z = state[0] @ w
            out[k] = token = int(np.argmax(z[GH:] + noise[k]))
            state = self._next(token, z[:GH], state)
        return out


def temperature_softmax(logits, temperature=1.0):
    """``softmax(logits / temperature)`` and its entropy in nats."""
    log_p = log_softmax(np.asarray(logits, dtype=np.float64) / temperature)
    p = np.exp(log_p)
    return p, float(-(p * log_p).sum())


class TransformerState(NamedTuple):
    """What a ``NumpyCharTransformer`` has read: enough to go on without reading it again."""

    ids: np.ndarray  # (t,) the ids in the window, at most the model's context
    keys: list  # per layer (h, d, context), transposed for q @ K^T; t columns are filled
    values: list  # per layer (h, context, d); t rows are filled
    residual: np.ndarray  # (E,) the last position's vector after the last block


def _layer_norm(x, gain, bias, eps):
    return layernorm_forward(x, gain, bias, eps)[0]


class _Norm(NamedTuple):
    """A layer norm folded into the matrix after it: ``ln(x) @ w + b = (x @ a) * inv + c``.

    ``a = centre @ (gain * w)`` (``centre = I - 1/E`` takes the mean off),
    ``c = bias @ w + b``, and ``inv = 1 / sqrt(var(x) + eps)`` is computed from two dot
    products, ``var = x.x / E - (sum x / E)^2``.
    """

    a: np.ndarray  # (E, M)
    c: np.ndarray  # (M,)
    eps: float


def _fold(norm, w, b):
    gain, bias, eps = norm
    E = len(gain)
    centre = np.eye(E) - 1.0 / E
    return _Norm(centre @ (gain[:, None] * w), bias @ w + b, eps)


class NumpyCharTransformer:
    """A trained ``nnlib.models.transformer.CharTransformer`` run in numpy, with a key/value cache.

    The interface of ``NumpyCharModel`` (``start``, ``step``, ``read``,
    ``logits``, ``sample``), so the same sampling code drives either kind of model.

    * ``read(ids)`` runs the whole window at once, as in training: the causal
      ``nnlib.attention.multi_head_attention_forward`` in each block; it keeps every
      layer's keys and values.
    * Each further step computes the new position only: its query attends to the
      cached keys and values and its own, all that the causal mask allows it, so the
      result is the full forward's, to rounding (tests/test_sampling.py).
    * Positions stop at the model's ``context``; when the window is full, its last
      ``context // 2`` ids are read again from position 0 (the model trained on windows
      that start anywhere in the book). torch's ``CharTransformer.step`` slides the
      window by one instead, recomputing all of it at every step: the same logits
      while the window is not full, slightly different after.

    A step costs some 50 µs: float64 copies of the weights, each layer norm folded into
    the matrix after it (``_Norm``) and ``1/sqrt(d)`` into the query projection.
    """

    def __init__(self, weights):
        self.context = weights.context
        self.embed, self.pe = weights.embed, weights.pe  # (V, E), (context, E)
        self.width = E = self.embed.shape[1]
        self.blocks = []
        for block in weights.blocks:
            h, params = block.n_heads, block.attention  # w_q ... (E, E), b_q ... (E,)
            ff = (block.w1, block.b1, block.w2, block.b2)
            scale = np.concatenate([np.full(E, 1 / math.sqrt(E // h)), np.ones(2 * E)])
            w_qkv = np.concatenate([params[f"w_{n}"] for n in "qkv"], axis=1) * scale  # (E, 3E)
            b_qkv = np.concatenate([params[f"b_{n}"] for n in "qkv"]) * scale
            self.blocks.append({
                "h": h, "ln1": block.ln1, "ln2": block.ln2, "ff": ff,
                "params": params,
                "qkv": _fold(block.ln1, w_qkv, b_qkv), "ff1": _fold(block.ln2, ff[0], ff[1]),
            })
        self.ln = weights.ln
        self.w_out, self.b_out = weights.w_out, weights.b_out  # (E, V)
        self.out = _fold(self.ln, self.w_out, self.b_out)
        self.ones = np.ones(E)

    def _empty_cache(self):
        E, C = self.width, self.context
        return ([np.zeros((b["h"], E // b["h"], C)) for b in self.blocks],
                [np.zeros((b["h"], C, E // b["h"])) for b in self.blocks])

    def start(self):
        """Nothing read yet (``logits`` needs at least one id read)."""
        keys, values = self._empty_cache()
        return TransformerState(np.zeros(0, dtype=np.int64), keys, values, None)

    def read(self, ids, state=None):
        """The state after reading ``ids (T,)`` (after ``state``'s ids, if given).

        The window is the last ``context`` ids; they run through every block at once.
        """
        ids = np.asarray(ids, dtype=np.int64)
        if state is not None and len(state.ids):
            ids = np.concatenate([state.ids, ids])
        if len(ids) == 0:
            return self.start() if state is None else state
        ids = ids[-self.context:]
        T = len(ids)
        x = (self.embed[ids] + self.pe[:T])[None]  # (1, T, E)
        mask = causal_mask(T)
        keys, values = self._empty_cache()
        for layer, block in enumerate(self.blocks):
            a = _layer_norm(x, *block["ln1"])
            out, cache = multi_head_attention_forward(a, a, block["params"], block["h"], mask)
            keys[layer][:, :, :T] = cache.attention.k[0].transpose(0, 2, 1)  # (h, d, T)
            values[layer][:, :T] = cache.attention.v[0]  # (h, T, d)
            x = x + out
            w1, b1, w2, b2 = block["ff"]
            x = x + np.maximum(_layer_norm(x, *block["ln2"]) @ w1 + b1, 0.0) @ w2 + b2
        return TransformerState(ids, keys, values, x[0, -1])

    def _inv_std(self, x, eps):
        """``1 / sqrt(var(x) + eps)`` from two dot products."""
        E = self.width
        mean = (x @ self.ones) / E
        return 1.0 / math.sqrt(x @ x / E - mean * mean + eps)

    def _advance(self, token, t, keys, values):
        """The residual vector of position ``t`` reading ``token``; fills the caches' ``t``."""
        E = self.width
        x = self.embed[token] + self.pe[t]  # (E,)
        for block, K, V in zip(self.blocks, keys, values):
            h = block["h"]
            d = E // h
            norm = block["qkv"]
            qkv = (x @ norm.a) * self._inv_std(x, norm.eps) + norm.c  # ln1, then q, k, v
            K[:, :, t] = qkv[E:2 * E].reshape(h, d)
            V[:, t] = qkv[2 * E:].reshape(h, d)
            scores = qkv[:E].reshape(h, 1, d) @ K[:, :, :t + 1]  # (h, 1, t+1), / sqrt(d)
            heads = softmax(scores, axis=-1) @ V[:, :t + 1]  # (h, 1, d)
            p = block["params"]
            x = x + heads.reshape(E) @ p["w_o"] + p["b_o"]
            norm = block["ff1"]
            f = np.maximum((x @ norm.a) * self._inv_std(x, norm.eps) + norm.c, 0.0)
            x = x + f @ block["ff"][2] + block["ff"][3]
        return x

    def step(self, token, state):
        """The state after reading character id ``token`` in ``state`` (left unchanged)."""
        t = len(state.ids)
        if t == self.context:  # the window is full: read its second half again
            return self.read(np.append(state.ids[-(self.context // 2):], token))
        keys, values = [k.copy() for k in state.keys], [v.copy() for v in state.values]
        x = self._advance(int(token), t, keys, values)
        return TransformerState(np.append(state.ids, token), keys, values, x)

    def logits(self, state):
        """Scores ``(V,)`` for the next character."""
        if state.residual is None:
            raise ValueError("read at least one id before asking for logits")
        return _layer_norm(state.residual, *self.ln) @ self.w_out + self.b_out

    def sample(self, state, noise, temperature):
        """Ids of ``len(noise)`` characters written from ``state``, one at a time.

        Each is ``argmax(logits / temperature + noise[k])``: with standard Gumbel
        ``noise (L, V)`` a draw from ``softmax(logits / temperature)`` (the Gumbel-max
        trick), as in ``NumpyCharModel.sample``.
        """
        if state.residual is None:
            raise ValueError("read at least one id before sampling")
        noise = noise + self.out.c / temperature
        ids = list(state.ids)
        t = len(ids)
        keys, values = [k.copy() for k in state.keys], [v.copy() for v in state.values]
        x = state.residual
        out = np.empty(len(noise), dtype=np.int64)
        for n in range(len(noise)):
            z = (x @ self.out.a) * (self._inv_std(x, self.out.eps) / temperature)
            out[n] = token = int(np.argmax(z + noise[n]))
            ids.append(token)
            if n + 1 == len(noise):
                break
            if t == self.context:
                state = self.read(ids[-(self.context // 2) - 1:])
                ids, t = list(state.ids), len(state.ids)
                keys, values, x = state.keys, state.values, state.residual
            else:
                x = self._advance(token, t, keys, values)
                t += 1
        return out
