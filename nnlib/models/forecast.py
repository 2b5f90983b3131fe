"""Forecasting a shipped time series one step ahead with a recurrent network, and its baselines.

The recipe, in the order a forecaster should be built:

* :func:`forecast_windows`: the series as ``(x, y)`` pairs, the last ``window``
  values and the value ``horizon`` steps after them;
* :func:`forecast_split`: a **chronological** split, the final stretch of the
  series is the test set (shuffling across the boundary would let the model peek
  at the years it is tested on), with the training part's mean and standard
  deviation for standardising;
* two baselines on the same test targets: **persistence** (the next value is the
  last one seen) and a **linear autoregression** on the same ``window`` values
  (:func:`linear_ar_forecast`, least squares in numpy);
* :func:`fit_forecaster`: a small RNN (or GRU/LSTM) reads the window and a dense
  layer on its last hidden state predicts the next value, trained with the mean
  squared error (``FORECAST_RECIPE``, a few seconds on one CPU core).

Errors are root mean squared errors in the series' own unit (sunspots), so the
three numbers can be read side by side. On the yearly sunspots (1947-2008 held
out) the RNN beats persistence by about 40% and roughly ties the linear
autoregression: 240 training years leave little non-linearity to find.
torch is imported only inside the functions that train.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from nnlib.checks import check_float, check_int
from nnlib.data import load_co2, load_sunspots

__all__ = ["SERIES", "forecast_windows", "ForecastData", "forecast_split", "rmse",
           "linear_ar_forecast", "build_forecaster", "ForecastRecipe", "FORECAST_RECIPE",
           "ForecastResult", "fit_forecaster"]

SERIES = {"sunspots": load_sunspots, "co2": load_co2}


def _as_series(series, name="series") -> np.ndarray:
    """``series`` (an array or a ``TimeSeries``) as a 1-D float64 array of finite values."""
    values = getattr(series, "values", series)
    arr = np.asarray(values)
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of values (T,), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must hold finite values, got NaN or inf at index "
                         f"{int(np.argmin(np.isfinite(arr)))}")
    return arr.astype(np.float64, copy=False)


def forecast_windows(series, window: int, horizon: int = 1):
    """Every ``window`` consecutive values of a series, and the value ``horizon`` steps later.

    Window ``i`` is ``x[i] = series[i : i + window]`` and its target is
    ``y[i] = series[i + window + horizon - 1]``: with ``horizon=1``, the value right
    after the window. The windows overlap (each starts one step after the last).

    Args:
        series: ``(T,)`` real values, or a ``nnlib.data.TimeSeries``.
        window: values the model reads, ``W >= 1``.
        horizon: how many steps ahead the target lies, ``>= 1``.

    Returns:
        ``x (N, W, 1)`` float64 (one feature per step, as a recurrent layer takes it)
        and ``y (N,)`` float64, with ``N = T - W - horizon + 1`` (at least 1).
        The target of window ``i`` sits at index ``i + W + horizon - 1`` of the series.

    Example::

        x, y = forecast_windows(np.arange(6.0), window=3)
        x[:, :, 0]    # [[0, 1, 2], [1, 2, 3], [2, 3, 4]]
        y             # [3, 4, 5]
    """
    values = _as_series(series)
    window = check_int("window", window, 1)
    horizon = check_int("horizon", horizon, 1)
    N = len(values) - window - horizon + 1
    if N < 1:
        raise ValueError(f"series must hold at least window + horizon = {window + horizon} "
                         f"values, got {len(values)}")
    starts = np.arange(N)
    x = values[starts[:, None] + np.arange(window)]  # (N, W)
    y = values[starts + window + horizon - 1]  # (N,)
    return x[:, :, None], y


def rmse(prediction, target) -> float:
    """Root mean squared error, in the unit of the values: ``sqrt(mean((p - t)^2))``."""
    prediction, target = np.asarray(prediction, float), np.asarray(target, float)
    if prediction.shape != target.shape:
        raise ValueError(f"prediction must have the shape of target {target.shape}, "
                         f"got {prediction.shape}")
    return float(np.sqrt(np.mean((prediction - target) ** 2)))


def linear_ar_forecast(x_train, y_train, x_test):
    """A linear autoregression fitted by least squares: ``y = x_{t-W+1..t} @ w + b``.

    The baseline a recurrent forecaster has to beat: the best *linear* function of
    the same window, found exactly (``np.linalg.lstsq``) instead of by gradient descent.

    Args:
        x_train: ``(N, W)`` or ``(N, W, 1)`` windows; y_train: ``(N,)`` targets.
        x_test: ``(M, W)`` or ``(M, W, 1)`` windows to forecast.

    Returns:
        ``(M,)`` predictions.
    """
    x_train = np.asarray(x_train, float).reshape(len(x_train), -1)
    x_test = np.asarray(x_test, float).reshape(len(x_test), -1)
    y_train = np.asarray(y_train, float)
    if x_test.shape[1] != x_train.shape[1]:
        raise ValueError(f"x_test must have windows of {x_train.shape[1]} values as x_train, "
                         f"got {x_test.shape[1]}")
    if y_train.shape != (len(x_train),):
        raise ValueError(f"y_train must have shape ({len(x_train)},), one target per window, "
                         f"got {y_train.shape}")
    design = np.hstack([x_train, np.ones((len(x_train), 1))])  # (N, W + 1): a column for b
    coef, *_ = np.linalg.lstsq(design, y_train, rcond=None)
    return x_test @ coef[:-1] + coef[-1]


class ForecastData(NamedTuple):
    """Windows split chronologically, in the series' unit (not standardised).

    Attributes:
        x_train, y_train: ``(N, W, 1)`` and ``(N,)``, every window whose target lies
            before the test stretch.
        x_test, y_test: ``(M, W, 1)`` and ``(M,)``, one window per value of the test
            stretch (a test window may read values from before it: the known past).
        test_index: ``(M,)`` the index in the series of each test target.
        split: the index of the first test value; ``values[:split]`` is the training part.
        mean, std: of the training part only, for standardising
            (``(x - mean) / std``) without a glimpse of the test stretch.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    test_index: np.ndarray
    split: int
    mean: float
    std: float


