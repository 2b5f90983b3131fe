"""Convolutional networks: from the numpy pairs, in torch, and ways to look inside them.

``NumpyCNN`` chains ``conv2d -> ReLU -> max-pool`` twice and a dense layer, with
every forward and backward from ``nnlib.layers``: the whole of backpropagation
through a CNN in 60 lines, tested against torch (tests/test_cnn.py). It has
``MLP``'s interface (``params``, ``loss``, ``evaluate``, ``accuracy``), so
``nnlib.mlp.fit`` and the ``nnlib.optim`` optimizers train it unchanged; it is
slow (numpy, float64), so notebook 07 trains it only a little.

``build_cnn`` makes the same architecture in torch (wider, with dropout) for
real training with ``nnlib.training.train_classifier``; ``build_mlp`` the
fully connected network it is compared with. ``feature_maps`` and
``occlusion_map`` look inside a trained torch CNN.
"""

import math
from typing import NamedTuple

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

__all__ = ["KERNELS", "NumpyCNN", "build_cnn", "build_mlp", "count_parameters",
           "feature_maps", "occlusion_map", "RECIPES", "Recipe", "fit_image_classifier"]

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


# --------------------------------------------------------------------------- torch


def build_cnn(channels=(8, 32), hidden=128, dropout=0.25, batchnorm=True, image_size=28,
              classes=10, seed=0):
    """The torch CNN of notebook 07: ``conv 3x3 -> [batch norm] -> ReLU -> max-pool 2`` blocks,
    one per entry of ``channels``, then ``dropout -> dense(hidden) -> ReLU -> dropout ->
    dense(classes)``.

    Batch normalisation rescales each channel to zero mean and unit variance over
    the batch (with a learned scale and shift), which lets a few epochs at a high
    learning rate train well. ``batchnorm=True`` puts it after every convolution
    but the first: the first sees raw pixels, already on a common scale, and
    normalising its full-resolution outputs would cost as much time on a CPU as
    the convolution itself. Takes ``(B, 1, S, S)`` images (float32) in [0, 1];
    returns logits. ``seed`` seeds the initial weights (torch's defaults).
    """
    import torch
    from torch import nn

    shrink = 2 ** len(channels)
    if image_size % shrink:
        raise ValueError(f"image_size must be a multiple of {shrink} ({len(channels)} 2x2 "
                         f"poolings), got {image_size}")
    torch.manual_seed(seed)
    layers, fan_in = [], 1
    for k, f in enumerate(channels):
        norm = [nn.BatchNorm2d(f)] if batchnorm and k > 0 else []
        layers += [nn.Conv2d(fan_in, f, 3, padding=1), *norm, nn.ReLU(), nn.MaxPool2d(2)]
        fan_in = f
    return nn.Sequential(
        *layers, nn.Flatten(), nn.Dropout(dropout),
        nn.Linear(fan_in * (image_size // shrink) ** 2, hidden), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(hidden, classes),
    )


def build_mlp(sizes=(784, 256, 128, 10), dropout=0.25, seed=0):
    """A fully connected torch network (flattening its input) to compare with the CNN."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    layers = [nn.Flatten()]
    for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU(), nn.Dropout(dropout)]
    return nn.Sequential(*layers, nn.Linear(sizes[-2], sizes[-1]))


def count_parameters(model):
    """The number of trainable numbers in a torch module or an nnlib model (``params`` dict)."""
    if hasattr(model, "params"):
        return int(sum(p.size for p in model.params.values()))
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


def feature_maps(model, image):
    """What each convolution block of a trained ``build_cnn`` network sees in ``image``.

    Args:
        image: one image ``(S, S)`` (or ``(1, S, S)``).

    Returns:
        a list with one ``(F, S', S')`` numpy array per conv layer: its output
        after the ReLU, before pooling.
    """
    import torch
    from torch import nn

    param = next(model.parameters())
    x = torch.as_tensor(np.asarray(image), dtype=param.dtype, device=param.device)
    x = x.reshape(1, 1, *x.shape[-2:])
    maps = []
    model.eval()
    with torch.no_grad():
        layers = list(model)
        for i, layer in enumerate(layers):
            x = layer(x)
            if isinstance(layer, nn.ReLU) and i > 0 and isinstance(
                    layers[i - 1], nn.Conv2d | nn.BatchNorm2d):
                maps.append(x[0].cpu().numpy())
    return maps


def occlusion_map(model, image, label, patch=6, stride=2, fill=0.0):
    """How much each region matters: ``label``'s probability with a patch hiding it.

    The ``patch x patch`` square, filled with ``fill``, is placed at every
    ``stride``-th position; all the occluded copies go through the model in one
    batch.

    Returns:
        ``(probs, corners)``: ``probs (n, n)``, the probability of ``label`` with
        the patch's top-left corner at ``(corners[i], corners[j])``.
    """
    from nnlib.training import predict_proba

    image = np.asarray(image, dtype=np.float32)
    S = image.shape[-1]
    if not 1 <= patch <= S:
        raise ValueError(f"patch must be between 1 and the image size {S}, got {patch}")
    corners = np.arange(0, S - patch + 1, stride)
    batch = np.repeat(image.reshape(1, 1, S, S), len(corners) ** 2, axis=0)
    for k, (i, j) in enumerate((i, j) for i in corners for j in corners):
        batch[k, 0, i:i + patch, j:j + patch] = fill
    probs = predict_proba(model, batch)[:, label]
    return probs.reshape(len(corners), len(corners)), corners


# --------------------------------------------------------------------------- recipes


class Recipe(NamedTuple):
    """How notebook 07 trains on a data set (the claims' tests use the same)."""

    epochs: int
    batch_size: int
    lr: float  # the one-cycle schedule's peak
    flip: bool  # mirror training images left-right at random (clothes, not digits)


RECIPES = {
    "mnist": Recipe(epochs=10, batch_size=128, lr=4e-3, flip=False),
    "fashion_mnist": Recipe(epochs=10, batch_size=128, lr=4e-3, flip=True),
}


def fit_image_classifier(dataset, architecture="cnn", seed=0, progress=None, device=None):
    """Train ``build_cnn()`` (or ``build_mlp()``) on a 28x28 data set with its ``RECIPES`` entry.

    Args:
        dataset: ``"mnist"`` or ``"fashion_mnist"``.
        architecture: ``"cnn"`` or ``"mlp"``; both get the same recipe.
        seed: seeds the weights, the shuffling, dropout and the flips.
        progress: a ``TrainingMonitor(epochs, ...)`` for a live curve.

    Returns:
        ``(model, result, data)``: the trained torch model (eval mode), the
        ``nnlib.training.TrainResult`` with the test accuracy after each epoch,
        and the ``ImageDataset`` (float32 pixels in [0, 1], which the model
        takes as they are: pixel values in [0, 1] are already on a sensible scale,
        and the batch norm after the second convolution rescales what follows).
    """
    from nnlib import data
    from nnlib.training import horizontal_flip, train_classifier

    if dataset not in RECIPES:
        raise ValueError(f"dataset must be one of {sorted(RECIPES)}, got {dataset!r}")
    if architecture not in ("cnn", "mlp"):
        raise ValueError(f"architecture must be 'cnn' or 'mlp', got {architecture!r}")
    recipe = RECIPES[dataset]
    ds = getattr(data, f"load_{dataset}")(dtype=np.float32)
    model = build_cnn(seed=seed) if architecture == "cnn" else build_mlp(seed=seed)
    result = train_classifier(
        model, ds.x_train[:, None], ds.y_train, epochs=recipe.epochs,
        batch_size=recipe.batch_size, lr=recipe.lr, x_val=ds.x_test[:, None], y_val=ds.y_test,
        augment=horizontal_flip if recipe.flip else None, seed=seed, device=device,
        progress=progress)
    return model, result, ds
