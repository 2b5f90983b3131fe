"""nnlib.models.forecast: windows, the chronological split, the baselines, the claims.

Claims (notebook 08), on the yearly sunspots with 1947-2008 held out and
``FORECAST_RECIPE`` (a plain RNN reading 12 years), for seeds 0-2:

* the RNN beats persistence by at least 30% RMSE (measured 40-44%, seeds 0-7);
* the RNN roughly ties the linear autoregression on the same 12 years: at most 5%
  worse and at most 10% better (measured 0.3% to 6.5% better, seeds 0-7).
"""

import subprocess
import sys

import numpy as np
import pytest

from nnlib.data import load_co2, load_sunspots
from nnlib.models import forecast
from nnlib.models.forecast import (
    FORECAST_RECIPE,
    build_forecaster,
    fit_forecaster,
    forecast_split,
    forecast_windows,
    linear_ar_forecast,
    rmse,
)

# --------------------------------------------------------------------------- windows


def test_forecast_windows_by_hand():
    x, y = forecast_windows(np.arange(6.0), window=3)
    assert x.shape == (3, 3, 1) and y.shape == (3,)
    np.testing.assert_array_equal(x[:, :, 0], [[0, 1, 2], [1, 2, 3], [2, 3, 4]])
    np.testing.assert_array_equal(y, [3, 4, 5])
    x, y = forecast_windows(np.arange(6.0), window=3, horizon=2)
    np.testing.assert_array_equal(x[:, :, 0], [[0, 1, 2], [1, 2, 3]])
    np.testing.assert_array_equal(y, [4, 5])  # two steps after each window's end


@pytest.mark.parametrize(("T", "window", "horizon"), [(309, 12, 1), (20, 1, 1), (20, 5, 3),
                                                      (4, 3, 1)])
def test_forecast_windows_shapes_and_target_positions(T, window, horizon):
    series = np.random.default_rng(T).standard_normal(T)
    x, y = forecast_windows(series, window, horizon)
    N = T - window - horizon + 1
    assert x.shape == (N, window, 1) and y.shape == (N,)
    assert x.dtype == y.dtype == np.float64
    i = np.arange(N)
    np.testing.assert_array_equal(x[:, 0, 0], series[i])
    np.testing.assert_array_equal(x[:, -1, 0], series[i + window - 1])
    np.testing.assert_array_equal(y, series[i + window + horizon - 1])


def test_forecast_windows_takes_a_time_series():
    sun = load_sunspots()
    x, y = forecast_windows(sun, window=12)
    assert x.shape == (297, 12, 1)
    assert y[0] == sun.values[12] and y[-1] == sun.values[-1]


# --------------------------------------------------------------------------- split


def test_forecast_split_is_chronological_and_uses_training_statistics_only():
    sun = load_sunspots()
    data = forecast_split(sun, window=12, test_fraction=0.2)
    assert data.split == 309 - 62 and sun.time[data.split] == 1947
    assert len(data.y_test) == 62 and len(data.y_train) == 247 - 12
    np.testing.assert_array_equal(data.test_index, np.arange(247, 309))
    np.testing.assert_array_equal(data.y_test, sun.values[247:])  # every test year, once
    assert data.y_train[-1] == sun.values[246]  # the last training target: just before
    assert data.mean == pytest.approx(sun.values[:247].mean())
    assert data.std == pytest.approx(sun.values[:247].std())
    # test windows read the known past, across the split
    np.testing.assert_array_equal(data.x_test[0, :, 0], sun.values[235:247])
    # change every test value: nothing a model learns from moves
    altered = sun.values.copy()
    altered[247:] = 1e6
    other = forecast_split(altered, window=12, test_fraction=0.2)
    np.testing.assert_array_equal(other.x_train, data.x_train)
    np.testing.assert_array_equal(other.y_train, data.y_train)
    assert (other.mean, other.std) == (data.mean, data.std)


def test_the_test_stretch_does_not_depend_on_the_window():
    sun = load_sunspots()
    for window in (1, 6, 12, 24):
        data = forecast_split(sun, window)
        np.testing.assert_array_equal(data.y_test, sun.values[247:])
        assert len(data.y_train) == 247 - window


# --------------------------------------------------------------------------- baselines


def test_rmse_by_hand():
    assert rmse([1.0, 2.0, 3.0], [1.0, 2.0, 7.0]) == pytest.approx(np.sqrt(16 / 3))
    with pytest.raises(ValueError, match=r"^prediction must .*got"):
        rmse([1.0, 2.0], [1.0, 2.0, 3.0])


def test_linear_ar_recovers_an_exact_autoregression():
    # x_t = 1.6 x_{t-1} - 0.9 x_{t-2} + 0.5: a damped oscillation, as sunspot cycles
    series = [1.0, 2.0]
    for _ in range(60):
        series.append(1.6 * series[-1] - 0.9 * series[-2] + 0.5)
    x, y = forecast_windows(np.array(series), window=2)
    prediction = linear_ar_forecast(x[:40], y[:40], x[40:])
    np.testing.assert_allclose(prediction, y[40:], rtol=1e-9, atol=1e-9)
    with pytest.raises(ValueError, match=r"^x_test must .*got"):
        linear_ar_forecast(x[:40], y[:40], np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"^y_train must .*got"):
        linear_ar_forecast(x[:40], y[:30], x[40:])