def forecast_split(series, window: int, horizon: int = 1, test_fraction: float = 0.2):
    """:func:`forecast_windows` split in time: the series' last ``test_fraction`` is the test.

    Every value of the final stretch (``round(test_fraction * T)`` values) is a test
    target, whatever the window, so models with different windows are scored on
    the same values. No training target lies in the test stretch, and ``mean`` and
    ``std`` come from the training part only: change a test value and nothing a
    model learns from changes.

    Args:
        series: ``(T,)`` real values, or a ``nnlib.data.TimeSeries``.
        window, horizon: as :func:`forecast_windows`.
        test_fraction: share of the series held out at its end, in ``(0, 1)``.

    Returns:
        A ``ForecastData``.

    Example::

        data = forecast_split(load_sunspots(), window=12)   # test: 1947-2008, 62 years
    """
    values = _as_series(series)
    test_fraction = check_float("test_fraction", test_fraction, 0.0, strict=True)
    x, y = forecast_windows(values, window, horizon)
    target_index = np.arange(len(y)) + window + horizon - 1
    split = len(values) - round(test_fraction * len(values))  # the first test value
    if not target_index[0] < split < len(values):
        raise ValueError(f"test_fraction must leave values for testing and training targets "
                         f"after a window of {window} (+ horizon {horizon}) in a series of "
                         f"{len(values)}, got {test_fraction!r} ({len(values) - split} "
                         f"test values)")
    train, test = target_index < split, target_index >= split
    part = values[:split]
    return ForecastData(x[train], y[train], x[test], y[test], target_index[test], int(split),
                        float(part.mean()), float(part.std()))


