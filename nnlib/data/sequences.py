"""Seeded sequence tasks and character data for the recurrent notebooks (RNN, LSTM, GRU).

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

And the pieces of a character-level language model on a shipped book:

* :class:`CharVocab`: characters <-> integer ids;
* :func:`char_dataset`: a book as train and validation id arrays, split contiguously;
* :func:`char_batches` (one epoch of training batches) and :func:`random_windows`
  (a fixed evaluation sample): ``(x, y)`` int64 ``(B, T)`` with ``y`` the next character;
* :func:`unigram_loss` and :func:`uniform_loss`: the baselines, in nats per
  character, that a character model must beat.

Everything is numpy; the arrays go straight into ``torch.from_numpy`` (float32
inputs, int64 labels and ids). The same ``seed`` gives the same arrays.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from nnlib.checks import check_float, check_int, seeded_rng
from nnlib.data.files import load_text

__all__ = [
    "recall_task",
    "adding_problem",
    "PaddedBatch",
    "pad_sequences",
    "last_states",
    "masked_mean",
    "CharVocab",
    "CharData",
    "char_dataset",
    "char_batches",
    "random_windows",
    "unigram_loss",
    "uniform_loss",
]


# --------------------------------------------------------------------------- synthetic tasks


def recall_task(n: int, T: int, n_symbols: int = 8, seed: int | None = 0):
    """Remember the first symbol: ``s, d_1, ..., d_{T-2}, ?`` -> ``s``.

    Step 0 holds a symbol ``s`` drawn uniformly from ``0 .. n_symbols-1``; steps
    ``1 .. T-2`` hold distractors drawn uniformly from the same symbols (``s`` among
    them), so noticing *which* symbols appeared is no help: the model must carry
    the first one across ``T - 1`` steps. The last step holds a query token that
    asks for the answer. Predicting any fixed symbol is right with probability
    ``1 / n_symbols`` (chance, 12.5% for 8 symbols).

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


# --------------------------------------------------------------------------- characters