def test_sunspot_baselines():
    """Deterministic numbers the notebook prints (sunspots, test 1947-2008)."""
    data = forecast_split(load_sunspots(), window=12)
    persistence = rmse(data.x_test[:, -1, 0], data.y_test)
    linear = rmse(linear_ar_forecast(data.x_train, data.y_train, data.x_test), data.y_test)
    assert persistence == pytest.approx(33.28, abs=0.01)
    assert linear == pytest.approx(20.06, abs=0.01)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: forecast_windows(np.arange(10.0), 0), "window"),
        (lambda: forecast_windows(np.arange(10.0), 2.5), "window"),
        (lambda: forecast_windows(np.arange(10.0), 3, horizon=0), "horizon"),
        (lambda: forecast_windows(np.arange(4.0), 4), "series"),
        (lambda: forecast_windows(np.ones((10, 2)), 3), "series"),
        (lambda: forecast_windows(np.array(["a"] * 10), 3), "series"),
        (lambda: forecast_windows(np.array([1.0, np.nan, 3.0, 4.0]), 2), "series"),
        (lambda: forecast_split(np.arange(20.0), 3, test_fraction=0), "test_fraction"),
        (lambda: forecast_split(np.arange(20.0), 3, test_fraction=1.0), "test_fraction"),
        (lambda: forecast_split(np.arange(20.0), 3, test_fraction=0.9), "test_fraction"),
        (lambda: fit_forecaster("births"), "series_name"),
        (lambda: build_forecaster("transformer"), "cell"),
        (lambda: build_forecaster("rnn", hidden=0), "hidden"),
    ],
)
def test_bad_arguments(call, argument):
    with pytest.raises(ValueError, match=rf"^{argument} must .*got"):
        call()


def test_import_is_light():
    code = "import sys, nnlib.models.forecast; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert set(forecast.__all__) <= set(dir(forecast))


# --------------------------------------------------------------------------- the model


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_forecaster_shapes_and_seeding(cell):
    torch = pytest.importorskip("torch")
    model = build_forecaster(cell, hidden=5, seed=3)
    assert model(torch.zeros(4, 7, 1)).shape == (4,)
    twin = build_forecaster(cell, hidden=5, seed=3)
    for a, b in zip(model.parameters(), twin.parameters()):
        assert torch.equal(a, b)


class Recorder:
    def __init__(self):
        self.steps, self.finished = [], False

    def update(self, step, **metrics):
        assert set(metrics) == {"train loss"}
        self.steps.append(step)

    def finish(self):
        self.finished = True


_RESULTS = {}


def sunspot_run(seed):
    """One training run per seed (result and progress recorder), shared by the tests below."""
    if seed not in _RESULTS:
        pytest.importorskip("torch")
        recorder = Recorder()
        result = fit_forecaster("sunspots", "rnn", seed=seed, device="cpu", progress=recorder)
        _RESULTS[seed] = result, recorder
    return _RESULTS[seed]


@pytest.mark.claims
def test_fit_forecaster_returns_what_a_plot_needs():
    result, recorder = sunspot_run(0)
    assert recorder.steps == list(range(1, FORECAST_RECIPE.epochs + 1)) and recorder.finished
    assert len(result.train_loss) == FORECAST_RECIPE.epochs
    assert result.train_loss[-1] < 0.3 * result.train_loss[0]
    sun = load_sunspots()
    np.testing.assert_array_equal(result.test_time, sun.time[247:])  # 1947-2008
    np.testing.assert_array_equal(result.test_target, sun.values[247:])
    np.testing.assert_array_equal(result.persistence_prediction, sun.values[246:-1])
    for name in ("test_prediction", "linear_prediction"):
        assert getattr(result, name).shape == (62,)
        assert np.all(np.isfinite(getattr(result, name)))
    assert result.test_rmse == pytest.approx(rmse(result.test_prediction, result.test_target))
    assert result.series.name == "yearly sunspot number" and not result.model.training


@pytest.mark.claims
@pytest.mark.parametrize("seed", range(3))
def test_rnn_beats_persistence_and_ties_the_linear_autoregression(seed):
    result, _ = sunspot_run(seed)
    assert result.test_rmse <= 0.70 * result.persistence_rmse, (seed, result.test_rmse)
    ratio = result.test_rmse / result.linear_rmse
    assert 0.90 <= ratio <= 1.05, (seed, result.test_rmse, result.linear_rmse)


@pytest.mark.claims
def test_on_co2_the_network_cannot_extrapolate_the_trend():
    pytest.importorskip("torch")
    co2 = load_co2()
    data = forecast_split(co2, FORECAST_RECIPE.window)
    above = np.mean(data.y_test > co2.values[:data.split].max())
    assert above > 0.75  # measured 81% of the test months lie beyond the training range
    result = fit_forecaster("co2", seed=0, device="cpu")
    # measured 0.40 < 1.27 < 2.81 ppm (the network: 1.4 to 2.9 over seeds 0-2)
    assert 3 * result.linear_rmse < result.persistence_rmse < result.test_rmse
