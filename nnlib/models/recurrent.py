"""Recurrent networks in torch for notebooks 08–10: a sequence classifier, a character model.

* ``build_sequence_classifier(cell, ...)``: an RNN, LSTM or GRU that reads a whole
  sequence and classifies it from its last hidden state (the recall task of
  ``nnlib.data.sequences``). ``gate_bias`` starts the LSTM's forget gate (or the GRU's
  update gate) open, so that from the first step the cell keeps what it holds:
  the setting that decides whether an LSTM learns the 60-step recall task at all.
* ``fit_recall(cell, ...)``: trains one on fresh recall sequences with
  ``RECALL_RECIPE`` (the same budget for every cell, for a fair comparison).
* ``CharModel(vocab_size, ...)``: embedding -> RNN/LSTM/GRU -> logits for the next
  character at every step; ``sample`` writes text with it at a temperature.

Every builder is seeded; ``nnlib.models.training.train_classifier`` trains them (on CUDA
when there is a GPU).
"""

from typing import NamedTuple

import numpy as np

from nnlib.models.cells import CELLS, check_cell, recurrent_layer
from nnlib.models.convert import recurrent_weights

__all__ = ["CELLS", "build_sequence_classifier", "RecallRecipe", "RECALL_RECIPE", "fit_recall",
           "CharModel", "sample", "count_recurrent_parameters", "CharRecipe", "CHAR_RECIPE",
           "fit_char_model", "input_gradients_through_time"]


def build_sequence_classifier(cell, input_size, hidden, classes, gate_bias=None, seed=0):
    """``cell`` over the sequence, then a dense layer on the last hidden state -> logits.

    Args:
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        input_size, hidden, classes: ``D``, ``H`` and ``K``.
        gate_bias: the LSTM's forget-gate (or GRU's update-gate) bias at the start; 4
            gives ``sigmoid(4) = 0.98``: the cell keeps 98% of its memory per step.
            ``None`` keeps torch's default (small random values around 0); a number
            sets the whole block to exactly that value.
        seed: seeds the initial weights.

    Takes ``(B, T, D)`` float32, returns ``(B, K)``.
    """
    import torch
    from torch import nn

    check_cell(cell)
    torch.manual_seed(seed)

    class SequenceClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = cell
            self.recurrent = recurrent_layer(cell, input_size, hidden, gate_bias)
            self.out = nn.Linear(hidden, classes)

        def forward(self, x):
            return self.out(self.recurrent(x)[0][:, -1])

    return SequenceClassifier()


def count_recurrent_parameters(model):
    """The recurrent layer's parameters only (weights and biases of the cell)."""
    return int(sum(p.numel() for p in model.recurrent.parameters()))


class RecallRecipe(NamedTuple):
    T: int  # sequence length: the symbol must be carried T - 1 steps
    n_symbols: int
    hidden: int
    steps: int  # optimizer steps, each on a fresh batch
    batch_size: int
    lr: float  # Adam, one-cycle peak
    gate_bias: float  # the LSTM's forget gate and the GRU's update gate, both: sigmoid(4) = 0.98,
    # keep 98% per step. The same start for both cells; for the GRU, whose update gate also sets
    # how little it writes (1 - z), 4 is near the best start over T = 60 steps (ln 59 = 4.08)
    clip_grad_norm: float
    stop_loss: float  # stop early once the training loss is below this: solved (0.03: the
    # gated cells then score 99.7-100%, seeds 0-2, and stop after 630-720 steps, not 900)


RECALL_RECIPE = RecallRecipe(T=60, n_symbols=8, hidden=48, steps=900, batch_size=64, lr=3e-3,
                             gate_bias=4.0,
                             clip_grad_norm=1.0, stop_loss=0.03)


