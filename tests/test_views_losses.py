"""The losses notebook's live views render, survive their controls' extremes, and respond."""

import numpy as np
import pytest

from nnlib.views.losses import fit_line, loss_explorer, outlier_data, outlier_fit_explorer

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
VIEWS = [loss_explorer, outlier_fit_explorer]


@pytest.fixture(params=VIEWS, ids=[make.__name__ for make in VIEWS])
def view(request):
    return request.param()


def test_renders_a_png(view):
    assert view.png.startswith(PNG_MAGIC)
    assert view.render().startswith(PNG_MAGIC)


def test_every_control_at_min_mid_max_draws_without_error(view):
    for name, control in view.controls.items():
        for value in (control.min, (control.min + control.max) / 2, control.max):
            view.render(**{name: value})
            assert not view.message.startswith("Could not draw"), (name, value, view.message)
    corners = {name: control.max for name, control in view.controls.items()}
    view.render(**corners)
    assert not view.message.startswith("Could not draw"), view.message


def _snapshot(view):
    data = []
    for artist in view.dynamic:
        for getter in ("get_xydata", "get_offsets", "get_text", "get_xy"):
            if hasattr(artist, getter):
                data.append(np.array(getattr(artist, getter)(), dtype=object).tolist())
                break
    return repr(data)


def test_moving_each_slider_changes_the_artists_and_the_image(view):
    for name, control in view.controls.items():
        view.render(**{name: control.min})
        before, png_before = _snapshot(view), view.png
        view.render(**{name: control.max})
        assert _snapshot(view) != before, name
        assert view.png != png_before, name


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
