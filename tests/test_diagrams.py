"""The architecture diagrams of 07-12: each builds, says what the notebook says, and shows
the real model's shapes, widths and gate order; the live ones show the model's values."""

import numpy as np
import pytest
import torch

from nnlib.display import diagrams
from nnlib.display.widgets import figure_png


def _texts(handles):
    return [t.get_text() for t in handles["ax"].texts]


def _renders(fig):
    assert figure_png(fig).startswith(b"\x89PNG")


# --------------------------------------------------------------------------- 07: CNN


def test_conv_stack_lists_the_shape_a_forward_pass_gives_after_every_layer():
    from nnlib.models.cnn import build_cnn, layer_shapes

    model = build_cnn(seed=0)  # notebook 07's network
    rows = layer_shapes(model)
    fig, handles = diagrams.conv_stack(rows)
    _renders(fig)
    # independently: run the layers one by one on a batch of two images
    x = torch.zeros(2, 1, 28, 28)
    expected = [(1, 28, 28)]
    model.eval()
    with torch.no_grad():
        for layer in model:
            x = layer(x)
            expected.append(tuple(x.shape[1:]))
    assert [shape for _, shape in rows] == expected
    assert [t.get_text() for t in handles["shapes"]] == ["×".join(map(str, s)) for s in expected]
    assert len(handles["boxes"]) == len(model) + 1
    names = [name for name, _ in rows]
    assert names[0] == "input" and names[1] == "conv 3×3\n8 filters" and names[-1] == "dense\n10"
    assert "32×7×7" in _texts(handles) and "1568" in _texts(handles)


def test_layer_shapes_follows_the_architecture_it_is_given():
    from nnlib.models.cnn import build_cnn, layer_shapes

    rows = layer_shapes(build_cnn(channels=(4, 6, 10), hidden=20, batchnorm=False,
                                  image_size=16, classes=3), image_size=16)
    assert rows[-1] == ("dense\n3", (3,))
    assert ("flatten", (10 * 2 * 2,)) in rows
    assert [s for n, s in rows if n.startswith("conv")] == [(4, 16, 16), (6, 8, 8), (10, 4, 4)]


# --------------------------------------------------------------------------- 08: RNN


@pytest.mark.parametrize("steps", [2, 4])
def test_unrolled_rnn_draws_one_cell_per_step_with_the_notebooks_names(steps):
    fig, handles = diagrams.unrolled_rnn(steps)
    _renders(fig)
    assert len(handles["cells"]) == steps
    assert [t.get_text() for t in handles["states"]] == [f"$h_{{{t}}}$" for t in range(steps + 1)]
    assert [t.get_text() for t in handles["inputs"]] == [f"$x_{{{t}}}$"
                                                         for t in range(1, steps + 1)]
    title = handles["ax"].get_title()
    assert r"\tanh(x_t W_{ih} + h_{t-1} W_{hh} + b)" in title  # notebook 08's equation


# --------------------------------------------------------------------------- 09, 10: cells


def test_lstm_gate_order_is_nnlib_rnns():
    from nnlib.rnn import lstm_forward

    # four blocks with very different biases: each gate's values tell which block it read
    H, bias = 3, np.repeat([-3.0, -1.0, 1.0, 3.0], 3)
    _, cache = lstm_forward(np.zeros((1, 1, 2)), np.zeros((1, H)), np.zeros((1, H)),
                            np.zeros((2, 4 * H)), np.zeros((H, 4 * H)), bias)
    sigmoid = 1 / (1 + np.exp(-bias[::H]))
    expected = {"i": sigmoid[0], "f": sigmoid[1], "g": np.tanh(1.0), "o": sigmoid[3]}
    fig, handles = diagrams.lstm_cell()
    _renders(fig)
    assert handles["order"] == diagrams.LSTM_GATES == ("i", "f", "g", "o")
    assert list(handles["gates"]) == list(diagrams.LSTM_GATES)
    for k, name in enumerate(diagrams.LSTM_GATES):
        block = cache.gates[0, 0, k * H:(k + 1) * H]
        np.testing.assert_allclose(cache.gate(name)[0, 0], block)
        np.testing.assert_allclose(block, expected[name])
    for label in ("$f_t$", "$i_t$", "$g_t$", "$o_t$", "$c_{t-1}$", "$h_{t-1}$", "$c_t$", "$x_t$"):
        assert label in _texts(handles), label


def test_gru_gate_order_is_nnlib_rnns():
    from nnlib.rnn import gru_forward

    H = 2
    b_ih = np.repeat([-2.0, 2.0, 0.5], H)  # r, z, n
    _, cache = gru_forward(np.zeros((1, 1, 1)), np.zeros((1, H)), np.zeros((1, 3 * H)),
                           np.zeros((H, 3 * H)), b_ih, np.zeros(3 * H))
    fig, handles = diagrams.gru_cell()
    _renders(fig)
    assert handles["order"] == diagrams.GRU_GATES == ("r", "z", "n")
    assert list(handles["gates"]) == list(diagrams.GRU_GATES)
    expected = {"r": 1 / (1 + np.exp(2.0)), "z": 1 / (1 + np.exp(-2.0)), "n": np.tanh(0.5)}
    for k, name in enumerate(diagrams.GRU_GATES):
        np.testing.assert_allclose(cache.gate(name)[0, 0], cache.gates[0, 0, k * H:(k + 1) * H])
        np.testing.assert_allclose(cache.gate(name)[0, 0], expected[name])
    for label in ("$r_t$", "$z_t$", "$n_t$", "$h_{t-1}$", "$h_t$", "$x_t$"):
        assert label in _texts(handles), label


