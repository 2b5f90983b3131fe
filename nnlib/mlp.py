"""A multi-layer perceptron built from the layer pairs, and a training loop for it.

``MLP([D, H1, ..., K])`` stacks ``linear -> activation -> dropout`` blocks and a
final linear layer that returns logits. Its parameters live in a dict
(``w1, b1, w2, b2, ...``) and ``backward`` returns gradients in a dict of the
same keys, so any ``nnlib.optim`` optimizer can step them. Forward keeps one
cache per layer; backward walks them in reverse, each layer's backward
receiving the gradient the next one produced: backpropagation, layer by layer.

``fit`` trains with mini-batches, cross-entropy, optional L1/L2 penalties and
a progress display. Tested against an equal torch model in float64
(tests/test_mlp.py).
"""

import math
from typing import NamedTuple

import numpy as np

from nnlib.activations import ACTIVATIONS, softmax
from nnlib.checks import check_positive_int
from nnlib.init import INIT_SCHEMES, init_weights
from nnlib.layers import dropout_backward, dropout_forward, linear_backward, linear_forward
from nnlib.losses import cross_entropy
from nnlib.regularization import l1_penalty, l2_penalty

__all__ = ["MLP", "History", "fit", "MLP_ACTIVATIONS"]

MLP_ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "gelu", "linear")


def _activation(name):
    if name == "linear":
        return (lambda z: z), (lambda z: np.ones_like(z))
    return ACTIVATIONS[name]


class MLP:
    """A fully connected network: ``sizes = [D, H1, ..., K]`` gives ``len(sizes) - 1`` layers.

    Args:
        sizes: layer widths, input first, number of outputs (logits) last.
        activation: one of ``MLP_ACTIVATIONS``, used after every hidden layer.
        dropout: drop probability after every hidden activation (training only).
        init: ``"he"`` or ``"xavier"`` weight scale (``None``: He for ReLU-like
            activations, Xavier otherwise); biases start at zero.
        seed: seeds the weights and the dropout masks.
    """

    def __init__(self, sizes, activation="relu", dropout=0.0, init=None, seed=0):
        sizes = list(sizes)
        if len(sizes) < 2 or not all(isinstance(s, int | np.integer) and not isinstance(s, bool)
                                     and s >= 1 for s in sizes):
            raise ValueError(f"sizes must list at least two positive integers [D, ..., K], "
                             f"got {sizes!r}")
        if activation not in MLP_ACTIVATIONS:
            raise ValueError(f"activation must be one of {MLP_ACTIVATIONS}, got {activation!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, int | float | np.floating) or not (
                0 <= dropout < 1):
            raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}")
        if init is None:
            init = "he" if activation in ("relu", "leaky_relu", "gelu") else "xavier"
        if init not in INIT_SCHEMES:
            raise ValueError(f"init must be one of {INIT_SCHEMES} or None, got {init!r}")
        self.sizes = [int(s) for s in sizes]
        self.activation = activation
        self.dropout = float(dropout)
        self.rng = np.random.default_rng(seed)
        self.params = {}
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            self.params[f"w{i}"] = init_weights(int(fan_in), int(fan_out), init, self.rng)
            self.params[f"b{i}"] = np.zeros(int(fan_out))
        self._caches = None

    @property
    def n_layers(self):
        return len(self.sizes) - 1

    @property
    def n_params(self):
        return sum(p.size for p in self.params.values())

    def forward(self, x, train=False):
        """Logits ``(B, K)`` for inputs ``x (B, D)``; keeps the caches for ``backward``.

        ``train=True`` applies dropout (fresh masks from the model's generator).
        """
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ValueError(f"x must have shape (B, {self.sizes[0]}), got {x.shape}")
        f, _ = _activation(self.activation)
        caches = []
        h = x
        for i in range(1, self.n_layers + 1):
            z, lin = linear_forward(h, self.params[f"w{i}"], self.params[f"b{i}"])
            if i == self.n_layers:
                caches.append((lin, None, None))
                self._caches = caches
                return z  # logits: no activation on the last layer
            a = f(z)
            h, drop = dropout_forward(a, self.dropout, self.rng, train=train)
            caches.append((lin, z, drop))

    def backward(self, dlogits):
        """Every parameter's gradient given ``dL/dlogits (B, K)``, in a dict like ``params``."""
        if self._caches is None:
            raise RuntimeError("call forward(x) before backward(dlogits)")
        _, f_grad = _activation(self.activation)
        grads = {}
        dh = np.asarray(dlogits, dtype=np.float64)
        for i in range(self.n_layers, 0, -1):
            lin, z, drop = self._caches[i - 1]
            if z is not None:  # hidden layer: back through dropout, then the activation
                da = dropout_backward(dh, drop)
                dh = da * f_grad(z)  # chain rule: dL/dz = dL/da * a'(z)
            dh, grads[f"w{i}"], grads[f"b{i}"] = linear_backward(dh, lin)
        return {k: grads[k] for k in self.params}

    def loss(self, x, y, l1=0.0, l2=0.0, train=True):
        """Cross-entropy (plus penalties) on ``(x, y)`` and the gradients: ``(loss, grads)``.

        A diverged network (inf or NaN logits) gives ``loss = inf`` and zero
        gradients, so that a training loop can stop and say so.
        """
        logits = self.forward(x, train=train)
        if not np.isfinite(logits).all():
            return math.inf, {k: np.zeros_like(p) for k, p in self.params.items()}
        loss, dlogits = cross_entropy(logits, y)
        grads = self.backward(dlogits)
        for strength, penalty in ((l1, l1_penalty), (l2, l2_penalty)):
            if strength:
                value, pgrads = penalty(self.params, strength)
                loss += value
                for k in grads:
                    grads[k] += pgrads[k]
        return loss, grads

    def evaluate(self, x, y):
        """The cross-entropy on ``(x, y)`` without dropout or penalties; ``inf`` once diverged."""
        with np.errstate(over="ignore", invalid="ignore"):  # inf weights: no warning flood
            logits = self.forward(x, train=False)
        return cross_entropy(logits, y)[0] if np.isfinite(logits).all() else math.inf

    def predict_proba(self, x):
        return softmax(self.forward(x, train=False), axis=1)

    def predict(self, x):
        return np.argmax(self.forward(x, train=False), axis=1)

    def accuracy(self, x, y):
        return float(np.mean(self.predict(x) == np.asarray(y)))

    def hidden_activations(self, x):
        """Every hidden layer's activations for ``x`` (no dropout): a list of ``(B, H_l)``."""
        f, _ = _activation(self.activation)
        h, out = np.asarray(x, dtype=np.float64), []
        for i in range(1, self.n_layers):
            h = f(h @ self.params[f"w{i}"] + self.params[f"b{i}"])
            out.append(h)
        return out


