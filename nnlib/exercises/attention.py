"""Exercises of the transformer notebook: attention, the causal mask, the position signal.

1. ``scaled_dot_product_attention(q, k, v, mask=None)`` returns ``out`` only::

       scores  = q @ k^T / sqrt(d)              (..., Tq, Tk): how well each key fits each query
       weights = softmax(scores, over the keys)  each row sums to 1
       out     = weights @ v                     (..., Tq, dv): a weighted mean of the values

   ``q (..., Tq, d)``, ``k (..., Tk, d)``, ``v (..., Tk, dv)``, with any leading axes
   (none, a batch, a batch and heads), so transpose ``k`` with ``k.swapaxes(-1, -2)``:
   ``k.T`` reverses *every* axis of a batched array. ``mask`` is boolean, broadcastable to
   ``(..., Tq, Tk)``, True where a query may attend to a key: a blocked score becomes
   ``-inf`` before the softmax (``np.where(mask, scores, -np.inf)`` broadcasts;
   ``scores[~mask] = ...`` does not), so its weight is ``exp(-inf) = 0`` and the others
   still sum to 1. Every row of the masks in the cases keeps at least one key. The last
   case has scores in the hundreds, where ``exp`` overflows: subtract each row's maximum
   first, which leaves the softmax unchanged.
2. ``causal_mask(T)``: a boolean ``(T, T)`` array, True on and below the diagonal, so that
   position ``t`` sees positions ``0..t``, itself included, and never the future.
3. ``positional_encoding(T, E)``: ``PE[t, 2i] = sin(t / 10000^(2i/E))`` and
   ``PE[t, 2i+1] = cos(t / 10000^(2i/E))``, positions ``t = 0..T-1``; the sine and the
   cosine of a pair share one frequency, and for odd ``E`` the last column is a sine.

The references are ``nnlib.attention``'s functions (tests/test_exercises_attention.py
checks it); they are written again here so that they take any number of leading axes.
"""

import numpy as np

from nnlib.attention import masked_softmax
from nnlib.exercises import Case, Exercise, Mistake, only_if_finite

__all__ = ["scaled_dot_product_attention", "causal_mask", "positional_encoding"]

_rng = np.random.default_rng(12)


# ---------------------------------------------------------------- scaled_dot_product_attention


def _naive_softmax(scores):
    """The textbook formula: exp(800) is inf, and inf / inf is NaN."""
    e = np.exp(scores)
    return e / e.sum(axis=-1, keepdims=True)


def _global_max_softmax(scores):
    """Stabilised with the matrix's single maximum instead of each row's."""
    e = np.exp(scores - scores.max())
    with np.errstate(invalid="ignore"):
        return e / e.sum(axis=-1, keepdims=True)


def _attention(q, k, v, mask=None, scale=None, keys=None, blocked=-np.inf, softmax=masked_softmax,
               after=None, invert=False, values=True):
    """Attention; the keyword arguments swap in the parts a typical mistake gets wrong.

    ``scale(d, dv)`` multiplies the scores, ``keys(k)`` is what multiplies ``q``,
    ``blocked`` is what a masked score becomes (None: the mask is ignored; "times": the
    scores are multiplied by the mask), ``after(weights, mask, d)`` changes the weights
    after the softmax, and ``values=False`` returns the weights instead of the output.
    """
    d, dv = q.shape[-1], v.shape[-1]
    kt = k.swapaxes(-1, -2) if keys is None else keys(k)
    scores = (q @ kt) * (1.0 / np.sqrt(d) if scale is None else scale(d, dv))
    if mask is not None and blocked == "times":
        scores = scores * mask
    elif mask is not None and blocked is not None:
        scores = np.where(~mask if invert else mask, scores, blocked)
    weights = softmax(scores)
    if after is not None:
        weights = after(weights, mask, d)
    return weights @ v if values else weights


def _reference_attention(q, k, v, mask=None):
    # = nnlib.attention.scaled_dot_product_attention_forward(q, k, v, mask)[0] for 4-D inputs
    return _attention(q, k, v, mask)


def _qkv(shape_q, Tk, dv):
    """Random ``q (..., Tq, d)``, ``k (..., Tk, d)``, ``v (..., Tk, dv)``."""
    *lead, _, d = shape_q
    return (_rng.standard_normal(shape_q), _rng.standard_normal((*lead, Tk, d)),
            _rng.standard_normal((*lead, Tk, dv)))


