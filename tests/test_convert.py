"""nnlib.models.convert: torch's weights in nnlib's numpy layout, and back.

The numpy forward passes fed the converted weights give torch's outputs in float64, a
round trip gives the same layer, and the copies are copies (the module keeps its weights).
The whole-model converters are tested through the samplers in tests/test_sampling.py.
"""

import numpy as np
import pytest
import torch

from nnlib.models.convert import (
    attention_params,
    layernorm_params,
    linear_weights,
    recurrent_weights,
    to_numpy,
    torch_recurrent_layer,
)
from nnlib.models.transformer import MultiHeadAttention
from nnlib.rnn import gru_forward, lstm_forward, rnn_forward


def test_linear_and_layernorm_weights_compute_what_the_torch_layers_compute():
    torch.manual_seed(0)
    layer, norm = torch.nn.Linear(4, 3).double(), torch.nn.LayerNorm(3).double()
    with torch.no_grad():
        norm.weight.add_(torch.randn(3, dtype=torch.float64))
    x = np.random.default_rng(1).standard_normal((5, 4))
    w, b = linear_weights(layer)
    assert w.shape == (4, 3) and w.dtype == np.float64
    with torch.no_grad():
        expected = layer(torch.as_tensor(x))
    np.testing.assert_allclose(x @ w + b, expected.numpy(), rtol=1e-12, atol=1e-14)
    gain, bias, eps = layernorm_params(norm)
    y = x @ w + b
    normed = (y - y.mean(-1, keepdims=True)) / np.sqrt(y.var(-1, keepdims=True) + eps)
    with torch.no_grad():
        np.testing.assert_allclose(normed * gain + bias, norm(expected).numpy(), rtol=1e-10,
                                   atol=1e-12)
    t = torch.ones(2, dtype=torch.float32)
    copy = to_numpy(t)
    copy[:] = 0
    assert copy.dtype == np.float64 and t.sum() == 2  # a float64 copy


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_recurrent_weights_round_trip_and_match_torch_outputs(cell):
    torch.manual_seed(0)
    layer = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](
        3, 5, batch_first=True).double()
    weights = recurrent_weights(layer)
    x = np.random.default_rng(0).standard_normal((2, 4, 3))
    h0 = np.zeros((2, 5))
    forward = {"rnn": lambda: rnn_forward(x, h0, *weights),
               "lstm": lambda: lstm_forward(x, h0, h0, *weights),
               "gru": lambda: gru_forward(x, h0, *weights)}[cell]
    expected = layer(torch.tensor(x))[0].detach().numpy()
    np.testing.assert_allclose(forward()[0], expected, rtol=1e-12, atol=1e-14)
    again = torch_recurrent_layer(cell, *weights)
    np.testing.assert_allclose(again(torch.tensor(x))[0].detach().numpy(), expected,
                               rtol=1e-12, atol=1e-14)


def test_torch_recurrent_layer_names_the_shapes_it_needs():
    with pytest.raises(ValueError, match=r"w_ih \(D, 4H\)"):
        torch_recurrent_layer("lstm", np.zeros((3, 8)), np.zeros((3, 8)), np.zeros(8))


def test_attention_params_are_transposed_float64_copies():
    attn = MultiHeadAttention(8, 2)
    params = attention_params(attn)
    assert sorted(params) == sorted(f"{p}_{n}" for p in "wb" for n in "qkvo")
    assert params["w_q"].dtype == np.float64 and params["w_q"].shape == (8, 8)
    np.testing.assert_array_equal(params["w_k"], attn.k.weight.detach().double().numpy().T)
    params["w_q"][:] = 0  # a copy: the module keeps its weights
    assert attn.q.weight.abs().sum() > 0
