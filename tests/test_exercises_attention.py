"""The transformer exercises (scaled_dot_product_attention, causal_mask, positional_encoding)
beyond the generic checks: the references against nnlib.attention, values worked out by
hand, the cases they promise, and the diagnoses of a naive softmax and of a mask that is
not boolean."""

import numpy as np
import pytest
from helpers import load_solutions

from nnlib.attention import (
    causal_mask,
    scaled_dot_product_attention_forward,
    sinusoidal_positional_encoding,
)
from nnlib.exercises import attention

ATTENTION = attention.scaled_dot_product_attention
MASK = attention.causal_mask
ENCODING = attention.positional_encoding
EXP_OVERFLOWS = np.log(np.finfo(np.float64).max)  # about 709.78


def solution(name):
    return getattr(load_solutions(attention), name)


def as_4d(a):
    """``(..., T, d)`` with 0 to 2 leading axes as ``(B, h, T, d)``."""
    a = np.asarray(a)
    return a.reshape((1,) * (4 - a.ndim) + a.shape)


def library_attention(q, k, v, mask=None):
    """nnlib.attention's forward on inputs with any number (up to 2) of leading axes."""
    if mask is not None:
        mask = np.broadcast_to(mask, q.shape[:-1] + k.shape[-2:-1])  # (..., Tq, Tk)
        mask = as_4d(mask)
    out, _ = scaled_dot_product_attention_forward(as_4d(q), as_4d(k), as_4d(v), mask)
    return out.reshape(q.shape[:-1] + v.shape[-1:])


def scores_of(case):
    q, k, _ = case.args
    return q @ k.swapaxes(-1, -2) / np.sqrt(q.shape[-1])


# ------------------------------------------------------------ references vs nnlib.attention


@pytest.mark.parametrize("case", ATTENTION.cases, ids=lambda c: c.label)
def test_attention_reference_is_nnlib_attention(case):
    np.testing.assert_allclose(ATTENTION.reference(*case.args, **case.kwargs),
                               library_attention(*case.args, **case.kwargs),
                               rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("T", [1, 2, 3, 5, 8])
def test_causal_mask_reference_is_nnlib_causal_mask(T):
    expected = causal_mask(T)
    for fn in (MASK.reference, solution("causal_mask")):
        got = fn(T)
        assert got.dtype == np.bool_ and np.array_equal(got, expected)


@pytest.mark.parametrize("T, E", [(4, 6), (50, 16), (3, 5), (1, 1), (7, 2), (20, 33)])
def test_encoding_reference_and_solution_are_nnlib_encoding(T, E):
    expected = sinusoidal_positional_encoding(T, E)
    np.testing.assert_allclose(ENCODING.reference(T, E), expected, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(solution("positional_encoding")(T, E), expected,
                               rtol=1e-13, atol=1e-15)


def test_the_published_attention_equals_nnlib_attention_with_heads_and_a_causal_mask():
    rng = np.random.default_rng(0)
    B, h, T, d, dv = 3, 2, 7, 5, 4
    q, k = rng.standard_normal((B, h, T, d)), rng.standard_normal((B, h, T, d))
    v = rng.standard_normal((B, h, T, dv))
    for mask in (None, causal_mask(T)):
        np.testing.assert_allclose(solution("scaled_dot_product_attention")(q, k, v, mask),
                                   scaled_dot_product_attention_forward(q, k, v, mask)[0],
                                   rtol=1e-12, atol=1e-14)


def test_a_fully_masked_row_gives_zeros_in_the_reference_as_in_nnlib():
    # not among the cases (the exercise promises every row keeps a key), but the reference
    # agrees with nnlib.attention (and torch) there too
    rng = np.random.default_rng(1)
    q, k, v = rng.standard_normal((3, 2)), rng.standard_normal((4, 2)), rng.standard_normal((4, 3))
    mask = np.ones((3, 4), dtype=bool)
    mask[1] = False
    out = ATTENTION.reference(q, k, v, mask=mask)
    np.testing.assert_array_equal(out[1], 0.0)
    np.testing.assert_allclose(out, library_attention(q, k, v, mask), rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------- values by hand


def test_attention_by_hand():
    # equal scores: the output is the plain mean of the values
    v = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 9.0]])
    out = ATTENTION.reference(np.zeros((2, 4)), np.ones((3, 4)), v)
    np.testing.assert_allclose(out, [[3.0, 5.0], [3.0, 5.0]], rtol=1e-15)
    # scores 0 and ln 3 (d = 4, so q . k = 2 ln 3): weights 1/4 and 3/4
    q, k = np.array([[2 * np.log(3.0), 0, 0, 0]]), np.array([[0.0, 0, 0, 0], [1, 0, 0, 0]])
    out = ATTENTION.reference(q, k, v[:2])
    np.testing.assert_allclose(out, [[0.25 * 1 + 0.75 * 3, 0.25 * 2 + 0.75 * 4]], rtol=1e-14)
    # with a causal mask the first query can only see the first value
    out = ATTENTION.reference(np.ones((3, 4)), np.ones((3, 4)), v, mask=causal_mask(3))
    np.testing.assert_allclose(out, [[1, 2], [2, 3], [3, 5]], rtol=1e-14)


