"""Course data: checked loaders for the files in ``data/`` and seeded 2-D toy sets.

Everything here is numpy and the standard library, so ``import nnlib.data`` is
quick. Files are read from the repository's ``data/`` folder, or from the folder
named by the environment variable ``NNLIB_DATA_DIR``; every loader also takes
``data_dir=`` to read another folder.

Before a file is read its SHA-256 is checked against ``data/SHA256SUMS``, so a
missing or damaged file fails with a :class:`DataFileError` that names it and
says how to restore it, instead of a puzzling error later. The check is cached
per (path, size, modification time), so loading again is fast.

Image sets come as an :class:`ImageDataset` of float images in [0, 1]:

=================== ============ =========== ========== =========================
loader              image shape  train       test       classes
=================== ============ =========== ========== =========================
load_digits()       (8, 8)       1,438       359        digits "0".."9"
load_mnist()        (28, 28)     8,000       2,000      digits "0".."9"
load_fashion_mnist  (28, 28)     8,000       2,000      10 kinds of clothing
=================== ============ =========== ========== =========================

The test set holds 20% of each class (a stratified split, fixed in the files).

Toy generators (``make_moons`` and friends) return ``X (n, 2)`` float64 and
``y (n,)`` int64; the same ``seed`` gives the same arrays.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import numbers
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = [
    "DataFileError",
    "ImageDataset",
    "TimeSeries",
    "TEXT_NAMES",
    "default_data_dir",
    "data_files",
    "verify_data",
    "load_digits",
    "standardize",
    "load_mnist",
    "load_fashion_mnist",
    "load_text",
    "load_names",
    "load_co2",
    "load_sunspots",
    "load_us_births",
    "make_moons",
    "make_circles",
    "make_spirals",
    "make_xor",
    "make_gaussian_ring",
]

SUMS_NAME = "SHA256SUMS"
TEXT_NAMES = ("shakespeare", "moby_dick")
_REMEDY = (
    "Restore it with `git checkout -- data/{name}` "
    "(maintainers: rebuild everything with `make data`)."
)


class DataFileError(OSError):
    """A data file is missing, corrupt, or not listed in ``SHA256SUMS``."""


class ImageDataset(NamedTuple):
    """An image classification set, split into train and test.

    Attributes:
        x_train: ``(N_train, H, W)`` float images in [0, 1].
        y_train: ``(N_train,)`` int64 labels in ``0 .. K-1``.
        x_test: ``(N_test, H, W)`` float images in [0, 1].
        y_test: ``(N_test,)`` int64 labels.
        class_names: ``K`` names; ``class_names[y]`` names label ``y``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]


class TimeSeries(NamedTuple):
    """A univariate time series.

    Attributes:
        time: ``(T,)`` time stamps (``datetime64`` or int64 years).
        values: ``(T,)`` measurements.
        name: what is measured.
        unit: the unit of ``values``.
    """

    time: np.ndarray
    values: np.ndarray
    name: str
    unit: str


# --------------------------------------------------------------------------- files


def default_data_dir() -> Path:
    """The data folder: ``$NNLIB_DATA_DIR`` if set, else the repository's ``data/``."""
    env = os.environ.get("NNLIB_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "data"


def _resolve_dir(data_dir: str | os.PathLike | None) -> Path:
    return Path(data_dir) if data_dir is not None else default_data_dir()


def _read_sums(folder: Path) -> dict[str, str]:
    """``{file name: sha256}`` from ``folder/SHA256SUMS`` (``sha256sum`` format)."""
    path = folder / SUMS_NAME
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise DataFileError(
            f"Checksum list {path} is missing, so no data file can be verified. "
            + _REMEDY.format(name=SUMS_NAME)
        ) from None
    sums = {}
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split(maxsplit=1)
        if not parts:
            continue
        if len(parts) != 2 or len(parts[0]) != 64:
            raise DataFileError(
                f"Line {number} of {path} is not '<sha256>  <file>': {line!r}. "
                + _REMEDY.format(name=SUMS_NAME)
            )
        sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# (path, size, mtime_ns, expected digest) of files that matched their checksum
_verified: set[tuple[str, int, int, str]] = set()


def _checked_path(name: str, data_dir: str | os.PathLike | None) -> Path:
    """Return ``data_dir/name`` after checking it against SHA256SUMS."""
    folder = _resolve_dir(data_dir)
    path = folder / name
    sums = _read_sums(folder)
    if name not in sums:
        raise DataFileError(
            f"Data file {path} is not listed in {folder / SUMS_NAME}, so it cannot be verified. "
            + _REMEDY.format(name=SUMS_NAME)
        )
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise DataFileError(f"Data file {path} is missing. " + _REMEDY.format(name=name)) from None
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, sums[name])
    if key not in _verified:
        actual = _sha256(path)
        if actual != sums[name]:
            raise DataFileError(
                f"Data file {path} is corrupt: its SHA-256 checksum starts {actual[:12]} but "
                f"{SUMS_NAME} expects {sums[name][:12]}. " + _REMEDY.format(name=name)
            )
        _verified.add(key)
    return path


