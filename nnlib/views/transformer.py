"""Views of trained transformers (notebook 12): what each head attends to, and what a
character transformer writes at a temperature.

* ``head_maps``: the attention weights of every head of a trained
  ``nnlib.models.transformer.Seq2SeqTransformer`` (the digit sorter) for digits you type:
  the encoder's self-attention, the decoder's masked self-attention, or the decoder's
  cross-attention to the input.
* ``transformer_sampler``: 200 characters sampled from a trained
  ``nnlib.models.transformer.CharTransformer``, run in numpy by ``NumpyCharTransformer`` with
  the from-scratch ``nnlib.attention`` functions and a key/value cache: a step costs
  some 0.1 ms, a call into torch some 0.5 ms or more, too slow for 200 steps a redraw.

Without a model each view trains a small one once (a few seconds, cached):
``small_sequence_model`` and ``small_char_transformer``.
"""

import functools
import math
from typing import NamedTuple

import numpy as np

from nnlib.attention import attention_entropy, causal_mask, multi_head_attention_forward
from nnlib.display.plotting import PALETTE, SEQUENTIAL_CMAP, new_figure
from nnlib.display.widgets import LiveView
from nnlib.layers import layernorm_forward
from nnlib.views.attention import stamps
from nnlib.views.rnn import Typewriter, sampling_explorer, typed_text

__all__ = ["small_sequence_model", "small_char_transformer", "NumpyCharTransformer",
           "TransformerState", "head_maps", "transformer_sampler", "MAP_KINDS"]

# Fallback training, on the CPU with one thread: the sorter reaches ~99% of test sequences
# right (about 10 s); the character model ~2.3 nats/char on held-out text in about 4 s (the
# unigram baseline: 3.08), with a 32-character context.
FALLBACK_SEQUENCE_RECIPE = {"steps": 250, "batch_size": 32, "n_layers": 2}
FALLBACK_CHAR_RECIPE = {"steps": 200, "batch_size": 16, "context": 32, "lr": 6e-3}


@functools.cache
def small_sequence_model(kind="sort"):
    """A ``Seq2SeqTransformer`` trained briefly on ``sequence_task(kind)`` (cached).

    ``fit_sequence_model`` with ``SEQUENCE_RECIPE`` cut to ``FALLBACK_SEQUENCE_RECIPE``,
    on the CPU: for the views and tests without a notebook's model.
    """
    from nnlib.models.transformer import SEQUENCE_RECIPE, fit_sequence_model

    recipe = SEQUENCE_RECIPE._replace(**FALLBACK_SEQUENCE_RECIPE)
    return fit_sequence_model(kind, recipe=recipe, device="cpu").model


@functools.cache
def small_char_transformer():
    """``(model, vocab)``: a ``CharTransformer`` trained briefly on Moby Dick (cached)."""
    from nnlib.models.transformer import CHAR_TRANSFORMER_RECIPE, fit_char_transformer

    recipe = CHAR_TRANSFORMER_RECIPE._replace(**FALLBACK_CHAR_RECIPE)
    result = fit_char_transformer(recipe=recipe, device="cpu")
    return result.model, result.vocab


# --------------------------------------------------------------------------- head maps

MAP_KINDS = {
    "encoder self-attention": "encoder",
    "decoder self-attention": "decoder",
    "cross-attention": "cross",
}
_AXES = {
    "encoder": "rows: each input digit (query)  ·  columns: the input digits it reads (keys)",
    "decoder": "rows: the output digit being written  ·  columns: the decoder's inputs so far "
               "(^ = begin)",
    "cross": "rows: the output digit being written  ·  columns: the input digits it reads",
}


def _check_answer(digits, answer, kind):
    """``"✓ sorted"``, or ``"✗ (sorted: 0123)"`` with the right answer; ``""`` for another task."""
    if kind not in ("sort", "reverse"):
        return ""
    done = "sorted" if kind == "sort" else "reversed"
    expected = "".join(sorted(digits)) if kind == "sort" else digits[::-1]
    return f"✓ {done}" if answer == expected else f"✗ ({done}: {expected})"