def input_gradients_through_time(cell, gate_bias=None, seed=0, recipe=None, batch=64):
    """How much a loss on the last step can still learn from each input, before training.

    Builds ``build_sequence_classifier(cell, ..., gate_bias, seed)`` with the sizes of
    ``recipe`` (default ``RECALL_RECIPE``): a fresh torch model, as ``fit_recall``
    starts. Copies its weights into the numpy forward/backward pair of ``nnlib.rnn``,
    reads ``batch`` recall sequences of length ``recipe.T``, and sends a unit
    gradient into the last hidden state.

    Returns ``(T,)``: the mean over the batch of ``||dL/dx_t||``. Entry 0 is what
    reaches the symbol the recall task asks about, ``T - 1`` steps back.
    """
    from nnlib.data.sequences import recall_task
    from nnlib.rnn import (
        gru_backward,
        gru_forward,
        lstm_backward,
        lstm_forward,
        rnn_backward,
        rnn_forward,
    )

    recipe = RECALL_RECIPE if recipe is None else recipe
    T, hidden, n_symbols = recipe.T, recipe.hidden, recipe.n_symbols
    model = build_sequence_classifier(cell, n_symbols + 1, hidden, n_symbols,
                                      gate_bias=gate_bias, seed=seed)
    weights = recurrent_weights(model.recurrent)
    x = recall_task(batch, T, n_symbols, seed=seed)[0].astype(float)
    h0 = np.zeros((batch, hidden))
    if cell == "lstm":
        hs, cache = lstm_forward(x, h0, h0, *weights)
    else:
        hs, cache = {"rnn": rnn_forward, "gru": gru_forward}[cell](x, h0, *weights)
    dhs = np.zeros_like(hs)
    g = np.random.default_rng(seed).standard_normal((batch, hidden))
    dhs[:, -1] = g / np.linalg.norm(g, axis=1, keepdims=True)  # a unit gradient, last step
    backward = {"rnn": rnn_backward, "lstm": lstm_backward, "gru": gru_backward}[cell]
    dx = backward(dhs, cache)[0]
    return np.linalg.norm(dx, axis=2).mean(axis=0)


class RecallResult(NamedTuple):
    model: object
    accuracy: float  # on 1,000 fresh test sequences
    seconds: float
    train_loss: list  # (step, training loss): up to 31 points over the run
    steps: int  # optimizer steps taken: fewer than recipe.steps when it solved the task early


def fit_recall(cell, seed=0, recipe=RECALL_RECIPE, gate_bias=None, progress=None, device=None):
    """Train ``build_sequence_classifier(cell)`` on the recall task with ``recipe``.

    Every step sees a fresh batch (``recipe.steps * recipe.batch_size`` sequences in
    one pass), so there is nothing to memorise: only carrying the symbol helps.
    Training stops early once the training loss (mean over the 30 steps between two
    reports) is below ``recipe.stop_loss``: the cell has solved the task, and the
    remaining budget would only cost time. ``RecallResult.steps`` says when.
    ``gate_bias`` overrides the recipe's gate bias for this cell (ignored for the
    plain RNN). ``progress``: e.g. ``TrainingMonitor(recipe.steps, xlabel="step")``,
    told the training loss 30 times over the run.

    Returns a ``RecallResult`` with the accuracy on 1,000 test sequences
    (chance: ``1 / recipe.n_symbols``).
    """
    from nnlib.data.sequences import recall_task
    from nnlib.models.training import accuracy, train_classifier

    check_cell(cell)
    bias = recipe.gate_bias if gate_bias is None else gate_bias
    D = recipe.n_symbols + 1
    model = build_sequence_classifier(cell, D, recipe.hidden, recipe.n_symbols,
                                      gate_bias=None if cell == "rnn" else bias, seed=seed)
    x, y = recall_task(recipe.steps * recipe.batch_size, recipe.T, recipe.n_symbols, seed=seed)
    result = train_classifier(model, x, y, epochs=1, batch_size=recipe.batch_size, lr=recipe.lr,
                              seed=seed, device=device, progress=progress,
                              clip_grad_norm=recipe.clip_grad_norm, updates_per_epoch=30,
                              progress_in_steps=True, stop_loss=recipe.stop_loss)
    x_test, y_test = recall_task(1000, recipe.T, recipe.n_symbols, seed=10_000 + seed)
    return RecallResult(model, accuracy(model, x_test, y_test), result.seconds, result.curve,
                        result.steps)


# --------------------------------------------------------------------------- characters