class History(NamedTuple):
    train_loss: list  # per epoch, mean over the epoch's mini-batches
    val_loss: list  # per epoch, on the validation set (empty without one)
    val_accuracy: list
    diverged: bool


def fit(model, optimizer, x, y, epochs, batch_size=32, x_val=None, y_val=None, l1=0.0, l2=0.0,
        seed=0, progress=None, val_name="validation"):
    """Train ``model`` with ``optimizer`` on ``(x, y)`` for ``epochs`` passes of mini-batches.

    Each epoch shuffles the data (seeded), steps once per batch, and records
    the mean training loss and, with ``x_val``, the validation loss and accuracy.
    Training stops early, with ``diverged=True``, if the loss becomes inf or NaN.

    Args:
        progress: a ``nnlib.display.widgets.TrainingMonitor`` (or anything with
            ``update(epoch, **metrics)``) to show progress and a live loss curve.
        val_name: what to call ``(x_val, y_val)`` on that display ("test" when
            it is the test set).

    Returns:
        a ``History``.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    if len(x) == 0:
        raise ValueError("x must hold at least one example, got an empty array")
    check_positive_int("epochs", epochs)
    if (x_val is None) != (y_val is None):
        raise ValueError("pass both x_val and y_val (or neither)")
    check_positive_int("batch_size", batch_size)
    rng = np.random.default_rng(seed)
    history = History([], [], [], False)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(epochs):
            order = rng.permutation(len(x))
            total = 0.0
            for start in range(0, len(x), batch_size):
                batch = order[start:start + batch_size]
                loss, grads = model.loss(x[batch], y[batch], l1=l1, l2=l2)
                optimizer.step(grads)
                total += loss * len(batch)
            history.train_loss.append(total / len(x))
            metrics = {"train loss": history.train_loss[-1]}
            if x_val is not None:
                val_loss = model.evaluate(x_val, y_val)
                history.val_loss.append(val_loss)
                history.val_accuracy.append(model.accuracy(x_val, y_val))
                metrics[f"{val_name} loss"] = val_loss
            if progress is not None:
                progress.update(epoch + 1, **metrics)
            if not math.isfinite(history.train_loss[-1]):
                break
    if progress is not None and hasattr(progress, "finish"):
        progress.finish()
    return history._replace(diverged=not math.isfinite(history.train_loss[-1]))