def head_maps(model=None, kind="sort", digits="3141592"):
    """Every head's attention weights in a trained digit sorter, for digits you type.

    Args:
        model: a trained ``nnlib.models.transformer.Seq2SeqTransformer``
            (``fit_sequence_model("sort").model``); ``None`` trains a small one with two
            layers (a few seconds, cached).
        kind: the task it learned, ``"sort"`` or ``"reverse"``: the title checks the
            answer against it.
        digits: the digits shown at first.

    Controls: a row to read (outlined in every head, its largest weight written above
    the head), the layer (when the model has more than one), which attention (the
    encoder's self-attention, the decoder's masked self-attention, the decoder's
    cross-attention to the input) and the digits. One heatmap per head, rows attending
    to columns (each row sums to 1), with the mean entropy of its rows. The title holds
    the model's greedy answer. Characters other than digits are dropped; at most
    ``model.max_len`` digits are read.
    """
    import ipywidgets as W
    import torch
    from matplotlib.transforms import blended_transform_factory

    from nnlib.models.transformer import BOS, decode

    model = small_sequence_model(kind) if model is None else model
    model.eval()
    device = next(model.parameters()).device
    n_heads, n_layers = model.encoder[0].attn.n_heads, len(model.encoder)
    L = model.max_len

    fig, axes = new_figure(1, n_heads, figsize=(3.0 * n_heads + 0.8, 4.2))
    axes = np.atleast_1d(axes)
    fig.get_layout_engine().set(rect=(0, 0.07, 1, 0.84))
    typewriter = Typewriter(size=12)
    panels = []
    for i, ax in enumerate(axes):
        image = ax.imshow(np.full((1, 1), np.nan), cmap=SEQUENTIAL_CMAP, vmin=0, vmax=1,
                          aspect="equal", interpolation="nearest")
        ax.set(xticks=[], yticks=[])
        ax.set_ylabel(" ", labelpad=8)  # room for the row labels, stamped by `rows`
        ax.set_xlabel(" ", labelpad=4)
        ax.grid(False)
        ax.set_title(f"head {i + 1}", loc="left", fontsize=11, pad=30)
        left = blended_transform_factory(ax.transAxes, ax.transData)
        under = blended_transform_factory(ax.transData, ax.transAxes)
        rows = stamps(ax, typewriter, left, ha="right")
        columns = stamps(ax, typewriter, under, va="top")
        outline, = ax.plot([], [], color=PALETTE["vermillion"], lw=2.5)
        note = typed_text(ax, typewriter, (0.0, 1.005), va="bottom")
        panels.append((ax, image, rows, columns, outline, note))
    fig.colorbar(panels[-1][1], ax=axes, fraction=0.02, pad=0.02, label="attention weight")
    title = typed_text(axes[0], Typewriter(size=15, bold=True), (0.01, 0.99),
                       transform=fig.transFigure)
    legend = typed_text(axes[0], typewriter, (0.01, 0.015), transform=fig.transFigure,
                        va="bottom")
    answers = {}  # digits -> (answer, maps): a new row, layer or kind reuses them
    shown = {}

    def run(kept):
        if kept not in answers:
            if len(answers) > 256:
                answers.clear()
            src = torch.as_tensor([[int(c) for c in kept]], device=device)
            answer = model.generate(src)[0]
            tgt_in = torch.as_tensor([[BOS, *answer[:-1]]], device=device)
            answers[kept] = decode(answer), model.attention_maps(src, tgt_in)
        return answers[kept]

    def update(row, attention, digits, layer=1):
        messages = []
        kept = "".join(c for c in digits if c in "0123456789")
        dropped = list(dict.fromkeys(c for c in digits if c not in "0123456789"))
        if dropped:
            messages.append(f"{' '.join(dropped[:5])}{' …' if len(dropped) > 5 else ''} "
                            f"dropped: the model reads digits 0-9 only")
        if len(kept) > L:
            messages.append(f"the model reads at most {L} digits: showing the first {L}")
            kept = kept[:L]
        if not kept:
            messages.append("type a few digits for the model to sort")
            for _, image, rows, columns, outline, note in panels:
                image.set_data(np.full((1, 1), np.nan))
                rows.set_items([])
                columns.set_items([])
                outline.set_data([], [])
                note.set_text("")
            title.set_text("input: nothing to read")
            legend.set_text("; ".join(messages), colour=PALETTE["vermillion"])
            shown.clear()
            return "; ".join(messages)
        answer, maps = run(kept)
        layer = int(min(max(layer, 1), n_layers))
        weights = maps[attention][layer - 1][0]  # (h, Tq, Tk)
        queries = list(kept) if attention == "encoder" else list(answer)
        keys = list(kept) if attention != "decoder" else ["^", *answer[:-1]]
        Tq, Tk = weights.shape[1:]
        r = int(min(max(row, 1), Tq)) - 1
        if row > Tq:
            messages.append(f"row {row} is past the last of {Tq} rows: showing row {Tq}")
        shown.update(weights=weights, answer=answer, digits=kept, row=r)
        box = ([-0.5, Tk - 0.5, Tk - 0.5, -0.5, -0.5], [r - 0.5, r - 0.5, r + 0.5, r + 0.5,
                                                        r - 0.5])
        for (ax, image, rows, columns, outline, note), w in zip(panels, weights):
            masked = np.tril(np.ones((Tq, Tk), bool)) if attention == "decoder" else None
            image.set_data(w if masked is None else np.where(masked, w, np.nan))
            image.set_extent((-0.5, Tk - 0.5, Tq - 0.5, -0.5))
            ax.set(xlim=(-0.5, max(Tk, 4) - 0.5), ylim=(max(Tq, 4) - 0.5, -0.5))
            rows.set_items([(-0.02, i, label, "0.1") for i, label in enumerate(queries)])
            columns.set_items([(j, -0.02, label, "0.1") for j, label in enumerate(keys)])
            outline.set_data(*box)
            best = int(np.argmax(w[r]))
            note.set_text(f"entropy {attention_entropy(w).mean():.2f} nats\n"
                          f"row {r + 1} ({queries[r]}): {w[r, best]:.0%} on "
                          f"{keys[best]} (col {best + 1})")
        where = f"   (layer {layer} of {n_layers})" if n_layers > 1 else ""
        title.set_text(f"input {kept} → output {answer} {_check_answer(kept, answer, kind)}"
                       f"{where}")
        legend.set_text("; ".join(messages) or _AXES[attention],
                        colour=PALETTE["vermillion"] if messages else "0.1")
        return "; ".join(messages) or None

    controls = {
        "row": W.IntSlider(value=1, min=1, max=L, description="row"),
        "attention": W.Dropdown(options=list(MAP_KINDS.items()), value="cross",
                                description="attention"),
        "digits": W.Text(value=digits, description="digits", continuous_update=True,
                         layout=W.Layout(width="260px")),
    }
    if n_layers > 1:
        controls["layer"] = W.IntSlider(value=1, min=1, max=n_layers, description="layer")
    dynamic = [a for ax, image, rows, columns, outline, note in panels
               for a in (image, rows, columns, outline, note)]
    view = LiveView(fig, update, controls, title="attention heads",
                    dynamic=[*dynamic, title, legend])
    view.shown = shown
    return view


