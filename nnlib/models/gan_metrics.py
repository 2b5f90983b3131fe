"""Measuring a GAN (notebook 11): the modes of the ring it covers, how digit-like its digits are.

* :func:`mode_coverage`: on the ring of 8 Gaussians (``nnlib.data.toy.toy_data("ring")``),
  how many modes receive a fair share of the samples, and how many samples are good;
* :func:`collapse_spot` and :func:`spot_path`: whether the samples sit in one spot, where on
  the ring it is, and, over a run, how far that spot wanders (the cycling of a collapsed
  generator); :func:`angle_shares`, the share of samples in each direction from the centre;
* :func:`digit_quality`: how many generated digits a small classifier trained on the
  real ones and on images that are not digits (:func:`digit_classifier`,
  :func:`not_digits`) recognises confidently as a digit, and how many classes they
  spread over.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from nnlib.checks import check_float, check_int
from nnlib.data import load_digits
from nnlib.data.toy import RING_MODES, RING_RADIUS, RING_STD

__all__ = ["ModeCoverage", "mode_coverage", "Spot", "collapse_spot", "SpotPath", "spot_path",
           "angle_shares", "not_digits", "digit_classifier", "DigitQuality",
           "digit_quality", "NOT_A_DIGIT"]


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
    samples = _check_points(samples)
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


def _check_points(samples):
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[1] != 2 or len(samples) < 1:
        raise ValueError(f"samples must have shape (n, 2), got {samples.shape}")
    return samples


class Spot(NamedTuple):
    share: float  # share of the samples within `radius` of their median point
    angle: float  # the median point's direction from the ring's centre, degrees in [0, 360)


def collapse_spot(samples, radius=0.5) -> Spot:
    """How much of a generator's output sits in one spot, and where that spot is.

    ``share`` is the share of ``(n, 2)`` samples within ``radius`` of their median point
    (coordinate-wise): near 1 for a collapsed generator, about 0.1 for samples spread
    evenly over the ring of radius 2. ``angle`` is the median's direction, in degrees.
    """
    samples = _check_points(samples)
    radius = check_float("radius", radius, 0.0, strict=True)
    median = np.median(samples, axis=0)
    share = float(np.mean(np.linalg.norm(samples - median, axis=1) < radius))
    return Spot(share, float(np.degrees(np.arctan2(median[1], median[0])) % 360.0))


class SpotPath(NamedTuple):
    collapsed: int  # snapshots in which at least min_share of the samples sit in one spot
    sectors: int  # of the n_modes equal sectors of the ring, those a collapsed spot visited
    jumps: int  # consecutive collapsed snapshots whose spots are > min_degrees apart


def spot_path(spots, min_share=0.5, min_degrees=30.0, n_modes=RING_MODES) -> SpotPath:
    """Where a collapsed generator's spot went over a run: a list of :class:`Spot`, one per
    snapshot (e.g. every 50 steps). A spot that keeps hopping round the ring (many jumps,
    many sectors) is the cycling of mode collapse; a spot that stays is a frozen one."""
    min_share = check_float("min_share", min_share, 0.0, strict=True)
    min_degrees = check_float("min_degrees", min_degrees, 0.0)
    n_modes = check_int("n_modes", n_modes, 1)
    spots = [Spot(*spot) for spot in spots]
    width = 360.0 / n_modes
    sectors = {int(np.round(spot.angle / width)) % n_modes for spot in spots
               if spot.share >= min_share}
    jumps = 0
    for before, after in zip(spots, spots[1:]):
        turn = abs(before.angle - after.angle) % 360.0
        if min(before.share, after.share) >= min_share and min(turn, 360.0 - turn) > min_degrees:
            jumps += 1
    return SpotPath(sum(spot.share >= min_share for spot in spots), len(sectors), jumps)


def angle_shares(samples, bins=48) -> np.ndarray:
    """``(bins,)``: the share of the samples in each of ``bins`` equal directions from the
    centre, starting at angle 0 (the positive x axis) and going anticlockwise."""
    samples = _check_points(samples)
    bins = check_int("bins", bins, 1)
    angles = np.arctan2(samples[:, 1], samples[:, 0]) % (2 * np.pi)
    index = np.minimum((angles / (2 * np.pi) * bins).astype(int), bins - 1)
    return np.bincount(index, minlength=bins) / len(samples)


_CLASSIFIERS = {}
NOT_A_DIGIT = 10  # the classifier's 11th class: noise, grey, blank, blobs, shuffled pixels
N_NOT_DIGITS = 1400  # "not a digit" training images, about as many as real training digits


def _blur_matrix(sigma, size=8):
    """``(size, size)`` rows of Gaussian weights: ``B @ image @ B.T`` blurs an image."""
    offsets = np.arange(size)[:, None] - np.arange(size)[None, :]
    weights = np.exp(-0.5 * (offsets / sigma) ** 2)
    return weights / weights.sum(axis=1, keepdims=True)


def not_digits(n=N_NOT_DIGITS, seed=0):
    """``(n, 64)`` float32 images in [0, 1] that are not digits, from a fixed seeded generator.

    Five kinds in equal parts: Gaussian noise (random mean and spread), uniform noise
    (random range), near-constant grey images (any level, blank ones included), smooth
    random blobs (noise blurred and stretched to [0, 1]), and real training digits with
    their pixels shuffled (a digit's ink, no digit's shape). :func:`digit_classifier`
    learns them as an 11th class, ``NOT_A_DIGIT``.
    """
    n = check_int("n", n, 5)
    seed = check_int("seed", seed, 0)
    rng = np.random.default_rng([seed, 11])
    per = n // 5
    kinds = []
    mean, spread = rng.uniform(0, 1, (per, 1)), rng.uniform(0.02, 0.5, (per, 1))
    kinds.append(mean + spread * rng.standard_normal((per, 64)))
    low = rng.uniform(0, 0.8, (per, 1))
    kinds.append(rng.uniform(low, low + rng.uniform(0.05, 1, (per, 1)), (per, 64)))
    kinds.append(rng.uniform(0, 1, (per, 1))
                 + rng.uniform(0, 0.05, (per, 1)) * rng.standard_normal((per, 64)))
    blur = _blur_matrix(1.5)
    blobs = (blur @ rng.standard_normal((per, 8, 8)) @ blur.T).reshape(per, 64)
    blobs = (blobs - blobs.min(1, keepdims=True)) / (np.ptp(blobs, 1, keepdims=True) + 1e-8)
    kinds.append(blobs * rng.uniform(0.3, 1, (per, 1)))
    x_real = load_digits(dtype=np.float32).x_train.reshape(-1, 64)
    last = n - 4 * per
    kinds.append(rng.permuted(x_real[rng.integers(0, len(x_real), last)], axis=1))
    return np.clip(np.concatenate(kinds), 0, 1).astype(np.float32)


def digit_classifier(seed=0):
    """A small MLP (64 -> 128 -> 11) trained on ``load_digits()``'s training images and as
    many :func:`not_digits` images (class 10, ``NOT_A_DIGIT``), on the CPU.

    About a second to train (30 epochs of Adam; 96% test accuracy on the real digits);
    cached per process and seed. Its test accuracy is in ``model.test_accuracy``. It takes
    ``(B, 64)`` float32 values in [0, 1] and returns logits ``(B, 11)``.

    Why the 11th class: a softmax classifier trained on digits alone must call *every*
    image some digit, and is often sure of it far from its training images (a constant
    grey image got probability above 0.9 for one digit). Shown what "not a digit" looks
    like, it says so instead.
    """
    seed = check_int("seed", seed, 0)
    if seed in _CLASSIFIERS:
        return _CLASSIFIERS[seed]
    import torch
    from torch import nn

    from nnlib.models.training import train_classifier

    data = load_digits(dtype=np.float32)
    x_not = not_digits(N_NOT_DIGITS, seed)
    x = np.concatenate([data.x_train.reshape(len(data.x_train), -1), x_not])
    y = np.concatenate([data.y_train, np.full(len(x_not), NOT_A_DIGIT, dtype=data.y_train.dtype)])
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, NOT_A_DIGIT + 1))
    train_classifier(model, x, y, epochs=30, batch_size=64, lr=3e-3, schedule="constant",
                     seed=seed, device="cpu")
    with torch.no_grad():
        logits = model(torch.as_tensor(data.x_test.reshape(len(data.x_test), -1)))
    model.test_accuracy = float((logits.argmax(1).numpy() == data.y_test).mean())
    _CLASSIFIERS[seed] = model
    return model


class DigitQuality(NamedTuple):
    confident_share: float  # share whose top class is a digit, with probability >= 0.9
    class_counts: np.ndarray  # (10,) images per predicted digit ("not a digit" not counted)
    classes_present: int  # digits predicted for at least 3% of the images
    rejected_share: float  # share whose top class is "not a digit"


CONFIDENT, PRESENT = 0.9, 0.03


def digit_quality(images, classifier=None) -> DigitQuality:
    """How digit-like generated images are, as judged by :func:`digit_classifier`.

    The classifier has 11 classes: the ten digits and "not a digit" (noise, grey and blank
    images, blobs, shuffled pixels: :func:`not_digits`). An image is *confidently a digit*
    if its top class is a digit with softmax probability ``>= 0.9``: true of about 90% of
    the real test digits, and of none of pure noise, grey images or an untrained
    generator's output. A digit is *present* if at least 3% of the images are predicted
    as it (a uniform spread gives 10% each).

    Args:
        images: ``(n, 8, 8)`` or ``(n, 64)`` values in [0, 1], the scale of ``load_digits``.
        classifier: a model taking ``(B, 64)`` float32 and returning 11 logits;
            ``digit_classifier()`` by default.
    """
    import torch

    images = np.asarray(images, dtype=np.float32)
    if images.ndim not in (2, 3) or images.shape[1:] not in ((8, 8), (64,)) or len(images) < 1:
        raise ValueError(f"images must have shape (n, 8, 8) or (n, 64), got {images.shape}")
    classifier = digit_classifier() if classifier is None else classifier
    with torch.no_grad():
        probs = torch.softmax(classifier(torch.as_tensor(images.reshape(len(images), 64))), 1)
    if probs.shape[1] != NOT_A_DIGIT + 1:
        raise ValueError(f"the classifier must return {NOT_A_DIGIT + 1} logits (ten digits and "
                         f"'not a digit'), got {probs.shape[1]}")
    top, label = probs.max(1)
    top, label = top.numpy(), label.numpy()
    digit = label != NOT_A_DIGIT
    counts = np.bincount(label[digit], minlength=NOT_A_DIGIT)
    return DigitQuality(float(np.mean(digit & (top >= CONFIDENT))), counts,
                        int(np.sum(counts >= PRESENT * len(images))), float(np.mean(~digit)))
