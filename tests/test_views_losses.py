"""What the losses views compute. Rendering, extremes and responsiveness are
checked for every view in tests/test_views.py."""

import numpy as np

from nnlib.views.losses import fit_line, outlier_data


def test_robust_fits_move_less_than_least_squares_under_an_outlier():
    x, y = outlier_data(outlier_y=-20.0)
    clean = fit_line(x[:-1], y[:-1], "MSE")[0]
    moved = {loss: abs(fit_line(x, y, loss)[0] - clean) for loss in ("MSE", "MAE", "Huber")}
    assert moved["MSE"] > 5 * moved["Huber"] and moved["MSE"] > 5 * moved["MAE"], moved


def test_least_squares_fit_matches_numpy_polyfit():
    x, y = outlier_data()
    np.testing.assert_allclose(fit_line(x, y, "MSE"), np.polyfit(x, y, 1), rtol=1e-10)


def test_the_explorers_curves_are_nnlibs_losses_per_example():
    from nnlib.losses import huber, mae, mse
    from nnlib.views.losses import _pointwise

    target, delta = 0.7, 0.8
    for prediction in (-3.0, 0.2, 0.7, 1.1, 4.0):
        losses, grads = _pointwise(np.array(prediction), target, delta)
        p, t = np.array([prediction]), np.array([target])
        for name, (value, grad) in {"MSE": mse(p, t), "MAE": mae(p, t),
                                    "Huber": huber(p, t, delta)}.items():
            np.testing.assert_allclose(losses[name], value, rtol=1e-12)
            np.testing.assert_allclose(grads[name], grad[0], rtol=1e-12)
