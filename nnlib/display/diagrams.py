"""Architecture diagrams, drawn by code in the notebooks' own notation (matplotlib only).

One function per architecture of notebooks 07-12; each returns ``(fig, handles)``:
``fig`` a ``Figure`` from ``new_figure``, ``handles`` a dict naming the artists a live
view changes (the text of a value, the face of a gate) and the facts a test checks
(the shapes listed, the gate order, the widths written)::

    conv_stack(rows)              a CNN's layers, the shape after each (07)
    unrolled_rnn(steps)           h_t = tanh(x_t W_ih + h_{t-1} W_hh + b), unrolled (08)
    lstm_cell(values)             the LSTM cell, colah-style, gates i f g o (09)
    gru_cell(values)              the GRU cell, gates r z n (10)
    transformer_block(E, h, F)    the pre-norm block (12)
    encoder_decoder(E, h, F, N)   the encoder-decoder of the sorting task (12)

The shapes and widths come from the real models (``nnlib.models.cnn.layer_shapes``,
``nnlib.models.transformer.block_widths``); nothing here imports torch.
"""

from nnlib.display.plotting import PALETTE, new_figure

__all__ = ["LSTM_GATES", "GRU_GATES", "conv_stack", "unrolled_rnn", "lstm_cell", "gru_cell",
           "transformer_block", "encoder_decoder", "set_cell_values", "box", "arrow", "operator",
           "shape_text"]

LSTM_GATES = ("i", "f", "g", "o")  # torch's and nnlib.rnn's order of the blocks of a_t
GRU_GATES = ("r", "z", "n")

_GREY = "#6E6E6E"
_LIGHT = "#F2F2F2"


# --------------------------------------------------------------------------- primitives


def _canvas(figsize, xlim, ylim):
    from nnlib.display.widgets import figure_png

    fig, ax = new_figure(figsize=figsize)
    ax.set(xlim=xlim, ylim=ylim, aspect="equal")
    ax.set_axis_off()
    # A notebook shows the figure when a cell ends with it, even before pyplot has drawn
    # anything (until then matplotlib's inline display is not set up).
    fig._repr_png_ = lambda: figure_png(fig)
    return fig, ax


def box(ax, xy, w, h, text="", color=PALETTE["blue"], fill=0.18, fontsize=10, **text_kw):
    """A rounded box centred on ``xy`` with ``text`` inside: ``(patch, text)``."""
    from matplotlib.colors import to_rgba
    from matplotlib.patches import FancyBboxPatch

    x, y = xy
    patch = FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.12",
                           facecolor=to_rgba(color, fill), edgecolor=color, lw=1.6, zorder=2)
    ax.add_patch(patch)
    label = ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=3, **text_kw)
    return patch, label


def arrow(ax, start, end, color=_GREY, lw=1.5, rad=0.0, head=True, **kw):
    """An arrow from ``start`` to ``end`` (a curved one for ``rad != 0``)."""
    from matplotlib.patches import FancyArrowPatch

    patch = FancyArrowPatch(start, end, arrowstyle="-|>,head_length=5,head_width=2.5" if head
                            else "-", connectionstyle=f"arc3,rad={rad}", color=color, lw=lw,
                            shrinkA=0, shrinkB=0, zorder=1, **kw)
    ax.add_patch(patch)
    return patch


def _line(ax, points, color=_GREY, lw=1.5):
    xs, ys = zip(*points)
    return ax.plot(xs, ys, color=color, lw=lw, zorder=1, solid_capstyle="round")[0]


def operator(ax, xy, symbol, color=_GREY, r=0.22, fontsize=12):
    """A pointwise operation: a circle with ``symbol`` in it (⊙, +, tanh, 1−)."""
    from matplotlib.patches import Circle

    circle = Circle(xy, r, facecolor="white", edgecolor=color, lw=1.5, zorder=2)
    ax.add_patch(circle)
    ax.text(*xy, symbol, ha="center", va="center", fontsize=fontsize, zorder=3, color=color)
    return circle


def shape_text(shape):
    """``(8, 28, 28)`` -> ``"8×28×28"`` (the batch dimension left out by the caller)."""
    return "×".join(str(int(n)) for n in shape)


