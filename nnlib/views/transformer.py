"""Views of trained transformers (notebook 12): what each head attends to, and what a
character transformer writes at a temperature.

* ``head_maps``: the attention weights of every head of a trained
  ``nnlib.models.seq2seq.Seq2SeqTransformer`` (the digit sorter) for digits you type:
  the encoder's self-attention, the decoder's masked self-attention, or the decoder's
  cross-attention to the input.
* ``transformer_sampler``: 200 characters sampled from a trained
  ``nnlib.models.transformer.CharTransformer``, run in numpy by
  ``nnlib.sampling.NumpyCharTransformer`` with the from-scratch ``nnlib.attention``
  functions and a key/value cache: a step costs
  some 0.1 ms, a call into torch some 0.5 ms or more, too slow for 200 steps a redraw.

Without a model each view trains a small one once (a few seconds, cached):
``small_sequence_model`` and ``small_char_transformer``.
"""

import functools

import numpy as np

from nnlib.attention import attention_entropy
from nnlib.display.plotting import PALETTE, SEQUENTIAL_CMAP, new_figure
from nnlib.display.text import Typewriter, stamps, typed_text
from nnlib.display.widgets import LiveView
from nnlib.views.rnn import sampling_explorer

__all__ = ["small_sequence_model", "small_char_transformer", "head_maps",
           "transformer_sampler", "MAP_KINDS"]

# Fallback training, on the CPU with one thread: the sorter reaches ~99% of test sequences
# right (about 10 s); the character model ~2.3 nats/char on held-out text in about 4 s (the
# unigram baseline: 3.08), with a 32-character context.
FALLBACK_SEQUENCE_RECIPE = {"steps": 250, "batch_size": 32, "n_layers": 2}
FALLBACK_CHAR_RECIPE = {"steps": 200, "batch_size": 16, "context": 32, "lr": 6e-3}


@functools.cache
def small_sequence_model(kind="sort"):
    """A ``Seq2SeqTransformer`` trained briefly on ``sequence_task(kind)`` (cached).

    ``fit_sequence_model`` with ``SEQUENCE_RECIPE`` cut to ``FALLBACK_SEQUENCE_RECIPE``,
    on the CPU: for the views and tests without a notebook's model.
    """
    from nnlib.models.seq2seq import SEQUENCE_RECIPE, fit_sequence_model

    recipe = SEQUENCE_RECIPE._replace(**FALLBACK_SEQUENCE_RECIPE)
    return fit_sequence_model(kind, recipe=recipe, device="cpu").model


@functools.cache
def small_char_transformer():
    """``(model, vocab)``: a ``CharTransformer`` trained briefly on Moby Dick (cached)."""
    from nnlib.models.transformer import CHAR_TRANSFORMER_RECIPE, fit_char_transformer

    recipe = CHAR_TRANSFORMER_RECIPE._replace(**FALLBACK_CHAR_RECIPE)
    result = fit_char_transformer(recipe=recipe, device="cpu")
    return result.model, result.vocab


# --------------------------------------------------------------------------- head maps

MAP_KINDS = {
    "encoder self-attention": "encoder",
    "decoder self-attention": "decoder",
    "cross-attention": "cross",
}
_AXES = {
    "encoder": "rows: each input digit (query)  ·  columns: the input digits it reads (keys)",
    "decoder": "rows: the output digit being written  ·  columns: the decoder's inputs so far "
               "(^ = begin)",
    "cross": "rows: the output digit being written  ·  columns: the input digits it reads",
}


def _check_answer(digits, answer, kind):
    """``"✓ sorted"``, or ``"✗ (sorted: 0123)"`` with the right answer; ``""`` for another task."""
    if kind not in ("sort", "reverse"):
        return ""
    done = "sorted" if kind == "sort" else "reversed"
    expected = "".join(sorted(digits)) if kind == "sort" else digits[::-1]
    return f"✓ {done}" if answer == expected else f"✗ ({done}: {expected})"