def test_mask_and_encoding_by_hand():
    assert np.array_equal(MASK.reference(3), [[True, False, False],
                                              [True, True, False],
                                              [True, True, True]])
    pe = ENCODING.reference(2, 4)
    np.testing.assert_allclose(pe[0], [0, 1, 0, 1], atol=1e-15)  # sin 0, cos 0, ...
    np.testing.assert_allclose(pe[1], [np.sin(1), np.cos(1), np.sin(0.01), np.cos(0.01)],
                               rtol=1e-14)
    # odd E: the last column is a sine, of the last pair's frequency
    pe = ENCODING.reference(3, 5)
    np.testing.assert_allclose(pe[:, 4], np.sin(np.arange(3) / 10000 ** (4 / 5)), rtol=1e-14)


# ------------------------------------------------------------------- the promised cases


def test_the_attention_cases_hold_the_promised_edge_cases():
    cases = ATTENTION.cases
    shapes = [tuple(np.shape(a) for a in c.args) for c in cases]
    q0, k0, v0 = shapes[0]
    assert q0 == k0 == v0 == (4, 4), "square first: mistakes that need Tk = d still run"
    assert any(len(q) == 2 for q, _, _ in shapes) and any(len(q) == 4 for q, _, _ in shapes)
    assert any(q[-2] != k[-2] for q, k, _ in shapes), "Tq != Tk"
    assert any(v[-1] != q[-1] for q, _, v in shapes), "dv != d"
    # the cross-attention case has B = Tk = d, where k.T runs (and is named)
    q, k, _ = shapes[1]
    assert len(q) == 3 and k[0] == k[1] == k[2] and q[-2] != k[-2]
    for case in cases:
        assert all(np.asarray(a).dtype == np.float64 for a in case.args), case.label
        assert set(case.kwargs) <= {"mask"}


def test_the_mask_cases_are_random_then_causal_and_keep_a_key_in_every_row():
    masked = [c for c in ATTENTION.cases if "mask" in c.kwargs]
    assert [("random" in c.label, "causal" in c.label) for c in masked] == [(True, False),
                                                                             (False, True)]
    random_mask, causal = masked[0].kwargs["mask"], masked[1].kwargs["mask"]
    for mask in (random_mask, causal):
        assert mask.dtype == np.bool_ and mask.any(axis=-1).all()
    # neither the random mask nor its negation blocks a whole row
    assert (~random_mask).any(axis=-1).all()
    q, k, _ = masked[0].args
    assert random_mask.shape == q.shape[:-1] + k.shape[-2:-1], "a full (B, h, Tq, Tk) mask"
    np.testing.assert_array_equal(causal, causal_mask(len(causal)))
    assert causal.ndim == 2 and masked[1].args[0].ndim == 4, "a (T, T) mask is broadcast"


def test_the_last_case_overflows_a_naive_softmax():
    case = ATTENTION.cases[-1]
    assert "large" in case.label
    scores = scores_of(case)
    tops = scores.max(axis=-1)
    assert np.sum(tops > EXP_OVERFLOWS) == 2  # two rows overflow a naive exp ...
    assert tops.max() - tops.min() > 745  # ... and one underflows a matrix-wide max
    assert np.abs(scores).max() < 1000  # scores in the hundreds
    top2 = np.sort(scores, axis=-1)[:, -2:]
    assert np.all(top2[:, 1] - top2[:, 0] < 3), "the runner-up keeps a visible weight"
    with np.errstate(all="ignore"):
        naive = np.isnan(attention._naive_softmax(scores)).any(axis=-1)
        global_max = np.isnan(attention._global_max_softmax(scores)).any(axis=-1)
    assert naive.tolist() == [False, True, True] and global_max.tolist() == [True, False, False]
    out = ATTENTION.reference(*case.args)
    assert np.all(np.isfinite(out))


def test_the_mask_cases_end_with_t_1_where_the_triangles_agree():
    assert [c.args for c in MASK.cases] == [(5,), (2,), (1,)]
    # at T = 1 np.triu and np.tril are both [[True]]: that case only checks the shape and the
    # dtype, so the mistakes are named on T = 5 first
    assert np.array_equal(np.triu(np.ones((1, 1), dtype=bool)), MASK.reference(1))


def test_the_encoding_cases_include_an_odd_width():
    assert [c.args for c in ENCODING.cases] == [(4, 6), (50, 16), (3, 5)]


# --------------------------------------------------------------------------- diagnoses


