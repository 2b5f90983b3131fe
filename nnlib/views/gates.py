"""The LSTM notebook's view: the gates of a trained character model over a text you type.

``gate_explorer`` runs the notebook's trained LSTM ``CharModel`` with the numpy
``nnlib.rnn.lstm_forward`` of notebook 09 (float64 copies of torch's weights, checked
against torch when the view is built) and shows its input, forget and output gates
and its cell state, unit by unit and character by character. Without a model it
trains a small one once (``nnlib.views.rnn.small_char_model``, a few seconds).
"""


import numpy as np

from nnlib.display.plotting import DIVERGING_CMAP, SEQUENTIAL_CMAP, new_figure
from nnlib.display.text import Typewriter, typed_labels, typed_text
from nnlib.display.widgets import LiveView
from nnlib.models.convert import char_lstm_weights, check_lstm_states
from nnlib.sampling import char_lstm_forward
from nnlib.views.rnn import dropped_message, small_char_model, split_known

__all__ = ["gate_explorer"]

_WINDOW = 60  # characters shown
_MIN_COLUMNS = 20  # a short text still gets cells of a sensible width
_BLOCK = 16  # units shown at a time
_MAX_READ = 1000  # characters the model reads (the last ones): bounds the redraw time


def _readable(ch):
    return {" ": "␣", "\n": "↵"}.get(ch, ch)


_PANELS = (
    ("i", "input gate i: how much of the new candidate g is written into the cell"),
    ("f", "forget gate f: how much of the cell is kept (1) or erased (0)"),
    ("o", "output gate o: how much of the cell shows in h"),
    ("c", "cell state, as tanh(c): what the cell holds"),
)


def gate_explorer(model=None, vocab=None, text="Call me Ishmael. Some years ago"):
    """A trained LSTM's gates, unit by unit, over a text you type.

    Args:
        model: a trained LSTM ``CharModel`` (``fit_char_model("lstm").model``); ``None``
            trains a small one on Moby Dick (a few seconds, cached).
        vocab: its ``CharVocab`` (``CharResult.vocab``).
        text: the text the model reads at first.

    Controls: the first of the 16 units shown (a slider that steps by 16) and the
    text. Four heatmaps, units (rows) by characters (columns, the character the
    model just read under each): the input, forget and output gates (0 to 1, one
    colour scale) and the cell state as ``tanh(c)`` (−1 to 1). Each panel's mean
    over what it shows sits at its top right. The gates come from the numpy
    ``lstm_forward`` on float64 copies of the weights; the view checks, once, that its
    hidden states are torch's. Long texts show their last 60 characters (the model
    still reads everything before them); characters the book never uses are dropped.
    """
    import ipywidgets as W
    from matplotlib.transforms import blended_transform_factory

    if (model is None) != (vocab is None):
        raise ValueError("pass the trained model with its vocab (or neither)")
    if model is None:
        model, vocab = small_char_model("lstm")
    weights = char_lstm_weights(model)
    H = weights.recurrent[1].shape[0]
    check_text = split_known(vocab, text)[0] or vocab.chars[-1]
    check_lstm_states(model, weights, vocab.encode(check_text))

    fig, axes = new_figure(4, 1, figsize=(12, 6.9))
    typewriter = Typewriter(size=13)
    panels = []
    blank = np.full((_BLOCK, 1), np.nan)
    for ax, (gate, title) in zip(axes, _PANELS):
        cmap, lo = (DIVERGING_CMAP, -1.0) if gate == "c" else (SEQUENTIAL_CMAP, 0.0)
        image = ax.imshow(blank, cmap=cmap, vmin=lo, vmax=1.0, aspect="auto",
                          interpolation="nearest")
        ax.set(xticks=[], yticks=[], ylim=(_BLOCK - 0.5, -0.5))
        ax.set_ylabel("unit", labelpad=26)
        ax.set_xlabel(" ", labelpad=6)  # room for the characters, drawn by `chars`
        ax.grid(False)
        ax.set_title(title, loc="left", fontsize=10)
        chars = typed_labels(ax, typewriter, y=-0.03)
        left = blended_transform_factory(ax.transAxes, ax.transData)
        units = [typed_text(ax, typewriter, (-0.004, r), left, ha="right", va="center")
                 for r in range(0, _BLOCK, 4)]
        mean = typed_text(ax, typewriter, (1.0, 1.01), ha="right", va="bottom")
        panels.append((gate, ax, image, chars, units, mean))
    fig.colorbar(panels[0][2], ax=axes[:3], fraction=0.02, pad=0.01, label="gate value")
    fig.colorbar(panels[3][2], ax=axes[3], fraction=0.02, pad=0.01, label="tanh(c)")
    fig.supxlabel("the characters the model reads, left to right (␣ space, ↵ line break)",
                  fontsize=10)

    def update(first_unit, text):
        kept, dropped = split_known(vocab, text)
        messages = [dropped_message(dropped)] if dropped else []
        first = int(min(max(first_unit, 0), H - 1))
        rows = slice(first, min(first + _BLOCK, H))
        if not kept:
            messages.append("type some text: there is nothing for the model to read")
            for _, _, image, chars, units, mean in panels:
                image.set_data(blank)
                for artist in (chars, *units, mean):
                    artist.set_visible(False)
            return "; ".join(messages)
        if len(kept) > _MAX_READ:
            messages.append(f"the model reads the last {_MAX_READ} of {len(kept)} characters")
            kept = kept[-_MAX_READ:]
        elif len(kept) > _WINDOW:
            messages.append(f"showing the last {_WINDOW} of {len(kept)} characters (the "
                            f"states carry what came before)")
        _, cache = char_lstm_forward(weights, vocab.encode(kept))
        shown = kept[-_WINDOW:]
        T = len(shown)
        for gate, ax, image, chars, units, mean in panels:
            values = np.tanh(cache.cs[0]) if gate == "c" else cache.gate(gate)[0]
            block = np.full((_BLOCK, T), np.nan)
            block[:rows.stop - rows.start] = values[-T:, rows].T  # (units, characters)
            image.set_data(block)
            image.set_extent((-0.5, T - 0.5, _BLOCK - 0.5, -0.5))
            ax.set_xlim(-0.5, max(T, _MIN_COLUMNS) - 0.5)
            chars.set_visible(True)
            chars.set_labels(range(T), [_readable(ch) for ch in shown])
            for r, label in zip(range(0, _BLOCK, 4), units):
                label.set_visible(first + r < H)
                label.set_text(str(first + r))
            mean.set_visible(True)
            mean.set_text(f"mean {np.mean(values[-T:, rows]):+.2f}" if gate == "c" else
                          f"mean {np.mean(values[-T:, rows]):.2f}")
        return "; ".join(messages) or None

    controls = {
        "first_unit": W.IntSlider(value=0, min=0, max=(H - 1) // _BLOCK * _BLOCK, step=_BLOCK,
                                  description="units from"),
        "text": W.Text(value=text, description="text", continuous_update=True,
                       layout=W.Layout(width="520px")),
    }
    dynamic = [artist for _, _, image, chars, units, mean in panels
               for artist in (image, chars, *units, mean)]
    return LiveView(fig, update, controls, title="LSTM gates", dynamic=dynamic)