def _random_mask(shape):
    """A random boolean mask whose every row has a True AND a False: neither the mask nor
    its negation blocks a whole row, so an inverted mask gives a well-defined wrong answer."""
    mask = _rng.random(shape) < 0.5
    while not (mask.any(axis=-1).all() and (~mask).any(axis=-1).all()):
        mask = _rng.random(shape) < 0.5
    return mask


def _large_scores_case():
    """``q (3, 4)`` and ``k (4, 4)`` whose scaled scores are the matrix below. Rows 1 and 2
    peak above 709.8, where exp overflows in float64; row 0 peaks 1050 below row 2, so a
    softmax that subtracts the matrix's single maximum instead of each row's underflows
    there (exp(-1050) = 0, and 0 / 0 = NaN). Each row's runner-up lies a few units below
    its maximum, so the right weights are not simply one-hot."""
    scores = np.array([[-60.0, -61.5, -120.0, -260.0],
                       [-50.0, 720.0, 722.0, 721.0],
                       [990.0, -990.0, 300.0, 988.0]])
    rotation, _ = np.linalg.qr(_rng.standard_normal((4, 4)))  # orthonormal rows
    k = 20.0 * rotation
    q = scores @ k * (2.0 / 400.0)  # q @ k.T / sqrt(4) = scores, as k @ k.T = 400 I
    return q, k, _rng.standard_normal((4, 3))


