"""Exercises of the transformer notebook: attention, the causal mask, multi-head attention,
the position signal and a language model's training step.

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
3. ``multi_head_attention(x, params, n_heads, attention)``: self-attention with ``h``
   heads built on ``attention`` (the learner's exercise 1; the checker passes a correct
   one): project ``x (B, T, E)`` to ``Q, K, V`` (``x @ w + b``), split each into heads,
   ``(B, T, E) -> (B, T, h, d) -> (B, h, T, d)`` with ``d = E / h``, attend, merge back
   ``(B, h, T, d) -> (B, T, h, d) -> (B, T, E)`` and project with ``w_o, b_o``.
4. ``positional_encoding(T, E)``: ``PE[t, 2i] = sin(t / 10000^(2i/E))`` and
   ``PE[t, 2i+1] = cos(t / 10000^(2i/E))``, positions ``t = 0..T-1``; the sine and the
   cosine of a pair share one frequency, and for odd ``E`` the last column is a sine.
5. ``lm_step(model, opt, ids)``: one training step of a causal language model in torch:
   inputs ``ids[:, :-1]``, targets ``ids[:, 1:]``, the cross-entropy over all positions,
   ``zero_grad``, ``backward``, ``step``; it returns the loss. Checked like ``gan_step``
   (``nnlib.exercises.gan.TrainingStepExercise``) on a tiny seeded causal model, with the
   torch that the caller imported.

The references of 1 to 4 are ``nnlib.attention``'s functions (tests/test_exercises_attention.py
and tests/test_exercises_transformer.py check it), written again here so that they take any
number of leading axes and swap in a mistake's part.
"""

import numpy as np

from nnlib.attention import masked_softmax
from nnlib.exercises import Case, Exercise, Mistake, only_if_finite
from nnlib.exercises.gan import TrainingStepExercise

__all__ = ["scaled_dot_product_attention", "causal_mask", "multi_head_attention",
           "positional_encoding", "lm_step"]

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

# --------------------------------------------------------------------- multi_head_attention

_mha_rng = np.random.default_rng(1213)


