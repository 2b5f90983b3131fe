"""Transformers in torch for notebook 12: attention, blocks, a character model.

The numpy functions of ``nnlib.attention`` compute one attention by hand; here
the same computation is a torch module that trains:

* ``MultiHeadAttention(d_model, n_heads)``: the projections ``q, k, v, o``;
  ``nnlib.models.convert.attention_params(attn)`` hands its weights to
  ``nnlib.attention.multi_head_attention_forward``, which gives the same output.
* ``EncoderBlock`` and ``DecoderBlock``: pre-norm residual blocks,
  ``x = x + attn(ln(x))`` then ``x = x + ff(ln(x))``.
* ``CharTransformer(vocab_size, ...)``: decoder-only, a causal mask; trains on a
  book with ``fit_char_transformer`` and writes text with ``nnlib.models.recurrent.sample``.
* the encoder-decoder that learns to sort (or reverse) digits is in
  ``nnlib.models.seq2seq``, its task in ``nnlib.data.sequences``.
* ``step_time_comparison()``: the time of one training step of a transformer and
  of an LSTM as the sequence grows: the LSTM must walk its steps one after another,
  the transformer computes every position at once. ``operation_chains()`` counts
  that without a clock: the longest chain of operations that must run one after
  another (``autograd_depth``), which grows with ``T`` for the LSTM and not at all
  for the transformer.

Masks are boolean and True means "may attend", as in ``nnlib.attention`` and
``torch.nn.functional.scaled_dot_product_attention``. Token embeddings are *not*
multiplied by ``sqrt(E)`` before the positions are added (the original paper
does; at these sizes it makes no difference we could measure, and it keeps the
sum easy to read). Dropout is 0 everywhere. Every model is seeded; nothing
random is left unseeded, so a run on the same machine repeats exactly. Shapes:
``B`` batch, ``T`` positions, ``E`` model width, ``h`` heads, ``V`` vocabulary.
"""

import math
import time
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nnlib.attention import causal_mask, sinusoidal_positional_encoding
from nnlib.models.convert import to_numpy
from nnlib.models.training import resolve_device

__all__ = ["autograd_depth", "OperationChains", "operation_chains", "MultiHeadAttention",
           "EncoderBlock", "DecoderBlock", "CharTransformer",
           "CharTransformerRecipe", "CHAR_TRANSFORMER_RECIPE", "fit_char_transformer",
           "StepTimes", "step_time_comparison", "positions", "as_ids_tensor",
           "block_widths"]


# --------------------------------------------------------------------------- attention


class MultiHeadAttention(nn.Module):
    """``h`` scaled dot-product attentions of width ``d = E / h``, side by side.

    ``Q = x_q W_q^T + b_q``, ``K = x_kv W_k^T + b_k``, ``V = x_kv W_v^T + b_v`` (torch's
    ``nn.Linear`` stores ``W`` as ``(out, in)``: ``nnlib.attention``'s ``w_q`` is its
    transpose); each is split into ``h`` heads, every head computes
    ``softmax(Q K^T / sqrt(d)) V``, and ``o`` projects the concatenated heads back.

    Attributes:
        q, k, v, o: ``nn.Linear(E, E)``, with bias.
    """

    def __init__(self, d_model, n_heads):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"n_heads must divide d_model = {d_model}, got n_heads = {n_heads}")
        self.d_model, self.n_heads = d_model, n_heads
        self.q, self.k, self.v, self.o = (nn.Linear(d_model, d_model) for _ in range(4))

    def _split(self, x):
        B, T, E = x.shape
        return x.view(B, T, self.n_heads, E // self.n_heads).transpose(1, 2)  # (B, h, T, d)

    def forward(self, x_q, x_kv, mask=None, need_weights=False):
        """Attend from ``x_q (B, Tq, E)`` to ``x_kv (B, Tk, E)``.

        Args:
            mask: boolean, broadcastable to ``(B, h, Tq, Tk)``, True = may attend
                (e.g. ``torch.tril(...)`` for causal, or a key padding mask
                ``(B, 1, 1, Tk)``). A query with every key masked gets weights of
                zero and an output of ``o``'s bias, as in ``nnlib.attention``.
            need_weights: also return the attention weights. Without it the fast
                fused ``F.scaled_dot_product_attention`` runs; with it an explicit
                softmax (the two agree to rounding, tests/test_transformer.py).

        Returns:
            ``out (B, Tq, E)`` and ``weights (B, h, Tq, Tk)`` (or None).
        """
        B, Tq, E = x_q.shape
        if x_kv.ndim != 3 or x_kv.shape[0] != B or x_kv.shape[2] != E:
            raise ValueError(f"x_kv must have shape ({B}, Tk, {E}) to match x_q of shape "
                             f"{tuple(x_q.shape)}, got {tuple(x_kv.shape)}")
        if mask is not None and mask.dtype != torch.bool:
            raise TypeError(f"mask must be boolean (True = may attend), got {mask.dtype}")
        q, k, v = self._split(self.q(x_q)), self._split(self.k(x_kv)), self._split(self.v(x_kv))
        if need_weights:
            scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])  # (B, h, Tq, Tk)
            if mask is not None:
                scores = scores.masked_fill(~mask, -math.inf)
            weights = torch.softmax(scores, dim=-1)
            if mask is not None:  # a fully masked row is NaN after the softmax: make it 0
                weights = weights.masked_fill(~mask, 0.0)
            heads = weights @ v  # (B, h, Tq, d)
        else:
            weights = None
            heads = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            if mask is not None:  # fully masked rows: zeros, as with the explicit softmax
                heads = heads.masked_fill(~mask.any(-1, keepdim=True), 0.0)
        heads = heads.transpose(1, 2).reshape(B, Tq, E)  # concatenate the heads
        return self.o(heads), weights


