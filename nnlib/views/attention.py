"""The transformer notebook's views of attention itself (notebook 12).

* ``attention_calculator``: words you type get small random embeddings; queries and keys
  are random projections of them. The scores ``QK^T`` (scaled by ``1/sqrt(d)`` or not,
  divided by a temperature, causally masked or not) and their softmax, side by side,
  computed by ``nnlib.attention.scaled_dot_product_attention_forward``. Widen ``d``
  without the scale and the softmax saturates: one key takes every row.
* ``positional_encoding_explorer``: the sinusoidal position code, its clock hands and
  the similarity of two positions' codes, which depends only on their distance.

Labels are stamped with ``nnlib.display.text.Typewriter`` (pre-rendered glyphs): matplotlib
text costs 0.1-0.2 ms a character, too slow for a grid of numbers redrawn at every move.
"""

import functools
import math
import zlib
from typing import NamedTuple

import numpy as np

from nnlib.attention import (
    attention_entropy,
    attention_scores,
    causal_mask,
    masked_softmax,
    sinusoidal_positional_encoding,
)
from nnlib.display.plotting import DIVERGING_CMAP, PALETTE, SEQUENTIAL_CMAP, new_figure
from nnlib.display.text import Typewriter, stamps, typed_text
from nnlib.display.widgets import LiveView

__all__ = ["AttentionExample", "split_words", "attention_example", "attention_calculator",
           "positional_encoding_explorer"]

MAX_TOKENS = 20  # rows and columns of the calculator's heatmaps
_ANNOTATE = 8  # numbers written in the cells up to this many tokens
_LABEL = 7  # characters of a word shown as its label
_SCORE_LIMIT = 6.0  # the scores' colour scale, +-; beyond it the colours saturate
SATURATED = 0.99  # a row "saturates" when one key takes more than this share
_PUNCTUATION = set("'-.,!?;:")


# --------------------------------------------------------------------------- the calculator


def split_words(text):
    """``(words, dropped)``: the words of ``text`` (lower case) and the characters dropped.

    A word keeps letters, digits and ``' - . , ! ? ; :``; anything else (a symbol, an
    emoji) is dropped, and listed once in ``dropped``.
    """
    words, dropped = [], []
    for raw in text.lower().split():
        word = "".join(ch for ch in raw if ch.isalnum() or ch in _PUNCTUATION)
        dropped += [ch for ch in raw if not (ch.isalnum() or ch in _PUNCTUATION)]
        if word:
            words.append(word)
    return words, list(dict.fromkeys(dropped))


@functools.lru_cache(maxsize=256)
def _embedding(word, d, seed):
    """The word's random embedding ``(d,)``: the same word always gets the same vector."""
    rng = np.random.default_rng([seed, zlib.crc32(word.encode("utf-8")), d])
    return rng.standard_normal(d)


@functools.lru_cache(maxsize=64)
def _projections(d, seed):
    """Random ``w_q, w_k (d, d)`` with entries of variance ``1/d``: q and k keep unit spread."""
    rng = np.random.default_rng([seed, 2**31 - 1, d])
    w = rng.standard_normal((2, d, d)) / math.sqrt(d)
    return w[0], w[1]


class AttentionExample(NamedTuple):
    """What the calculator shows for a list of words."""

    words: list  # the T tokens
    q: np.ndarray  # (T, d) queries
    k: np.ndarray  # (T, d) keys
    scores: np.ndarray  # (T, T) q.k * scale / temperature; -inf where masked
    weights: np.ndarray  # (T, T) softmax of the scores over the keys (rows sum to 1)
    scale: float  # what multiplied q.k: (1/sqrt(d) or 1) / temperature
    entropy: np.ndarray  # (T,) entropy of each row in nats
    uniform_entropy: np.ndarray  # (T,) ln(number of keys each row may see)