# --------------------------------------------------------------------------- 07: CNN


def _kind(name):
    name = name.lower()
    for key, color in (("conv", "blue"), ("norm", "sky"), ("relu", "green"), ("pool", "orange"),
                       ("dense", "vermillion"), ("input", "black")):
        if key in name:
            return PALETTE[color]
    return _GREY


def conv_stack(rows, title=None):
    """A CNN as a row of blocks, one per layer, with the shape after each.

    Args:
        rows: ``[(name, shape), ...]``, the input first: ``nnlib.models.cnn.layer_shapes``.
            A block's height grows with its output's height and width; vectors are thin bars.

    Returns:
        ``(fig, handles)``; handles: ``boxes`` and ``shapes`` (one text each, in order),
        ``values`` (one empty text under each, for a live view), ``rows`` as given.
    """
    import numpy as np

    n = len(rows)
    step = 1.35
    fig, ax = _canvas((max(8.0, 0.95 * n + 0.6), 3.3), (-0.8, step * (n - 1) + 0.8), (-1.8, 2.05))
    sizes = [shape[-1] if len(shape) == 3 else 1 for _, shape in rows]
    biggest = max(sizes)
    boxes, shapes, values = [], [], []
    for k, (name, shape) in enumerate(rows):
        x = step * k
        flat = len(shape) == 1
        h = 0.35 + 1.6 * np.sqrt(sizes[k] / biggest) if not flat else 0.3
        w = 0.95 if not flat else 0.95
        patch, _ = box(ax, (x, 0.4), w, h, "", color=_kind(name), fill=0.25)
        ax.text(x, 0.4 + 1.05, name, ha="center", va="bottom", fontsize=8.5, linespacing=1.1)
        shapes.append(ax.text(x, -0.95, shape_text(shape), ha="center", va="top", fontsize=8.5,
                              fontweight="bold"))
        values.append(ax.text(x, -1.45, "", ha="center", va="top", fontsize=8, color=_GREY))
        boxes.append(patch)
        if k:
            arrow(ax, (x - step + 0.5, 0.4), (x - 0.5, 0.4))
    if title:
        ax.set_title(title, fontsize=11)
    return fig, {"boxes": boxes, "shapes": shapes, "values": values, "rows": list(rows),
                 "ax": ax}


# --------------------------------------------------------------------------- 08: RNN


def unrolled_rnn(steps=4):
    """The RNN folded (a cell with a loop) and unrolled over ``steps`` steps, one weight set.

    Returns ``(fig, handles)``; handles: ``cells`` (the unrolled boxes), ``states`` (the
    texts h_0 .. h_T), ``inputs`` (x_1 .. x_T).
    """
    blue, orange, green = PALETTE["blue"], PALETTE["orange"], PALETTE["green"]
    x0 = 3.3  # where the unrolled network starts
    gap = 2.0
    right = x0 + gap * (steps + 0.4)
    fig, ax = _canvas((1.55 * (steps + 3.2), 3.6), (-1.2, right), (-1.9, 2.3))
    # folded
    box(ax, (0, 0.2), 1.2, 0.8, "tanh", color=blue)
    arrow(ax, (0, -1.2), (0, -0.2), color=orange)
    ax.text(0, -1.45, "$x_t$", ha="center", va="top", fontsize=12)
    arrow(ax, (0, 0.6), (0, 1.5), color=green)
    ax.text(0, 1.6, "$h_t$", ha="center", va="bottom", fontsize=12)
    arrow(ax, (0.6, 0.35), (0.6, 0.05), rad=-2.2, color=blue)
    ax.text(1.3, 0.2, "$W_{hh}$", ha="left", va="center", fontsize=10, color=blue)
    ax.text(-0.12, -0.75, "$W_{ih}$", ha="right", va="center", fontsize=10, color=orange)
    ax.text(x0 - 1.05, 0.2, "=", ha="center", va="center", fontsize=22)
    # unrolled
    cells, states, inputs = [], [], []
    states.append(ax.text(x0 - 0.25, 0.2, "$h_{0}$", ha="center", va="center", fontsize=12))
    for t in range(1, steps + 1):
        x = x0 + gap * t - 0.6
        cells.append(box(ax, (x, 0.2), 1.2, 0.8, "tanh", color=blue)[0])
        arrow(ax, (x - gap + (0.6 if t > 1 else 0.95), 0.2), (x - 0.6, 0.2), color=blue)
        ax.text(x - gap / 2 + (0.0 if t > 1 else 0.18), 0.3, "$W_{hh}$", ha="center",
                va="bottom", fontsize=9, color=blue)
        arrow(ax, (x, -1.2), (x, -0.2), color=orange)
        inputs.append(ax.text(x, -1.45, f"$x_{{{t}}}$", ha="center", va="top", fontsize=12))
        ax.text(x + 0.08, -0.75, "$W_{ih}$", ha="left", va="center", fontsize=9, color=orange)
        arrow(ax, (x, 0.6), (x, 1.5), color=green)
        states.append(ax.text(x, 1.6, f"$h_{{{t}}}$", ha="center", va="bottom", fontsize=12))
    arrow(ax, (x + 0.6, 0.2), (x + 1.1, 0.2), color=blue, ls=(0, (2, 2)))
    ax.set_title(r"$h_t = \tanh(x_t W_{ih} + h_{t-1} W_{hh} + b)$: the same $W_{ih}$, "
                 r"$W_{hh}$, $b$ at every step", fontsize=11)
    return fig, {"cells": cells, "states": states, "inputs": inputs, "ax": ax}


