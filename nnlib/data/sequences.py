"""Seeded sequence tasks for the recurrent and transformer notebooks, with padding and masks.

Two synthetic tasks that need a memory, generated on the spot (nothing to ship):

* :func:`recall_task`: read a symbol, then ``T - 2`` distractors, then a query:
  which symbol came first? One-hot inputs ``(n, T, n_symbols + 1)``, labels ``(n,)``.
* :func:`adding_problem`: Hochreiter & Schmidhuber's adding problem: add the two
  values that carry a marker. Inputs ``(n, T, 2)``, targets ``(n,)``.

Variable-length sequences in one batch (padding at the end, and a mask):

* :func:`pad_sequences`: a list of ``(T_b, D)`` arrays as one ``(B, T_max, D)``
  array, with the ``lengths`` and a boolean ``mask`` of the real steps;
* :func:`last_states`: each sequence's hidden state at its own last real step;
* :func:`masked_mean`: a per-step loss averaged over the real steps only.

And the digit task of the transformer notebook: :func:`sequence_task` (strings of digits
and their sorted or reversed version), with :func:`encode` and :func:`decode`.

Character data for language models is in :mod:`nnlib.data.text`.

Everything is numpy; the arrays go straight into ``torch.from_numpy`` (float32
inputs, int64 labels and ids). The same ``seed`` gives the same arrays.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from nnlib.checks import check_int, check_positive_int, seeded_rng

__all__ = [
    "recall_task",
    "recall_counting_accuracy",
    "adding_problem",
    "PaddedBatch",
    "pad_sequences",
    "last_states",
    "masked_mean",
    "DIGITS",
    "PAD",
    "BOS",
    "VOCAB_SIZE",
    "TASKS",
    "SequenceData",
    "sequence_task",
    "encode",
    "decode",
]


# --------------------------------------------------------------------------- synthetic tasks


def recall_task(n: int, T: int, n_symbols: int = 8, seed: int | None = 0):
    """Remember the first symbol: ``s, d_1, ..., d_{T-2}, ?`` -> ``s``.

    Step 0 holds a symbol ``s`` drawn uniformly from ``0 .. n_symbols-1``; steps
    ``1 .. T-2`` hold distractors drawn uniformly from the same symbols (``s`` among
    them). The last step holds a query token that asks for the answer. Predicting
    any fixed symbol is right with probability ``1 / n_symbols`` (chance, 12.5% for 8
    symbols). Noticing *which* symbols appeared helps only a little: ``s`` appears
    once more than the others on average, so guessing the most frequent symbol is
    right about 19% of the time for ``T = 60`` (:func:`recall_counting_accuracy`). To
    do better, a model must carry the first symbol across ``T - 1`` steps.

    A plain RNN trained on this typically loses the first symbol once ``T`` reaches a few
    tens of steps (its gradient through time vanishes); an LSTM or GRU keeps it.

    Args:
        n: number of sequences (>= 1).
        T: steps per sequence (>= 2: the symbol and the query).
        n_symbols: alphabet size (>= 2).
        seed: seed of the random generator (``None``: fresh randomness).

    Returns:
        ``x (n, T, n_symbols + 1)`` float32, one-hot per step; channel ``n_symbols``
        is the query flag, set only at the last step. ``y (n,)`` int64, the first symbol.

    Example::

        x, y = recall_task(1000, T=50)    # x (1000, 50, 9), y (1000,) in 0..7
        x[:, 0].argmax(1) == y            # the answer sits at step 0
    """
    n = check_int("n", n, 1)
    T = check_int("T", T, 2)
    n_symbols = check_int("n_symbols", n_symbols, 2)
    rng = seeded_rng(seed)
    tokens = rng.integers(0, n_symbols, size=(n, T))  # step 0 is s, steps 1..T-2 distractors
    tokens[:, -1] = n_symbols  # the query token
    x = np.eye(n_symbols + 1, dtype=np.float32)[tokens]  # (n, T, n_symbols + 1)
    return x, tokens[:, 0].astype(np.int64)


def recall_counting_accuracy(x, y) -> float:
    """How often the most frequent symbol of each sequence is the answer: the recall task's
    best guess without any memory of *where* a symbol appeared.

    ``x (n, T, n_symbols + 1)`` and ``y (n,)`` as :func:`recall_task` returns them; ties go
    to the smallest symbol. About 19% for ``T = 60`` and 8 symbols, against 12.5% chance: a
    model near chance has not even learned to count.
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 3 or x.shape[-1] < 3 or y.shape != x.shape[:1]:
        raise ValueError(f"x must be (n, T, n_symbols + 1) and y (n,), got {x.shape} and {y.shape}")
    counts = x[:, :, :-1].sum(axis=1)  # (n, n_symbols): occurrences of each symbol
    return float(np.mean(counts.argmax(axis=1) == y))


