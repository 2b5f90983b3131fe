"""Checked loaders for the files in ``data/``.

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

"""

from __future__ import annotations

import gzip
import hashlib
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
    return Path(env) if env else Path(__file__).resolve().parents[2] / "data"


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