# --------------------------------------------------------------------------- 09, 10: cells


def _value_text(ax, xy, fontsize=9):
    return ax.text(*xy, "", ha="center", va="center", fontsize=fontsize, color="black",
                   fontweight="bold", zorder=4)


def _gate_colors():
    return {"sigmoid": PALETTE["orange"], "tanh": PALETTE["purple"]}


def _gate(ax, x, y, symbol, name, color):
    """A gate: a box with its function (σ or tanh) and room for its value; ``(patch, value)``."""
    patch, _ = box(ax, (x, y), 0.9, 0.95, "", color=color, fill=0.3)
    patch.symbol = ax.text(x, y + 0.2, symbol, ha="center", va="center", fontsize=11, zorder=3)
    ax.text(x - 0.52, y + 0.55, f"${name}_t$", ha="right", va="bottom", fontsize=12)
    return patch, _value_text(ax, (x, y - 0.22), fontsize=8.5)


def _cell_frame(ax):
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((0, -0.9), 8, 4.4, boxstyle="round,pad=0,rounding_size=0.3",
                                facecolor=_LIGHT, edgecolor="#BBBBBB", lw=1.2, zorder=0))


def _cell_ends(ax, value_texts, lines, x_at):
    """The names (and value texts) of the states entering and leaving a cell."""
    for text, key, xy, ha in lines:
        ax.text(*xy, text, ha=ha, va="center", fontsize=13)
        vx = xy[0] + (0.55 if ha == "right" else -0.55)
        value_texts[key] = _value_text(ax, (vx, xy[1] + 0.3), fontsize=8.5)
    ax.text(x_at, -1.95, "$x_t$", ha="center", va="top", fontsize=13)
    value_texts["x"] = ax.text(x_at + 0.3, -2.02, "", ha="left", va="top", fontsize=11,
                               family="monospace", fontweight="bold")


