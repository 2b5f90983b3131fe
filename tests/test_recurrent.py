"""nnlib.models.recurrent: the torch sequence classifier and character model, sampling, and
train_classifier on per-step (sequence) logits."""

import numpy as np
import pytest
import torch

from nnlib.data.text import CharVocab
from nnlib.models.recurrent import (
    CELLS,
    CharModel,
    build_sequence_classifier,
    count_recurrent_parameters,
    sample,
)
from nnlib.models.training import train_classifier


@pytest.mark.parametrize("cell", CELLS)
def test_sequence_classifier_shapes_and_seeding(cell):
    model = build_sequence_classifier(cell, input_size=5, hidden=7, classes=3, seed=1)
    assert model(torch.zeros(4, 9, 5)).shape == (4, 3)
    twin = build_sequence_classifier(cell, input_size=5, hidden=7, classes=3, seed=1)
    for a, b in zip(model.parameters(), twin.parameters()):
        assert torch.equal(a, b)


def test_recurrent_parameter_counts_follow_the_gates():
    # per gate: D*H input weights, H*H recurrent weights, and torch's two biases
    D, H = 9, 64
    per_gate = D * H + H * H + 2 * H
    counts = {cell: count_recurrent_parameters(build_sequence_classifier(cell, D, H, 8))
              for cell in CELLS}
    assert counts == {"rnn": per_gate, "lstm": 4 * per_gate, "gru": 3 * per_gate}
    assert counts["gru"] == 0.75 * counts["lstm"]


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gate_bias_opens_the_forget_or_update_gate(cell):
    H = 6
    model = build_sequence_classifier(cell, 4, H, 2, gate_bias=3.0)
    layer = model.recurrent
    np.testing.assert_array_equal(layer.bias_ih_l0[H:2 * H].detach().numpy(), 3.0)
    np.testing.assert_array_equal(layer.bias_hh_l0[H:2 * H].detach().numpy(), 0.0)


def test_bad_cells_and_a_gate_bias_without_a_gate_are_rejected():
    with pytest.raises(ValueError, match=r"cell must be one of \('rnn', 'lstm', 'gru'\)"):
        build_sequence_classifier("transformer", 4, 6, 2)
    with pytest.raises(ValueError, match="gate_bias needs a gated cell"):
        build_sequence_classifier("rnn", 4, 6, 2, gate_bias=1.0)


def tiny_text():
    return "abcabcabcabd " * 40


def test_char_model_learns_a_repeating_text_and_samples_it():
    text = tiny_text()
    vocab = CharVocab(text)
    ids = vocab.encode(text)
    x = np.stack([ids[i:i + 12] for i in range(0, len(ids) - 13, 3)])
    y = np.stack([ids[i + 1:i + 13] for i in range(0, len(ids) - 13, 3)])
    model = CharModel(len(vocab), hidden=32, cell="lstm", embedding=8, seed=0)
    assert model(torch.as_tensor(x[:2])).shape == (2, 12, len(vocab))
    result = train_classifier(model, x, y, epochs=30, batch_size=32, lr=1e-2, x_val=x, y_val=y,
                              seed=0, device="cpu")
    assert result.val_loss[-1] < 0.3 * result.val_loss[0]
    assert result.val_accuracy[-1] > 0.8  # per character
    text_out = sample(model, vocab, "abca", length=40, temperature=0.3, seed=0)
    assert text_out.startswith("abca") and len(text_out) == 44
    assert "bcabc" in text_out
    again = [sample(model, vocab, "ab", 20, 1.0, seed=3) for _ in range(2)]
    assert again[0] == again[1]


def test_sample_rejects_bad_arguments():
    vocab = CharVocab("ab")
    model = CharModel(2, hidden=4, embedding=2)
    with pytest.raises(ValueError, match="temperature must be a positive number"):
        sample(model, vocab, "a", 5, temperature=0)
    with pytest.raises(ValueError, match="prompt must hold at least one character"):
        sample(model, vocab, "", 5)


def test_only_the_gated_cells_with_an_open_gate_reach_the_first_input():
    from nnlib.models.recurrent import input_gradients_through_time

    for seed in range(3):
        rnn = input_gradients_through_time("rnn", seed=seed)
        closed = input_gradients_through_time("lstm", gate_bias=0.0, seed=seed)
        lstm = input_gradients_through_time("lstm", gate_bias=4.0, seed=seed)
        gru = input_gradients_through_time("gru", gate_bias=4.0, seed=seed)
        assert rnn.shape == (60,) and rnn[-1] > 0.1
        assert rnn[0] < 1e-12 and closed[0] < 1e-10  # vanished over 59 steps
        assert lstm[0] > 0.01  # still there: the cell path
        assert gru[0] > 1e6 * rnn[0]  # the update gate's direct path
        assert gru[0] < lstm[0] / 10  # z near 1 also means writing little: 1 - z = 0.018


def test_the_grus_best_update_bias_for_60_steps_is_near_ln_59_and_the_lstms_has_none():
    # The GRU writes x_0 with weight 1 - z and keeps it with z per step: (1 - s) s^59 peaks at
    # s = 59/60, b = ln 59 = 4.08. The LSTM's input gate is separate: more keeping only helps.
    import numpy as np

    from nnlib.models.recurrent import input_gradients_through_time

    biases = np.arange(2.0, 6.01, 0.5)
    for seed in range(3):
        gru = [input_gradients_through_time("gru", gate_bias=b, seed=seed)[0] for b in biases]
        lstm = [input_gradients_through_time("lstm", gate_bias=b, seed=seed)[0] for b in biases]
        assert biases[int(np.argmax(gru))] == 4.0, (seed, gru)
        assert np.all(np.diff(lstm) > 0), (seed, lstm)
        assert max(gru) < min(lstm[4:]) / 10  # at its best, the GRU's is below the LSTM's
