"""An encoder-decoder transformer in torch that learns to sort (or reverse) digits (notebook 12).

``Seq2SeqTransformer`` is built from the ``EncoderBlock`` and ``DecoderBlock`` of
``nnlib.models.transformer``; ``fit_sequence_model`` trains it on
``nnlib.data.sequences.sequence_task`` with ``SEQUENCE_RECIPE`` and tests it with greedy
decoding. Every model is seeded.
"""

from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from nnlib.attention import causal_mask
from nnlib.data.sequences import BOS, DIGITS, PAD, VOCAB_SIZE, sequence_task
from nnlib.models.convert import to_numpy
from nnlib.models.training import resolve_device
from nnlib.models.transformer import DecoderBlock, EncoderBlock, as_ids_tensor, positions

__all__ = ["Seq2SeqTransformer", "SequenceRecipe", "SEQUENCE_RECIPE", "SequenceResult",
           "fit_sequence_model"]


class Seq2SeqTransformer(nn.Module):
    """An encoder-decoder transformer (Vaswani et al., 2017), pre-norm, small.

    The encoder reads ``src`` (self-attention, PAD keys masked); the decoder reads
    ``tgt_in`` with a causal mask and attends to the encoder's output
    (cross-attention, PAD keys masked). Source and target have their own
    embeddings (``src_embed``, ``tgt_embed``) over the same vocabulary and share
    the positions ``pe``.

    Attributes:
        src_embed, tgt_embed (``nn.Embedding(V, E)``), pe (buffer ``(max_len, E)``),
        encoder (``nn.ModuleList`` of ``EncoderBlock``), decoder (of
        ``DecoderBlock``), enc_ln, dec_ln (``nn.LayerNorm(E)``), out
        (``nn.Linear(E, V)``), max_len.
    """

    def __init__(self, vocab_size=VOCAB_SIZE, d_model=64, n_heads=4, n_layers=2, d_ff=128,
                 max_len=8, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.vocab_size, self.max_len = vocab_size, max_len
        self.src_embed = nn.Embedding(vocab_size, d_model)
        self.tgt_embed = nn.Embedding(vocab_size, d_model)
        self.register_buffer("pe", positions(max_len, d_model))
        self.encoder = nn.ModuleList(EncoderBlock(d_model, n_heads, d_ff)
                                     for _ in range(n_layers))
        self.decoder = nn.ModuleList(DecoderBlock(d_model, n_heads, d_ff)
                                     for _ in range(n_layers))
        self.enc_ln = nn.LayerNorm(d_model)
        self.dec_ln = nn.LayerNorm(d_model)
        self.out = nn.Linear(d_model, vocab_size)

    def _check(self, ids, name):
        ids = as_ids_tensor(ids, name, self.pe.device)
        if ids.shape[1] > self.max_len:
            raise ValueError(f"{name} holds {ids.shape[1]} positions, more than max_len = "
                             f"{self.max_len}")
        return ids

    def encode_source(self, src, need_weights=False):
        """``src (B, S)`` -> the encoder's output ``(B, S, E)``, its key mask, its weights."""
        src = self._check(src, "src")
        keys = (src != PAD)[:, None, None, :]  # (B, 1, 1, S): PAD positions are never read
        x = self.src_embed(src) + self.pe[:src.shape[1]]
        maps = []
        for block in self.encoder:
            x, weights = block(x, keys, need_weights)
            maps.append(weights)
        return self.enc_ln(x), keys, maps

    def decode_target(self, memory, keys, tgt_in, need_weights=False):
        """Logits ``(B, T, V)`` for ``tgt_in (B, T)`` given the encoder's output."""
        tgt_in = self._check(tgt_in, "tgt_in")
        T = tgt_in.shape[1]
        mask = torch.as_tensor(causal_mask(T), device=tgt_in.device)
        x = self.tgt_embed(tgt_in) + self.pe[:T]
        self_maps, cross_maps = [], []
        for block in self.decoder:
            x, self_weights, cross_weights = block(x, memory, mask, keys, need_weights)
            self_maps.append(self_weights)
            cross_maps.append(cross_weights)
        return self.out(self.dec_ln(x)), self_maps, cross_maps

    def forward(self, src, tgt_in):
        """Teacher forcing: ``src (B, S)``, ``tgt_in (B, T)`` -> logits ``(B, T, V)``."""
        memory, keys, _ = self.encode_source(src)
        return self.decode_target(memory, keys, tgt_in)[0]

    def generate(self, src):
        """Greedy decoding: ``(B, S)`` ids -> ``(B, S)`` answer ids, one token at a time.

        Each step feeds back the most likely digit (PAD and BOS are never chosen at a
        real position); positions after each input's length are PAD. Returns a numpy
        int64 array.
        """
        was_training = self.training
        self.eval()
        with torch.no_grad():
            src = self._check(src, "src")
            B, S = src.shape
            memory, keys, _ = self.encode_source(src)
            tgt = torch.full((B, 1), BOS, dtype=torch.int64, device=src.device)
            for _ in range(S):
                logits = self.decode_target(memory, keys, tgt)[0][:, -1, :DIGITS]
                tgt = torch.cat([tgt, logits.argmax(-1, keepdim=True)], dim=1)
            out = torch.where(src != PAD, tgt[:, 1:], PAD)
        self.train(was_training)
        return out.cpu().numpy()

    def attention_maps(self, src, tgt_in):
        """The weights of every attention, numpy, one array per layer.

        Returns ``{"encoder": [(B, h, S, S)], "decoder": [(B, h, T, T)],
        "cross": [(B, h, T, S)]}``. ``cross[l][b, i, t, s]``: how much output
        position ``t`` reads input position ``s`` in head ``i`` of layer ``l``.
        """
        src, tgt_in = self._check(src, "src"), self._check(tgt_in, "tgt_in")
        with torch.no_grad():
            memory, keys, enc = self.encode_source(src, need_weights=True)
            _, dec, cross = self.decode_target(memory, keys, tgt_in, need_weights=True)
        return {"encoder": [to_numpy(w) for w in enc], "decoder": [to_numpy(w) for w in dec],
                "cross": [to_numpy(w) for w in cross]}


class _Packed(nn.Module):
    """``Seq2SeqTransformer`` taking ``[src | tgt_in]`` as one ``(B, S + T)`` array.

    ``nnlib.models.training.train_classifier`` feeds a model one input array; packing the
    two lets it train the encoder-decoder unchanged.
    """

    def __init__(self, model, src_len):
        super().__init__()
        self.model, self.src_len = model, src_len

    def forward(self, x):
        return self.model(x[:, :self.src_len], x[:, self.src_len:])


class SequenceRecipe(NamedTuple):
    max_len: int  # inputs have 1 .. max_len digits
    d_model: int
    n_heads: int
    n_layers: int
    d_ff: int
    steps: int  # optimizer steps, each on a fresh batch
    batch_size: int
    lr: float  # Adam, one-cycle peak
    clip_grad_norm: float


SEQUENCE_RECIPE = SequenceRecipe(max_len=8, d_model=32, n_heads=4, n_layers=1, d_ff=64,
                                 steps=550, batch_size=64, lr=5e-3, clip_grad_norm=1.0)


class SequenceResult(NamedTuple):
    model: object
    token_accuracy: float  # greedy decoding, 1,000 fresh test sequences, real positions only
    sequence_accuracy: float  # the share of test sequences answered entirely right
    seconds: float  # training time
    train_loss: list  # (step, training loss): 31 points over the run


def fit_sequence_model(kind="sort", seed=0, recipe=SEQUENCE_RECIPE, progress=None, device=None):
    """Train a ``Seq2SeqTransformer`` on ``sequence_task(kind)`` with ``recipe``.

    Every step sees a fresh batch; the loss is the cross-entropy of every target
    position (after a short input the right answer is PAD, which is easy). The
    test uses greedy decoding (``model.generate``), so a wrong digit is fed back
    and can spoil the rest: harder than the teacher-forced training.
    ``progress``: e.g. ``TrainingMonitor(recipe.steps, xlabel="step")``.
    """
    from nnlib.models.training import train_classifier

    device = resolve_device(device)
    model = Seq2SeqTransformer(VOCAB_SIZE, recipe.d_model, recipe.n_heads, recipe.n_layers,
                               recipe.d_ff, recipe.max_len, seed=seed)
    data = sequence_task(recipe.steps * recipe.batch_size, kind, seed=seed,
                         max_len=recipe.max_len)
    x = np.concatenate([data.src, data.tgt_in], axis=1)
    result = train_classifier(_Packed(model, recipe.max_len), x, data.tgt_out, epochs=1,
                              batch_size=recipe.batch_size, lr=recipe.lr, seed=seed,
                              device=device, progress=progress,
                              clip_grad_norm=recipe.clip_grad_norm, updates_per_epoch=30,
                              progress_in_steps=True)
    test = sequence_task(1000, kind, seed=10_000 + seed, max_len=recipe.max_len)
    answer = model.generate(test.src)
    real = test.src != PAD
    right = (answer == test.tgt_out) | ~real
    return SequenceResult(model, float(right[real].mean()), float(right.all(axis=1).mean()),
                          result.seconds, result.curve)