def lstm_cell(values=None):
    """The LSTM cell as colah's post draws it, in notebook 09's notation.

    The cell state runs along the top (``c_{t-1}`` to ``c_t``), the hidden state along the
    bottom; the four gates read ``h_{t-1}`` and ``x_t`` through ``a_t = x_t W_ih + h_{t-1}
    W_hh + b``: ``f`` (sigmoid) scales the old cell, ``i`` (sigmoid) scales the candidate
    ``g`` (tanh), ``o`` (sigmoid) scales ``tanh(c_t)`` into ``h_t``.

    Args:
        values: optional dict with some of ``i f g o c_prev h_prev c h x`` -> a number (or
            a string), written into the diagram (``set_cell_values`` does it later).

    Returns:
        ``(fig, handles)``; handles: ``gates`` (name -> box patch, in ``LSTM_GATES`` order),
        ``values`` (name -> text), ``order`` (``LSTM_GATES``).
    """
    colors = _gate_colors()
    fig, ax = _canvas((8.2, 4.9), (-1.6, 9.6), (-2.75, 4.4))
    _cell_frame(ax)
    top, bottom, y = 2.9, -0.3, 0.65
    arrow(ax, (-1.0, top), (9.0, top), color="black", lw=2.2)
    operator(ax, (1.2, top), "×")
    operator(ax, (3.05, top), "+")
    _line(ax, [(-1.0, bottom), (6.2, bottom)])
    arrow(ax, (0.35, -1.85), (0.35, bottom))
    gates, value_texts = {}, {}
    for name, x, symbol in (("f", 1.2, "σ"), ("i", 2.5, "σ"), ("g", 3.6, "tanh"),
                            ("o", 5.0, "σ")):
        arrow(ax, (x, bottom), (x, y - 0.48))
        kind = "tanh" if name == "g" else "sigmoid"
        gates[name], value_texts[name] = _gate(ax, x, y, symbol, name, colors[kind])
    arrow(ax, (1.2, y + 0.48), (1.2, top - 0.22), color="black")  # f scales c_{t-1}
    operator(ax, (3.05, 1.95), "×")  # i ⊙ g
    arrow(ax, (2.5, y + 0.48), (2.87, 1.8), color="black", rad=-0.25)
    arrow(ax, (3.6, y + 0.48), (3.23, 1.8), color="black", rad=0.25)
    arrow(ax, (3.05, 2.17), (3.05, top - 0.22), color="black")
    operator(ax, (6.2, 1.95), "tanh", fontsize=8, r=0.3)  # h_t = o ⊙ tanh(c_t)
    arrow(ax, (6.2, top), (6.2, 2.25), color="black")
    operator(ax, (6.2, y), "×")
    arrow(ax, (6.2, 1.65), (6.2, y + 0.22), color="black")
    arrow(ax, (5.45, y), (5.98, y), color="black")
    _line(ax, [(6.2, y - 0.22), (6.2, bottom)], color="black")
    arrow(ax, (6.2, bottom), (9.0, bottom), color="black", lw=2.0)
    arrow(ax, (7.3, bottom), (7.3, 4.0), color="black")
    ax.text(7.3, 4.05, "$h_t$", ha="center", va="bottom", fontsize=13)
    _cell_ends(ax, value_texts, (("$c_{t-1}$", "c_prev", (-1.1, top), "right"),
                                 ("$h_{t-1}$", "h_prev", (-1.1, bottom), "right"),
                                 ("$c_t$", "c", (9.1, top), "left"),
                                 ("$h_t$", "h", (9.1, bottom), "left")), 0.35)
    ax.text(4.0, -2.55, r"$a_t = x_t W_{ih} + h_{t-1} W_{hh} + b$ in blocks $i, f, g, o$;   "
            r"$c_t = f_t \odot c_{t-1} + i_t \odot g_t$,   $h_t = o_t \odot \tanh(c_t)$",
            ha="center", va="top", fontsize=9.5)
    handles = {"gates": {k: gates[k] for k in LSTM_GATES}, "values": value_texts,
               "order": LSTM_GATES, "ax": ax}
    if values:
        set_cell_values(handles, values)
    return fig, handles


def set_cell_values(handles, values):
    """Write numbers into a cell diagram's value texts; shade each gate box by its value."""
    from matplotlib.colors import to_rgba

    for name, value in values.items():
        if name in handles["values"]:
            text = value if isinstance(value, str) else f"{value:+.2f}"
            handles["values"][name].set_text("0.00" if text in ("+0.00", "-0.00") else text)
        patch = handles["gates"].get(name)
        if patch is not None and not isinstance(value, str):
            # a sigmoid gate 0..1, a tanh candidate -1..1: fill darker as it opens
            strength = min(abs(float(value)), 1.0)
            patch.set_facecolor(to_rgba(patch.get_edgecolor(), 0.08 + 0.8 * strength))