def attention_example(words, d=16, temperature=1.0, scale=True, causal=False, seed=0):
    """Attention among ``words`` with random embeddings of width ``d``.

    Each distinct word gets a seeded random embedding ``x (d,)`` (standard normal);
    ``q = x @ w_q`` and ``k = x @ w_k`` with fixed random projections (entries of
    variance ``1/d``), so each component of q and k has spread about 1 and ``q . k``
    has spread about ``sqrt(d)``. The scores are ``nnlib.attention.attention_scores(q, k,
    mask, scale)`` with ``scale = (1/sqrt(d) if scale else 1) / temperature``, the weights
    their ``masked_softmax``: the two steps of ``scaled_dot_product_attention_forward``.
    """
    if not words:
        raise ValueError("attention needs at least one word")
    T = len(words)
    x = np.stack([_embedding(w, d, seed) for w in words])  # (T, d)
    w_q, w_k = _projections(d, seed)
    q, k = x @ w_q, x @ w_k
    factor = (1.0 / math.sqrt(d) if scale else 1.0) / temperature
    mask = causal_mask(T) if causal else None
    scores = attention_scores(q[None, None], k[None, None], mask=mask, scale=factor)[0, 0]
    weights = masked_softmax(scores)  # what scaled_dot_product_attention_forward computes
    seen = np.arange(1, T + 1) if causal else np.full(T, T)
    return AttentionExample(list(words), q, k, scores, weights, factor,
                            attention_entropy(weights), np.log(seen))


def _lines(messages, width=150):
    """Messages one to a line, each cut to ``width`` characters (at most three lines)."""
    return "\n".join(m if len(m) <= width else m[:width - 1] + "…" for m in messages[:3])


def _label(word):
    return word if len(word) <= _LABEL else word[:_LABEL - 1] + "…"


def _annotation_colour(value, lo, hi, diverging):
    """Black on light cells, white on dark ones (viridis is dark at its low end)."""
    if diverging:
        return "white" if abs(value) > 0.55 * hi else "0.1"
    return "white" if (value - lo) / (hi - lo) < 0.55 else "0.1"