scaled_dot_product_attention = Exercise(
    "scaled_dot_product_attention",
    reference=_reference_attention,
    cases=[
        # Square first (Tq = Tk = d = dv): there a k that is not transposed, a softmax over
        # the wrong axis, a sum without keepdims or the weights returned instead of the
        # output still run, and can be named.
        Case(_qkv((4, 4), 4, 4), "single head: q, k, v of shape (4, 4)"),
        # With B = Tk = d, k.T (which reverses all three axes) still runs here, and is named
        Case(_qkv((3, 2, 3), 3, 2),
             "cross-attention: (B, Tq, d) = (3, 2, 3) queries, (B, Tk, d) = (3, 3, 3) keys"),
        Case(_qkv((2, 3, 5, 4), 5, 4), "batched heads: (B, h, T, d) = (2, 3, 5, 4)"),
        Case(_qkv((3, 6), 5, 2), "Tq = 3 ≠ Tk = 5, and values dv = 2 ≠ d = 6"),
        # the random mask comes before the causal one: neither it nor its negation blocks a
        # whole row, so every mask mistake has one well-defined answer here
        Case(_qkv((2, 1, 4, 3), 6, 2), "a random mask (B, h, Tq, Tk) = (2, 1, 4, 6)",
             {"mask": _random_mask((2, 1, 4, 6))}),
        Case(_qkv((1, 2, 5, 4), 5, 3), "a causal mask (5, 5) with (B, h, T, d) = (1, 2, 5, 4)",
             {"mask": np.tril(np.ones((5, 5), dtype=bool))}),
        # scores in the hundreds: exp(805) overflows to inf, and inf / inf is NaN
        Case(_large_scores_case(),
             "large scores (up to 990, and a row 1050 below another): a naive exp overflows"),
    ],
    mistakes=[
        Mistake(lambda q, k, v, mask=None: _attention(q, k, v, mask, scale=lambda d, dv: 1.0),
                "the scores are not scaled: divide q @ k^T by sqrt(d), d = q.shape[-1]. A dot "
                "product of d random terms has a spread of about sqrt(d); unscaled, large d "
                "pushes the softmax towards one-hot weights, whose gradients vanish"),
        Mistake(lambda q, k, v, mask=None: _attention(q, k, v, mask,
                                                      scale=lambda d, dv: 1.0 / d),
                "you divided the scores by d: divide by sqrt(d). The spread of a dot product "
                "of d terms grows like sqrt(d), so 1 / sqrt(d) brings it back to about 1; "
                "1 / d shrinks it towards 0 and the weights towards uniform"),
        Mistake(lambda q, k, v, mask=None: _attention(q, k, v, mask,
                                                      scale=lambda d, dv: np.sqrt(d)),
                "you multiplied the scores by sqrt(d): divide by it, q @ k^T / sqrt(d)"),
        Mistake(lambda q, k, v, mask=None: _attention(q, k, v, mask,
                                                      scale=lambda d, dv: 1.0 / np.sqrt(dv)),
                "you scaled by the width of the values: the scale is 1 / sqrt(d), where d is "
                "the width of the queries and keys (q.shape[-1]), the length of the dot "
                "products; v.shape[-1] can differ, as it does here"),
        Mistake(lambda q, k, v, mask=None: _attention(q, k, v, mask, scale=lambda d, dv: 1.0,
                                                      after=lambda w, m, d: w / np.sqrt(d)),
                "you scaled after the softmax: the weights then sum to 1 / sqrt(d), not 1. "
                "The scale belongs inside, softmax(q @ k^T / sqrt(d)), where it sets how "
                "sharp the weights are"),
        Mistake(lambda q, k, v, mask=None: _attention(q, k, v, mask,
                                                      softmax=lambda s: masked_softmax(s, axis=-2)),
                "your weights sum to 1 down each column instead of along each row: the "
                "softmax runs over the queries (axis=-2). Each query shares its attention "
                "among the keys, so take the softmax over the keys, axis=-1"),
        Mistake(only_if_finite(lambda q, k, v, mask=None: _attention(
                    q, k, v, mask, softmax=lambda s: np.exp(s) / np.exp(s).sum())),
                "your softmax normalised the whole score matrix at once (a sum without an "
                "axis), so all the weights together sum to 1. Each query's row must sum to 1: "
                "e.sum(axis=-1, keepdims=True)"),
        Mistake(only_if_finite(lambda q, k, v, mask=None: _attention(
                    q, k, v, mask, softmax=lambda s: np.exp(s) / np.exp(s).sum(axis=-1))),
                "you divided by the row sums without keepdims=True: e.sum(axis=-1) has shape "
                "(Tq,), which broadcasts along the LAST axis, so column j is divided by row "
                "j's sum (it only ran because Tq = Tk here). Write "
                "e / e.sum(axis=-1, keepdims=True)"),
        Mistake(lambda q, k, v, mask=None: _attention(q, k, v, mask, keys=lambda k: k),
                "k is not transposed: the scores are q @ k^T, (Tq, d) @ (d, Tk) = (Tq, Tk), "
                "one for each query and key. q @ k only ran because Tk = d here"),
        Mistake(lambda q, k, v, mask=None: _attention(q, k, v, mask, keys=lambda k: k.T),
                "k.T reverses EVERY axis of a batched array: (B, Tk, d) becomes (d, Tk, B), "
                "which only ran because B = Tk = d here. Swap the last two axes only: "
                "k.swapaxes(-1, -2) (or np.swapaxes(k, -1, -2))"),
        Mistake(lambda q, k, v, mask=None: _attention(q, k, v, mask, values=False),
                "you returned the attention weights: the output is their weighted mean of the "
                "values, weights @ v, of shape (..., Tq, dv)"),
        Mistake(lambda q, k, v, mask=None: _attention(q, k, v, mask, blocked=None),
                "the mask changed nothing: set the blocked scores to -inf before the softmax, "
                "np.where(mask, scores, -np.inf), so that their weights are exp(-inf) = 0"),
        Mistake(lambda q, k, v, mask=None: _attention(q, k, v, mask, invert=True),
                "your mask is inverted: True means \"may attend\", so keep the scores where the "
                "mask is True and block the others, np.where(mask, scores, -np.inf). (Some "
                "APIs, torch.nn.MultiheadAttention's attn_mask among them, use the opposite "
                "convention, True = blocked)"),
        Mistake(lambda q, k, v, mask=None: _attention(q, k, v, mask, blocked="times"),
                "a blocked score became 0 (scores * mask, or np.where(mask, scores, 0)), and "
                "exp(0) = 1 still gives that key a weight. A blocked score must become -inf: "
                "np.where(mask, scores, -np.inf)"),
        Mistake(lambda q, k, v, mask=None: _attention(
                    q, k, v, mask, blocked=None,
                    after=lambda w, m, d: w if m is None else w * m),
                "you zeroed the blocked weights after the softmax without renormalising: each "
                "row then sums to less than 1. Mask the scores BEFORE the softmax, "
                "np.where(mask, scores, -np.inf), and the softmax spreads the whole weight "
                "over the allowed keys"),
        Mistake(lambda q, k, v, mask=None: _attention(q, k, v, mask, softmax=_global_max_softmax),
                "your output is NaN in a row whose scores are all far below another row's: "
                "you subtracted the maximum of the whole score matrix, and in that row every "
                "exp(s - max) underflows to 0 (0 / 0 = NaN). Subtract each ROW's maximum, "
                "s - s.max(axis=-1, keepdims=True)"),
        Mistake(lambda q, k, v, mask=None: _attention(q, k, v, mask, softmax=_naive_softmax),
                "your output is NaN for large scores, though the right one is finite: "
                "exp(805) overflows to inf, and inf / inf = NaN. Subtract each row's maximum "
                "before the exponential, s - s.max(axis=-1, keepdims=True): the softmax does "
                "not change (the factor exp(-max) cancels between numerator and denominator), "
                "and now the largest exponent is exp(0) = 1"),
    ],
    # a correct answer computed in float32 is accepted on every case but the large scores
    # (there a score of 990 carries an error of about 1e-4 in float32)
    rtol=1e-5, atol=1e-6,
)


