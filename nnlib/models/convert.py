"""The one converter between torch's weights and nnlib's numpy layout.

torch stores a dense layer's weight as ``(out, in)`` and computes ``x @ W.T``; the
numpy reference code writes ``x @ w`` with ``w (in, out)``: the same numbers,
transposed. Every torch -> numpy copy in the course goes through here, as float64:

* :func:`to_numpy` (one tensor), :func:`linear_weights`, :func:`layernorm_params`;
* :func:`recurrent_weights` (an ``nn.RNN/LSTM/GRU`` as ``nnlib.rnn`` takes it) and its
  inverse :func:`torch_recurrent_layer`;
* :func:`attention_params` (a ``MultiHeadAttention`` as ``nnlib.attention`` takes it);
* :func:`char_model_weights` and :func:`char_transformer_weights`: whole trained
  character models, for the numpy samplers of ``nnlib.sampling``, and :func:`numpy_twin`,
  which builds the right sampler for a trained model.
"""

import numpy as np

from nnlib.models.cells import GATES, check_cell, recurrent_layer
from nnlib.sampling import (
    BlockWeights,
    CharModelWeights,
    CharTransformerWeights,
    NumpyCharModel,
    NumpyCharTransformer,
    char_lstm_forward,
)

__all__ = ["to_numpy", "linear_weights", "layernorm_params", "recurrent_weights",
           "torch_recurrent_layer", "attention_params", "char_model_weights",
           "char_lstm_weights", "check_lstm_states", "char_transformer_weights", "numpy_twin"]


def to_numpy(tensor):
    """A float64 numpy copy of a torch tensor (detached, on the CPU)."""
    return tensor.detach().cpu().double().numpy().copy()


def linear_weights(layer):
    """``(w (in, out), b (out,))`` of an ``nn.Linear``: ``layer(x) == x @ w + b``."""
    return to_numpy(layer.weight).T.copy(), to_numpy(layer.bias)


def layernorm_params(norm):
    """``(gain (E,), bias (E,), eps)`` of an ``nn.LayerNorm``, as ``layernorm_forward`` takes."""
    return to_numpy(norm.weight), to_numpy(norm.bias), float(norm.eps)


def recurrent_weights(layer):
    """The weights of a torch ``nn.RNN/LSTM/GRU`` (one layer) as ``nnlib.rnn`` takes them.

    torch stores ``weight_ih_l0 (G*H, D)``; ``nnlib.rnn`` reads ``x @ w_ih`` with
    ``w_ih (D, G*H)``: its transpose. Returns float64 arrays, in the order of the
    matching ``nnlib.rnn`` forward function: ``(w_ih, w_hh, b)`` for the RNN and the
    LSTM (``b = b_ih + b_hh``: the two biases always appear added), ``(w_ih, w_hh,
    b_ih, b_hh)`` for the GRU (its ``b_hn`` sits inside the reset gate's product).
    """
    def array(name):
        return to_numpy(getattr(layer, name))

    w_ih, w_hh = array("weight_ih_l0").T.copy(), array("weight_hh_l0").T.copy()
    if type(layer).__name__ == "GRU":
        return w_ih, w_hh, array("bias_ih_l0"), array("bias_hh_l0")
    return w_ih, w_hh, array("bias_ih_l0") + array("bias_hh_l0")


def torch_recurrent_layer(cell, w_ih, w_hh, b_ih, b_hh=None):
    """The inverse of ``recurrent_weights``: a float64 torch layer (batch first) holding these
    ``nnlib.rnn`` weights, to check our forward and backward passes against torch's.

    ``b_hh`` defaults to zeros (the RNN and the LSTM only ever use ``b_ih + b_hh``).
    """
    import torch

    check_cell(cell)
    gates = GATES[cell]
    w_ih, w_hh = np.asarray(w_ih, dtype=float), np.asarray(w_hh, dtype=float)
    if w_ih.ndim != 2 or w_hh.ndim != 2 or w_hh.shape[1] != w_hh.shape[0] * gates \
            or w_ih.shape[1] != w_hh.shape[1]:
        raise ValueError(f"a {cell} needs w_ih (D, {gates}H) and w_hh (H, {gates}H); got "
                         f"{w_ih.shape} and {w_hh.shape}")
    D, H = w_ih.shape[0], w_hh.shape[0]
    b_hh = np.zeros(gates * H) if b_hh is None else b_hh
    layer = recurrent_layer(cell, D, H).double()
    with torch.no_grad():
        for name, value in (("weight_ih_l0", w_ih.T), ("weight_hh_l0", w_hh.T),
                            ("bias_ih_l0", b_ih), ("bias_hh_l0", b_hh)):
            getattr(layer, name).copy_(torch.as_tensor(np.asarray(value, dtype=float)))
    return layer