def attention_calculator(text="the cat sat on the mat"):
    """Scores and softmax weights of one attention head over words you type.

    Controls: the width ``d`` of a head (2 to 512), the temperature that divides the
    scores, the ``1/sqrt(d)`` scale and the causal mask (checkboxes), the words and
    the seed of the random embeddings. Left: the scores ``q . k`` as used (scaled,
    divided by the temperature), one row per query, one column per key; masked cells
    are hatched. Right: their softmax, row by row. With up to eight words the cells
    carry their numbers. Under the figure: the spread of the scores, the mean of each
    row's largest weight and the mean entropy against a uniform row's; a warning when
    most rows put more than 99% of their weight on one key (saturated: the softmax's
    gradient vanishes there). At most 20 words, lower case; symbols are dropped.
    """
    import ipywidgets as W
    from matplotlib.collections import PolyCollection
    from matplotlib.transforms import blended_transform_factory

    fig, (ax_s, ax_w) = new_figure(1, 2, figsize=(12.5, 6.2))
    fig.get_layout_engine().set(rect=(0, 0.12, 1, 0.88))
    typewriter = Typewriter(size=12)
    blank = np.full((1, 1), np.nan)
    panels = []
    for ax, cmap, lo, hi, title in (
            (ax_s, DIVERGING_CMAP, -_SCORE_LIMIT, _SCORE_LIMIT, "scores  q·k (as used)"),
            (ax_w, SEQUENTIAL_CMAP, 0.0, 1.0, "weights  softmax over each row")):
        image = ax.imshow(blank, cmap=cmap, vmin=lo, vmax=hi, aspect="auto",
                          interpolation="nearest")
        ax.set(xticks=[], yticks=[])
        ax.grid(False)
        ax.set_title(title, loc="left", fontsize=11, pad=22)
        ax.set_ylabel("query (row)", labelpad=46)
        ax.set_xlabel("key (column)", labelpad=50)
        hatch = PolyCollection([], facecolors="0.92", edgecolors="0.55", hatch="///",
                               linewidths=0)
        ax.add_collection(hatch)
        left = blended_transform_factory(ax.transAxes, ax.transData)
        under = blended_transform_factory(ax.transData, ax.transAxes)
        rows = stamps(ax, typewriter, left, ha="right")
        columns = stamps(ax, typewriter, under, va="top", rotate=True)
        cells = stamps(ax, typewriter)
        subtitle = typed_text(ax, typewriter, (0.0, 1.01), va="bottom")
        panels.append((ax, image, hatch, rows, columns, cells, subtitle, lo, hi))
    bar = fig.colorbar(panels[0][1], ax=ax_s, fraction=0.05, pad=0.02, extend="both")
    bar.set_label(f"score (colours stop at ±{_SCORE_LIMIT:g})")
    fig.colorbar(panels[1][1], ax=ax_w, fraction=0.05, pad=0.02).set_label("weight")
    readout = typed_text(ax_s, typewriter, (0.01, 0.105), transform=fig.transFigure,
                         va="bottom")
    warning = typed_text(ax_s, typewriter, (0.01, 0.1), transform=fig.transFigure, va="top")
    shown = {}

    def clear(messages):
        for _, image, hatch, rows, columns, cells, subtitle, _, _ in panels:
            image.set_data(blank)
            hatch.set_verts([])
            for artist in (rows, columns, cells):
                artist.set_items([])
            subtitle.set_text("")
        readout.set_text("")
        warning.set_text(_lines(messages), colour=PALETTE["vermillion"])
        shown.clear()
        return "; ".join(messages)

    def update(d, temperature, scale, causal, words, seed):
        tokens, dropped = split_words(words)
        messages = []
        if dropped:
            listed = " ".join(dropped[:5]) + (" …" if len(dropped) > 5 else "")
            messages.append(f"dropped {listed}: words keep letters, digits and ' - . , ! ?")
        if not tokens:
            return clear(messages + ["type a few words (separated by spaces)"])
        if len(tokens) > MAX_TOKENS:
            messages.append(f"showing the first {MAX_TOKENS} of {len(tokens)} words")
            tokens = tokens[:MAX_TOKENS]
        example = attention_example(tokens, d, temperature, scale, causal, seed)
        shown.update(example._asdict())
        T = len(tokens)
        extent = (-0.5, T - 0.5, T - 0.5, -0.5)
        masked = ~np.isfinite(example.scores)
        labels = [_label(w) for w in tokens]
        how = ("q·k / √d" if scale else "q·k (no scale)") + (f" / {temperature:.2g}"
                                                              if temperature != 1 else "")
        for panel, values in zip(panels, (example.scores, example.weights)):
            ax, image, hatch, rows, columns, cells, subtitle, lo, hi = panel
            image.set_data(np.where(masked, np.nan, values))
            image.set_extent(extent)
            ax.set(xlim=extent[:2], ylim=extent[2:])
            hatch.set_verts([[(j - 0.5, i - 0.5), (j + 0.5, i - 0.5), (j + 0.5, i + 0.5),
                              (j - 0.5, i + 0.5)] for i, j in zip(*np.nonzero(masked))])
            rows.set_items([(-0.012, i, label, "0.1") for i, label in enumerate(labels)])
            columns.set_items([(j, -0.012, label, "0.1") for j, label in enumerate(labels)])
            if T <= _ANNOTATE:
                diverging = lo < 0
                cells.set_items([(j, i, f"{v:.1f}" if diverging else f"{v:.2f}",
                                  _annotation_colour(v, lo, hi, diverging))
                                 for (i, j), v in np.ndenumerate(values) if not masked[i, j]])
            else:
                cells.set_items([])
        finite = example.scores[~masked]
        panels[0][6].set_text(f"{how}: spread (std) {finite.std():.2f}, "
                              f"range {finite.min():.1f} to {finite.max():.1f}")
        top = example.weights.max(axis=1)
        panels[1][6].set_text(f"largest weight per row: mean {top.mean():.2f}")
        free = example.uniform_entropy > 0  # rows with more than one key to choose from
        readout.set_text(
            f"T = {T} words, d = {d}:  scores' spread {finite.std():.2f}  |  "
            f"mean max weight {top.mean():.2f}  |  mean entropy "
            f"{example.entropy.mean():.2f} nats (uniform rows: {example.uniform_entropy.mean():.2f}"
            f"{', ln T = ' + format(math.log(T), '.2f') if not causal else ''})")
        if T == 1:
            messages.append("one word attends only to itself: its weight is 1 whatever its score")
        elif free.any() and np.mean(top[free] > SATURATED) > 0.5:
            share = np.mean(top[free] > SATURATED)
            messages.append(f"saturated: {share:.0%} of the rows put > 99% on one key — the "
                            f"softmax's gradient vanishes" + ("" if scale else
                                                              " (try the 1/√d scale)"))
        elif free.any() and example.entropy[free].mean() > 0.95 * example.uniform_entropy[
                free].mean():
            messages.append("almost uniform: every key gets about the same weight")
        warning.set_text(_lines(messages), colour=PALETTE["vermillion"])
        return "; ".join(messages) or None

    controls = {
        "d": W.SelectionSlider(options=[2**n for n in range(1, 10)], value=16,
                               description="d (width)"),
        "temperature": W.FloatLogSlider(value=1.0, base=10, min=-1, max=0.7, step=0.05,
                                        description="temperature", readout_format=".2f",
                                        style={"description_width": "initial"}),
        "scale": W.Checkbox(value=True, description="scale by 1/√d"),
        "causal": W.Checkbox(value=False, description="causal mask"),
        "words": W.Text(value=text, description="words", continuous_update=True,
                        layout=W.Layout(width="420px")),
        "seed": W.IntSlider(value=0, min=0, max=9, description="seed"),
    }
    dynamic = [artist for ax, image, hatch, rows, columns, cells, subtitle, _, _ in panels
               for artist in (image, hatch, rows, columns, cells, subtitle)]
    view = LiveView(fig, update, controls, title="attention calculator",
                    dynamic=[*dynamic, readout, warning])
    view.shown = shown
    return view


