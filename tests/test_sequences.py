"""nnlib.data.sequences (the recall and adding tasks) and nnlib.data.text (character data and
its baselines)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nnlib import data
from nnlib.data import sequences
from nnlib.data import sequences as seq
from nnlib.data.sequences import adding_problem, recall_task
from nnlib.data.text import (
    CharVocab,
    char_batches,
    char_dataset,
    random_windows,
    uniform_loss,
    unigram_loss,
)

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def moby():
    return char_dataset("moby_dick", data_dir=DATA_DIR)


# --------------------------------------------------------------------------- recall


@pytest.mark.parametrize(("n", "T", "n_symbols"), [(200, 30, 8), (50, 2, 2), (1, 3, 5)])
def test_recall_shapes_one_hot_and_answer(n, T, n_symbols):
    x, y = recall_task(n, T, n_symbols, seed=1)
    assert x.shape == (n, T, n_symbols + 1) and x.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    assert np.all((x == 0) | (x == 1)) and np.all(x.sum(axis=2) == 1)  # one-hot
    tokens = x.argmax(axis=2)
    assert np.all(tokens[:, -1] == n_symbols)  # the query flag at the last step only
    assert np.all(tokens[:, :-1] < n_symbols)
    assert np.array_equal(y, tokens[:, 0])  # the answer is the first symbol
    assert y.min() >= 0 and y.max() < n_symbols


def test_recall_determinism():
    x, y = recall_task(100, 20, seed=5)
    x2, y2 = recall_task(100, 20, seed=5)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    x3, y3 = recall_task(100, 20, seed=6)
    assert not np.array_equal(x, x3) and not np.array_equal(y, y3)


def test_recall_distractors_are_uniform_and_independent_of_the_answer():
    n, T, K = 4000, 20, 8
    x, y = recall_task(n, T, K, seed=2)
    distractors = x[:, 1:-1].argmax(axis=2)  # (n, T - 2)
    # every symbol shows up as a distractor, about equally often
    freq = np.bincount(distractors.ravel(), minlength=K) / distractors.size
    assert np.allclose(freq, 1 / K, atol=0.01)  # 72,000 draws: SE of a frequency ~0.0012
    # the first symbol is no likelier than any other among the distractors (so seeing
    # which symbols occurred does not give the answer away) ...
    same = (distractors == y[:, None]).mean()
    assert abs(same - 1 / K) < 0.01
    # ... and "the symbol seen most often" is a poor guess
    counts = np.stack([(x[:, :-1].argmax(axis=2) == k).sum(axis=1) for k in range(K)], axis=1)
    assert (counts.argmax(axis=1) == y).mean() < 0.5


def test_recall_chance_level():
    # Predicting the most frequent class is right 1/K of the time. With n = 40,000 the
    # frequency of one class has SE sqrt(p(1-p)/n) ~ 0.0017 for p = 1/8; the largest of 8
    # sits a few SE above 1/8, so 0.008 (~5 SE) leaves margin.
    n, K = 40_000, 8
    _, y = recall_task(n, 10, K, seed=3)
    counts = np.bincount(y, minlength=K)
    assert abs(counts.max() / n - 1 / K) < 0.008
    assert counts.min() / n > 1 / K - 0.008


# --------------------------------------------------------------------------- adding


@pytest.mark.parametrize(("n", "T"), [(300, 50), (100, 2), (100, 3), (1, 7)])
def test_adding_shapes_markers_and_target(n, T):
    x, y = adding_problem(n, T, seed=1)
    assert x.shape == (n, T, 2) and x.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.float32
    values, marker = x[..., 0], x[..., 1]
    assert values.min() >= 0 and values.max() < 1
    assert np.all((marker == 0) | (marker == 1))
    half = T // 2
    assert np.all(marker[:, :half].sum(axis=1) == 1)  # one marker in [0, T//2)
    assert np.all(marker[:, half:].sum(axis=1) == 1)  # one in [T//2, T)
    first, second = marker[:, :half].argmax(axis=1), half + marker[:, half:].argmax(axis=1)
    rows = np.arange(n)
    assert np.array_equal(y, values[rows, first] + values[rows, second])  # exact, float32


def test_adding_marker_positions_cover_each_half():
    T = 10
    x, _ = adding_problem(2000, T, seed=4)
    positions = np.nonzero(x[..., 1])[1]
    assert np.array_equal(np.unique(positions), np.arange(T))  # every step can be marked


def test_adding_determinism():
    x, y = adding_problem(50, 20, seed=7)
    x2, y2 = adding_problem(50, 20, seed=7)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    x3, y3 = adding_problem(50, 20, seed=8)
    assert not np.array_equal(x, x3) and not np.array_equal(y, y3)


def test_adding_constant_baseline_mse_is_one_sixth():
    # y - 1 = u1 + u2 - 1 is triangular on [-1, 1]: E (y-1)^2 = 1/6, E (y-1)^4 = 1/15,
    # so one squared error has variance 1/15 - 1/36 = 7/180 (std ~0.197). The mean of
    # n = 20,000 has SE ~0.0014; a tolerance of 0.006 is over 4 SE.
    _, y = adding_problem(20_000, 30, seed=0)
    mse = np.mean((y.astype(np.float64) - 1.0) ** 2)
    assert abs(mse - 1 / 6) < 0.006
    assert abs(y.mean() - 1.0) < 0.01  # 1.0 is the best constant (SE ~0.003)


# --------------------------------------------------------------------------- vocabulary


def test_char_vocab_round_trip():
    vocab = CharVocab("hello")
    assert vocab.chars == ("e", "h", "l", "o") and len(vocab) == 4
    ids = vocab.encode("hell")
    assert ids.dtype == np.int64 and ids.tolist() == [1, 0, 2, 2]
    assert vocab.decode([2, 3]) == "lo" and vocab.decode(np.int64(1)) == "h"
    assert vocab.decode([]) == "" and vocab.encode("").shape == (0,)
    text = "Ahab — the whale!\n\"Ahoy\", ß & ✓"
    vocab = CharVocab(text)
    assert vocab.chars == tuple(sorted(set(text)))
    assert vocab.decode(vocab.encode(text)) == text
    assert "16 characters" in repr(CharVocab("abcdefghijklmnop"))


def test_char_vocab_errors():
    vocab = CharVocab("abc")
    with pytest.raises(ValueError, match="'z'.*not in the vocabulary"):
        vocab.encode("abz")
    with pytest.raises(ValueError, match="'—'"):
        vocab.encode("a—b")
    with pytest.raises(ValueError, match=r"^ids must hold ids in 0 \.\. 2, got 3"):
        vocab.decode([0, 3])
    with pytest.raises(ValueError, match="^ids must be .*got dtype float64"):
        vocab.decode([0.0, 1.0])
    with pytest.raises(ValueError, match="^ids must be .*got shape"):
        vocab.decode([[0, 1]])
    with pytest.raises(ValueError, match="^text must be a string"):
        vocab.encode([1, 2])
    with pytest.raises(ValueError, match="^text must be a non-empty string"):
        CharVocab("")


# --------------------------------------------------------------------------- char_dataset


def test_char_dataset_split(moby):
    text = data.load_text("moby_dick", data_dir=DATA_DIR)
    train, val, vocab = moby
    assert train.dtype == val.dtype == np.int64
    assert len(train) + len(val) == len(text)
    assert len(val) == round(0.1 * len(text))
    # contiguous: the validation part is the end of the book
    assert vocab.decode(train) + vocab.decode(val) == text
    assert vocab.decode(val) == text[-len(val):]
    # the vocabulary is the whole book's and covers both parts
    assert vocab.chars == tuple(sorted(set(text)))
    for ids in (train, val):
        assert ids.min() >= 0 and ids.max() < len(vocab)
    used = np.union1d(np.unique(train), np.unique(val))
    assert np.array_equal(used, np.arange(len(vocab)))


def test_char_dataset_other_book_and_fraction():
    train, val, vocab = char_dataset("shakespeare", val_fraction=0.25, data_dir=DATA_DIR)
    n = len(train) + len(val)
    assert len(val) == round(0.25 * n)
    assert all(c.isascii() for c in vocab.chars)


# --------------------------------------------------------------------------- batches


def _permuted_ids(n, seed=0):
    """Distinct ids in a random order, and each id's position: a window's start is readable."""
    ids = np.random.default_rng(seed).permutation(n)
    return ids, np.argsort(ids)


def _starts(x, position):
    return position[x[:, 0]]


@pytest.mark.parametrize(("N", "seq_len", "batch_size"), [(1000, 9, 4), (1003, 9, 7), (50, 1, 25)])
def test_char_batches_windows(N, seq_len, batch_size):
    ids, position = _permuted_ids(N)
    batches = list(char_batches(ids, seq_len, batch_size, seed=1))
    n_windows = N // (seq_len + 1)
    assert len(batches) == n_windows // batch_size
    steps = np.arange(seq_len)
    starts = []
    for x, y in batches:
        assert x.shape == y.shape == (batch_size, seq_len)
        assert x.dtype == y.dtype == np.int64
        s = _starts(x, position)
        # x is the window at s, y the same window shifted by one, in the original ids
        assert np.array_equal(x, ids[s[:, None] + steps])
        assert np.array_equal(y, ids[s[:, None] + 1 + steps])
        starts.extend(s.tolist())
    starts = np.sort(starts)
    assert np.all(np.diff(starts) >= seq_len + 1)  # windows of seq_len + 1 never overlap
    assert starts[-1] + seq_len + 1 <= N


def test_char_batches_order_offset_and_determinism():
    ids, position = _permuted_ids(2000)
    first = [x for x, _ in char_batches(ids, 19, 5, seed=3)]
    again = [x for x, _ in char_batches(ids, 19, 5, seed=3)]
    other = [x for x, _ in char_batches(ids, 19, 5, seed=4)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))
    # 2000 ids = exactly 100 windows of 20: all are used, in a shuffled order
    starts = np.concatenate([_starts(x, position) for x in first])
    assert np.array_equal(np.sort(starts), 20 * np.arange(100))
    assert np.any(np.diff(starts) < 0)
    # with slack the cut points move between seeds
    ids, position = _permuted_ids(2015)
    offsets = {int(_starts(next(char_batches(ids, 19, 5, seed=s))[0], position)[0] % 20)
               for s in range(10)}
    assert len(offsets) > 1


def test_char_batches_is_a_generator_checked_at_the_call(moby):
    batches = char_batches(moby.train_ids, 100, 64)
    x, y = next(batches)
    assert x.shape == (64, 100) and x.max() < len(moby.vocab)
    with pytest.raises(ValueError, match=r"^ids must hold at least batch_size \* \(seq_len \+ 1\)"):
        char_batches(np.arange(30), 9, 4)  # raised here, before any batch is asked for


def test_random_windows():
    ids, position = _permuted_ids(500)
    x, y = random_windows(ids, 12, 300, seed=2)
    assert x.shape == y.shape == (300, 12) and x.dtype == y.dtype == np.int64
    s = _starts(x, position)
    steps = np.arange(12)
    assert np.array_equal(x, ids[s[:, None] + steps])
    assert np.array_equal(y, ids[s[:, None] + 1 + steps])
    assert s.min() >= 0 and s.max() <= 500 - 13
    x2, y2 = random_windows(ids, 12, 300, seed=2)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert not np.array_equal(x, random_windows(ids, 12, 300, seed=3)[0])
    x, y = random_windows(ids[:13], 12, 5)  # exactly one window fits
    assert np.all(x == ids[:12]) and np.all(y == ids[1:13])


# --------------------------------------------------------------------------- baselines


def test_unigram_loss_by_hand():
    # counts + 1 = [3, 2, 1] over 3 + 3 = 6: p = [1/2, 1/3, 1/6]
    loss = unigram_loss([0, 0, 1], [0, 2], vocab_size=3)
    assert loss == pytest.approx(-(math.log(1 / 2) + math.log(1 / 6)) / 2, rel=1e-12)
    assert unigram_loss([], [0, 1, 2], 3) == pytest.approx(uniform_loss(3), rel=1e-12)
    assert uniform_loss(81) == pytest.approx(math.log(81)) and uniform_loss(1) == 0.0


def test_unigram_beats_uniform_on_the_book(moby):
    V = len(moby.vocab)
    uniform = uniform_loss(V)
    unigram = unigram_loss(moby.train_ids, moby.val_ids, V)
    assert unigram < uniform - 1.0  # measured 3.08 vs 4.39 nats/char
    assert 2.5 < unigram < 3.5


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: recall_task(0, 10), "n"),
        (lambda: recall_task(10, 1), "T"),
        (lambda: recall_task(10, 5.0), "T"),
        (lambda: recall_task(10, 5, n_symbols=1), "n_symbols"),
        (lambda: recall_task(10, 5, seed=-1), "seed"),
        (lambda: adding_problem(0, 10), "n"),
        (lambda: adding_problem(10, 1), "T"),
        (lambda: adding_problem(10, True), "T"),
        (lambda: char_dataset(val_fraction=0), "val_fraction"),
        (lambda: char_dataset(val_fraction=1.0), "val_fraction"),
        (lambda: char_dataset(val_fraction=float("nan")), "val_fraction"),
        (lambda: char_dataset("war_and_peace"), "name"),
        (lambda: char_batches(np.arange(100), 0, 2), "seq_len"),
        (lambda: char_batches(np.arange(100), 5, 0), "batch_size"),
        (lambda: char_batches(np.zeros((10, 10), dtype=int), 5, 1), "ids"),
        (lambda: char_batches(np.linspace(0, 1, 100), 5, 1), "ids"),
        (lambda: random_windows(np.arange(100), 5, 0), "n"),
        (lambda: random_windows(np.arange(5), 5, 1), "ids"),
        (lambda: unigram_loss([0, 1], [0, 3], 3), "eval_ids"),
        (lambda: unigram_loss([-1], [0], 3), "train_ids"),
        (lambda: unigram_loss([0], [], 3), "eval_ids"),
        (lambda: unigram_loss([0], [0], 0), "vocab_size"),
        (lambda: uniform_loss(0), "vocab_size"),
    ],
)
def test_bad_arguments(call, argument):
    with pytest.raises(ValueError, match=rf"^{argument} must .*got"):
        call()


def test_import_is_light():
    code = "import sys, nnlib.data.sequences; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert set(sequences.__all__) <= set(dir(sequences))


@pytest.mark.parametrize("kind", seq.TASKS)
def test_sequence_task_answers_are_right(kind):
    data = seq.sequence_task(200, kind, seed=0, max_len=6)
    assert data.src.shape == data.tgt_in.shape == data.tgt_out.shape == (200, 6)
    assert data.lengths.min() >= 1 and data.lengths.max() <= 6
    assert (data.tgt_in[:, 0] == seq.BOS).all()
    np.testing.assert_array_equal(data.tgt_in[:, 1:], data.tgt_out[:, :-1])
    for src, out, n in zip(data.src, data.tgt_out, data.lengths):
        digits = list(src[:n])
        assert (src[n:] == seq.PAD).all() and (out[n:] == seq.PAD).all()
        expected = sorted(digits) if kind == "sort" else digits[::-1]
        assert list(out[:n]) == expected
    again = seq.sequence_task(200, kind, seed=0, max_len=6)
    np.testing.assert_array_equal(again.src, data.src)


def test_sequence_task_rejects_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        seq.sequence_task(5, "shuffle")
    with pytest.raises(ValueError, match="min_len"):
        seq.sequence_task(5, min_len=4, max_len=3)
    with pytest.raises(ValueError, match="n must"):
        seq.sequence_task(0)


def test_encode_and_decode_digits():
    ids = seq.encode("3 1 4", max_len=5)
    np.testing.assert_array_equal(ids, [3, 1, 4, seq.PAD, seq.PAD])
    assert seq.decode(ids) == "314"
    assert seq.decode([seq.BOS, 2, 7, seq.PAD]) == "^27"
    with pytest.raises(ValueError, match="digits"):
        seq.encode("12a")
    with pytest.raises(ValueError, match="max_len"):
        seq.encode("123456", max_len=4)


def test_counting_the_symbols_beats_chance_on_recall_but_only_a_little():
    from nnlib.data.sequences import recall_counting_accuracy, recall_task

    x, y = recall_task(20000, 60, 8, seed=0)
    assert 0.17 < recall_counting_accuracy(x, y) < 0.22  # chance: 0.125
    # a sequence of the answer only: counting is always right
    x, y = recall_task(50, 2, 8, seed=0)  # the symbol and the query: nothing to confuse
    assert recall_counting_accuracy(x, y) == 1.0
    with pytest.raises(ValueError, match="n_symbols"):
        recall_counting_accuracy(x[0], y)