# ------------------------------------------------------------------------------ causal_mask


def _reference_causal_mask(T):
    # = nnlib.attention.causal_mask(T)
    return np.tril(np.ones((T, T), dtype=bool))


def _mask_for_comparison(out):
    """A boolean answer as 0/1 numbers. The checker compares numbers, and a float 0/1 mask
    has the same numbers as the boolean one, so a mask of numbers in one of the two forms a
    typical mistake gives is moved out of the way (to 10 and 11, or to 10 and -10) where
    that mistake's hint names it; any other mask of numbers raises: the adapt hint asks for
    booleans."""
    a = np.asarray(out)
    if a.dtype == np.bool_:
        return a.astype(float)
    if a.dtype.kind not in "iuf" or a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError("not a square boolean array")
    a = a.astype(float)
    below = np.tril(np.ones(a.shape, dtype=bool))
    if np.array_equal(a, below.astype(float)):
        return a + 10.0  # 0/1 numbers in the right places
    if np.all(a[below] == 0) and (~below).any() and np.all(a[~below] <= -1e4):
        return np.where(below, 10.0, -10.0)  # an additive mask: 0 to keep, -inf to block
    raise ValueError("a mask of numbers")


causal_mask = Exercise(
    "causal_mask",
    reference=_reference_causal_mask,
    cases=[
        # T = 1 last: there np.triu and np.tril agree, and a float mask of one 0 is ambiguous
        Case((5,), "T = 5"),
        Case((2,), "T = 2"),
        Case((1,), "T = 1"),
    ],
    mistakes=[
        Mistake(lambda T: np.triu(np.ones((T, T), dtype=bool)),
                "that is the upper triangle: row t (the query at position t) may then attend "
                "to positions t..T-1, the future, which is exactly what a language model must "
                "not see. Keep on and below the diagonal, the past: np.tril"),
        Mistake(lambda T: np.tril(np.ones((T, T), dtype=bool), k=-1),
                "the diagonal is missing (k=-1): a token cannot see itself, and position 0 "
                "then sees nothing at all, a row of -inf scores whose softmax is 0 / 0. "
                "Position t may attend to 0..t, itself included: keep the diagonal"),
        Mistake(lambda T: np.triu(np.ones((T, T), dtype=bool), k=1),
                "that marks the BLOCKED positions (True above the diagonal), the convention of "
                "torch.nn.MultiheadAttention's attn_mask. Here True means \"may attend\": "
                "return the negation, True on and below the diagonal"),
        Mistake(lambda T: np.tril(np.ones((T, T))),
                "the right pattern, but made of the numbers 0 and 1, not booleans: make it "
                "with dtype=bool (or convert with .astype(bool)). A mask of numbers misbehaves: "
                "~mask raises TypeError on floats and gives -1 and -2 on integers (both "
                "\"true\"), and scores[mask] indexes by position instead of selecting, or "
                "raises IndexError on floats"),
        Mistake(lambda T: np.where(np.tril(np.ones((T, T), dtype=bool)), 0.0, -np.inf),
                "that is an additive mask, 0 to keep and -inf to block, to be added to the "
                "scores (torch's generate_square_subsequent_mask makes one). Here the mask is "
                "boolean, True on and below the diagonal; attention turns it into -inf scores "
                "itself with np.where(mask, scores, -np.inf)"),
    ],
    shape_names=("T", "T"),
    adapt=_mask_for_comparison,
    adapt_hint="your mask is not a boolean (T, T) array: return booleans (dtype=bool), True "
               "where the query at position t (row t) may attend to the key at position s "
               "(column s)",
)


