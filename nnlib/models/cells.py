"""torch's recurrent layers as the course builds them: the cell names and one builder.

``recurrent_layer("lstm", D, H, gate_bias)`` is ``nn.LSTM(D, H, batch_first=True)``
with the forget gate's bias set (the GRU's update gate for ``"gru"``); every torch
recurrent model of the course, and the weight converter, builds its layer here.
"""

__all__ = ["CELLS", "GATES", "check_cell", "recurrent_layer"]

CELLS = ("rnn", "lstm", "gru")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def check_cell(cell):
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")


def recurrent_layer(cell, input_size, hidden, gate_bias=None):
    """torch's layer, batch first, with the LSTM forget gate / GRU update gate bias set."""
    import torch
    from torch import nn

    layer = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell](
        input_size, hidden, batch_first=True)
    if gate_bias is not None:  # None: torch's default, small random values around 0
        if cell == "rnn":
            raise ValueError("gate_bias needs a gated cell (lstm or gru); a plain RNN has none")
        # LSTM gates i, f, g, o and GRU gates r, z, n: the second block is f or z.
        with torch.no_grad():
            layer.bias_ih_l0[hidden:2 * hidden] = gate_bias
            layer.bias_hh_l0[hidden:2 * hidden] = 0.0
    return layer