def gru_cell(values=None):
    """The GRU cell in notebook 10's notation (torch's formula, reset after the product).

    The state runs along the top: ``h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}``; ``r`` and
    ``z`` are sigmoids of ``x_t`` and ``h_{t-1}``; the candidate ``n`` is a tanh of
    ``x_t W_in + b_in + r_t ⊙ (h_{t-1} W_hn + b_hn)``.

    Returns ``(fig, handles)``; handles as for ``lstm_cell``, in ``GRU_GATES`` order.
    """
    colors = _gate_colors()
    fig, ax = _canvas((8.2, 4.9), (-1.6, 9.6), (-2.75, 4.4))
    _cell_frame(ax)
    top, bottom, y = 2.9, -0.3, 0.65
    arrow(ax, (-1.0, top), (9.0, top), color="black", lw=2.2)
    operator(ax, (1.2, top), "×")
    operator(ax, (6.4, top), "+")
    _line(ax, [(-0.4, top), (-0.4, bottom), (4.4, bottom)])  # h_{t-1} joins x_t below
    arrow(ax, (0.35, -1.85), (0.35, bottom))
    gates, value_texts = {}, {}
    for name, x, symbol in (("z", 1.2, "σ"), ("r", 2.5, "σ"), ("n", 4.4, "tanh")):
        arrow(ax, (x, bottom), (x, y - 0.48))
        kind = "tanh" if name == "n" else "sigmoid"
        gates[name], value_texts[name] = _gate(ax, x, y, symbol, name, colors[kind])
    # r scales h_{t-1} W_hn + b_hn, which goes into the candidate with x's part
    operator(ax, (3.45, y), "×")
    arrow(ax, (2.95, y), (3.23, y), color="black")
    arrow(ax, (3.45, bottom), (3.45, y - 0.22), color="black")
    ax.text(3.5, -0.05, r"$h_{t-1}W_{hn}{+}b_{hn}$", ha="left", va="center", fontsize=7.5,
            color=_GREY)
    arrow(ax, (3.67, y), (3.95, y), color="black")
    # z keeps z ⊙ h_{t-1} on the line and lets (1 - z) ⊙ n_t in
    arrow(ax, (1.2, y + 0.48), (1.2, top - 0.22), color="black")
    _line(ax, [(1.2, 1.95), (5.2, 1.95)], color="black")
    operator(ax, (5.4, 1.95), "1−", fontsize=9)
    operator(ax, (6.4, 1.95), "×")
    arrow(ax, (5.62, 1.95), (6.18, 1.95), color="black")
    arrow(ax, (4.85, y), (6.3, 1.75), color="black", rad=0.3)
    arrow(ax, (6.4, 2.17), (6.4, top - 0.22), color="black")
    arrow(ax, (7.5, top), (7.5, 4.0), color="black")
    ax.text(7.5, 4.05, "$h_t$", ha="center", va="bottom", fontsize=13)
    ax.text(1.2, top + 0.3, r"$z_t \odot h_{t-1}$", ha="center", va="bottom", fontsize=9)
    ax.text(6.62, 1.6, r"$(1-z_t) \odot n_t$", ha="left", va="center", fontsize=9)
    _cell_ends(ax, value_texts, (("$h_{t-1}$", "h_prev", (-1.1, top), "right"),
                                 ("$h_t$", "h", (9.1, top), "left")), 0.35)
    ax.text(4.0, -2.55, r"$n_t = \tanh(x_t W_{in} + b_{in} + r_t \odot (h_{t-1} W_{hn} + "
            r"b_{hn}))$,   $h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$",
            ha="center", va="top", fontsize=9.5)
    handles = {"gates": {k: gates[k] for k in GRU_GATES}, "values": value_texts,
               "order": GRU_GATES, "ax": ax}
    if values:
        set_cell_values(handles, values)
    return fig, handles


# --------------------------------------------------------------------------- 12: Transformer


def _block_row(ax, y, parts, x0=0.0, gap=0.55):
    """Boxes left to right joined by arrows: ``parts`` = [(text, width, color)]; their centres."""
    centres, x = [], x0
    for k, (text, w, color) in enumerate(parts):
        if color is None:  # an operator
            operator(ax, (x + 0.25, y), text)
            centres.append((x + 0.25, y))
            x_next = x + 0.5
        else:
            box(ax, (x + w / 2, y), w, 0.95, text, color=color, fontsize=9.5)
            centres.append((x + w / 2, y))
            x_next = x + w
        if k + 1 < len(parts):
            arrow(ax, (x_next, y), (x_next + gap, y))
        x = x_next + gap
    return centres