def test_cell_values_are_written_and_shade_the_gates():
    fig, handles = diagrams.lstm_cell({"i": 0.9, "f": 0.1, "c": -1.5, "x": "'a'"})
    assert handles["values"]["i"].get_text() == "+0.90"
    assert handles["values"]["c"].get_text() == "-1.50"
    assert handles["values"]["x"].get_text() == "'a'"
    assert handles["gates"]["i"].get_facecolor()[3] > handles["gates"]["f"].get_facecolor()[3]


# --------------------------------------------------------------------------- 12: Transformer


def test_transformer_block_writes_the_models_widths():
    from nnlib.models.transformer import (
        CHAR_TRANSFORMER_RECIPE as R,
    )
    from nnlib.models.transformer import (
        CharTransformer,
        block_widths,
    )

    model = CharTransformer(30, R.d_model, R.n_heads, R.n_layers, R.d_ff, R.context)
    widths = block_widths(model.blocks[0])
    assert widths == {"E": R.d_model, "h": R.n_heads, "d": R.d_model // R.n_heads, "d_ff": R.d_ff}
    assert model.blocks[0].ff[2].out_features == widths["E"]
    fig, handles = diagrams.transformer_block(widths["E"], widths["h"], widths["d_ff"],
                                              causal=True)
    _renders(fig)
    assert handles["widths"] == widths
    labels = "\n".join(handles["labels"])
    assert f"h = {R.n_heads}, d = {R.d_model // R.n_heads}" in labels
    assert f"{R.d_model} → {R.d_ff} → {R.d_model}" in labels
    assert labels.count(f"LN\n(E = {R.d_model})") == 2  # pre-norm: one per branch
    assert "masked" in labels
    with pytest.raises(ValueError, match="divide"):
        diagrams.transformer_block(10, 3, 20)


def test_encoder_decoder_writes_the_sorting_models_widths():
    from nnlib.models.seq2seq import SEQUENCE_RECIPE as R
    from nnlib.models.seq2seq import Seq2SeqTransformer
    from nnlib.models.transformer import block_widths

    model = Seq2SeqTransformer(d_model=R.d_model, n_heads=R.n_heads, n_layers=R.n_layers,
                               d_ff=R.d_ff)
    enc, dec = block_widths(model.encoder[0]), block_widths(model.decoder[0])
    assert enc == dec
    fig, handles = diagrams.encoder_decoder(enc["E"], enc["h"], enc["d_ff"], len(model.encoder))
    _renders(fig)
    assert handles["widths"] == {**enc, "n_layers": R.n_layers}
    labels = handles["labels"]
    assert f"cross-attention, h = {R.n_heads}, d = {R.d_model // R.n_heads}" in labels
    assert labels.count(f"feed-forward {R.d_model}→{R.d_ff}→{R.d_model}") == 2
    assert f"× {R.n_layers}" in _texts(handles)


# --------------------------------------------------------------------------- live views


def test_lstm_cell_view_shows_the_numpy_forward_pass_of_the_trained_model():
    from nnlib.models.convert import char_model_weights
    from nnlib.rnn import lstm_forward
    from nnlib.views.cells import lstm_cell_explorer
    from nnlib.views.rnn import small_char_model

    model, vocab = small_char_model("lstm")
    view = lstm_cell_explorer(model, vocab, text="the whale")
    view.render(position=4, unit=5)
    w = char_model_weights(model)
    x = w.embed[vocab.encode("the whale")][None]
    zeros = np.zeros((1, w.recurrent[1].shape[0]))
    _, cache = lstm_forward(x, zeros, zeros, *w.recurrent)
    texts = {k: t.get_text() for k, t in view.handles["values"].items()}
    assert texts["f"] == f"{cache.gate('f')[0, 4, 5]:+.2f}"
    assert texts["c"] == f"{cache.cs[0, 4, 5]:+.2f}"
    assert texts["x"] == "'w'"
    first = view.png
    assert view.render(position=5, unit=5) != first
    assert view.last_seconds < 0.5  # the budget is 100 ms; generous for a loaded machine


def test_gru_cell_view_shows_the_numpy_forward_pass_of_the_trained_model():
    from nnlib.models.convert import char_model_weights
    from nnlib.rnn import gru_forward
    from nnlib.views.cells import gru_cell_explorer
    from nnlib.views.rnn import small_char_model

    model, vocab = small_char_model("gru")
    view = gru_cell_explorer(model, vocab, text="the whale")
    view.render(position=2, unit=7)
    w = char_model_weights(model)
    x = w.embed[vocab.encode("the whale")][None]
    hs, cache = gru_forward(x, np.zeros((1, w.recurrent[1].shape[0])), *w.recurrent)
    texts = {k: t.get_text() for k, t in view.handles["values"].items()}
    assert texts["z"] == f"{cache.gate('z')[0, 2, 7]:+.2f}"
    assert texts["h"] == f"{hs[0, 2, 7]:+.2f}"
    assert texts["h_prev"] == f"{hs[0, 1, 7]:+.2f}"
    with pytest.raises(ValueError, match="GRU"):
        gru_cell_explorer(*small_char_model("lstm"))


def test_conv_stack_view_shows_each_layers_output_for_the_chosen_image():
    from nnlib.models.cnn import layer_outputs
    from nnlib.views.cnn import _small_trained_cnn, conv_stack_explorer

    model, data = _small_trained_cnn()
    view = conv_stack_explorer(model, data, n_images=5)
    view.render(image=3)
    texts = [t.get_text() for t in view.fig.axes[0].texts]
    outputs = layer_outputs(model, data.x_test[3:4])
    for _, out in outputs:
        assert f"rms {np.sqrt(np.mean(out ** 2)):.2f}" in texts
    assert any(t.startswith("test image 3:") for t in texts)
    assert view.render(image=4) != view.render(image=3)
