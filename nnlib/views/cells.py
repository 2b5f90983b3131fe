"""Live architecture diagrams of the recurrent cells: a trained model's real values.

``lstm_cell_explorer`` (notebook 09) and ``gru_cell_explorer`` (notebook 10) draw the cell
of ``nnlib.display.diagrams`` and write into it, for the character under a slider in a
text, one unit's gates and states. The values come from the numpy ``nnlib.rnn``
forward passes (``lstm_forward``, ``gru_forward``) on float64 copies of the trained
``CharModel``'s weights, the same code path as the gate heatmaps of ``nnlib.views.gates``.
Without a model each trains a small one once (``nnlib.views.rnn.small_char_model``).
"""

import numpy as np

from nnlib.display.diagrams import GRU_GATES, LSTM_GATES, gru_cell, lstm_cell, set_cell_values
from nnlib.display.widgets import LiveView

__all__ = ["lstm_cell_explorer", "gru_cell_explorer", "cell_states"]

_TEXT = "Call me Ishmael. Some years ago, never mind how long"
_CONTEXT = 24  # characters shown on either side of the one read


def _readable(ch):
    return {" ": "␣", "\n": "↵"}.get(ch, ch)


def cell_states(weights, ids):
    """``{name: (T, H)}``: a character model's gates and states over ``ids``, from zero states.

    ``weights``: ``CharModelWeights`` of an LSTM (names ``i f g o c h`` and ``c_prev``,
    ``h_prev``) or a GRU (``r z n h h_prev``), run by ``nnlib.rnn``'s numpy forward pass.
    """
    from nnlib.rnn import gru_forward, lstm_forward

    x = weights.embed[np.asarray(ids)][None]  # (1, T, D)
    H = weights.recurrent[1].shape[0]
    zeros = np.zeros((1, H))
    if weights.cell == "lstm":
        hs, cache = lstm_forward(x, zeros, zeros, *weights.recurrent)
        out = {g: cache.gate(g)[0] for g in LSTM_GATES}
        out["c"] = cache.cs[0]
        out["c_prev"] = np.vstack([zeros, cache.cs[0, :-1]])
    elif weights.cell == "gru":
        hs, cache = gru_forward(x, zeros, *weights.recurrent)
        out = {g: cache.gate(g)[0] for g in GRU_GATES}
    else:
        raise ValueError(f"weights must be an LSTM's or a GRU's, got cell {weights.cell!r}")
    out["h"] = hs[0]
    out["h_prev"] = np.vstack([zeros, hs[0, :-1]])
    return out


def _cell_explorer(cell, model, vocab, text):
    import ipywidgets as W

    from nnlib.models.convert import char_model_weights
    from nnlib.views.rnn import small_char_model, split_known

    if (model is None) != (vocab is None):
        raise ValueError("pass the trained model with its vocab (or neither)")
    if model is None:
        model, vocab = small_char_model(cell)
    weights = char_model_weights(model)
    if weights.cell != cell:
        raise ValueError(f"this view needs a {cell.upper()} CharModel, got {weights.cell!r}")
    kept = split_known(vocab, text)[0]
    if not kept:
        raise ValueError("the text has no character of the model's alphabet")
    states = cell_states(weights, vocab.encode(kept))
    H = states["h"].shape[1]
    # start on the unit whose state moves most over the text: the liveliest picture
    busiest = int(np.argmax(states["c" if cell == "lstm" else "h"].std(axis=0)))

    fig, handles = (lstm_cell if cell == "lstm" else gru_cell)()
    ax = handles["ax"]
    ax.set_ylim(top=5.3)  # room for the text read, above the cell
    reading = ax.text(4.0, 5.25, "", ha="center", va="top", fontsize=11, family="monospace")
    which = ax.text(4.0, 4.7, "", ha="center", va="top", fontsize=9, color="#6E6E6E")

    def update(position, unit):
        t = int(min(max(position, 0), len(kept) - 1))
        u = int(min(max(unit, 0), H - 1))
        values = {name: float(v[t, u]) for name, v in states.items()}
        values["x"] = repr(kept[t])
        set_cell_values(handles, values)
        before = kept[max(0, t - _CONTEXT):t].replace("\n", "↵")
        after = kept[t + 1:t + 1 + _CONTEXT].replace("\n", "↵")
        reading.set_text(f"{before:>{_CONTEXT}s}[{_readable(kept[t])}]{after:<{_CONTEXT}s}")
        which.set_text(f"character {t + 1} of {len(kept)}, unit {u} of {H}")

    controls = {
        "position": W.IntSlider(value=min(8, len(kept) - 1), min=0, max=len(kept) - 1,
                                description="character"),
        "unit": W.IntSlider(value=busiest, min=0, max=H - 1, description="unit"),
    }
    gates = handles["gates"].values()
    dynamic = [reading, which, *handles["values"].values(), *gates, *(g.symbol for g in gates)]
    view = LiveView(fig, update, controls, title=f"{cell.upper()} cell", dynamic=dynamic)
    view.handles = handles  # the diagram's artists, for tests and curious learners
    return view


def lstm_cell_explorer(model=None, vocab=None, text=_TEXT):
    """The LSTM cell diagram with a trained model's values, character by character.

    Controls: the character of ``text`` the model has just read (the slider) and the unit
    shown. The gate boxes hold that unit's ``i, f, g, o`` (darker: further from 0), the ends
    of the lines ``c_{t-1}, h_{t-1}, c_t, h_t``.
    """
    return _cell_explorer("lstm", model, vocab, text)


def gru_cell_explorer(model=None, vocab=None, text=_TEXT):
    """The GRU cell diagram with a trained model's values: ``r, z, n``, ``h_{t-1}`` and ``h_t``
    of one unit, for the character under the slider."""
    return _cell_explorer("gru", model, vocab, text)