def head_maps(model=None, kind="sort", digits="3141592"):
    """Every head's attention weights in a trained digit sorter, for digits you type.

    Args:
        model: a trained ``nnlib.models.seq2seq.Seq2SeqTransformer``
            (``fit_sequence_model("sort").model``); ``None`` trains a small one with two
            layers (a few seconds, cached).
        kind: the task it learned, ``"sort"`` or ``"reverse"``: the title checks the
            answer against it.
        digits: the digits shown at first.

    Controls: a row to read (outlined in every head, its largest weight written above
    the head), the layer (when the model has more than one), which attention (the
    encoder's self-attention, the decoder's masked self-attention, the decoder's
    cross-attention to the input) and the digits. One heatmap per head, rows attending
    to columns (each row sums to 1), with the mean entropy of its rows. The title holds
    the model's greedy answer. Characters other than digits are dropped; at most
    ``model.max_len`` digits are read.
    """
    import ipywidgets as W
    from matplotlib.transforms import blended_transform_factory

    from nnlib.data.sequences import BOS, decode

    model = small_sequence_model(kind) if model is None else model
    model.eval()
    n_heads, n_layers = model.encoder[0].attn.n_heads, len(model.encoder)
    L = model.max_len

    fig, axes = new_figure(1, n_heads, figsize=(3.0 * n_heads + 0.8, 4.2))
    axes = np.atleast_1d(axes)
    fig.get_layout_engine().set(rect=(0, 0.07, 1, 0.84))
    typewriter = Typewriter(size=12)
    panels = []
    for i, ax in enumerate(axes):
        image = ax.imshow(np.full((1, 1), np.nan), cmap=SEQUENTIAL_CMAP, vmin=0, vmax=1,
                          aspect="equal", interpolation="nearest")
        ax.set(xticks=[], yticks=[])
        ax.set_ylabel(" ", labelpad=8)  # room for the row labels, stamped by `rows`
        ax.set_xlabel(" ", labelpad=4)
        ax.grid(False)
        ax.set_title(f"head {i + 1}", loc="left", fontsize=11, pad=30)
        left = blended_transform_factory(ax.transAxes, ax.transData)
        under = blended_transform_factory(ax.transData, ax.transAxes)
        rows = stamps(ax, typewriter, left, ha="right")
        columns = stamps(ax, typewriter, under, va="top")
        outline, = ax.plot([], [], color=PALETTE["vermillion"], lw=2.5)
        note = typed_text(ax, typewriter, (0.0, 1.005), va="bottom")
        panels.append((ax, image, rows, columns, outline, note))
    fig.colorbar(panels[-1][1], ax=axes, fraction=0.02, pad=0.02, label="attention weight")
    title = typed_text(axes[0], Typewriter(size=15, bold=True), (0.01, 0.99),
                       transform=fig.transFigure)
    legend = typed_text(axes[0], typewriter, (0.01, 0.015), transform=fig.transFigure,
                        va="bottom")
    answers = {}  # digits -> (answer, maps): a new row, layer or kind reuses them
    shown = {}

    def run(kept):
        if kept not in answers:
            if len(answers) > 256:
                answers.clear()
            src = np.array([[int(c) for c in kept]])
            answer = model.generate(src)[0]
            tgt_in = np.array([[BOS, *answer[:-1]]])
            answers[kept] = decode(answer), model.attention_maps(src, tgt_in)
        return answers[kept]

    def update(row, attention, digits, layer=1):
        messages = []
        kept = "".join(c for c in digits if c in "0123456789")
        dropped = list(dict.fromkeys(c for c in digits if c not in "0123456789"))
        if dropped:
            messages.append(f"{' '.join(dropped[:5])}{' …' if len(dropped) > 5 else ''} "
                            f"dropped: the model reads digits 0-9 only")
        if len(kept) > L:
            messages.append(f"the model reads at most {L} digits: showing the first {L}")
            kept = kept[:L]
        if not kept:
            messages.append("type a few digits for the model to sort")
            for _, image, rows, columns, outline, note in panels:
                image.set_data(np.full((1, 1), np.nan))
                rows.set_items([])
                columns.set_items([])
                outline.set_data([], [])
                note.set_text("")
            title.set_text("input: nothing to read")
            legend.set_text("; ".join(messages), colour=PALETTE["vermillion"])
            shown.clear()
            return "; ".join(messages)
        answer, maps = run(kept)
        layer = int(min(max(layer, 1), n_layers))
        weights = maps[attention][layer - 1][0]  # (h, Tq, Tk)
        queries = list(kept) if attention == "encoder" else list(answer)
        keys = list(kept) if attention != "decoder" else ["^", *answer[:-1]]
        Tq, Tk = weights.shape[1:]
        r = int(min(max(row, 1), Tq)) - 1
        if row > Tq:
            messages.append(f"row {row} is past the last of {Tq} rows: showing row {Tq}")
        shown.update(weights=weights, answer=answer, digits=kept, row=r)
        box = ([-0.5, Tk - 0.5, Tk - 0.5, -0.5, -0.5], [r - 0.5, r - 0.5, r + 0.5, r + 0.5,
                                                        r - 0.5])
        for (ax, image, rows, columns, outline, note), w in zip(panels, weights):
            masked = np.tril(np.ones((Tq, Tk), bool)) if attention == "decoder" else None
            image.set_data(w if masked is None else np.where(masked, w, np.nan))
            image.set_extent((-0.5, Tk - 0.5, Tq - 0.5, -0.5))
            ax.set(xlim=(-0.5, max(Tk, 4) - 0.5), ylim=(max(Tq, 4) - 0.5, -0.5))
            rows.set_items([(-0.02, i, label, "0.1") for i, label in enumerate(queries)])
            columns.set_items([(j, -0.02, label, "0.1") for j, label in enumerate(keys)])
            outline.set_data(*box)
            best = int(np.argmax(w[r]))
            note.set_text(f"entropy {attention_entropy(w).mean():.2f} nats\n"
                          f"row {r + 1} ({queries[r]}): {w[r, best]:.0%} on "
                          f"{keys[best]} (col {best + 1})")
        where = f"   (layer {layer} of {n_layers})" if n_layers > 1 else ""
        title.set_text(f"input {kept} → output {answer} {_check_answer(kept, answer, kind)}"
                       f"{where}")
        legend.set_text("; ".join(messages) or _AXES[attention],
                        colour=PALETTE["vermillion"] if messages else "0.1")
        return "; ".join(messages) or None

    controls = {
        "row": W.IntSlider(value=1, min=1, max=L, description="row"),
        "attention": W.Dropdown(options=list(MAP_KINDS.items()), value="cross",
                                description="attention"),
        "digits": W.Text(value=digits, description="digits", continuous_update=True,
                         layout=W.Layout(width="260px")),
    }
    if n_layers > 1:
        controls["layer"] = W.IntSlider(value=1, min=1, max=n_layers, description="layer")
    dynamic = [a for ax, image, rows, columns, outline, note in panels
               for a in (image, rows, columns, outline, note)]
    view = LiveView(fig, update, controls, title="attention heads",
                    dynamic=[*dynamic, title, legend])
    view.shown = shown
    return view


# --------------------------------------------------------------------------- sampler


def transformer_sampler(model=None, vocab=None, prompt="The sea was "):
    """Sample 200 characters from a trained character transformer at a temperature.

    ``sampling_explorer`` of notebook 08 with one model (see there for the controls
    and panels), run in numpy by ``nnlib.sampling.NumpyCharTransformer``: the from-scratch attention
    with a key/value cache.

    Args:
        model: a trained ``nnlib.models.transformer.CharTransformer``
            (``fit_char_transformer().model``); ``None`` trains a small one on Moby Dick
            (a few seconds, cached).
        vocab: its ``CharVocab`` (``result.vocab``).
        prompt: the text the model reads before it writes.
    """
    if (model is None) != (vocab is None):
        raise ValueError("pass the trained model with its vocab (or neither)")
    if model is None:
        model, vocab = small_char_transformer()
    return sampling_explorer({"Transformer": model}, vocab, prompt)
