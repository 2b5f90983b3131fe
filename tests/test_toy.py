"""nnlib.data.toy: the GAN notebook's 2-D targets (the make_* sets are tested in
tests/test_data.py)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from nnlib.data import toy  # noqa: E402
from nnlib.models import gan_metrics  # noqa: E402


@pytest.mark.parametrize("name", toy.TOY_DATASETS)
def test_toy_data_shapes_and_extent(name):
    x = toy.toy_data(name, n=500, seed=1)
    assert x.shape == (500, 2) and x.dtype == np.float32
    assert np.all(np.isfinite(x))
    assert 1.5 < np.abs(x).max() < 3.0
    assert np.array_equal(x, toy.toy_data(name, n=500, seed=1))
    assert not np.array_equal(x, toy.toy_data(name, n=500, seed=2))


def test_the_ring_has_eight_modes_of_radius_two():
    x = toy.toy_data("ring", n=2000)
    assert np.allclose(np.linalg.norm(x, axis=1), 2.0, atol=0.25)
    coverage = gan_metrics.mode_coverage(x)
    assert coverage.covered == 8 and coverage.quality > 0.98
    assert np.all(np.abs(coverage.counts - 250) <= 5)


def test_unknown_toy_data_is_a_clear_error():
    with pytest.raises(ValueError, match="ring"):
        toy.toy_data("swiss roll")