def naive_attention(q, k, v, mask=None):
    scores = q @ k.swapaxes(-1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    e = np.exp(scores)
    return e / e.sum(axis=-1, keepdims=True) @ v


def test_a_naive_softmax_passes_the_other_cases_and_is_taught_the_max():
    result = ATTENTION.check(naive_attention)
    assert result.diagnosis == "mistake" and "large scores" in result.message
    assert "s.max(axis=-1, keepdims=True)" in result.message and "NaN" in result.message
    for case in ATTENTION.cases[:-1]:
        np.testing.assert_allclose(naive_attention(*case.args, **case.kwargs),
                                   ATTENTION.reference(*case.args, **case.kwargs),
                                   rtol=1e-12, atol=1e-14)


def test_a_naive_softmax_with_the_wrong_axis_is_named_for_the_axis_first():
    def naive_wrong_axis(q, k, v, mask=None):
        e = np.exp(q @ k.swapaxes(-1, -2) / np.sqrt(q.shape[-1]))
        return e / e.sum(axis=-2, keepdims=True) @ v

    result = ATTENTION.check(naive_wrong_axis)
    assert result.diagnosis == "mistake" and "axis=-1" in result.message
    assert "single head" in result.message


def test_a_large_negative_number_for_blocked_scores_is_accepted():
    def with_minus_1e9(q, k, v, mask=None):
        scores = q @ k.swapaxes(-1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            scores = np.where(mask, scores, -1e9)
        scores = scores - scores.max(axis=-1, keepdims=True)
        w = np.exp(scores)
        return (w / w.sum(axis=-1, keepdims=True)) @ v

    assert ATTENTION.check(with_minus_1e9).passed


def test_boolean_indexing_with_a_broadcast_mask_is_reported_not_raised():
    # scores[~mask] needs a mask of the scores' full shape: the causal case's (5, 5) mask
    # fails on (1, 2, 5, 5) scores, and the checker reports numpy's error
    def indexing(q, k, v, mask=None):
        scores = q @ k.swapaxes(-1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            scores[~mask] = -np.inf
        scores = scores - scores.max(axis=-1, keepdims=True)
        w = np.exp(scores)
        return (w / w.sum(axis=-1, keepdims=True)) @ v

    result = ATTENTION.check(indexing)
    assert result.diagnosis == "raised" and "causal" in result.message


def test_a_correct_float32_attention_is_accepted_but_on_the_large_scores():
    fn = solution("scaled_dot_product_attention")

    def in_float32(q, k, v, mask=None):
        return fn(*(np.asarray(a, dtype=np.float32) for a in (q, k, v)), mask)

    for case in ATTENTION.cases[:-1]:
        got = in_float32(*case.args, **case.kwargs)
        assert ATTENTION._equal(got, ATTENTION.reference(*case.args, **case.kwargs)), case.label


def test_a_correct_float32_encoding_is_accepted():
    def in_float32(T, E):
        positions = np.arange(T, dtype=np.float32)[:, None]
        angles = positions / np.float32(10000) ** (np.arange(0, E, 2, dtype=np.float32) / E)
        pe = np.zeros((T, E), dtype=np.float32)
        pe[:, 0::2], pe[:, 1::2] = np.sin(angles), np.cos(angles[:, :E // 2])
        return pe

    assert ENCODING.check(in_float32).passed


@pytest.mark.parametrize("answer, hint", [
    (lambda T: np.tril(np.ones((T, T), dtype=int)), "numbers 0 and 1"),
    (lambda T: np.tri(T), "numbers 0 and 1"),
    (lambda T: np.where(np.tril(np.ones((T, T))) > 0, 0.0, -1e9), "additive mask"),
    (lambda T: np.triu(np.ones((T, T), dtype=bool)), "upper triangle"),
    (lambda T: ~np.tril(np.ones((T, T), dtype=bool)), "BLOCKED"),
], ids=["int 0/1", "np.tri", "additive -1e9", "triu", "negated"])
def test_a_mask_in_the_wrong_form_is_named(answer, hint):
    result = MASK.check(answer)
    assert result.diagnosis == "mistake" and hint in result.message and "T = 5" in result.message


def test_a_mask_of_other_numbers_is_asked_for_booleans():
    result = MASK.check(lambda T: np.triu(np.ones((T, T))))
    assert result.diagnosis == "form" and "dtype=bool" in result.message


def test_a_boolean_mask_as_nested_lists_is_accepted_and_a_wrong_shape_is_named():
    assert MASK.check(lambda T: [[s <= t for s in range(T)] for t in range(T)]).passed
    result = MASK.check(lambda T: np.ones(T, dtype=bool))
    assert result.diagnosis == "shape" and "(T, T) = (5, 5)" in result.message


def test_an_encoding_that_drops_the_last_sine_of_an_odd_width_gets_a_shape_diagnosis():
    def pairs_only(T, E):
        return ENCODING.reference(T, E - E % 2)

    result = ENCODING.check(pairs_only)
    assert result.diagnosis == "shape" and "(T, E) = (3, 5)" in result.message


def test_success_messages_count_the_cases():
    for name, exercise, n in (("scaled_dot_product_attention", ATTENTION, 7),
                              ("causal_mask", MASK, 3), ("positional_encoding", ENCODING, 3)):
        result = exercise.check(solution(name))
        assert result.passed and f"correct on all {n} cases" in result.message