# ----------------------------------------------------------------------- positional_encoding


def _encoding(T, E, base=10000.0, start=0, exponent=lambda i, E: 2 * i / E,
              first=np.sin, second=np.cos, interleave=True, cos_own_index=False):
    """The sinusoidal position signal; the keyword arguments swap in the parts a typical
    mistake gets wrong. ``i`` is the pair index, 0..ceil(E/2)-1."""
    positions = np.arange(start, start + T, dtype=float)[:, None]  # (T, 1)
    i = np.arange((E + 1) // 2, dtype=float)
    angles = positions / base ** exponent(i, E)  # (T, ceil(E/2))
    second_angles = positions / base ** ((2 * i + 1) / E) if cos_own_index else angles
    pe = np.empty((T, E))
    if interleave:
        pe[:, 0::2] = first(angles)
        pe[:, 1::2] = second(second_angles[:, :E // 2])
    else:
        pe[:, :(E + 1) // 2] = first(angles)
        pe[:, (E + 1) // 2:] = second(second_angles[:, :E // 2])
    return pe


def _reference_encoding(T, E):
    # = nnlib.attention.sinusoidal_positional_encoding(T, E)
    return _encoding(T, E)


positional_encoding = Exercise(
    "positional_encoding",
    reference=_reference_encoding,
    cases=[
        Case((4, 6), "T = 4, E = 6"),
        Case((50, 16), "T = 50, E = 16"),
        Case((3, 5), "odd E: T = 3, E = 5 (the last column is a sine)"),
    ],
    mistakes=[
        Mistake(lambda T, E: _encoding(T, E, first=np.cos, second=np.sin),
                "sine and cosine are swapped: the even columns 0, 2, 4, ... hold the sines, "
                "PE[t, 2i] = sin(t / 10000^(2i/E)), and the odd ones the cosines. (Position 0 "
                "is then 0, 1, 0, 1, ...)"),
        Mistake(lambda T, E: _encoding(T, E, exponent=lambda i, E: i / E),
                "the exponent is i/E: with i counting the PAIRS of columns it must be 2i/E, "
                "so that the pairs' speeds fall from 1 (the first) to almost 1/10000 (the last). "
                "Equivalently, use the even column index 2i itself: 10000^(2i/E)"),
        Mistake(lambda T, E: _encoding(T, E, exponent=lambda i, E: 4 * i / E),
                "the exponent doubles the column index: with j = 2i the column's own index, "
                "the exponent is j/E, not 2j/E, so the frequencies fall twice as fast as "
                "they should (10000^(2i/E), with i the pair index)"),
        Mistake(lambda T, E: _encoding(T, E, cos_own_index=True),
                "the cosine column 2i+1 uses its own index in the exponent, (2i+1)/E: both "
                "columns of a pair share ONE frequency, 1 / 10000^(2i/E), so that together "
                "they are a clock hand, (sin, cos) of the same angle"),
        Mistake(lambda T, E: _encoding(T, E, interleave=False),
                "you put all the sines first and then all the cosines: they are interleaved, "
                "sine in the even columns (pe[:, 0::2]) and cosine in the odd ones "
                "(pe[:, 1::2]), each pair sharing a frequency"),
        Mistake(lambda T, E: _encoding(T, E, base=1000.0),
                "the base is 1000: the original transformer uses 10000, "
                "PE[t, 2i] = sin(t / 10000^(2i/E)), so the slowest pair turns almost 10000 "
                "times slower than the fastest"),
        Mistake(lambda T, E: _encoding(T, E, start=1),
                "your positions start at 1: they are 0..T-1 (np.arange(T)), as the tokens' "
                "indices, so the first row is sin(0) = 0 and cos(0) = 1 alternately: 0, 1, 0, 1"),
    ],
    shape_names=("T", "E"),
    # a correct answer computed in float32 is accepted: about 1e-6 off, far from every mistake
    rtol=1e-5, atol=1e-5,
)

# The published solutions, and which function there answers which exercise
# (tests/test_exercises.py checks every pair, and every listed mistake).
SOLUTIONS_FILE = "12_transformer.py"
EXERCISES = {"scaled_dot_product_attention": scaled_dot_product_attention,
             "causal_mask": causal_mask, "positional_encoding": positional_encoding}
