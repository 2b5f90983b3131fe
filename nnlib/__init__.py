"""nnlib: the small, tested library behind the course notebooks.

The folder tree is the architecture; arrows point one way, views -> models -> numpy,
and tests/test_architecture.py enforces it::

    nnlib/
      activations losses layers      numpy reference code, the math a learner reads:
      conv_loops rnn attention       forward/backward pairs tested against torch in
      autograd optim init gradcheck  float64 and by finite differences. They import
      mlp convnet perceptron         numpy and each other only (API.md is the contract).
      regularization overfitting     experiments the views draw: overfitting,
      gate_memory surfaces           gate_memory (how long LSTM/GRU gates remember),
      sampling checks                surfaces (optimizer paths); sampling: trained
                                     character models run in numpy; checks: the
                                     argument checks every module shares
      data/       files toy sequences text    every data set: checked loaders, toy sets,
                                              sequence tasks, character data (numpy)
      models/     training convert cells      torch: the one training loop, the one
                  cnn recurrent transformer   torch<->numpy weight converter, and the
                  seq2seq gan gan_networks    models the later notebooks train
                  gan_metrics forecast
      display/    plotting widgets text graph the course style, live widgets, fast text,
                  diagrams                    the autograd graph and the architecture
                                              diagrams of 07-12 (matplotlib)
      views/      one module per notebook topic: the interactive views; they call
                  the math and the models and draw, and import no torch
      exercises/  one checker module per notebook (numpy only)
      grade.py    python -m nnlib.grade: runs notebooks in fresh kernels and tabulates
                  what their own checkers reported (nbclient)
      course.py   the course map of the start notebook
      hosts.py    where the course is opened: the one repository slug and ref, the
                  Colab and Binder links, and Colab's set-up (standard library only)

``import nnlib`` is quick: each submodule is imported on first use (``nnlib.data``,
``nnlib.models.training``, ...), and torch, matplotlib and ipywidgets are imported only
by the modules that need them.

Conventions (the public contract is ../shared/API.md in the course repo):

* arrays are numpy, float64 unless said, batch first;
* dense layers compute ``x @ w + b`` with ``w`` of shape ``(D_in, D_out)``;
* forward functions return ``(out, cache)``; backward functions take
  ``(dout, cache)`` and return the gradients in argument order.

Shape legend used in docstrings and comments::

    B  batch size            T  time steps (sequence length)
    D  input features        H  hidden units
    K  classes               M  output features of a dense layer
    C  input channels        F  filters (output channels)
    KH, KW  kernel height and width
    E  embedding width       h  attention heads, d = E // h per head
"""

from importlib import import_module

__version__ = "0.1.0"

# Add a module here when it is written (tests/test_package.py imports each one).
_SUBMODULES = (
    "activations",
    "attention",
    "autograd",
    "checks",
    "conv_loops",
    "convnet",
    "course",
    "data",
    "display",
    "exercises",
    "gate_memory",
    "grade",
    "gradcheck",
    "hosts",
    "init",
    "layers",
    "losses",
    "mlp",
    "models",
    "optim",
    "overfitting",
    "perceptron",
    "regularization",
    "rnn",
    "sampling",
    "surfaces",
    "views",
)

__all__ = ["__version__", *_SUBMODULES]


def __getattr__(name):
    # Lazy submodules: `import nnlib; nnlib.data.load_digits()` works without
    # paying for every import up front.
    if name in _SUBMODULES:
        return import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'nnlib' has no attribute {name!r}")
