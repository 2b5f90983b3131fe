"""Seeded 2-D toy sets for classifiers and GANs: moons, circles, spirals, XOR, a ring of Gaussians.

Each ``make_*`` generator returns ``X (n, 2)`` float64 and ``y (n,)`` int64; the same
``seed`` gives the same arrays. ``toy_data(name)`` gives the unlabelled ``(n, 2)``
float32 samples that notebook 11's GANs learn to copy. Numpy only.
"""


import numpy as np

from nnlib.checks import check_float, check_int, seeded_rng

__all__ = ["make_moons", "make_circles", "make_spirals", "make_xor", "make_gaussian_ring",
           "DATASETS", "N_POINTS", "playground_data", "TOY_DATASETS", "RING_MODES", "RING_RADIUS",
           "RING_STD", "toy_data", "outlier_data"]



def _split_counts(n: int, groups: int) -> list[int]:
    """Split ``n`` points over ``groups`` as evenly as possible (earlier groups get more)."""
    return [n // groups + (g < n % groups) for g in range(groups)]


def _shuffled(rng: np.random.Generator, X: np.ndarray, y: np.ndarray, noise: float):
    """Add Gaussian noise of std ``noise`` to ``X`` and shuffle the rows."""
    X = X + noise * rng.standard_normal(X.shape)
    order = rng.permutation(len(y))
    return X[order], y[order].astype(np.int64)


def make_moons(n: int = 200, noise: float = 0.1, seed: int | None = 0):
    """Two interleaving half circles.

    Returns ``X (n, 2)`` float64 and ``y (n,)`` int64 in {0, 1} (upper moon 0).
    ``noise`` is the std of Gaussian noise added to each coordinate.
    """
    n = check_int("n", n, 2)
    noise = check_float("noise", noise, 0.0)
    rng = seeded_rng(seed)
    n0, n1 = _split_counts(n, 2)
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n1)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    y = np.repeat([0, 1], [n0, n1])
    return _shuffled(rng, np.concatenate([upper, lower]), y, noise)


def make_circles(n: int = 200, noise: float = 0.05, factor: float = 0.5, seed: int | None = 0):
    """A circle of radius 1 (label 0) around a circle of radius ``factor`` (label 1).

    Returns ``X (n, 2)`` float64 and ``y (n,)`` int64 in {0, 1}.
    """
    n = check_int("n", n, 2)
    noise = check_float("noise", noise, 0.0)
    factor = check_float("factor", factor, 0.0, strict=True)
    if factor >= 1:
        raise ValueError(f"factor must be in (0, 1), got {factor!r}")
    rng = seeded_rng(seed)
    parts = []
    for radius, count in zip((1.0, factor), _split_counts(n, 2), strict=True):
        t = np.linspace(0, 2 * np.pi, count, endpoint=False)
        parts.append(radius * np.stack([np.cos(t), np.sin(t)], axis=1))
    y = np.repeat([0, 1], _split_counts(n, 2))
    return _shuffled(rng, np.concatenate(parts), y, noise)


def make_spirals(n: int = 300, noise: float = 0.05, n_classes: int = 2, seed: int | None = 0):
    """``n_classes`` interleaved spiral arms (1.5 turns each) from the origin to radius 1.

    Returns ``X (n, 2)`` float64 and ``y (n,)`` int64 in ``0 .. n_classes-1``
    (label = arm).
    """
    n = check_int("n", n, 2)
    noise = check_float("noise", noise, 0.0)
    n_classes = check_int("n_classes", n_classes, 2)
    if n < n_classes:
        raise ValueError(f"n must be >= n_classes ({n_classes}), got {n!r}")
    rng = seeded_rng(seed)
    counts = _split_counts(n, n_classes)
    parts = []
    for k, count in enumerate(counts):
        r = np.linspace(0.05, 1.0, count)
        t = 3 * np.pi * r + 2 * np.pi * k / n_classes
        parts.append(r[:, None] * np.stack([np.cos(t), np.sin(t)], axis=1))
    y = np.repeat(np.arange(n_classes), counts)
    return _shuffled(rng, np.concatenate(parts), y, noise)