def data_files(data_dir: str | os.PathLike | None = None) -> list[str]:
    """Names of the data files listed in ``SHA256SUMS``, sorted."""
    return sorted(_read_sums(_resolve_dir(data_dir)))


def verify_data(data_dir: str | os.PathLike | None = None) -> dict[str, bool]:
    """Check every listed file: ``{file name: True if present and its checksum matches}``."""
    result = {}
    for name in data_files(data_dir):
        try:
            _checked_path(name, data_dir)
            result[name] = True
        except DataFileError:
            result[name] = False
    return result


# --------------------------------------------------------------------------- images


def _float_dtype(dtype) -> np.dtype:
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise ValueError(f"dtype must be a floating type such as float32 or float64, got {dt}")
    return dt


def _load_images(name: str, scale: float, dtype, data_dir) -> ImageDataset:
    dt = _float_dtype(dtype)
    with np.load(_checked_path(name, data_dir), allow_pickle=False) as f:
        return ImageDataset(
            x_train=f["train_images"].astype(dt) / dt.type(scale),
            y_train=f["train_labels"].astype(np.int64),
            x_test=f["test_images"].astype(dt) / dt.type(scale),
            y_test=f["test_labels"].astype(np.int64),
            class_names=tuple(str(c) for c in f["class_names"]),
        )


def load_digits(*, dtype=np.float64, data_dir=None) -> ImageDataset:
    """UCI handwritten digits (via scikit-learn), 8x8 pixels.

    Returns an :class:`ImageDataset`: ``x_train (1438, 8, 8)``, ``x_test (359, 8, 8)``,
    values in [0, 1] (the original 0..16 counts divided by 16), labels 0..9.
    """
    return _load_images("digits.npz", 16.0, dtype, data_dir)


def standardize(x_train, *others, floor=0.1):
    """Flatten images to rows and scale each feature with the training set's statistics.

    ``(x - mean) / (std + floor)``, with ``mean`` and ``std`` per feature taken
    from ``x_train`` only (the other sets must not leak into them); ``floor``
    keeps features that never vary (a digit's blank border) from dividing by 0.
    Returns the standardized ``x_train`` followed by each of ``others``, as
    ``(N, features)`` float64 arrays.
    """
    x_train = np.asarray(x_train, dtype=np.float64).reshape(len(x_train), -1)
    mean, scale = x_train.mean(axis=0), x_train.std(axis=0) + floor
    rows = [np.asarray(x, dtype=np.float64).reshape(len(x), -1) for x in others]
    for x in rows:
        if x.shape[1] != x_train.shape[1]:
            raise ValueError(f"every set must have {x_train.shape[1]} features like x_train, "
                             f"got {x.shape[1]}")
    return tuple((x - mean) / scale for x in [x_train, *rows])


def load_mnist(*, dtype=np.float64, data_dir=None) -> ImageDataset:
    """A 10,000-image subset of MNIST, 28x28 pixels.

    Returns an :class:`ImageDataset`: ``x_train (8000, 28, 28)``,
    ``x_test (2000, 28, 28)``, values in [0, 1], labels 0..9 (about 1,000 per digit).
    """
    return _load_images("mnist.npz", 255.0, dtype, data_dir)


def load_fashion_mnist(*, dtype=np.float64, data_dir=None) -> ImageDataset:
    """A 10,000-image subset of Fashion-MNIST (1,000 per class), 28x28 pixels.

    Returns an :class:`ImageDataset`: ``x_train (8000, 28, 28)``,
    ``x_test (2000, 28, 28)``, values in [0, 1]; ``class_names`` are
    T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot.
    """
    return _load_images("fashion_mnist.npz", 255.0, dtype, data_dir)