# --------------------------------------------------------------------------- numpy char model


class TransformerState(NamedTuple):
    """What a ``NumpyCharTransformer`` has read: enough to go on without reading it again."""

    ids: np.ndarray  # (t,) the ids in the window, at most the model's context
    keys: list  # per layer (h, d, context), transposed for q @ K^T; t columns are filled
    values: list  # per layer (h, context, d); t rows are filled
    residual: np.ndarray  # (E,) the last position's vector after the last block


def _numpy(p):
    return p.detach().cpu().double().numpy()


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

    The interface of ``nnlib.views.rnn.NumpyCharModel`` (``start``, ``step``, ``read``,
    ``logits``, ``sample``), so the same sampling code drives either kind of model.

    * ``read(ids)`` runs the whole window at once, as in training: the causal
      ``nnlib.attention.multi_head_attention_forward`` in each block; it keeps every
      layer's keys and values.
    * Each further step computes the new position only: its query attends to the
      cached keys and values and its own, all that the causal mask allows it, so the
      result is the full forward's, to rounding (tests/test_views_attention.py).
    * Positions stop at the model's ``context``; when the window is full, its last
      ``context // 2`` ids are read again from position 0 (the model trained on windows
      that start anywhere in the book). torch's ``CharTransformer.step`` slides the
      window by one instead, recomputing all of it at every step: the same logits
      while the window is not full, slightly different after.

    A step costs some 50 µs: float64 copies of the weights, each layer norm folded into
    the matrix after it (``_Norm``) and ``1/sqrt(d)`` into the query projection.
    """

    def __init__(self, model):
        from nnlib.models.transformer import numpy_attention_params

        self.context = model.context
        self.embed = _numpy(model.embed.weight)  # (V, E)
        self.pe = _numpy(model.pe)  # (context, E)
        self.width = E = self.embed.shape[1]
        self.blocks = []
        for block in model.blocks:
            attn = block.attn
            h = attn.n_heads
            params = numpy_attention_params(attn)  # w_q ... (E, E), b_q ... (E,)
            ln1 = (_numpy(block.ln1.weight), _numpy(block.ln1.bias), block.ln1.eps)
            ln2 = (_numpy(block.ln2.weight), _numpy(block.ln2.bias), block.ln2.eps)
            ff1, ff2 = block.ff[0], block.ff[2]
            ff = (_numpy(ff1.weight).T, _numpy(ff1.bias), _numpy(ff2.weight).T, _numpy(ff2.bias))
            scale = np.concatenate([np.full(E, 1 / math.sqrt(E // h)), np.ones(2 * E)])
            w_qkv = np.concatenate([params[f"w_{n}"] for n in "qkv"], axis=1) * scale  # (E, 3E)
            b_qkv = np.concatenate([params[f"b_{n}"] for n in "qkv"]) * scale
            self.blocks.append({
                "h": h, "ln1": ln1, "ln2": ln2, "ff": ff,
                "params": params,
                "qkv": _fold(ln1, w_qkv, b_qkv), "ff1": _fold(ln2, ff[0], ff[1]),
            })
        self.ln = (_numpy(model.ln.weight), _numpy(model.ln.bias), model.ln.eps)
        self.w_out, self.b_out = _numpy(model.out.weight).T, _numpy(model.out.bias)  # (E, V)
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
            e = np.exp(scores - scores.max())  # one shift for every head: exp stays finite
            heads = (e @ V[:, :t + 1]) / e.sum(axis=2, keepdims=True)  # (h, 1, d)
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


# --------------------------------------------------------------------------- sampler


def transformer_sampler(model=None, vocab=None, prompt="The sea was "):
    """Sample 200 characters from a trained character transformer at a temperature.

    ``sampling_explorer`` of notebook 08 with one model (see there for the controls
    and panels), run in numpy by ``NumpyCharTransformer``: the from-scratch attention
    with a key/value cache.

    Args:
        model: a trained ``nnlib.models.transformer.CharTransformer``
            (``fit_char_transformer().model``); ``None`` trains a small one on Moby Dick
            (a few seconds, cached).
        vocab: its ``CharVocab`` (``result.vocab``).
        prompt: the text the model reads before it writes.
    """
    if (model is None) != (vocab is None):
        raise ValueError("pass the trained model with its vocab (or neither)")
    if model is None:
        model, vocab = small_char_transformer()
    return sampling_explorer({"Transformer": model}, vocab, prompt)