def transformer_block(width, heads, d_ff, causal=False):
    """The pre-norm Transformer block of notebook 12, its widths written in.

    ``x ← x + MHA(LN(x))``, then ``x ← x + FF(LN(x))``, ``FF(x) = ReLU(x W_1 + b_1) W_2 + b_2``.

    Returns ``(fig, handles)``; handles: ``widths`` (``E``, ``h``, ``d``, ``d_ff`` as drawn)
    and ``labels`` (the texts of the boxes).
    """
    if width % heads:
        raise ValueError(f"heads must divide the width {width}, got {heads}")
    d = width // heads
    blue, green, orange = PALETTE["blue"], PALETTE["green"], PALETTE["orange"]
    attn = ("masked " if causal else "") + "multi-head\nattention"
    labels = [f"LN\n(E = {width})", f"{attn}\nh = {heads}, d = {d}", None,
              f"LN\n(E = {width})", f"feed-forward\n{width} → {d_ff} → {width}\nReLU", None]
    parts = [(labels[0], 1.2, PALETTE["sky"]), (labels[1], 2.1, blue), ("+", 0, None),
             (labels[3], 1.2, PALETTE["sky"]), (labels[4], 2.1, orange), ("+", 0, None)]
    fig, ax = _canvas((11.0, 2.4), (-1.4, 12.4), (-1.05, 1.6))
    centres = _block_row(ax, 0.0, parts, x0=0.0)
    ax.text(-0.9, 0.0, "$x$\n" + f"(T × {width})", ha="center", va="center", fontsize=10)
    arrow(ax, (-0.45, 0.0), (0.0, 0.0))
    end = centres[-1][0] + 0.25
    arrow(ax, (end, 0.0), (end + 0.55, 0.0))
    ax.text(end + 0.65, 0.0, "out\n" + f"(T × {width})", ha="left", va="center", fontsize=10)
    # residual paths above
    for start, plus in ((-0.25, centres[2][0]), (centres[2][0] + 0.3, centres[5][0])):
        _line(ax, [(start, 0.0), (start, 1.2), (plus, 1.2)], color=green, lw=1.8)
        arrow(ax, (plus, 1.2), (plus, 0.23), color=green, lw=1.8)
    ax.text((centres[0][0] + centres[2][0]) / 2, 1.28, "residual", ha="center", va="bottom",
            fontsize=9, color=green)
    ax.text((centres[3][0] + centres[5][0]) / 2, 1.28, "residual", ha="center", va="bottom",
            fontsize=9, color=green)
    ax.text(5.5, -0.75, r"$x \leftarrow x + \mathrm{MHA}(\mathrm{LN}(x))$,   "
            r"$x \leftarrow x + \mathrm{FF}(\mathrm{LN}(x))$   (pre-norm; every position alike)",
            ha="center", va="top", fontsize=9.5)
    widths = {"E": width, "h": heads, "d": d, "d_ff": d_ff}
    return fig, {"widths": widths, "labels": [t for t in labels if t], "ax": ax}


