"""nnlib: the small, tested library behind the course notebooks.

From-scratch numpy reference implementations (forward and backward), data
loaders, plots, widgets and exercise checkers. ``import nnlib`` is quick: each
submodule is imported on first use (``nnlib.data``, ``nnlib.gradcheck``, ...),
and torch, matplotlib and ipywidgets are imported only by the modules that need
them.

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
    "gradcheck",
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
