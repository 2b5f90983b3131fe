"""Tests for nnlib.data: the shipped files, the loaders' contracts and the toy generators."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import load_script

from nnlib import data

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = REPO / "data"
EXPECTED_FILES = {
    "co2.npz", "digits.npz", "fashion_mnist.npz", "mnist.npz", "moby_dick.txt.gz",
    "names.txt.gz", "shakespeare.txt.gz", "sunspots.npz", "us_births.npz",
}  # fmt: skip

# loader, image size, train size, test size, number of classes
IMAGE_SETS = {
    "digits": (data.load_digits, 8, 1438, 359, 10),
    "mnist": (data.load_mnist, 28, 8000, 2000, 10),
    "fashion_mnist": (data.load_fashion_mnist, 28, 8000, 2000, 10),
}


@pytest.fixture(autouse=True)
def _repo_data_dir(monkeypatch):
    monkeypatch.delenv("NNLIB_DATA_DIR", raising=False)


@pytest.fixture
def data_copy(tmp_path):
    """A private copy of data/ that a test may damage."""
    folder = tmp_path / "data"
    shutil.copytree(DATA_DIR, folder)
    return folder


# --------------------------------------------------------------------------- files


def test_every_data_file_is_listed_and_verifies():
    assert set(data.data_files()) == EXPECTED_FILES
    result = data.verify_data()
    assert result == {name: True for name in EXPECTED_FILES}


def test_data_folder_stays_small():
    # A few MB, cloned with the course. 7.1 MB since the Fashion-MNIST subset grew to 1,000
    # images per class (4.4 MB): with 600 the CNN of notebook 07 could not reach 88% reliably.
    total = sum(p.stat().st_size for p in DATA_DIR.iterdir() if p.is_file())
    assert total < 8_000_000


def test_env_var_selects_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("NNLIB_DATA_DIR", str(tmp_path))
    assert data.default_data_dir() == tmp_path
    with pytest.raises(data.DataFileError, match="SHA256SUMS"):
        data.load_digits()


def test_missing_file_names_file_and_remedy(data_copy):
    (data_copy / "mnist.npz").unlink()
    with pytest.raises(data.DataFileError) as info:
        data.load_mnist(data_dir=data_copy)
    message = str(info.value)
    assert str(data_copy / "mnist.npz") in message
    assert "git checkout -- data/mnist.npz" in message and "make data" in message
    assert isinstance(info.value, OSError)
    assert data.verify_data(data_copy)["mnist.npz"] is False


def test_corrupt_file_reports_checksum(data_copy):
    path = data_copy / "digits.npz"
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(data.DataFileError, match="checksum") as info:
        data.load_digits(data_dir=data_copy)
    message = str(info.value)
    assert "digits.npz" in message and "make data" in message
    expected = data.files._read_sums(data_copy)["digits.npz"]
    assert expected[:12] in message
    assert data.verify_data(data_copy) == {name: name != "digits.npz" for name in EXPECTED_FILES}


def test_unlisted_file_and_missing_sums(data_copy):
    sums = data_copy / "SHA256SUMS"
    lines = [line for line in sums.read_text().splitlines() if "co2.npz" not in line]
    sums.write_text("\n".join(lines) + "\n")
    with pytest.raises(data.DataFileError, match="not listed"):
        data.load_co2(data_dir=data_copy)
    sums.unlink()
    with pytest.raises(data.DataFileError, match="SHA256SUMS"):
        data.load_sunspots(data_dir=data_copy)
    with pytest.raises(data.DataFileError):
        data.verify_data(data_copy)


# --------------------------------------------------------------------------- images


@pytest.mark.parametrize("name", IMAGE_SETS)
def test_image_sets(name):
    loader, size, n_train, n_test, n_classes = IMAGE_SETS[name]
    ds = loader()
    assert isinstance(ds, data.ImageDataset)
    assert ds.x_train.shape == (n_train, size, size) and ds.x_test.shape == (n_test, size, size)
    assert ds.x_train.dtype == np.float64 and ds.y_train.dtype == np.int64
    assert ds.y_train.shape == (n_train,) and ds.y_test.shape == (n_test,)
    for x in (ds.x_train, ds.x_test):
        assert x.min() == 0.0 and x.max() == 1.0
    assert len(ds.class_names) == n_classes
    assert set(np.unique(ds.y_train)) == set(np.unique(ds.y_test)) == set(range(n_classes))
    # stratified: each class gives round(20%) of its images to the test set
    train_counts = np.bincount(ds.y_train, minlength=n_classes)
    test_counts = np.bincount(ds.y_test, minlength=n_classes)
    total = train_counts + test_counts
    assert np.array_equal(test_counts, np.floor(total * 0.2 + 0.5).astype(int))
    # the splits are shuffled, not sorted by class
    assert np.any(np.diff(ds.y_train) < 0)


def test_image_class_names_and_dtype():
    assert data.load_digits().class_names == tuple("0123456789")
    fashion = data.load_fashion_mnist(dtype=np.float32)
    assert fashion.x_train.dtype == np.float32
    assert fashion.class_names == (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    )  # fmt: skip
    assert np.bincount(fashion.y_test).tolist() == [200] * 10
    digits = data.load_digits()
    assert np.all(np.isin(digits.x_train * 16, np.arange(17)))  # 0..16 counts / 16
    with pytest.raises(ValueError, match="dtype"):
        data.load_digits(dtype=np.int32)


def test_train_and_test_do_not_overlap():
    ds = data.load_mnist()
    train = {x.tobytes() for x in ds.x_train}
    assert not any(x.tobytes() in train for x in ds.x_test)


# --------------------------------------------------------------------------- text


def test_moby_dick():
    text = data.load_text("moby_dick")
    assert len(text) > 1_100_000
    assert text.startswith("CHAPTER 1. Loomings.")
    assert "Call me Ishmael." in text
    assert "CHAPTER 135." in text


def test_shakespeare():
    text = data.load_text("shakespeare")
    assert 900_000 < len(text) < 1_200_000
    assert text.isascii()
    assert "To be, or not to be" in text
    assert "O Romeo, Romeo! wherefore art thou Romeo?" in text
    assert "Project Gutenberg" not in text


def test_unknown_text_name():
    with pytest.raises(ValueError, match="shakespeare.*moby_dick"):
        data.load_text("war_and_peace")


def test_names():
    names = data.load_names()
    assert len(names) == 32_000 == len(set(names))
    assert names[:3] == ["james", "john", "robert"]
    assert all(name.isascii() and name.isalpha() and name.islower() for name in names)


# --------------------------------------------------------------------------- time series


def test_co2():
    ts = data.load_co2()
    assert isinstance(ts, data.TimeSeries) and ts.unit == "ppm"
    assert ts.time.dtype == np.dtype("datetime64[M]") and ts.values.dtype == np.float64
    assert ts.time.shape == ts.values.shape == (521,)
    assert ts.time[0] == np.datetime64("1958-03") and ts.time[-1] == np.datetime64("2001-12")
    assert np.all(np.diff(ts.time) > np.timedelta64(0, "M"))
    assert 310 < ts.values.min() and ts.values.max() < 380


def test_sunspots():
    ts = data.load_sunspots()
    assert ts.time.dtype == np.int64 and ts.values.dtype == np.float64
    assert ts.time.tolist() == list(range(1700, 2009))
    assert ts.values.min() >= 0 and ts.values.max() < 250


def test_us_births():
    ts = data.load_us_births()
    assert ts.time.dtype == np.dtype("datetime64[D]") and ts.values.dtype == np.int64
    assert ts.time.shape == (5479,)
    assert ts.time[0] == np.datetime64("2000-01-01") and ts.time[-1] == np.datetime64("2014-12-31")
    assert np.all(np.diff(ts.time) == np.timedelta64(1, "D"))
    assert 5_000 < ts.values.min() and ts.values.max() < 20_000


# --------------------------------------------------------------------------- toy sets

GENERATORS = {
    "moons": (data.make_moons, {}, 2),
    "circles": (data.make_circles, {}, 2),
    "spirals": (data.make_spirals, {}, 2),
    "spirals3": (data.make_spirals, {"n_classes": 3}, 3),
    "xor": (data.make_xor, {}, 2),
    "ring": (data.make_gaussian_ring, {}, 8),
}


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_shapes_labels_and_determinism(name):
    make, kwargs, n_classes = GENERATORS[name]
    X, y = make(n=101, seed=3, **kwargs)
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert y.shape == (101,) and y.dtype == np.int64
    assert set(y.tolist()) == set(range(n_classes))
    assert np.bincount(y).max() - np.bincount(y).min() <= 1  # balanced
    X2, y2 = make(n=101, seed=3, **kwargs)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    X3, _ = make(n=101, seed=4, **kwargs)
    assert not np.array_equal(X, X3)
    assert np.all(np.isfinite(X))


def test_generator_geometry():
    X, y = data.make_circles(n=200, noise=0.0, factor=0.3)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert np.allclose(radius[y == 0], 1.0) and np.allclose(radius[y == 1], 0.3)
    X, y = data.make_xor(n=400, noise=0.0)
    assert np.array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(np.int64))
    X, y = data.make_gaussian_ring(n=80, n_modes=4, radius=3.0, std=0.0)
    angle = np.arctan2(X[:, 1], X[:, 0]) % (2 * np.pi)
    assert np.allclose(np.hypot(X[:, 0], X[:, 1]), 3.0)
    assert np.allclose(angle, 2 * np.pi * y / 4)


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: data.make_moons(n=0), "n"),
        (lambda: data.make_moons(n=2.5), "n"),
        (lambda: data.make_moons(n=True), "n"),
        (lambda: data.make_moons(noise=-0.1), "noise"),
        (lambda: data.make_circles(noise=float("nan")), "noise"),
        (lambda: data.make_circles(factor=1.5), "factor"),
        (lambda: data.make_spirals(n_classes=1), "n_classes"),
        (lambda: data.make_spirals(n=2, n_classes=3), "n"),
        (lambda: data.make_xor(n=-4), "n"),
        (lambda: data.make_gaussian_ring(n_modes=0), "n_modes"),
        (lambda: data.make_gaussian_ring(radius=0), "radius"),
        (lambda: data.make_gaussian_ring(std=-1), "std"),
        (lambda: data.make_moons(seed=-1), "seed"),
    ],
)
def test_generator_bad_arguments(call, argument):
    with pytest.raises(ValueError, match=rf"^{argument} must be .*got "):
        call()


# --------------------------------------------------------------------------- build script


def _build_script():
    return load_script("build_data")


def test_build_writers_are_reproducible(tmp_path):
    build = _build_script()
    arrays = {
        "images": np.arange(24, dtype=np.uint8).reshape(2, 3, 4),
        "names": np.array(["a", "bc"]),
        "date": np.array(["2000-01-01"], dtype="datetime64[D]"),
    }
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    build.write_npz(first, arrays)
    build.write_npz(second, arrays)
    assert first.read_bytes() == second.read_bytes()
    with np.load(first, allow_pickle=False) as f:
        for key, value in arrays.items():
            assert np.array_equal(f[key], value) and f[key].dtype == value.dtype
    blob = build.gzip_bytes(b"hello\n")
    assert blob[4:8] == b"\0\0\0\0" and gzip.decompress(blob) == b"hello\n"
    assert set(build.SOURCES) == {name.split(".")[0] for name in EXPECTED_FILES}


def test_build_split_is_stratified():
    build = _build_script()
    labels = np.repeat(np.arange(3), [10, 11, 13])
    train, test = build.stratified_split(labels)
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(34))
    assert np.bincount(labels[test]).tolist() == [2, 2, 3]


def test_standardize_uses_the_training_statistics_only():
    from nnlib.data import standardize

    train = np.array([[0.0, 1.0], [2.0, 1.0]])  # second feature never varies
    test = np.array([[4.0, 3.0]])
    train_s, test_s = standardize(train, test)
    np.testing.assert_allclose(train_s, [[-1 / 1.1, 0.0], [1 / 1.1, 0.0]])
    np.testing.assert_allclose(test_s, [[3 / 1.1, 2 / 0.1]])
    images, = standardize(np.zeros((3, 2, 2)))
    assert images.shape == (3, 4)
    with pytest.raises(ValueError, match="features"):
        standardize(train, np.zeros((1, 3)))