# --------------------------------------------------------------------------- text


def _read_text_gz(name: str, data_dir) -> str:
    return gzip.decompress(_checked_path(name, data_dir).read_bytes()).decode("utf-8")


def load_text(name: str, *, data_dir=None) -> str:
    """A whole book as one string.

    ``"shakespeare"``: eight plays, plain ASCII (about 1.06 M characters).
    ``"moby_dick"``: Melville's 135 chapters, UTF-8 (about 1.19 M characters).
    """
    if name not in TEXT_NAMES:
        raise ValueError(f"name must be one of {', '.join(TEXT_NAMES)}; got {name!r}")
    return _read_text_gz(f"{name}.txt.gz", data_dir)


def load_names(*, data_dir=None) -> list[str]:
    """The 32,000 most common US baby names (SSA, 1880-2017), lower-case a-z, commonest first."""
    return _read_text_gz("names.txt.gz", data_dir).split()


# --------------------------------------------------------------------------- time series


def load_co2(*, data_dir=None) -> TimeSeries:
    """Monthly mean CO2 at Mauna Loa, March 1958 - December 2001.

    ``time (521,)`` datetime64[M] (5 months without measurements are absent),
    ``values (521,)`` float64 in ppm.
    """
    with np.load(_checked_path("co2.npz", data_dir), allow_pickle=False) as f:
        return TimeSeries(f["date"], f["ppm"], "Mauna Loa atmospheric CO2, monthly mean", "ppm")


def load_sunspots(*, data_dir=None) -> TimeSeries:
    """Yearly sunspot numbers 1700-2008: ``time (309,)`` int64 years, ``values (309,)`` float64."""
    with np.load(_checked_path("sunspots.npz", data_dir), allow_pickle=False) as f:
        return TimeSeries(f["year"], f["sunspot_count"], "yearly sunspot number", "sunspots")


def load_us_births(*, data_dir=None) -> TimeSeries:
    """Daily US births 2000-2014: ``time (5479,)`` datetime64[D], ``values (5479,)`` int64."""
    with np.load(_checked_path("us_births.npz", data_dir), allow_pickle=False) as f:
        return TimeSeries(f["date"], f["births"], "US births per day", "births")


# --------------------------------------------------------------------------- toy sets


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_float(name: str, value, minimum: float, *, strict: bool = False) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    ok = ok and math.isfinite(value) and (value > minimum if strict else value >= minimum)
    if not ok:
        sign = ">" if strict else ">="
        raise ValueError(f"{name} must be a finite number {sign} {minimum}, got {value!r}")
    return float(value)


def _rng(seed) -> np.random.Generator:
    if seed is not None:
        _check_int("seed", seed, 0)
    return np.random.default_rng(seed)


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
    n = _check_int("n", n, 2)
    noise = _check_float("noise", noise, 0.0)
    rng = _rng(seed)
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
    n = _check_int("n", n, 2)
    noise = _check_float("noise", noise, 0.0)
    factor = _check_float("factor", factor, 0.0, strict=True)
    if factor >= 1:
        raise ValueError(f"factor must be in (0, 1), got {factor!r}")
    rng = _rng(seed)
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
    n = _check_int("n", n, 2)
    noise = _check_float("noise", noise, 0.0)
    n_classes = _check_int("n_classes", n_classes, 2)
    if n < n_classes:
        raise ValueError(f"n must be >= n_classes ({n_classes}), got {n!r}")
    rng = _rng(seed)
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
    n = _check_int("n", n, 4)
    noise = _check_float("noise", noise, 0.0)
    rng = _rng(seed)
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
    n = _check_int("n", n, 1)
    n_modes = _check_int("n_modes", n_modes, 1)
    radius = _check_float("radius", radius, 0.0, strict=True)
    std = _check_float("std", std, 0.0)
    if n < n_modes:
        raise ValueError(f"n must be >= n_modes ({n_modes}), got {n!r}")
    rng = _rng(seed)
    counts = _split_counts(n, n_modes)
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    centres = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    X = np.repeat(centres, counts, axis=0)
    y = np.repeat(np.arange(n_modes), counts)
    return _shuffled(rng, X, y, std)
