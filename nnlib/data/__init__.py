"""Every data set of the course: the shipped files, the toy sets, the sequence tasks.

* :mod:`nnlib.data.files`: checked loaders for the files in ``data/`` (images, books,
  names, time series), each verified against ``data/SHA256SUMS`` before it is read;
* :mod:`nnlib.data.toy`: seeded 2-D toy sets (moons, circles, spirals, XOR, a ring);
* :mod:`nnlib.data.sequences`: seeded sequence tasks (recall, adding, sorting and
  reversing digits), padding and masks;
* :mod:`nnlib.data.text`: a shipped book as character ids, batches and baselines.

The loaders and the toy sets are importable from here (``from nnlib.data import
load_digits, make_moons``). Numpy and the standard library only.
"""

from nnlib.data.files import (
    TEXT_NAMES,
    DataFileError,
    ImageDataset,
    TimeSeries,
    data_files,
    default_data_dir,
    load_co2,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    load_names,
    load_sunspots,
    load_text,
    load_us_births,
    standardize,
    verify_data,
)
from nnlib.data.toy import make_circles, make_gaussian_ring, make_moons, make_spirals, make_xor

__all__ = [
    "DataFileError", "ImageDataset", "TimeSeries", "TEXT_NAMES", "default_data_dir",
    "data_files", "verify_data", "load_digits", "standardize", "load_mnist",
    "load_fashion_mnist", "load_text", "load_names", "load_co2", "load_sunspots",
    "load_us_births", "make_moons", "make_circles", "make_spirals", "make_xor",
    "make_gaussian_ring",
]