def make_xor(n: int = 200, noise: float = 0.3, seed: int | None = 0):
    """Four Gaussian clusters centred at (+-1, +-1); label = XOR of the centre's signs.

    Clusters at (1, 1) and (-1, -1) are class 0, (-1, 1) and (1, -1) class 1.
    ``noise`` is the clusters' std. Returns ``X (n, 2)`` float64, ``y (n,)`` int64.
    """
    n = check_int("n", n, 4)
    noise = check_float("noise", noise, 0.0)
    rng = seeded_rng(seed)
    centres = np.array([[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])
    counts = _split_counts(n, 4)
    X = np.repeat(centres, counts, axis=0)
    y = np.repeat([0, 1, 0, 1], counts)
    return _shuffled(rng, X, y, noise)


def make_gaussian_ring(
    n: int = 1000, n_modes: int = 8, radius: float = 2.0, std: float = 0.05, seed: int | None = 0
):
    """``n_modes`` Gaussians evenly spaced on a circle (the classic GAN mode-collapse test).

    Mode ``k`` sits at angle ``2 pi k / n_modes``. Returns ``X (n, 2)`` float64 and
    ``y (n,)`` int64, the mode index of each point.
    """
    n = check_int("n", n, 1)
    n_modes = check_int("n_modes", n_modes, 1)
    radius = check_float("radius", radius, 0.0, strict=True)
    std = check_float("std", std, 0.0)
    if n < n_modes:
        raise ValueError(f"n must be >= n_modes ({n_modes}), got {n!r}")
    rng = seeded_rng(seed)
    counts = _split_counts(n, n_modes)
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    centres = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    X = np.repeat(centres, counts, axis=0)
    y = np.repeat(np.arange(n_modes), counts)
    return _shuffled(rng, X, y, std)


# --------------------------------------------------------------------------- the playground's sets

DATASETS = ("circles", "xor", "moons", "spirals")
N_POINTS = 300


def playground_data(dataset, noise=0.1, n=N_POINTS, seed=0):
    """Two-class points for the playground, scaled so the clean data fill [-1, 1]^2.

    Args:
        dataset: one of ``DATASETS``.
        noise: standard deviation of Gaussian noise added after scaling (0 to 0.5
            is sensible; 0.5 makes the classes overlap heavily).
        n: number of points.
        seed: seeds the points and the noise.

    Returns:
        ``X (n, 2)`` float64 and ``y (n,)`` int64 in {0, 1}, shuffled.
    """
    makers = {"circles": lambda: make_circles(n, noise=0.0, factor=0.45, seed=seed),
              "xor": lambda: make_xor(n, noise=0.35, seed=seed),
              "moons": lambda: make_moons(n, noise=0.0, seed=seed),
              "spirals": lambda: make_spirals(n, noise=0.0, n_classes=2, seed=seed)}
    if dataset not in makers:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    if isinstance(noise, bool) or not isinstance(noise, int | float) or not 0 <= noise <= 2:
        raise ValueError(f"noise must be a number in [0, 2], got {noise!r}")
    X, y = makers[dataset]()
    lo, hi = X.min(axis=0), X.max(axis=0)
    X = (X - (lo + hi) / 2) / ((hi - lo).max() / 2)  # centred, the longer side spans [-1, 1]
    rng = np.random.default_rng(seed + 1)
    return X + noise * rng.standard_normal(X.shape), y


# --------------------------------------------------------------------------- GAN targets

TOY_DATASETS = ("ring", "moons", "spirals")
# the ring of toy_data("ring"): nnlib.models.gan_metrics.mode_coverage's defaults describe it
RING_MODES, RING_RADIUS, RING_STD = 8, 2.0, 0.05


def toy_data(name="ring", n=2000, seed=0) -> np.ndarray:
    """Samples of a 2-D distribution for a GAN to copy, ``(n, 2)`` float32, about [-2, 2]^2.

    * ``"ring"``: 8 Gaussians (std 0.05) evenly spaced on a circle of radius 2
      (``nnlib.data.make_gaussian_ring``), the classic test of mode collapse;
    * ``"moons"``: ``make_moons`` (noise 0.05), centred and scaled by 1.6 (x in [-2.4, 2.4]);
    * ``"spirals"``: two arms of ``make_spirals`` (noise 0.03), scaled by 2 (radius 2).
    """
    if name not in TOY_DATASETS:
        raise ValueError(f"name must be one of {TOY_DATASETS}, got {name!r}")
    n = check_int("n", n, RING_MODES)
    if name == "ring":
        x, _ = make_gaussian_ring(n, RING_MODES, radius=RING_RADIUS, std=RING_STD, seed=seed)
    elif name == "moons":
        x, _ = make_moons(n, noise=0.05, seed=seed)
        x = 1.6 * (x - np.array([0.5, 0.25]))  # centred on the origin
    else:
        x, _ = make_spirals(n, noise=0.03, seed=seed)
        x = 2.0 * x
    return x.astype(np.float32)


# --------------------------------------------------------------------------- an outlier


def outlier_data(outlier_y=-4.0, n=12, seed=0):
    """A line y = 2x + 1 with a little noise at ``n`` points in [-1, 1], the last an outlier.

    Returns ``(x, y)``, each ``(n + 1,)``: the clean points, then one point at
    ``x = 0.9`` whose y-value is ``outlier_y``.
    """
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-1, 1, n))
    y = 2.0 * x + 1.0 + 0.15 * rng.standard_normal(n)
    return np.append(x, 0.9), np.append(y, outlier_y)