# --------------------------------------------------------------------------- positions

POSITIONS = 64  # rows of the positional-encoding heatmap


def _pairs(E):
    """Four column pairs from fastest to slowest: ``i = 0, E/8, E/4, E/2 - 1`` (distinct)."""
    half = E // 2
    return sorted(set([0, half // 4, half // 2, half - 1]))


def positional_encoding_explorer():
    """The sinusoidal positional encoding: the code, its clocks, and what it says of distance.

    Controls: the position ``t`` (0 to 63), the width ``E`` (8 to 128, even) and an
    offset ``k``. Left: ``PE`` for positions 0 to 63 (rows) and its ``E`` columns, row
    ``t`` outlined and row ``t + k`` dashed. Top right: four column pairs as functions of
    the position, sine solid and cosine dashed, from the fastest clock (pair 0, a turn
    every 2π positions) to the slowest; dots at ``t``. Bottom right: the similarity
    ``PE[t]·PE[s] / (E/2)`` for every ``s``: 1 at ``s = t``, falling off with ``|t - s|``,
    and the same shape wherever ``t`` is (it is a sum of ``cos(ω_i (t - s))``): the
    readout compares ``PE[t]·PE[t+k]`` with ``PE[0]·PE[k]``.
    """
    import ipywidgets as W
    from matplotlib.transforms import blended_transform_factory

    fig = new_figure(figsize=(11, 5.6))[0]
    fig.clear()
    grid = fig.add_gridspec(2, 2, width_ratios=[1, 1.35])
    ax_pe = fig.add_subplot(grid[:, 0])
    ax_c = fig.add_subplot(grid[0, 1])
    ax_s = fig.add_subplot(grid[1, 1])
    typewriter = Typewriter(size=12)
    s_axis = np.arange(POSITIONS)

    image = ax_pe.imshow(np.zeros((POSITIONS, 8)), cmap=DIVERGING_CMAP, vmin=-1, vmax=1,
                         aspect="auto", interpolation="nearest")
    ax_pe.set(xticks=[], ylabel="position")
    ax_pe.set_title("PE: one row per position", loc="left", pad=18)
    ax_pe.set_xlabel("column (dimension)", labelpad=18)
    ax_pe.grid(False)
    fig.colorbar(image, ax=ax_pe, fraction=0.05, pad=0.02, label="value")
    row_t = [ax_pe.axhline(0, color="black", lw=1.6) for _ in range(2)]
    row_k = [ax_pe.axhline(0, color=PALETTE["orange"], lw=1.6, ls="--") for _ in range(2)]
    under = blended_transform_factory(ax_pe.transData, ax_pe.transAxes)
    columns = stamps(ax_pe, typewriter, under, va="top")
    pe_text = typed_text(ax_pe, typewriter, (0.0, 1.005), va="bottom")

    colours = [PALETTE[c] for c in ("vermillion", "blue", "green", "purple")]
    names = ["fastest pair (i = 0)", "pair i = E/8", "pair i = E/4", "slowest (i = E/2 - 1)"]
    curves = []
    for colour, name in zip(colours, names):
        sine, = ax_c.plot(s_axis, np.zeros(POSITIONS), color=colour, lw=1.8, label=name)
        cosine, = ax_c.plot(s_axis, np.zeros(POSITIONS), color=colour, lw=1.3, ls="--")
        dots, = ax_c.plot([0, 0], [0, 0], "o", color=colour, ms=5)
        curves.append((sine, cosine, dots))
    t_line_c = ax_c.axvline(0, color="black", lw=1)
    ax_c.set(xlim=(0, POSITIONS - 1), ylim=(-1.1, 1.1), ylabel="PE value")
    ax_c.set_title("clock hands: column pairs, sin solid, cos dashed", loc="left",
                   pad=18)
    ax_c.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), fontsize=8, ncol=4,
                handlelength=1.5, columnspacing=1.0)
    clock_text = typed_text(ax_c, typewriter, (0.0, 1.005), va="bottom")

    similarity, = ax_s.plot(s_axis, np.zeros(POSITIONS), color=PALETTE["blue"], lw=2,
                            label="PE[t]·PE[s] / (E/2)")
    from_zero, = ax_s.plot(s_axis, np.zeros(POSITIONS), color="0.6", lw=1.2, ls=":",
                           label="PE[0]·PE[s - t] / (E/2) (shifted to t)")
    t_line_s = ax_s.axvline(0, color="black", lw=1)
    k_line = ax_s.axvline(0, color=PALETTE["orange"], lw=1.5, ls="--")
    k_dot, = ax_s.plot([0], [0], "o", color=PALETTE["orange"], ms=7)
    ax_s.set(xlim=(0, POSITIONS - 1), ylim=(-1.05, 1.1), xlabel="position s",
             ylabel="similarity")
    ax_s.set_title("how alike two positions' codes are", loc="left", pad=32)
    ax_s.legend(loc="lower left", fontsize=8)
    sim_text = typed_text(ax_s, typewriter, (0.0, 1.005), va="bottom")

    def update(t, E, k):
        E = int(E) // 2 * 2
        pe = sinusoidal_positional_encoding(POSITIONS, E)
        image.set_data(pe)
        image.set_extent((-0.5, E - 0.5, POSITIONS - 0.5, -0.5))
        ax_pe.set_xlim(-0.5, E - 0.5)
        columns.set_items([(c, -0.01, str(c), "0.1") for c in (0, E // 2, E - 1)])
        target = t + k
        inside = target < POSITIONS
        for line, y in zip(row_t, (t - 0.5, t + 0.5)):
            line.set_ydata([y, y])
        for line, y in zip(row_k, (target - 0.5, target + 0.5)):
            line.set_ydata([y, y])
            line.set_visible(inside)
        pe_text.set_text(f"row t = {t} (black), t + k = {t + k} (orange); "
                         f"{E // 2} (sin, cos) pairs")

        pairs = _pairs(E)
        rates = 1.0 / 10000.0 ** (2 * np.arange(E // 2) / E)
        for n, (sine, cosine, dots) in enumerate(curves):
            visible = n < len(pairs)
            for artist in (sine, cosine, dots):
                artist.set_visible(visible)
            if visible:
                i = pairs[n]
                sine.set_ydata(pe[:, 2 * i])
                cosine.set_ydata(pe[:, 2 * i + 1])
                dots.set_data([t, t], [pe[t, 2 * i], pe[t, 2 * i + 1]])
        t_line_c.set_xdata([t, t])
        periods = ", ".join(f"{2 * np.pi / rates[i]:.3g}" for i in pairs)
        clock_text.set_text(f"periods: {periods} positions")

        # PE[t].PE[s] = sum_i cos(w_i (t - s)): a function of t - s only.
        norm = E / 2
        sims = pe @ pe[t] / norm
        similarity.set_ydata(sims)
        shifted = np.cos(np.outer(s_axis - t, rates)).sum(axis=1) / norm  # PE[0].PE[s-t]
        from_zero.set_ydata(shifted)
        t_line_s.set_xdata([t, t])
        if inside:
            k_line.set_xdata([target, target])
            k_dot.set_data([target], [sims[target]])
            same = pe[0] @ sinusoidal_positional_encoding(k + 1, E)[k] / norm
            lines = [f"PE[t]·PE[t+k]/(E/2) = {sims[target]:+.4f}  (t = {t}, k = {k})",
                     f"PE[0]·PE[k]  /(E/2) = {same:+.4f}  the same: only k counts"]
        else:
            lines = [f"t + k = {target} is past the {POSITIONS} positions shown",
                     "lower t or k to compare PE[t]·PE[t+k] with PE[0]·PE[k]"]
        for artist in (k_line, k_dot):
            artist.set_visible(inside)
        sim_text.set_text("\n".join(lines))
        if not inside:
            return f"t + k = {target} is beyond position {POSITIONS - 1}: lower t or k"
        return None

    controls = {
        "t": W.IntSlider(value=10, min=0, max=POSITIONS - 1, description="position t"),
        "E": W.IntSlider(value=32, min=8, max=128, step=2, description="width E"),
        "k": W.IntSlider(value=5, min=0, max=32, description="offset k"),
    }
    dynamic = [image, *row_t, *row_k, columns, pe_text,
               *[a for c in curves for a in c], t_line_c, clock_text,
               similarity, from_zero, t_line_s, k_line, k_dot, sim_text]
    return LiveView(fig, update, controls, title="positional encoding", dynamic=dynamic)