def attention_params(attn):
    """``attn``'s weights as the float64 dict of ``nnlib.attention.multi_head_attention_forward``.

    ``w_q = attn.q.weight.T`` (numpy computes ``x @ w``, torch ``x @ W^T``),
    ``b_q = attn.q.bias``, and the same for ``k``, ``v`` and ``o``.
    """
    params = {}
    for name in "qkvo":
        params[f"w_{name}"], params[f"b_{name}"] = linear_weights(getattr(attn, name))
    return params


def char_model_weights(model):
    """``CharModelWeights`` of a trained ``nnlib.models.recurrent.CharModel`` (RNN, LSTM, GRU)."""
    if not hasattr(model, "recurrent") or not hasattr(model, "embed"):
        raise TypeError(f"model must be a nnlib.models.recurrent.CharModel, "
                        f"got {type(model).__name__}")
    w_out, b_out = linear_weights(model.out)
    return CharModelWeights(model.cell, to_numpy(model.embed.weight),
                            recurrent_weights(model.recurrent), w_out, b_out)


def char_lstm_weights(model):
    """``char_model_weights`` of a trained LSTM ``CharModel`` (a clear error for other cells)."""
    if getattr(model, "cell", None) != "lstm":
        raise ValueError(f"the gate view needs an LSTM CharModel, got cell "
                         f"{getattr(model, 'cell', type(model).__name__)!r}")
    return char_model_weights(model)


def check_lstm_states(model, weights, ids):
    """Raise unless ``char_lstm_forward(weights, ids)`` gives the torch model's hidden states.

    torch computes in float32, hence the tolerance of 1e-4.
    """
    import torch

    device = next(model.parameters()).device
    with torch.no_grad():
        ours = torch.as_tensor(ids, device=device)[None]
        theirs = model.recurrent(model.embed(ours))[0][0].double().cpu().numpy()
    mine = char_lstm_forward(weights, ids)[0][0]
    if not np.allclose(mine, theirs, atol=1e-4):
        raise ValueError(f"nnlib.rnn.lstm_forward does not reproduce this model's hidden "
                         f"states (largest difference {np.abs(mine - theirs).max():.2g})")


def char_transformer_weights(model):
    """``CharTransformerWeights`` of a trained ``nnlib.models.transformer.CharTransformer``."""
    blocks = []
    for block in model.blocks:
        w1, b1 = linear_weights(block.ff[0])
        w2, b2 = linear_weights(block.ff[2])
        blocks.append(BlockWeights(block.attn.n_heads, layernorm_params(block.ln1),
                                   attention_params(block.attn), layernorm_params(block.ln2),
                                   w1, b1, w2, b2))
    w_out, b_out = linear_weights(model.out)
    return CharTransformerWeights(model.context, to_numpy(model.embed.weight),
                                  to_numpy(model.pe), blocks, layernorm_params(model.ln),
                                  w_out, b_out)


def numpy_twin(model):
    """The numpy sampler of a trained character model, for sampling without torch's overhead.

    ``NumpyCharModel`` for an RNN, LSTM or GRU ``CharModel``; ``NumpyCharTransformer``
    for a ``CharTransformer``.
    """
    if hasattr(model, "blocks"):  # nnlib.models.transformer.CharTransformer
        return NumpyCharTransformer(char_transformer_weights(model))
    return NumpyCharModel(char_model_weights(model))
