"""The course map and the environment check shown in ``00_start_here``.

``NOTEBOOKS`` is the one list of the course's notebooks: the start notebook
renders its map from it, and a test checks that README.md and ``notebooks/``
agree with it. Adding a notebook is a one-entry change here.
"""

import importlib.metadata
import platform
from pathlib import Path
from typing import NamedTuple

__all__ = ["Notebook", "NOTEBOOKS", "NOTEBOOK_DIR", "course_map", "environment_report"]

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"


class Notebook(NamedTuple):
    stem: str  # file name without .ipynb
    title: str
    summary: str


NOTEBOOKS = (
    Notebook("00_start_here", "Start here",
             "how the course works, an environment check, and this map"),
    Notebook("01_neurons", "Neurons",
             "weighted sum, bias and activation; the perceptron rule; why one neuron "
             "cannot solve XOR and two layers can"),
    Notebook("02_activations", "Activation functions",
             "sigmoid, tanh, ReLU, GELU, softmax and their derivatives; saturation; "
             "depth, initialization and vanishing signals"),
    Notebook("03_losses", "Loss functions",
             "MSE, MAE, Huber and cross-entropy; their gradients; outliers; log-sum-exp"),
    Notebook("04_backprop", "Backpropagation",
             "computational graphs, a scalar autograd engine, layer-level backprop, "
             "gradient checking, an MLP on real digits"),
    Notebook("05_optimizers", "Optimizers",
             "SGD, momentum, Nesterov, RMSProp and Adam on real and toy landscapes"),
    Notebook("06_regularization", "Regularization",
             "over-fitting, L1/L2, dropout and early stopping in a live training playground"),
    Notebook("07_cnn", "Convolutional networks",
             "convolution as a sliding dot product, padding, stride, pooling, a CNN on images"),
    Notebook("08_rnn", "Recurrent networks",
             "recurrence, backpropagation through time, vanishing and exploding gradients, "
             "padding and masks, a character model with temperature sampling, a forecast"),
    Notebook("09_lstm", "LSTM",
             "the cell state and its gates, the forget bias, and a memory task the plain RNN "
             "fails"),
    Notebook("10_gru", "GRU",
             "reset and update gates; RNN vs LSTM vs GRU on the same tasks and budget"),
    Notebook("11_gan", "Generative adversarial networks",
             "generator vs discriminator, training dynamics and mode collapse"),
    Notebook("12_transformer", "Transformer",
             "attention and why it divides by sqrt(d), masks, multi-head attention, positional "
             "encoding; a digit sorter whose attention you probe, a character-level model"),
)


def course_map(notebook_dir=None):
    """The course map as Markdown: written notebooks linked, the others marked."""
    notebook_dir = Path(notebook_dir) if notebook_dir is not None else NOTEBOOK_DIR
    lines = ["| # | notebook | what you will learn |", "|---|---|---|"]
    for nb in NOTEBOOKS:
        number, _ = nb.stem.split("_", 1)
        if (notebook_dir / f"{nb.stem}.ipynb").exists():
            name = f"[{nb.title}]({nb.stem}.ipynb)"
        else:
            name = f"{nb.title} *(in preparation)*"
        lines.append(f"| {number} | {name} | {nb.summary} |")
    return "\n".join(lines)


def environment_report():
    """Versions of Python and the course's packages, as a dict name -> version."""
    report = {"python": platform.python_version()}
    for name in ("numpy", "matplotlib", "ipywidgets", "torch"):
        try:  # the installed version, read without importing the package
            report[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            report[name] = "MISSING: run `make lab` from the repository root"
    return report