def _as_ids(ids, name: str) -> np.ndarray:
    """``ids`` as a 1-D int64 array; a ValueError naming ``name`` otherwise."""
    arr = np.asarray(ids)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of integer ids, got shape {arr.shape}")
    if arr.size and (arr.dtype == bool or arr.dtype.kind not in "iu"):
        raise ValueError(f"{name} must be a 1-D array of integer ids, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _check_range(ids: np.ndarray, name: str, size: int) -> None:
    if ids.size and (ids.min() < 0 or ids.max() >= size):
        bad = ids[(ids < 0) | (ids >= size)][0]
        raise ValueError(f"{name} must hold ids in 0 .. {size - 1}, got {bad}")


class CharVocab:
    """The characters of a text, numbered: ``chars[i]`` is the character with id ``i``.

    Ids follow the sorted order of the characters (by code point), so a vocabulary
    built from the same text always numbers them the same way.

    Example::

        vocab = CharVocab("hello")   # chars ('e', 'h', 'l', 'o')
        vocab.encode("hell")         # array([1, 0, 2, 2])
        vocab.decode([2, 3])         # 'lo'
    """

    def __init__(self, text: str):
        if not isinstance(text, str) or not text:
            raise ValueError(f"text must be a non-empty string, got {text!r:.60}")
        self.chars: tuple[str, ...] = tuple(sorted(set(text)))
        # code points in id order; encode/decode go through them in bulk (a book is 1 M chars)
        self._codes = np.array([ord(c) for c in self.chars], dtype=np.uint32)

    def __len__(self) -> int:
        return len(self.chars)

    def __repr__(self) -> str:
        return f"CharVocab({len(self)} characters: {''.join(self.chars)!r})"

    def encode(self, text: str) -> np.ndarray:
        """``text`` as ``(len(text),)`` int64 ids; a character not in ``chars`` is an error."""
        if not isinstance(text, str):
            raise ValueError(f"text must be a string, got {type(text).__name__}")
        codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
        ids = np.searchsorted(self._codes, codes)
        known = self._codes[np.minimum(ids, len(self) - 1)] == codes
        if not known.all():
            position = int(np.argmin(known))
            raise ValueError(f"text holds the character {text[position]!r} (at position "
                             f"{position}), which is not in the vocabulary of {len(self)} "
                             f"characters")
        return ids.astype(np.int64)

    def decode(self, ids) -> str:
        """The string of the ids ``(L,)`` (a single id gives one character)."""
        arr = np.asarray(ids)
        arr = _as_ids(arr.reshape(-1) if arr.ndim == 0 else arr, "ids")
        _check_range(arr, "ids", len(self))
        return self._codes[arr].astype("<u4").tobytes().decode("utf-32-le")


class CharData(NamedTuple):
    """A book as character ids, split into a training and a validation part.

    Attributes:
        train_ids: ``(N_train,)`` int64, the first part of the book.
        val_ids: ``(N_val,)`` int64, the rest (it follows ``train_ids`` in the book).
        vocab: the :class:`CharVocab` of the whole book (it covers both parts).
    """

    train_ids: np.ndarray
    val_ids: np.ndarray
    vocab: CharVocab


def char_dataset(name: str = "moby_dick", val_fraction: float = 0.1, *,
                 data_dir=None) -> CharData:
    """A shipped book (``nnlib.data.load_text(name)``) as character ids for a language model.

    The vocabulary is built on the whole text. The split is contiguous: the last
    ``round(val_fraction * len(text))`` characters are the validation part, so it
    is text the model never saw (random windows from all over the book would
    share their neighbourhood with the training windows).

    Args:
        name: one of ``nnlib.data.TEXT_NAMES`` (``"moby_dick"``, ``"shakespeare"``).
        val_fraction: share of the characters held out, in ``(0, 1)``.
        data_dir: read another data folder (as ``nnlib.data.load_text``).

    Returns:
        ``CharData(train_ids, val_ids, vocab)``; ``vocab.decode(train_ids)`` is the
        book's beginning. Moby Dick: 81 characters, 1,070,807 + 118,979 ids.

    Example::

        data = char_dataset()
        for x, y in char_batches(data.train_ids, seq_len=100, batch_size=32): ...
    """
    val_fraction = check_float("val_fraction", val_fraction, 0.0, strict=True)
    if val_fraction >= 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction!r}")
    text = load_text(name, data_dir=data_dir)
    vocab = CharVocab(text)
    ids = vocab.encode(text)
    n_val = round(val_fraction * len(ids))
    if not 0 < n_val < len(ids):
        raise ValueError(f"val_fraction={val_fraction!r} leaves {n_val} of {len(ids)} "
                         f"characters for validation; both parts must be non-empty")
    return CharData(ids[:-n_val], ids[-n_val:], vocab)


def _windows(ids: np.ndarray, starts: np.ndarray, seq_len: int):
    """Inputs and next-character targets ``(len(starts), seq_len)`` from windows at ``starts``."""
    w = sliding_window_view(ids, seq_len + 1)[starts]  # (n, seq_len + 1), a copy
    return np.ascontiguousarray(w[:, :-1]), np.ascontiguousarray(w[:, 1:])