def _split(a, h, how="heads"):
    """``(B, T, E)`` -> ``(B, h, T, d)``: "heads" as nnlib.attention (head i takes columns
    i*d .. (i+1)*d - 1 of every position), "reshape" a plain reshape, which mixes positions."""
    B, T, E = a.shape
    if how == "reshape":
        return a.reshape(B, h, T, E // h)
    return a.reshape(B, T, h, E // h).transpose(0, 2, 1, 3)


def _merge(a, how="heads"):
    """``(B, h, T, d)`` -> ``(B, T, h*d)``; "reshape": without moving the heads' axis back."""
    B, h, T, d = a.shape
    if how == "reshape":
        return a.reshape(B, T, h * d)
    return a.transpose(0, 2, 1, 3).reshape(B, T, h * d)


def _mha(x, params, n_heads, attention, split="heads", merge="heads", heads=True,
         project="both", scale_by_E=False, transpose_weights=False):
    """Multi-head self-attention; the keyword arguments swap in the parts a typical mistake
    gets wrong (``heads=False``: one attention over the full width; ``project``: "both",
    "weight" only, or None; ``scale_by_E``: the scores computed inline over sqrt(E))."""
    E = x.shape[-1]

    def w(name):
        return params[name].T if transpose_weights else params[name]

    q, k, v = (x @ w(f"w_{n}") + params[f"b_{n}"] for n in "qkv")  # (B, T, E) each
    if not heads:
        out = attention(q, k, v)  # (B, T, E): one head of width E
    else:
        q, k, v = (_split(a, n_heads, split) for a in (q, k, v))  # (B, h, T, d)
        if scale_by_E:
            out = _attention(q, k, v, scale=lambda d, dv: 1.0 / np.sqrt(E))
        else:
            out = attention(q, k, v)
        out = _merge(out, merge)  # (B, T, E)
    if project == "both":
        return out @ w("w_o") + params["b_o"]
    if project == "weight":
        return out @ w("w_o")
    return out


def _reference_mha(x, params, n_heads, attention):
    # = nnlib.attention.multi_head_attention_forward(x, x, params, n_heads)[0]
    # (tests/test_exercises_transformer.py checks it)
    return _mha(x, params, n_heads, attention)


def _mha_case(B, T, E, h, label):
    x = _mha_rng.standard_normal((B, T, E))
    params = {f"w_{n}": _mha_rng.standard_normal((E, E)) / np.sqrt(E) for n in "qkvo"}
    params |= {f"b_{n}": 0.1 * _mha_rng.standard_normal(E) for n in "qkvo"}
    # a correct attention, so that a slip in exercise 1 does not show up here
    return Case((x, params, h, _reference_attention), label)


multi_head_attention = Exercise(
    "multi_head_attention",
    reference=_reference_mha,
    cases=[
        _mha_case(2, 5, 8, 2, "B = 2, T = 5, E = 8, 2 heads"),
        _mha_case(1, 4, 12, 3, "B = 1, T = 4, E = 12, 3 heads"),
        _mha_case(3, 1, 6, 2, "one position: B = 3, T = 1, E = 6, 2 heads"),
        # one head: the split and the merge do nothing, and d = E
        _mha_case(2, 3, 4, 1, "one head: B = 2, T = 3, E = 4"),
    ],
    mistakes=[
        Mistake(lambda *a: _mha(*a, split="reshape", merge="reshape"),
                "your heads mix positions: a plain reshape (B, T, E) -> (B, h, T, d) cuts the "
                "flat row-major data into h blocks of T*d numbers, so a head's \"position\" "
                "holds pieces of several tokens. Split the columns first and then move the "
                "heads' axis forward: a.reshape(B, T, h, d).transpose(0, 2, 1, 3), and undo it "
                "at the end with out.transpose(0, 2, 1, 3).reshape(B, T, E)"),
        Mistake(lambda *a: _mha(*a, merge="reshape"),
                "the split is right, but the merge does not transpose back: out is "
                "(B, h, T, d), and a plain reshape to (B, T, E) puts head 0's positions side "
                "by side in the first rows. Move the heads next to d first: "
                "out.transpose(0, 2, 1, 3).reshape(B, T, E), so that row t is "
                "[head_1(t), ..., head_h(t)]"),
        Mistake(lambda *a: _mha(*a, project=None),
                "the output projection is missing: after concatenating the heads, multiply by "
                "W_O and add b_O, heads @ params[\"w_o\"] + params[\"b_o\"]. It mixes what "
                "the heads found, which the concatenation alone keeps apart"),
        Mistake(lambda *a: _mha(*a, project="weight"),
                "the output projection's bias b_O is missing: heads @ params[\"w_o\"] + "
                "params[\"b_o\"] (each of the four projections adds its bias)"),
        Mistake(lambda *a: _mha(*a, scale_by_E=True),
                "your scores are divided by sqrt(E): each head compares queries and keys of "
                "d = E / h columns, so divide by sqrt(E / h). Your attention from exercise 1 "
                "does it by itself when you pass it the split heads: it reads d from "
                "q.shape[-1]"),
        Mistake(lambda *a: _mha(*a, heads=False),
                "you ran one attention over the full width E: split Q, K and V into n_heads "
                "heads of d = E / h columns, (B, T, E) -> (B, h, T, d), attend in each head "
                "(one call does all of them: attention takes leading axes), then merge"),
        Mistake(lambda *a: _mha(*a, transpose_weights=True),
                "the weights are transposed: here a projection is x @ params[\"w_q\"] + "
                "params[\"b_q\"], with w_q of shape (E_in, E_out). (torch's nn.Linear stores "
                "its weight as (out, in) and computes x @ W.T; these params are already "
                "transposed)"),
    ],
    shape_names=("B", "T", "E"),
    # a correct answer computed in float32 is accepted: about 1e-6 off, far from every mistake
    rtol=1e-5, atol=1e-6,
)


# --------------------------------------------------------------------------------- lm_step


def _lm_step(model, opt, ids, inputs=lambda ids: ids[:, :-1],
             targets=lambda ids: ids[:, 1:], zero=True, loss="mean"):
    """One step of a language model; the keyword arguments swap in the parts a typical
    mistake gets wrong. ``loss``: "mean" (the cross-entropy over all positions), "sum",
    "last" (the last position only) or "reshape" (``(B, T, V)`` reshaped, not transposed,
    to ``(B, V, T)``)."""
    x, y = inputs(ids), targets(ids)
    logits = model(x)  # (B, T, V)
    B, T, V = logits.shape
    if loss == "reshape":
        logits = logits.reshape(B, V, T).transpose(1, 2)  # the numbers of (B, V, T), read back
    elif loss == "last":
        logits, y = logits[:, -1:], y[:, -1:]
    log_p = logits.reshape(-1, V).log_softmax(-1)  # (B*T, V)
    nll = -log_p.gather(1, y.reshape(-1, 1))  # (B*T, 1): -log p(target)
    value = nll.sum() if loss == "sum" else nll.mean()
    if zero:
        opt.zero_grad()
    value.backward()
    opt.step()
    return value.item()


def _reference_lm_step(model, opt, ids):
    # = torch.nn.functional.cross_entropy(model(ids[:, :-1]).reshape(-1, V), ids[:, 1:].reshape(-1))
    # then zero_grad, backward, step (tests/test_exercises_transformer.py checks it)
    return _lm_step(model, opt, ids)


def _lm_cases(torch):
    """A tiny causal language model: embedding + positions, one causal multi-head
    self-attention with a residual connection, and a linear read-out; float64."""
    nn = torch.nn
    V, E, h, context = 7, 8, 2, 8

    class TinyLanguageModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(V, E)
            self.pos = nn.Parameter(0.1 * torch.randn(context, E))
            self.attn = nn.MultiheadAttention(E, h, batch_first=True)
            self.out = nn.Linear(E, V)

        def forward(self, ids):  # (B, T) -> (B, T, V)
            T = ids.shape[1]
            x = self.embed(ids) + self.pos[:T]
            blocked = torch.ones(T, T, dtype=torch.bool).triu(1)  # torch: True = may NOT attend
            a, _ = self.attn(x, x, x, attn_mask=blocked, need_weights=False)
            return self.out(x + a)

    def model_and_optimizer(seed, optimizer):
        torch.manual_seed(seed)
        model = TinyLanguageModel().double()
        return model, optimizer(model.parameters())

    def adam(params):
        return torch.optim.Adam(params, lr=0.01)

    def sgd(params):
        return torch.optim.SGD(params, lr=0.1, momentum=0.9)

    def ids(B, T):
        return torch.randint(0, V, (B, T))

    with torch.random.fork_rng(devices=[]):  # the caller's random numbers are left as they were
        fresh = model_and_optimizer(1, adam)
        fresh_ids = ids(3, 6)
        mid = model_and_optimizer(2, adam)
        _reference_lm_step(*mid, ids(3, 6))  # leaves .grad and Adam's moments
        mid_ids = ids(3, 6)
        single = model_and_optimizer(3, sgd)
        _reference_lm_step(*single, ids(1, 5))
        single_ids = ids(1, 5)
    return [
        Case((*fresh, fresh_ids), "a fresh model, Adam, 3 windows of 6 ids"),
        Case((*mid, mid_ids), "mid-training: gradients and Adam's moments left from a previous "
                              "step, 3 windows of 6 ids"),
        Case((*single, single_ids), "mid-training with SGD and momentum, one window of 5 ids"),
    ]


_SHIFT = ("inputs = ids[:, :-1] (every token but the last) and targets = ids[:, 1:] (every "
          "token but the first), so that the prediction at position t is scored on token t+1")

lm_step = TrainingStepExercise(
    "lm_step",
    reference=_reference_lm_step,
    build_cases=_lm_cases,
    loss_names=("loss",),
    modules={"model": 0},
    adapt_hint="return the loss: one number, loss.item() (or the 0-d tensor itself)",
    mistakes=[
        Mistake(lambda *a: _lm_step(*a, inputs=lambda ids: ids, targets=lambda ids: ids),
                "your targets are not shifted: the model reads token t and is asked for token "
                "t itself, which it can copy (the causal mask lets position t see its own "
                "token). A language model predicts the NEXT token: " + _SHIFT),
        Mistake(lambda *a: _lm_step(*a, targets=lambda ids: ids[:, :-1]),
                "your targets are the inputs themselves (ids[:, :-1] for both): the model is "
                "asked for the token it is reading. A language model predicts the NEXT token: "
                + _SHIFT),
        Mistake(lambda *a: _lm_step(*a, inputs=lambda ids: ids[:, 1:],
                                    targets=lambda ids: ids[:, :-1]),
                "you shifted the wrong way: inputs ids[:, 1:] and targets ids[:, :-1] ask for "
                "the PREVIOUS token. " + _SHIFT[0].upper() + _SHIFT[1:]),
        Mistake(lambda *a: _lm_step(*a, zero=False),
                "the .grad was not zeroed right before loss.backward() (call opt.zero_grad() "
                "there, not after step: .grad may hold something on arrival): torch ADDS each "
                "backward's "
                "gradient to .grad, so the step used the last step's gradient plus this one's"),
        Mistake(lambda *a: _lm_step(*a, loss="reshape"),
                "your logits were scrambled: reshape keeps the order of the numbers, so "
                "(B, T, V) reshaped to (B, V, T) does not move the vocabulary axis, it cuts "
                "the data anew. Flatten instead: F.cross_entropy(logits.reshape(-1, V), "
                "targets.reshape(-1)), one row of V logits per position (or "
                "logits.transpose(1, 2), which does move the axis)"),
        Mistake(lambda *a: _lm_step(*a, loss="sum"),
                "your loss is summed over the positions: take the mean (cross_entropy's "
                "default), so that the loss, in nats per token, and the step size do not "
                "grow with the batch and the window"),
        Mistake(lambda *a: _lm_step(*a, loss="last"),
                "your loss scores the last position only: every position t predicts token "
                "t+1 (the causal mask makes that fair), so take the cross-entropy over all "
                "B*T positions, logits.reshape(-1, V) against targets.reshape(-1)"),
    ],
    update_hint="The loss is right, so look at the update: opt.zero_grad(), then "
                "loss.backward(), then opt.step(), once each",
    raised_hints=[
        ("Expected target size",
         "cross_entropy reads 3-D logits as (B, V, T), classes on axis 1, not (B, T, V). "
         "Flatten both: F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))"),
        ("to match target batch_size",
         "the logits and the targets hold different numbers of rows: flatten BOTH, "
         "logits.reshape(-1, V) to (B*T, V) and targets.reshape(-1) to (B*T,), with "
         + _SHIFT),
    ],
)

# The published solutions, and which function there answers which exercise
# (tests/test_exercises.py checks every pair, and every listed mistake).
SOLUTIONS_FILE = "12_transformer.py"
EXERCISES = {"scaled_dot_product_attention": scaled_dot_product_attention,
             "causal_mask": causal_mask, "multi_head_attention": multi_head_attention,
             "positional_encoding": positional_encoding, "lm_step": lm_step}
