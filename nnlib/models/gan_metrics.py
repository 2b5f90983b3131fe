"""Measuring a GAN (notebook 11): the modes of the ring it covers, how digit-like its digits are.

* :func:`mode_coverage`: on the ring of 8 Gaussians (``nnlib.data.toy.toy_data("ring")``),
  how many modes receive a fair share of the samples, and how many samples are good;
* :func:`digit_quality`: how many generated digits a small classifier trained on the
  real ones (:func:`digit_classifier`) recognises confidently, and how many classes
  they spread over.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from nnlib.checks import check_float, check_int
from nnlib.data import load_digits
from nnlib.data.toy import RING_MODES, RING_RADIUS, RING_STD

__all__ = ["ModeCoverage", "mode_coverage", "digit_classifier", "DigitQuality", "digit_quality"]


class ModeCoverage(NamedTuple):
    covered: int  # modes with at least min_share of their fair share of good samples
    counts: np.ndarray  # (n_modes,) good samples (within 3 std of the centre) at each mode
    quality: float  # share of all samples within 3 std of some mode's centre


def _ring_centres(n_modes, radius):
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (n_modes, 2)


def mode_coverage(samples, n_modes=RING_MODES, radius=RING_RADIUS, std=RING_STD,
                  min_share=0.25) -> ModeCoverage:
    """How many modes of a ring of Gaussians the samples cover, and how well.

    A sample is *good* if it lies within ``3 std`` of a mode's centre (99% of the real
    samples do). Mode ``k`` is *covered* if it receives at least ``min_share`` of its
    fair share of all samples: ``counts[k] >= min_share * n / n_modes`` good samples
    (with the defaults, a quarter of 1/8: 3.1% of the samples). Samples between modes
    count for no mode, so a generator that smears out over the circle covers few.

    Args:
        samples: ``(n, 2)`` generated points.
        n_modes, radius, std: the ring (``toy_data("ring")``'s by default).
        min_share: the fraction of the fair share a mode needs, in (0, 1].

    Returns:
        A ``ModeCoverage(covered, counts, quality)``.
    """
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[1] != 2 or len(samples) < 1:
        raise ValueError(f"samples must have shape (n, 2), got {samples.shape}")
    n_modes = check_int("n_modes", n_modes, 1)
    radius = check_float("radius", radius, 0.0, strict=True)
    std = check_float("std", std, 0.0, strict=True)
    min_share = check_float("min_share", min_share, 0.0, strict=True)
    if min_share > 1:
        raise ValueError(f"min_share must be in (0, 1], got {min_share!r}")
    centres = _ring_centres(n_modes, radius)
    distance = np.linalg.norm(samples[:, None, :] - centres[None], axis=2)  # (n, n_modes)
    nearest = distance.argmin(axis=1)
    good = distance.min(axis=1) <= 3 * std  # nan rows are never good
    counts = np.bincount(nearest[good], minlength=n_modes)
    covered = int(np.sum(counts >= min_share * len(samples) / n_modes))
    return ModeCoverage(covered, counts, float(good.mean()))


_CLASSIFIERS = {}


def digit_classifier(seed=0):
    """A small MLP (64 -> 128 -> 10) trained on ``load_digits()``'s training images, on the CPU.

    Half a second to train (30 epochs of Adam; 96.4% test accuracy); cached per process and seed.
    Its test accuracy is in ``model.test_accuracy``. It takes ``(B, 64)`` float32 values
    in [0, 1] and returns logits ``(B, 10)``.
    """
    seed = check_int("seed", seed, 0)
    if seed in _CLASSIFIERS:
        return _CLASSIFIERS[seed]
    import torch
    from torch import nn

    from nnlib.models.training import train_classifier

    data = load_digits(dtype=np.float32)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    train_classifier(model, data.x_train.reshape(len(data.x_train), -1), data.y_train,
                     epochs=30, batch_size=64, lr=3e-3, schedule="constant", seed=seed,
                     device="cpu")
    with torch.no_grad():
        logits = model(torch.as_tensor(data.x_test.reshape(len(data.x_test), -1)))
    model.test_accuracy = float((logits.argmax(1).numpy() == data.y_test).mean())
    _CLASSIFIERS[seed] = model
    return model


class DigitQuality(NamedTuple):
    confident_share: float  # share of images whose top class has probability >= 0.9
    class_counts: np.ndarray  # (10,) images per predicted class
    classes_present: int  # classes predicted for at least 3% of the images


CONFIDENT, PRESENT = 0.9, 0.03


def digit_quality(images, classifier=None) -> DigitQuality:
    """How digit-like generated images are, as judged by :func:`digit_classifier`.

    An image is *confident* if the classifier's top class gets a softmax probability
    ``>= 0.9`` (on the real test digits that holds for 91%); a class is *present* if
    at least 3% of the images are predicted as it (a uniform spread gives 10% each).

    Args:
        images: ``(n, 8, 8)`` or ``(n, 64)`` values in [0, 1], the scale of ``load_digits``.
        classifier: a model taking ``(B, 64)`` float32; ``digit_classifier()`` by default.
    """
    import torch

    images = np.asarray(images, dtype=np.float32)
    if images.ndim not in (2, 3) or images.shape[1:] not in ((8, 8), (64,)) or len(images) < 1:
        raise ValueError(f"images must have shape (n, 8, 8) or (n, 64), got {images.shape}")
    classifier = digit_classifier() if classifier is None else classifier
    with torch.no_grad():
        probs = torch.softmax(classifier(torch.as_tensor(images.reshape(len(images), 64))), 1)
    top, label = probs.max(1)
    counts = np.bincount(label.numpy(), minlength=10)
    return DigitQuality(float((top >= CONFIDENT).float().mean()), counts,
                        int(np.sum(counts >= PRESENT * len(images))))