# --------------------------------------------------------------------------- blocks


def _feed_forward(d_model, d_ff):
    return nn.Sequential(nn.Linear(d_model, d_ff), nn.ReLU(), nn.Linear(d_ff, d_model))


class EncoderBlock(nn.Module):
    """Pre-norm: ``x = x + attn(ln1(x))``, then ``x = x + ff(ln2(x))``.

    Used with a causal mask it is a decoder-only (GPT-style) block too.
    ``forward(x, mask=None, need_weights=False) -> (x, weights)``.
    """

    def __init__(self, d_model, n_heads, d_ff):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads)
        self.ln2 = nn.LayerNorm(d_model)
        self.ff = _feed_forward(d_model, d_ff)

    def forward(self, x, mask=None, need_weights=False):
        a = self.ln1(x)
        out, weights = self.attn(a, a, mask, need_weights)
        x = x + out
        return x + self.ff(self.ln2(x)), weights


class DecoderBlock(nn.Module):
    """Masked self-attention, cross-attention to the encoder's output, feed-forward.

    ``x = x + self_attn(ln1(x))``, ``x = x + cross_attn(ln2(x), memory)``,
    ``x = x + ff(ln3(x))``. ``forward(x, memory, self_mask, cross_mask,
    need_weights=False) -> (x, self_weights, cross_weights)``.
    """

    def __init__(self, d_model, n_heads, d_ff):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.self_attn = MultiHeadAttention(d_model, n_heads)
        self.ln2 = nn.LayerNorm(d_model)
        self.cross_attn = MultiHeadAttention(d_model, n_heads)
        self.ln3 = nn.LayerNorm(d_model)
        self.ff = _feed_forward(d_model, d_ff)

    def forward(self, x, memory, self_mask=None, cross_mask=None, need_weights=False):
        a = self.ln1(x)
        out, self_weights = self.self_attn(a, a, self_mask, need_weights)
        x = x + out
        out, cross_weights = self.cross_attn(self.ln2(x), memory, cross_mask, need_weights)
        x = x + out
        return x + self.ff(self.ln3(x)), self_weights, cross_weights


def positions(T, E):
    """The sinusoidal positional encoding ``(T, E)`` as a float32 tensor."""
    return torch.as_tensor(sinusoidal_positional_encoding(T, E), dtype=torch.float32)


def as_ids_tensor(ids, name, device):
    """``ids`` as an int64 ``(B, T)`` tensor on ``device``, or a clear error naming ``name``."""
    if not torch.is_tensor(ids):
        array = np.asarray(ids)
        if array.dtype.kind not in "iu":
            raise TypeError(f"{name} must hold integer token ids, got dtype {array.dtype}")
        ids = torch.as_tensor(array, dtype=torch.int64)
    elif ids.dtype.is_floating_point or ids.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer token ids, got {ids.dtype}")
    if ids.ndim != 2:
        raise ValueError(f"{name} must have shape (B, T), got {tuple(ids.shape)}")
    return ids.to(device)


