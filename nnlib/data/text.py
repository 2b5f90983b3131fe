"""Character data for language models: a shipped book as integer ids, batches and baselines.

* :class:`CharVocab`: characters <-> integer ids;
* :func:`char_dataset`: a book as train and validation id arrays, split contiguously;
* :func:`char_batches` (one epoch of training batches) and :func:`random_windows`
  (a fixed evaluation sample): ``(x, y)`` int64 ``(B, T)`` with ``y`` the next character;
* :func:`unigram_loss` and :func:`uniform_loss`: the baselines, in nats per
  character, that a character model must beat.

Numpy only; the same ``seed`` gives the same arrays.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from nnlib.checks import check_float, check_int, seeded_rng
from nnlib.data.files import load_text

__all__ = ["CharVocab", "CharData", "char_dataset", "char_batches", "random_windows",
           "unigram_loss", "uniform_loss"]


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