def adding_problem(n: int, T: int, seed: int | None = 0):
    """The adding problem (Hochreiter & Schmidhuber, 1997): sum the two marked values.

    Channel 0 holds values drawn uniformly from ``[0, 1)``; channel 1 is a marker,
    1 at exactly two steps (one drawn uniformly from the first half ``[0, T//2)``,
    one from the second half ``[T//2, T)``) and 0 elsewhere. The target is the sum
    of the two marked values, so the first one must be remembered for about
    ``T / 2`` steps.

    Baseline: the target has mean 1 and variance ``2 * 1/12``, so always predicting
    1.0 scores an MSE of ``1/6 ~ 0.167``; a model has learnt something only well
    below that.

    Args:
        n: number of sequences (>= 1).
        T: steps per sequence (>= 2).
        seed: seed of the random generator (``None``: fresh randomness).

    Returns:
        ``x (n, T, 2)`` float32 (value, marker) and ``y (n,)`` float32, the sum of
        the two marked values (in ``[0, 2)``).

    Example::

        x, y = adding_problem(1000, T=100)
        np.allclose((x[..., 0] * x[..., 1]).sum(1), y)
    """
    n = check_int("n", n, 1)
    T = check_int("T", T, 2)
    rng = seeded_rng(seed)
    values = rng.random((n, T), dtype=np.float32)  # float32 draws stay below 1.0
    first = rng.integers(0, T // 2, size=n)
    second = rng.integers(T // 2, T, size=n)
    rows = np.arange(n)
    marker = np.zeros((n, T), dtype=np.float32)
    marker[rows, first] = marker[rows, second] = 1.0
    y = values[rows, first] + values[rows, second]  # (n,) float32
    return np.stack([values, marker], axis=-1), y


# --------------------------------------------------------------------------- padding


class PaddedBatch(NamedTuple):
    """Sequences of different lengths in one array, padded at the end.

    Attributes:
        x: ``(B, T_max, D)`` (or ``(B, T_max)`` for sequences of ids): sequence ``b``
            in ``x[b, :lengths[b]]``, the pad value after it.
        lengths: ``(B,)`` int64, the number of real steps of each sequence.
        mask: ``(B, T_max)`` bool, True on real steps: ``mask[b, t] == (t < lengths[b])``.
    """

    x: np.ndarray
    lengths: np.ndarray
    mask: np.ndarray


def pad_sequences(sequences, pad_value=0.0) -> PaddedBatch:
    """Stack sequences of different lengths into one batch, padding each at its end.

    A recurrent network runs forward in time, so padding *after* the real steps
    cannot change the states at them: ``hs[b, :lengths[b]]`` of the padded batch
    are the states of sequence ``b`` run alone. What the padding does change is
    everything read at later steps, hence :func:`last_states` (not ``hs[:, -1]``)
    and :func:`masked_mean` (not a plain mean).

    Args:
        sequences: a non-empty list of ``B`` arrays, each ``(T_b, D)`` with the same
            ``D`` (features per step) or each ``(T_b,)`` (one id or value per step);
            every ``T_b >= 1``.
        pad_value: what fills the steps after a sequence's end (an integer for ids).

    Returns:
        ``PaddedBatch(x, lengths, mask)``; ``x`` keeps the sequences' common dtype
        (integer ids stay integers, other numbers become float64 unless all are float32).
        ``torch.nn.utils.rnn.pad_sequence(..., batch_first=True)`` pads the same way.

    Example::

        batch = pad_sequences([np.ones((3, 2)), np.ones((5, 2))])
        batch.x.shape, batch.lengths     # (2, 5, 2), array([3, 5])
        batch.mask[0]                    # [ True  True  True False False]
    """
    if isinstance(sequences, np.ndarray) or not isinstance(sequences, list | tuple):
        raise ValueError(f"sequences must be a list of arrays (T_b, D) or (T_b,), "
                         f"got {type(sequences).__name__}")
    if not sequences:
        raise ValueError("sequences must hold at least one sequence, got an empty list")
    arrays = [np.asarray(seq) for seq in sequences]
    for b, arr in enumerate(arrays):
        if arr.dtype == bool or arr.dtype.kind not in "iuf":
            raise ValueError(f"sequences[{b}] must hold real numbers, got dtype {arr.dtype}")
        if arr.ndim not in (1, 2):
            raise ValueError(f"sequences[{b}] must have shape (T_b, D) or (T_b,), "
                             f"got {arr.shape}")
        if arr.ndim != arrays[0].ndim or arr.shape[1:] != arrays[0].shape[1:]:
            expected = "(T_b,)" if arrays[0].ndim == 1 else f"(T_b, {arrays[0].shape[1]})"
            raise ValueError(f"sequences must all have the same feature size: sequences[0] "
                             f"has shape {arrays[0].shape}, so sequences[{b}] must be "
                             f"{expected}, got {arr.shape}")
        if len(arr) == 0:
            raise ValueError(f"sequences[{b}] must have at least one step, got shape "
                             f"{arr.shape}")
    if not isinstance(pad_value, numbers.Real) or isinstance(pad_value, bool):
        raise ValueError(f"pad_value must be a number, got {pad_value!r}")
    dtype = np.result_type(*arrays)
    if dtype.kind in "iu":
        if not float(pad_value).is_integer():
            raise ValueError(f"pad_value must be an integer for integer sequences (ids), "
                             f"got {pad_value!r}")
        dtype = np.dtype(np.int64)
    elif dtype != np.float32:
        dtype = np.dtype(np.float64)
    lengths = np.array([len(arr) for arr in arrays], dtype=np.int64)
    B, T_max = len(arrays), int(lengths.max())
    x = np.full((B, T_max, *arrays[0].shape[1:]), pad_value, dtype=dtype)
    for b, arr in enumerate(arrays):
        x[b, :len(arr)] = arr
    mask = np.arange(T_max) < lengths[:, None]  # (B, T_max)
    return PaddedBatch(x, lengths, mask)


def _check_lengths(lengths, B, T):
    """``lengths`` as ``(B,)`` int64 in ``1 .. T``; a ValueError naming it otherwise."""
    arr = np.asarray(lengths)
    if arr.shape != (B,) or arr.dtype == bool or arr.dtype.kind not in "iu":
        raise ValueError(f"lengths must be ({B},) integers, one per sequence, got "
                         f"shape {arr.shape} dtype {arr.dtype}")
    if arr.min() < 1 or arr.max() > T:
        bad = arr[(arr < 1) | (arr > T)][0]
        raise ValueError(f"lengths must be in 1 .. T = {T}, got {bad}")
    return arr.astype(np.int64, copy=False)


def last_states(hs, lengths) -> np.ndarray:
    """Each sequence's hidden state at its own last real step: ``hs[b, lengths[b] - 1]``.

    On a padded batch ``hs[:, -1]`` is the state after the padding too, which for
    a shorter sequence is not its final state (the network kept stepping on pad
    values). ``torch.nn.utils.rnn.pack_padded_sequence`` makes torch's final state
    ``h_n`` exactly this.

    Args:
        hs: ``(B, T, H)`` hidden states of a padded batch (e.g. from ``rnn_forward``).
        lengths: ``(B,)`` integers in ``1 .. T``, e.g. ``pad_sequences(...).lengths``.

    Returns:
        ``(B, H)``.
    """
    hs = np.asarray(hs)
    if hs.ndim != 3:
        raise ValueError(f"hs must have shape (B, T, H), got {hs.shape}")
    B, T, H = hs.shape
    lengths = _check_lengths(lengths, B, T)
    return hs[np.arange(B), lengths - 1]  # (B, H)


def masked_mean(values, mask) -> float:
    """The mean of ``values`` over the real steps only: ``sum(values[mask]) / mask.sum()``.

    A per-step loss on a padded batch must be averaged this way: a plain mean
    would count the pad steps (their losses are meaningless) and divide by the
    wrong number. Pad entries are not even read, so a NaN there is harmless. The
    gradient is ``mask / mask.sum()``: zero at every pad step.

    Args:
        values: ``(B, T)`` per-step values, e.g. losses.
        mask: ``(B, T)`` bool, True on real steps (``pad_sequences(...).mask``);
            at least one True.

    Returns:
        A float. In torch: ``(loss * mask).sum() / mask.sum()``.
    """
    values = np.asarray(values)
    if values.dtype == bool or values.dtype.kind not in "iuf":
        raise ValueError(f"values must hold real numbers, got dtype {values.dtype}")
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError(f"mask must be a boolean array (True on real steps), got dtype "
                         f"{mask.dtype}")
    if mask.shape != values.shape:
        raise ValueError(f"mask must have the shape of values {values.shape}, got {mask.shape}")
    count = int(mask.sum())
    if count == 0:
        raise ValueError("mask must mark at least one real step (True), got none")
    return float(np.where(mask, values, 0.0).sum() / count)


# --------------------------------------------------------------------------- digit task

DIGITS = 10  # tokens 0..9 are the digits themselves
PAD = 10  # fills the positions after a short sequence's end
BOS = 11  # "begin": the decoder's first input
VOCAB_SIZE = 12
TASKS = ("sort", "reverse")


class SequenceData(NamedTuple):
    """A batch of the digit task, padded with ``PAD`` to ``max_len``.

    Attributes:
        src: ``(n, L)`` int64, the input digits, then PAD.
        tgt_in: ``(n, L)``: ``BOS`` then the answer shifted right by one (teacher forcing).
        tgt_out: ``(n, L)``: the answer, then PAD (the model learns to say PAD too).
        lengths: ``(n,)`` the number of real digits of each sequence.
    """

    src: np.ndarray
    tgt_in: np.ndarray
    tgt_out: np.ndarray
    lengths: np.ndarray


def sequence_task(n, kind="sort", seed=0, max_len=8, min_len=1):
    """``n`` random strings of digits and their sorted (or reversed) version.

    Lengths are uniform in ``min_len .. max_len``; digits uniform in 0..9 (repeats
    allowed). ``kind="sort"``: ascending order; ``"reverse"``: back to front. The
    answer has as many digits as the input.

    Example::

        data = sequence_task(2, seed=0)
        decode(data.src[0]), decode(data.tgt_out[0])   # e.g. ('8270', '0278')
    """
    if kind not in TASKS:
        raise ValueError(f"kind must be one of {TASKS}, got {kind!r}")
    for name, value in (("n", n), ("max_len", max_len), ("min_len", min_len)):
        check_positive_int(name, value)
    if min_len > max_len:
        raise ValueError(f"min_len must be at most max_len = {max_len}, got {min_len}")
    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_len, max_len + 1, size=n)
    digits = rng.integers(0, DIGITS, size=(n, max_len))
    real = np.arange(max_len) < lengths[:, None]  # (n, L)
    src = np.where(real, digits, PAD)
    if kind == "sort":
        tgt = np.sort(src, axis=1)  # PAD = 10 sorts after every digit
    else:
        index = np.clip(lengths[:, None] - 1 - np.arange(max_len), 0, None)
        tgt = np.where(real, np.take_along_axis(src, index, axis=1), PAD)
    tgt_in = np.concatenate([np.full((n, 1), BOS), tgt[:, :-1]], axis=1)
    return SequenceData(src.astype(np.int64), tgt_in.astype(np.int64), tgt.astype(np.int64),
                        lengths.astype(np.int64))


def encode(text, max_len=None):
    """Digits typed as text, e.g. ``"3141"``, as ``(L,)`` ids padded with PAD to ``max_len``."""
    text = str(text).replace(" ", "")
    if not text or not text.isdigit() or not text.isascii():
        raise ValueError(f"text must be a non-empty string of digits 0-9, got {text!r}")
    if max_len is not None and len(text) > max_len:
        raise ValueError(f"text holds {len(text)} digits, more than max_len = {max_len}")
    ids = [int(c) for c in text] + [PAD] * ((max_len or len(text)) - len(text))
    return np.array(ids, dtype=np.int64)


def decode(ids):
    """Ids as readable text: digits as themselves, ``BOS`` as ``^``; PAD is left out."""
    symbols = {PAD: "", BOS: "^"}
    return "".join(symbols.get(int(i), str(int(i))) for i in np.asarray(ids).reshape(-1))