# --------------------------------------------------------------------------- character model


class CharTransformer(nn.Module):
    """A decoder-only transformer: ``(B, T)`` ids -> ``(B, T, V)`` next-token logits.

    ``embed(ids) + pe[:T]`` -> ``n_layers`` blocks with a causal mask -> ``ln`` ->
    ``out``. Position ``t`` sees positions ``0..t`` only, so all ``T`` predictions of
    a window train at once. ``T`` may be at most ``context``.

    Attributes:
        embed (``nn.Embedding(V, E)``), pe (buffer ``(context, E)``), blocks
        (``nn.ModuleList`` of ``EncoderBlock``), ln (``nn.LayerNorm(E)``),
        out (``nn.Linear(E, V)``), context.
    """

    def __init__(self, vocab_size, d_model=64, n_heads=4, n_layers=2, d_ff=256, context=64,
                 seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.vocab_size, self.context = vocab_size, context
        self.embed = nn.Embedding(vocab_size, d_model)
        self.register_buffer("pe", positions(context, d_model))
        self.blocks = nn.ModuleList(EncoderBlock(d_model, n_heads, d_ff)
                                    for _ in range(n_layers))
        self.ln = nn.LayerNorm(d_model)
        self.out = nn.Linear(d_model, vocab_size)

    def _run(self, ids, need_weights=False):
        ids = as_ids_tensor(ids, "ids", self.pe.device)
        B, T = ids.shape
        if T > self.context:
            raise ValueError(f"ids hold {T} positions, more than the model's context of "
                             f"{self.context}; crop to the last {self.context}")
        mask = torch.as_tensor(causal_mask(T), device=ids.device)  # (T, T)
        x = self.embed(ids) + self.pe[:T]  # (B, T, E)
        maps = []
        for block in self.blocks:
            x, weights = block(x, mask, need_weights)
            maps.append(weights)
        return self.out(self.ln(x)), maps  # (B, T, V)

    def forward(self, ids):
        return self._run(ids)[0]

    def step(self, x, state=None):
        """Logits for the positions of ``x (B, t)``, having read ``state`` before it.

        The state is simply the ids so far, cropped to the last ``context``: each
        call recomputes the whole window (no key/value cache: simple, and fast
        enough at this size). When ``x`` alone is longer than the context, the
        logits cover its last ``context`` positions. Works with
        ``nnlib.models.recurrent.sample``.
        """
        x = as_ids_tensor(x, "x", self.pe.device)
        ids = x if state is None else torch.cat([state, x], dim=1)
        ids = ids[:, -self.context:]
        logits = self.forward(ids)
        return logits[:, -min(x.shape[1], self.context):], ids

    def attention_maps(self, ids):
        """One numpy ``(B, h, T, T)`` array of attention weights per layer (eval, no grad)."""
        with torch.no_grad():
            return [to_numpy(w) for w in self._run(ids, need_weights=True)[1]]


# --------------------------------------------------------------------------- text


class CharTransformerRecipe(NamedTuple):
    corpus: str  # nnlib.data.TEXT_NAMES
    d_model: int
    n_heads: int
    n_layers: int
    d_ff: int
    context: int  # characters per training window (and the most the model reads)
    batch_size: int
    steps: int  # optimizer steps, one pass over steps * batch_size random windows
    lr: float
    clip_grad_norm: float
    val_windows: int  # fixed windows of the held-out end of the book


CHAR_TRANSFORMER_RECIPE = CharTransformerRecipe(
    corpus="moby_dick", d_model=64, n_heads=4, n_layers=1, d_ff=128, context=32,
    batch_size=32, steps=500, lr=5e-3, clip_grad_norm=1.0, val_windows=256)


def fit_char_transformer(seed=0, recipe=CHAR_TRANSFORMER_RECIPE, progress=None, device=None):
    """Train a ``CharTransformer`` on a shipped book, as ``nnlib.models.recurrent.fit_char_model``.

    Training windows of ``recipe.context`` characters are drawn from the first 90%
    of the book; the validation loss (nats per character) is measured on fixed
    windows of the last 10%. Returns a ``nnlib.models.recurrent.CharResult``.
    """
    from nnlib.data.text import char_dataset, random_windows
    from nnlib.models.recurrent import CharResult
    from nnlib.models.training import train_classifier

    data = char_dataset(recipe.corpus)
    model = CharTransformer(len(data.vocab), recipe.d_model, recipe.n_heads, recipe.n_layers,
                            recipe.d_ff, recipe.context, seed=seed)
    x, y = random_windows(data.train_ids, recipe.context, recipe.steps * recipe.batch_size,
                          seed=seed)
    x_val, y_val = random_windows(data.val_ids, recipe.context, recipe.val_windows, seed=0)
    result = train_classifier(model, x, y, epochs=1, batch_size=recipe.batch_size,
                              lr=recipe.lr, x_val=x_val, y_val=y_val, seed=seed,
                              device=resolve_device(device), progress=progress,
                              val_name="validation", clip_grad_norm=recipe.clip_grad_norm,
                              updates_per_epoch=30, progress_in_steps=True)
    return CharResult(model, data.vocab, result.val_loss[-1], result.seconds, result.curve)


# --------------------------------------------------------------------------- timing


class StepTimes(NamedTuple):
    lengths: tuple
    transformer_ms: list  # one training step, the fastest of the rounds
    lstm_ms: list


def _train_step(model, optimizer, x, y):
    loss = F.cross_entropy(model(x).reshape(-1, model.vocab_size), y.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def step_time_comparison(lengths=(32, 64, 128, 256, 512), width=64, batch=16, rounds=5,
                         seed=0, device=None, threads=1):
    """Milliseconds per training step (forward, backward, Adam) as the sequence grows.

    A ``CharTransformer(d_model=width, n_layers=1, d_ff=2 * width)`` and a
    ``nnlib.models.recurrent.CharModel(cell="lstm", hidden=width, embedding=width)`` train
    on the same random ids (vocabulary 64) of each length. The rounds interleave
    the two models and every length, and each time is the minimum over ``rounds``
    (the least disturbed by whatever else runs on the machine). Compare growth,
    not absolute numbers: ``transformer_ms[-1] / transformer_ms[0]`` against
    ``lstm_ms[-1] / lstm_ms[0]``.

    ``threads``: on the CPU, how many threads torch may use while timing (restored
    afterwards); 1 measures the work itself, the same on every machine.

    What to expect depends on the hardware. The LSTM must walk its ``T`` steps one
    after another whatever the machine; the transformer computes all positions at
    once, but its attention does ``T^2`` work. On a GPU the transformer's positions
    run in parallel and its step time stays nearly flat while the LSTM's grows
    with ``T``. On a single CPU core nothing runs in parallel: the LSTM's time grows
    about linearly and the transformer's faster than linearly once the ``T^2``
    attention dominates (at 256-512 positions here).
    """
    from nnlib.models.recurrent import CharModel

    device = resolve_device(device)
    V = 64
    lengths = tuple(int(t) for t in lengths)
    models = {
        "transformer": CharTransformer(V, d_model=width, n_heads=4, n_layers=1, d_ff=2 * width,
                                       context=max(lengths), seed=seed).to(device),
        "lstm": CharModel(V, hidden=width, cell="lstm", embedding=width, seed=seed).to(device),
    }
    optimizers = {name: torch.optim.Adam(m.parameters(), lr=1e-3) for name, m in models.items()}
    generator = torch.Generator().manual_seed(seed)
    data = {T: (torch.randint(0, V, (batch, T), generator=generator).to(device),
                torch.randint(0, V, (batch, T), generator=generator).to(device))
            for T in lengths}
    best = {name: {T: math.inf for T in lengths} for name in models}
    previous_threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(int(threads))
    try:
        for name, model in models.items():  # warm up: the first call pays for allocations
            _train_step(model, optimizers[name], *data[lengths[0]])
        for _ in range(rounds):
            for T in lengths:
                for name, model in models.items():
                    if device.type == "cuda":
                        torch.cuda.synchronize()
                    start = time.perf_counter()
                    _train_step(model, optimizers[name], *data[T])
                    if device.type == "cuda":
                        torch.cuda.synchronize()
                    best[name][T] = min(best[name][T], 1000 * (time.perf_counter() - start))
    finally:
        torch.set_num_threads(previous_threads)
    return StepTimes(lengths, [best["transformer"][T] for T in lengths],
                     [best["lstm"][T] for T in lengths])


def autograd_depth(output):
    """The longest chain of operations in ``output``'s autograd graph (torch).

    Each node of the graph is one operation (a matrix product, an addition, a
    sigmoid, ...); an operation must wait for the operations its inputs come from.
    The depth is the number of operations on the longest such chain: what must run one
    after another however many arithmetic units work in parallel. The backward pass
    walks the same chain in reverse. Counted without a clock, so it is the same on every
    machine.
    """
    if not isinstance(output, torch.Tensor) or output.grad_fn is None:
        raise ValueError("output must be a tensor computed from parameters that require "
                         "gradients (it has no autograd graph)")
    depth = {}
    stack = [(output.grad_fn, False)]
    while stack:  # iterative post-order: a 512-step LSTM is deeper than Python's recursion
        node, children_done = stack.pop()
        if node in depth:
            continue
        children = [child for child, _ in node.next_functions if child is not None]
        if children_done:
            depth[node] = 1 + max((depth[child] for child in children), default=0)
        else:
            stack.append((node, True))
            stack.extend((child, False) for child in children if child not in depth)
    return depth[output.grad_fn]


class OperationChains(NamedTuple):
    lengths: tuple
    transformer: list  # autograd_depth of a CharTransformer's logits, one per length
    lstm: list  # the same for an LSTM, unrolled one step at a time
    layers: tuple  # the transformer's layer counts in transformer_by_layers
    transformer_by_layers: list  # its depth at lengths[0] for each layer count


def operation_chains(lengths=(32, 64, 128, 256, 512), width=64, layers=(1, 2, 3), seed=0):
    """How many operations must run one after another for a forward pass, by length.

    A ``CharTransformer(d_model=width, n_layers=1)`` (causal, as in
    :func:`step_time_comparison`), and an embedding, an ``nn.LSTMCell(width, width)``
    stepped over the ``T`` positions (the arithmetic of ``nn.LSTM``, written as the loop
    it is) and a dense layer. Returns the :func:`autograd_depth` of each model's logits
    for a batch of 2 windows of each length, and the transformer's for each layer count in
    ``layers``. Expect the LSTM's to grow by a fixed number of operations per position and
    the transformer's to stay the same at every length, growing only with its layers.
    """
    lengths = tuple(int(t) for t in lengths)
    V = 64
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    embed, cell, out = nn.Embedding(V, width), nn.LSTMCell(width, width), nn.Linear(width, V)

    def lstm_logits(ids):
        x = embed(ids)  # (B, T, E)
        h = c = torch.zeros(len(ids), width)
        states = []
        for t in range(ids.shape[1]):  # each step needs the previous step's h and c
            h, c = cell(x[:, t], (h, c))
            states.append(h)
        return out(torch.stack(states, dim=1))

    def transformer(n_layers):
        return CharTransformer(V, d_model=width, n_heads=4, n_layers=n_layers, d_ff=2 * width,
                               context=max(lengths), seed=seed)

    one_layer = transformer(1)
    chains = {"transformer": [], "lstm": []}
    for T in lengths:
        ids = torch.randint(0, V, (2, T), generator=generator)
        chains["transformer"].append(autograd_depth(one_layer(ids)))
        chains["lstm"].append(autograd_depth(lstm_logits(ids)))
    ids = torch.randint(0, V, (2, lengths[0]), generator=generator)
    by_layers = [autograd_depth(transformer(n)(ids)) for n in layers]
    return OperationChains(lengths, chains["transformer"], chains["lstm"], tuple(layers),
                           by_layers)


def block_widths(block):
    """The widths of a trained ``EncoderBlock`` or ``DecoderBlock``, read from its layers:
    ``{"E": model width, "h": heads, "d": width per head, "d_ff": feed-forward width}``
    (what ``nnlib.display.diagrams.transformer_block`` writes on its boxes)."""
    attn = block.attn if hasattr(block, "attn") else block.self_attn
    E = block.ln1.normalized_shape[0]
    return {"E": E, "h": attn.n_heads, "d": E // attn.n_heads, "d_ff": block.ff[0].out_features}