def CharModel(vocab_size, hidden=128, cell="lstm", embedding=32, seed=0):  # noqa: N802
    """A character-level language model: ``(B, T)`` ids -> ``(B, T, vocab_size)`` logits.

    Embedding -> one ``cell`` layer -> a dense layer: at every step, scores for the
    next character. ``model(x, state)`` also accepts and ``model.step`` returns the
    recurrent state, for sampling one character at a time.
    """
    import torch
    from torch import nn

    check_cell(cell)
    torch.manual_seed(seed)

    class _CharModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell, self.vocab_size = cell, vocab_size
            self.embed = nn.Embedding(vocab_size, embedding)
            self.recurrent = recurrent_layer(cell, embedding, hidden, None)
            self.out = nn.Linear(hidden, vocab_size)

        def step(self, x, state=None):
            hs, state = self.recurrent(self.embed(x), state)
            return self.out(hs), state

        def forward(self, x):
            return self.step(x)[0]

    return _CharModel()


def sample(model, vocab, prompt, length=200, temperature=1.0, seed=0):
    """Continue ``prompt`` by ``length`` characters, drawing each from the model's softmax.

    ``temperature`` divides the logits: below 1 the likeliest characters win more
    often (safe, repetitive text), above 1 the distribution flattens (adventurous,
    misspelt text); as it approaches 0 sampling becomes argmax.
    """
    import torch

    if not temperature > 0:
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    if not prompt:
        raise ValueError("prompt must hold at least one character")
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    ids = torch.as_tensor(vocab.encode(prompt), device=device)[None]
    model.eval()
    out = []
    with torch.no_grad():
        logits, state = model.step(ids)
        for _ in range(length):
            probs = torch.softmax(logits[0, -1].double().cpu() / temperature, dim=-1)
            nxt = int(torch.multinomial(probs, 1, generator=generator))
            out.append(nxt)
            logits, state = model.step(torch.tensor([[nxt]], device=device), state)
    return prompt + vocab.decode(np.array(out))


class CharRecipe(NamedTuple):
    corpus: str  # nnlib.data.TEXT_NAMES
    hidden: int
    embedding: int
    seq_len: int  # characters per training window (backpropagation through time)
    batch_size: int
    steps: int  # optimizer steps, one pass over steps * batch_size random windows
    lr: float
    clip_grad_norm: float
    val_windows: int  # fixed windows of the held-out end of the book


CHAR_RECIPE = CharRecipe(corpus="moby_dick", hidden=64, embedding=32, seq_len=32,
                         batch_size=32, steps=500, lr=5e-3, clip_grad_norm=1.0,
                         val_windows=256)


class CharResult(NamedTuple):
    model: object
    vocab: object
    val_loss: float  # nats per character on the held-out end of the book
    seconds: float
    train_loss: list  # (step, training loss): 31 points over the run


def fit_char_model(cell="lstm", seed=0, recipe=CHAR_RECIPE, progress=None, device=None):
    """Train ``CharModel(cell)`` on a shipped book with ``recipe`` (the same for every cell).

    Training windows are drawn at random from the first 90% of the book; the
    validation loss, in nats per character, is measured on fixed windows of the
    last 10%, which training never sees. Compare it with
    ``nnlib.data.text.unigram_loss`` (about 3.08 on Moby Dick) and ``uniform_loss``.
    ``progress``: e.g. ``TrainingMonitor(recipe.steps, xlabel="step")``.
    """
    from nnlib.data.text import char_dataset, random_windows
    from nnlib.models.training import train_classifier

    data = char_dataset(recipe.corpus)
    model = CharModel(len(data.vocab), recipe.hidden, cell, recipe.embedding, seed=seed)
    x, y = random_windows(data.train_ids, recipe.seq_len, recipe.steps * recipe.batch_size,
                          seed=seed)
    x_val, y_val = random_windows(data.val_ids, recipe.seq_len, recipe.val_windows, seed=0)
    result = train_classifier(model, x, y, epochs=1, batch_size=recipe.batch_size,
                              lr=recipe.lr, x_val=x_val, y_val=y_val, seed=seed, device=device,
                              progress=progress, val_name="validation",
                              clip_grad_norm=recipe.clip_grad_norm, updates_per_epoch=30,
                              progress_in_steps=True)
    return CharResult(model, data.vocab, result.val_loss[-1], result.seconds, result.curve)
