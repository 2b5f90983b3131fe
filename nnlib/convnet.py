"""A convolutional network in numpy, built from the layer pairs, and the classic 3x3 kernels.

``NumpyCNN`` chains ``conv2d -> ReLU -> max-pool`` twice and a dense layer, with
every forward and backward from ``nnlib.layers``: the whole of backpropagation
through a CNN in 60 lines, tested against torch (tests/test_cnn.py). It has
``MLP``'s interface (``params``, ``loss``, ``evaluate``, ``accuracy``), so
``nnlib.mlp.fit`` and the ``nnlib.optim`` optimizers train it unchanged; it is
slow (numpy, float64), so notebook 07 trains it only a little. ``KERNELS`` holds
hand-made 3x3 kernels from image processing (edges, blur, sharpen).

The same architecture in torch, for real training, is ``nnlib.models.cnn.build_cnn``.
"""

import math

import numpy as np

from nnlib.init import init_weights
from nnlib.layers import (
    conv2d_backward,
    conv2d_forward,
    linear_backward,
    linear_forward,
    maxpool2d_backward,
    maxpool2d_forward,
)
from nnlib.losses import cross_entropy

__all__ = ["KERNELS", "NumpyCNN"]

# Hand-made 3x3 kernels from image processing: what a CNN's first layer tends to learn.
KERNELS = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "vertical edges (Sobel)": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
    "horizontal edges (Sobel)": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
    "box blur": [[1 / 9] * 3] * 3,
    "Gaussian blur": [[1 / 16, 2 / 16, 1 / 16], [2 / 16, 4 / 16, 2 / 16], [1 / 16, 2 / 16, 1 / 16]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "outline (Laplacian)": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
}
KERNELS = {name: np.array(k, dtype=np.float64) for name, k in KERNELS.items()}


def _he_filters(rng, filters, channels, k):
    # He initialisation with fan-in C*k*k, the filters' equivalent of a dense layer's D
    return rng.standard_normal((filters, channels, k, k)) * math.sqrt(2.0 / (channels * k * k))


class NumpyCNN:
    """``conv(3x3, pad 1) -> ReLU -> max-pool 2``, twice, then a dense layer to the logits.

    Args:
        channels: ``(F1, F2)``, the filters of the two convolutions.
        image_size: the input's height and width (a multiple of 4).
        classes: number of outputs.
        seed: seeds the He-initialised weights (biases start at 0).

    Inputs are ``(B, 1, S, S)`` images or ``(B, S, S)`` (a channel axis is added).
    """

    def __init__(self, channels=(8, 16), image_size=28, classes=10, seed=0):
        if image_size % 4:
            raise ValueError(f"image_size must be a multiple of 4 (two 2x2 poolings), "
                             f"got {image_size}")
        f1, f2 = channels
        rng = np.random.default_rng(seed)
        flat = f2 * (image_size // 4) ** 2
        self.image_size = image_size
        self.params = {
            "conv1.w": _he_filters(rng, f1, 1, 3), "conv1.b": np.zeros(f1),
            "conv2.w": _he_filters(rng, f2, f1, 3), "conv2.b": np.zeros(f2),
            "fc.w": init_weights(flat, classes, "he", rng), "fc.b": np.zeros(classes),
        }
        self._caches = None

    @property
    def n_params(self):
        return sum(p.size for p in self.params.values())

    def _images(self, x):
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 3:
            x = x[:, None]
        S = self.image_size
        if x.ndim != 4 or x.shape[1:] != (1, S, S):
            raise ValueError(f"x must hold images (B, 1, {S}, {S}) or (B, {S}, {S}), "
                             f"got shape {x.shape}")
        return x

    def forward(self, x, train=True):
        """Logits ``(B, K)``; keeps every layer's cache for ``backward``."""
        p, h, caches = self.params, self._images(x), []
        for name in ("conv1", "conv2"):
            z, conv = conv2d_forward(h, p[f"{name}.w"], p[f"{name}.b"], padding=1)
            a = np.maximum(z, 0.0)
            h, pool = maxpool2d_forward(a, 2)
            caches.append((conv, z, pool))
        logits, fc = linear_forward(h.reshape(len(h), -1), p["fc.w"], p["fc.b"])
        self._caches = (caches, fc, h.shape)
        return logits

    def backward(self, dlogits):
        """Every parameter's gradient given ``dL/dlogits``, in a dict like ``params``."""
        if self._caches is None:
            raise RuntimeError("call forward(x) before backward(dlogits)")
        caches, fc, pooled_shape = self._caches
        grads = {}
        dh, grads["fc.w"], grads["fc.b"] = linear_backward(dlogits, fc)
        dh = dh.reshape(pooled_shape)
        for name, (conv, z, pool) in zip(("conv2", "conv1"), reversed(caches)):
            da = maxpool2d_backward(dh, pool)
            dz = da * (z > 0)  # ReLU passes the gradient where its input was positive
            dh, grads[f"{name}.w"], grads[f"{name}.b"] = conv2d_backward(dz, conv)
        return {k: grads[k] for k in self.params}

    def loss(self, x, y, l1=0.0, l2=0.0, train=True):
        """Cross-entropy on ``(x, y)`` and the gradients: ``(loss, grads)``, as ``MLP.loss``."""
        if l1 or l2:
            raise ValueError("NumpyCNN has no L1/L2 penalty: pass l1=0 and l2=0")
        logits = self.forward(x)
        if not np.isfinite(logits).all():
            return math.inf, {k: np.zeros_like(v) for k, v in self.params.items()}
        value, dlogits = cross_entropy(logits, y)
        return value, self.backward(dlogits)

    def evaluate(self, x, y, batch_size=500):
        """The cross-entropy on ``(x, y)``; ``inf`` once diverged."""
        with np.errstate(over="ignore", invalid="ignore"):
            logits = self._logits(x, batch_size)
        return cross_entropy(logits, y)[0] if np.isfinite(logits).all() else math.inf

    def _logits(self, x, batch_size=500):
        x = self._images(x)
        return np.concatenate([self.forward(x[i:i + batch_size])
                               for i in range(0, len(x), batch_size)])

    def predict(self, x):
        return np.argmax(self._logits(x), axis=1)

    def accuracy(self, x, y):
        return float(np.mean(self.predict(x) == np.asarray(y)))
