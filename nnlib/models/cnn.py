"""Convolutional networks in torch, and ways to look inside them.

``build_cnn`` makes notebook 07's CNN (the architecture of ``nnlib.convnet.NumpyCNN``,
wider, with dropout and batch norm) for real training with
``nnlib.models.training.train_classifier``; ``build_mlp`` the fully connected network it
is compared with; ``fit_image_classifier`` trains either on a shipped image set with a
named recipe. ``feature_maps`` and ``occlusion_map`` look inside a trained torch CNN.
"""

from typing import NamedTuple

import numpy as np

__all__ = ["build_cnn", "build_mlp", "count_parameters", "feature_maps", "occlusion_map",
           "layer_outputs", "layer_shapes",
           "RECIPES", "Recipe", "fit_image_classifier", "accuracy_with_batch_statistics"]

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
    from nnlib.models.training import predict_proba

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
    "mnist": Recipe(epochs=7, batch_size=128, lr=4e-3, flip=False),
    "fashion_mnist": Recipe(epochs=7, batch_size=128, lr=4e-3, flip=True),
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
        ``nnlib.models.training.TrainResult`` with the test accuracy after each epoch,
        and the ``ImageDataset`` (float32 pixels in [0, 1], which the model
        takes as they are: pixel values in [0, 1] are already on a sensible scale,
        and the batch norm after the second convolution rescales what follows).
    """
    from nnlib import data
    from nnlib.models.training import horizontal_flip, train_classifier

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


def accuracy_with_batch_statistics(model, x, y, batch_size=16, by_class=True):
    """Test accuracy with batch norm left in training mode: the eval-mode pitfall, measured.

    A copy of ``model`` runs with its batch-norm layers in training mode (dropout stays
    off), so each batch is normalised with its own mean and variance instead of the
    running averages, and an image's prediction depends on the other images in its
    batch. With ``by_class=True`` the test images come sorted by label, so every batch
    holds (nearly) one class: what happens when a test set is stored in that order.
    The model itself is untouched (a training-mode forward pass would also update its
    running statistics).

    Returns the accuracy on ``x (N, 1, S, S)``, ``y (N,)``.
    """
    import copy

    import torch
    from torch import nn

    probe = copy.deepcopy(model).eval()
    for module in probe.modules():
        if isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d | nn.BatchNorm3d):
            module.train()
    device = next(probe.parameters()).device
    y = np.asarray(y)
    order = np.argsort(y, kind="stable") if by_class else np.arange(len(y))
    correct = 0
    with torch.no_grad():
        for start in range(0, len(y), batch_size):
            rows = order[start:start + batch_size]
            logits = probe(torch.as_tensor(np.asarray(x)[rows], device=device))
            correct += int((logits.argmax(1).cpu().numpy() == y[rows]).sum())
    return correct / len(y)


def _describe(layer):
    """A short name for a layer of ``build_cnn``, in the notebook's words."""
    from torch import nn

    if isinstance(layer, nn.Conv2d):
        return f"conv {layer.kernel_size[0]}×{layer.kernel_size[1]}\n{layer.out_channels} filters"
    if isinstance(layer, nn.BatchNorm2d):
        return "batch\nnorm"
    if isinstance(layer, nn.MaxPool2d):
        return f"max pool\n{layer.kernel_size}×{layer.kernel_size}"
    if isinstance(layer, nn.Linear):
        return f"dense\n{layer.out_features}"
    if isinstance(layer, nn.Dropout):
        return f"dropout\n{layer.p:g}"
    return type(layer).__name__.lower() if not isinstance(layer, nn.ReLU) else "ReLU"


def layer_outputs(model, images):
    """Every layer's output for ``images`` ``(N, S, S)``: ``[(name, array (N, ...)), ...]``.

    The first row is the input itself; then one per layer of the ``nn.Sequential``, traced
    with forward hooks in evaluation mode (float32 numpy arrays).
    """
    import torch

    param = next(model.parameters())
    x = torch.as_tensor(np.asarray(images), dtype=param.dtype, device=param.device)
    x = x.reshape(-1, 1, *x.shape[-2:])
    outputs = [("input", x.cpu().numpy())]
    hooks = [layer.register_forward_hook(
        lambda layer, _, out: outputs.append((_describe(layer), out.detach().cpu().numpy())))
        for layer in model.children()]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(x)
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    return outputs


def layer_shapes(model, image_size=28):
    """``[(name, shape), ...]``: each layer's output shape for one image (no batch axis), the
    input first, traced by a forward pass: what ``nnlib.display.diagrams.conv_stack`` draws."""
    image = np.zeros((1, image_size, image_size), dtype=np.float32)
    return [(name, tuple(out.shape[1:])) for name, out in layer_outputs(model, image)]