def char_batches(ids, seq_len: int, batch_size: int, seed: int | None = 0):
    """One epoch of training batches ``(x, y)`` from random, non-overlapping windows.

    The ids are cut into ``len(ids) // (seq_len + 1)`` consecutive windows of
    ``seq_len + 1`` characters, starting at a random offset (so the cuts move from
    epoch to epoch), and the windows are visited in a random order. In each, ``x``
    is the first ``seq_len`` characters and ``y`` the last ``seq_len``: the target
    at every step is the next character. The incomplete last batch is dropped, so
    an epoch has ``(len(ids) // (seq_len + 1)) // batch_size`` batches.

    Args:
        ids: ``(N,)`` integer character ids, e.g. ``char_dataset().train_ids``.
        seq_len: steps per window (>= 1), the length of backpropagation through time.
        batch_size: windows per batch (>= 1).
        seed: seed of the offset and the order; pass the epoch number for a new
            order each epoch (``None``: fresh randomness).

    Returns:
        A generator of ``x, y`` int64 ``(batch_size, seq_len)``. The arguments are
        checked at the call, before the first batch.

    Example::

        for epoch in range(3):
            for x, y in char_batches(data.train_ids, 100, 32, seed=epoch):
                logits = model(torch.from_numpy(x))    # (32, 100, V) vs y (32, 100)
    """
    ids = _as_ids(ids, "ids")
    seq_len = check_int("seq_len", seq_len, 1)
    batch_size = check_int("batch_size", batch_size, 1)
    n_windows = len(ids) // (seq_len + 1)
    if n_windows < batch_size:
        raise ValueError(f"ids must hold at least batch_size * (seq_len + 1) = "
                         f"{batch_size * (seq_len + 1)} ids for one batch, got {len(ids)}")
    rng = seeded_rng(seed)
    offset = rng.integers(0, len(ids) - n_windows * (seq_len + 1) + 1)
    starts = offset + (seq_len + 1) * rng.permutation(n_windows)

    def epoch():
        for b in range(n_windows // batch_size):
            yield _windows(ids, starts[b * batch_size:(b + 1) * batch_size], seq_len)

    return epoch()


def random_windows(ids, seq_len: int, n: int, seed: int | None = 0):
    """``n`` windows at random starts (they may overlap): a fixed sample for evaluation.

    Args:
        ids: ``(N,)`` integer character ids with ``N >= seq_len + 1``.
        seq_len: steps per window (>= 1).
        n: number of windows (>= 1).
        seed: seed of the starts (``None``: fresh randomness).

    Returns:
        ``x, y`` int64 ``(n, seq_len)``, ``y`` the next character at every step.

    Example::

        x_val, y_val = random_windows(data.val_ids, 100, 256)   # the same each time
    """
    ids = _as_ids(ids, "ids")
    seq_len = check_int("seq_len", seq_len, 1)
    n = check_int("n", n, 1)
    if len(ids) < seq_len + 1:
        raise ValueError(f"ids must hold at least seq_len + 1 = {seq_len + 1} ids, "
                         f"got {len(ids)}")
    starts = seeded_rng(seed).integers(0, len(ids) - seq_len, size=n)
    return _windows(ids, starts, seq_len)


# --------------------------------------------------------------------------- baselines


def uniform_loss(vocab_size: int) -> float:
    """``ln(vocab_size)``: the cross-entropy, in nats/char, of guessing every character alike.

    An untrained model with small output weights starts here.
    """
    return math.log(check_int("vocab_size", vocab_size, 1))


def unigram_loss(train_ids, eval_ids, vocab_size: int) -> float:
    """The cross-entropy, in nats/char, of the unigram model of ``train_ids`` on ``eval_ids``.

    The unigram model predicts every character from its frequency alone, ignoring
    the context: ``p(c) = (count(c) + 1) / (N_train + vocab_size)`` (add-one
    smoothing keeps a character unseen in training from costing infinity). The
    loss is ``-mean(log p(c))`` over ``eval_ids``; a character model that uses the
    context must get well below it (and below :func:`uniform_loss`, which it beats).

    Args:
        train_ids: ``(N_train,)`` ids in ``0 .. vocab_size-1`` (may be empty: uniform).
        eval_ids: ``(N_eval,)`` ids in ``0 .. vocab_size-1``, at least one.
        vocab_size: number of characters (>= 1).

    Returns:
        A float, comparable with a mean ``torch.nn.functional.cross_entropy``.

    Example::

        unigram_loss(data.train_ids, data.val_ids, len(data.vocab))   # Moby Dick: ~3.1
    """
    vocab_size = check_int("vocab_size", vocab_size, 1)
    train_ids, eval_ids = _as_ids(train_ids, "train_ids"), _as_ids(eval_ids, "eval_ids")
    _check_range(train_ids, "train_ids", vocab_size)
    _check_range(eval_ids, "eval_ids", vocab_size)
    if not len(eval_ids):
        raise ValueError("eval_ids must hold at least one id, got none")
    counts = np.bincount(train_ids, minlength=vocab_size) + 1.0
    log_p = np.log(counts) - np.log(len(train_ids) + vocab_size)
    return float(-log_p[eval_ids].mean())