def encoder_decoder(width, heads, d_ff, n_layers=1, src="3141592", tgt="1123459"):
    """The encoder-decoder Transformer of notebook 12's sorting task.

    Left the encoder: embedding + positions, ``n_layers`` blocks of self-attention and
    feed-forward, a final layer norm. Right the decoder: the answer so far after ``^``,
    ``n_layers`` blocks of masked self-attention, cross-attention (queries from the decoder,
    keys and values from the encoder's output) and feed-forward, then a dense layer to the
    next token. Returns ``(fig, handles)``; handles: ``widths`` and ``labels``.
    """
    blue, orange, sky = PALETTE["blue"], PALETTE["orange"], PALETTE["sky"]
    purple = PALETTE["purple"]
    d = width // heads
    fig, ax = _canvas((8.0, 6.2), (-0.9, 9.0), (-1.45, 7.1))
    enc_x, dec_x, w = 1.8, 6.3, 3.3
    labels = []

    def stack(x, rows, name):
        from matplotlib.patches import FancyBboxPatch

        top = 1.6 + 0.95 * len(rows)
        ax.add_patch(FancyBboxPatch((x - w / 2 - 0.2, 1.25), w + 0.4, top - 1.3,
                                    boxstyle="round,pad=0,rounding_size=0.2", facecolor=_LIGHT,
                                    edgecolor="#BBBBBB", lw=1.2, zorder=0))
        ax.text(x + w / 2 + 0.3 if x > 3 else x - w / 2 - 0.3, top - 0.45, f"× {n_layers}",
                ha="left" if x > 3 else "right", va="center", fontsize=11, fontweight="bold")
        ys = []
        for k, (text, color) in enumerate(rows):
            y = 1.75 + 0.95 * k
            box(ax, (x, y), w, 0.7, text, color=color, fontsize=9)
            labels.append(text)
            ys.append(y)
            arrow(ax, (x, y - 0.6 if k else 0.95), (x, y - 0.35))
        ax.text(x, top + 0.05 - 0.15, name, ha="center", va="bottom", fontsize=11,
                fontweight="bold")
        return ys, top

    emb = f"embedding + positions (E = {width})"
    for x, tokens in ((enc_x, src), (dec_x, "^" + tgt[:-1])):
        box(ax, (x, 0.6), w, 0.7, emb, color=_GREY, fontsize=9)
        arrow(ax, (x, -0.45), (x, 0.25))
        ax.text(x, -0.55, " ".join(tokens), ha="center", va="top", fontsize=11, family="monospace")
    labels.append(emb)
    ff = f"feed-forward {width}→{d_ff}→{width}"
    enc_rows = [(f"self-attention, h = {heads}, d = {d}", blue), (ff, orange)]
    dec_rows = [(f"masked self-attention, h = {heads}", blue),
                (f"cross-attention, h = {heads}, d = {d}", purple), (ff, orange)]
    _, enc_top = stack(enc_x, enc_rows, "")
    dec_ys, dec_top = stack(dec_x, dec_rows, "")
    ln_y = max(enc_top, dec_top) + 0.35
    box(ax, (enc_x, enc_top + 0.35), w, 0.55, "LN  →  encoder output", color=sky, fontsize=9)
    arrow(ax, (enc_x, enc_top - 0.2), (enc_x, enc_top + 0.07))
    box(ax, (dec_x, ln_y), w, 0.55, "LN", color=sky, fontsize=9)
    arrow(ax, (dec_x, dec_top - 0.2), (dec_x, ln_y - 0.28))
    box(ax, (dec_x, ln_y + 0.95), w, 0.6, "dense → next token", color=PALETTE["vermillion"],
        fontsize=9)
    arrow(ax, (dec_x, ln_y + 0.28), (dec_x, ln_y + 0.65))
    arrow(ax, (dec_x, ln_y + 1.25), (dec_x, ln_y + 1.65))
    ax.text(dec_x, ln_y + 1.7, " ".join(tgt), ha="center", va="bottom", fontsize=11,
            family="monospace")
    # memory into every cross-attention
    mem_y = enc_top + 0.35
    mid = (enc_x + dec_x) / 2
    _line(ax, [(enc_x + w / 2, mem_y), (mid, mem_y), (mid, dec_ys[1])], color=purple, lw=2.0)
    arrow(ax, (mid, dec_ys[1]), (dec_x - w / 2, dec_ys[1]), color=purple, lw=2.0)
    ax.text(mid - 0.08, (mem_y + dec_ys[1]) / 2, "keys,\nvalues", ha="right", va="center",
            fontsize=8.5, color=purple)
    ax.text(mid, -1.42, "every block: pre-norm and residual, as in the block above",
            ha="center", va="bottom", fontsize=8.5, color=_GREY)
    ax.text(enc_x, -0.95, "the encoder reads the digits", ha="center", va="top", fontsize=9.5)
    ax.text(dec_x, -0.95, "the decoder reads ^ and its answer so far", ha="center", va="top",
            fontsize=9.5)
    widths = {"E": width, "h": heads, "d": d, "d_ff": d_ff, "n_layers": n_layers}
    return fig, {"widths": widths, "labels": labels, "ax": ax}