def build_forecaster(cell="rnn", hidden=16, seed=0):
    """A recurrent layer over ``(B, W, 1)`` windows, a dense layer on its last state -> ``(B,)``.

    Args:
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"`` (``nnlib.models.recurrent.CELLS``).
        hidden: ``H``, the size of the hidden state.
        seed: seeds the initial weights.
    """
    import torch
    from torch import nn

    from nnlib.models.cells import check_cell, recurrent_layer

    check_cell(cell)
    hidden = check_int("hidden", hidden, 1)
    torch.manual_seed(seed)

    class Forecaster(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = cell
            self.recurrent = recurrent_layer(cell, 1, hidden, None)
            self.out = nn.Linear(hidden, 1)

        def forward(self, x):
            hs, _ = self.recurrent(x)  # (B, W, H)
            return self.out(hs[:, -1])[:, 0]  # (B,), from the state after the last value

    return Forecaster()


class ForecastRecipe(NamedTuple):
    window: int  # values the model reads (years, for the sunspots)
    horizon: int  # steps ahead
    test_fraction: float  # the final share of the series, held out (sunspots: 62 years)
    hidden: int
    epochs: int  # passes over the training windows
    batch_size: int
    lr: float  # Adam
    clip_grad_norm: float


# Measured on the sunspots (seeds 0-7; test stretch 1947-2008): the RNN's test RMSE is
# 18.8-20.0 sunspots, persistence 33.3, the linear autoregression on 12 years 20.1.
# About 1,500 Adam steps: 2-3 s on one CPU core.
FORECAST_RECIPE = ForecastRecipe(window=12, horizon=1, test_fraction=0.2, hidden=16,
                                 epochs=100, batch_size=16, lr=5e-3, clip_grad_norm=1.0)


class ForecastResult(NamedTuple):
    model: object  # trained, in eval mode
    test_rmse: float  # the network, in the series' unit
    persistence_rmse: float  # "next = last value"
    linear_rmse: float  # linear autoregression on the same window
    test_time: np.ndarray  # (M,) the time stamps of the test targets
    test_target: np.ndarray  # (M,) the true values
    test_prediction: np.ndarray  # (M,) the network's forecasts
    linear_prediction: np.ndarray  # (M,)
    persistence_prediction: np.ndarray  # (M,)
    series: object  # the whole nnlib.data.TimeSeries, for plotting the history
    seconds: float  # wall time of training
    train_loss: list  # per epoch, mean squared error on standardised values


def _predict(model, x, device):
    import torch

    with torch.no_grad():
        out = model(torch.as_tensor(x, dtype=torch.float32, device=device))
    return out.double().cpu().numpy()


def fit_forecaster(series_name="sunspots", cell="rnn", seed=0, recipe=FORECAST_RECIPE,
                   progress=None, device=None) -> ForecastResult:
    """Train a recurrent forecaster on a shipped series and score it against the baselines.

    The series is split by :func:`forecast_split`: the last ``recipe.test_fraction``
    of it (the most recent values) is the test stretch, and the windows whose
    targets lie before it train the network and fit the linear autoregression.
    Values are standardised with the training part's mean and standard deviation,
    and forecasts are turned back into the series' unit before scoring.

    On ``"co2"`` the network loses to both baselines (test RMSE 1.4-2.9 ppm over
    seeds 0-2; persistence 1.27, the linear model 0.40): 81% of the test stretch
    lies above every value it was trained on, and a tanh network fitted to levels
    cannot extrapolate a trend, where a linear model can. (The usual remedy, not
    done here, is to model the changes, ``np.diff``, instead of the levels.)

    Args:
        series_name: ``"sunspots"`` (yearly, 1700-2008) or ``"co2"`` (monthly).
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        seed: seeds the weights and the shuffling.
        recipe: a ``ForecastRecipe`` (``FORECAST_RECIPE``: a plain RNN, 12 years in).
        progress: a ``nnlib.display.widgets.TrainingMonitor(recipe.epochs, ...)`` (or anything
            with ``update(epoch, **metrics)``): the training loss after every epoch.
        device: where to train; ``None`` picks ``nnlib.models.training.default_device()``.

    Returns:
        A ``ForecastResult``: the three test RMSEs, and the test stretch's times,
        truth and forecasts for a plot.
    """
    if series_name not in SERIES:
        raise ValueError(f"series_name must be one of {tuple(SERIES)}, got {series_name!r}")

    from nnlib.models.training import resolve_device, train_classifier

    series = SERIES[series_name]()
    data = forecast_split(series, recipe.window, recipe.horizon, recipe.test_fraction)
    mean, std = data.mean, data.std

    device = resolve_device(device)
    model = build_forecaster(cell, recipe.hidden, seed)
    start = time.perf_counter()
    # Adam on the mean squared error, shuffled mini-batches, clipped gradients, one-cycle
    losses = train_classifier(model, (data.x_train - mean) / std, (data.y_train - mean) / std,
                              epochs=recipe.epochs, batch_size=recipe.batch_size, lr=recipe.lr,
                              seed=seed, device=device, progress=progress, loss="mse",
                              clip_grad_norm=recipe.clip_grad_norm,
                              updates_per_epoch=1).train_loss
    seconds = time.perf_counter() - start

    prediction = _predict(model, (data.x_test - mean) / std, device) * std + mean
    linear = linear_ar_forecast(data.x_train, data.y_train, data.x_test)
    persistence = data.x_test[:, -1, 0]  # the last value each window holds
    target = data.y_test
    return ForecastResult(model, rmse(prediction, target), rmse(persistence, target),
                          rmse(linear, target), series.time[data.test_index], target,
                          prediction, linear, persistence, series, seconds, losses)
