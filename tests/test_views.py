"""Every registered live view renders, responds to its controls, and survives their extremes
(no error, no warning: a learner's slider at its end must not flood the notebook)."""

import warnings

import numpy as np
import pytest

from nnlib.display.widgets import TrainerView, slider_range
from nnlib.views import VIEWS, load_view


@pytest.fixture(scope="module", params=sorted(VIEWS))
def view(request):
    return load_view(request.param)


def test_every_control_extreme_renders_without_error(view):
    for settings in view.sweep():
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a warning here would print under the view
            png = view.render(**settings)
        assert png.startswith(b"\x89PNG" if view.image_format == "png" else b"\xff\xd8")
        assert not view.message.startswith("Could not draw"), (settings, view.message)


def test_moving_any_control_changes_the_picture(view):
    base = view.values()
    first = view.render(**base)
    for name, control in view.controls.items():
        if hasattr(control, "options"):
            values = [o[1] if isinstance(o, tuple) else o for o in control.options]
            others = [v for v in values if v != base[name]]
        elif isinstance(base[name], bool):
            others = [not base[name]]
        elif isinstance(base[name], str):  # a text box: half the text
            others = [base[name][: len(base[name]) // 2] or "a"]
        else:
            lo, _, hi = slider_range(control)
            others = [hi if base[name] != hi else lo]
        changed = [view.render(**{**base, name: other}) != first for other in others]
        assert any(changed), f"moving {name!r} did not change the view"
    view.render(**base)


def test_update_is_deterministic(view):
    base = view.values()
    assert view.render(**base) == view.render(**base)
    assert np.isfinite(view.last_seconds)


def test_trainers_train_at_every_extreme_without_error_or_warning(view):
    # A trainer must keep ticking at every extreme setting (the largest learning rate, the
    # strongest penalty): a diverged run says so in its message, it does not raise or warn.
    if not isinstance(view, TrainerView):
        pytest.skip("not an animated trainer")
    for settings in view.sweep():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            view.render(**settings)
            for _ in range(3):
                view.advance(**settings)
        assert not view.message.startswith("Could not"), (settings, view.message)
    view.reset()


@pytest.mark.parametrize("stride, padding, expected", [
    (1, 0, ""),  # the default: the stride divides, nothing to say
    (3, 1, ""),  # 28 + 2 - 3 = 27 = 3 * 9
    (3, 0, "stride 3 on 28 pixels: the last row and the last column are never seen"),
    (2, 0, "stride 2 on 28 pixels: the last row and the last column are never seen"),
    (3, 2, "stride 3 on 28 pixels with padding 2 (32 in all): the last 2 rows and columns are "
           "never seen (padding zeros only"),
])
def test_kernel_explorer_says_which_rows_and_columns_are_never_seen(stride, padding, expected):
    import torch
    import torch.nn.functional as F

    view = load_view("kernel explorer")
    view.render(stride=stride, padding=padding)
    assert view.message.startswith(expected) if expected else view.message == ""
    # the output shown has torch's size, rounded down where the stride does not divide
    size = F.conv2d(torch.zeros(1, 1, 28, 28), torch.zeros(1, 1, 3, 3), stride=stride,
                    padding=padding).shape[-1]
    titles = [ax.title.get_text() for ax in view.fig.axes]
    assert f"output {size}×{size} (stride {stride})" in titles
    # ... and torch's values (float64), the last rows and columns left out
    from nnlib.views.cnn import explorer_images

    values = view.values()
    image = torch.tensor(explorer_images()[values["image"]], dtype=torch.float64)
    kernel = torch.tensor([[values[f"w{i}{j}"] for j in range(3)] for i in range(3)],
                          dtype=torch.float64)
    expected = F.conv2d(image[None, None], kernel[None, None], stride=stride, padding=padding)
    shown = view.fig.axes[2].images[0].get_array()
    np.testing.assert_allclose(shown, expected[0, 0].numpy(), rtol=1e-10, atol=1e-12)
    view.render(stride=1, padding=0)


def canvas_pixels(view):
    from nnlib.display.widgets import _agg_canvas

    return np.asarray(_agg_canvas(view.fig).buffer_rgba()).astype(int)


def full_draw_pixels(view):
    """The figure drawn whole, as matplotlib draws it, with the view's current settings."""
    from nnlib.display.widgets import _agg_canvas

    for artist in view.dynamic:
        artist.set_animated(False)
    try:
        _agg_canvas(view.fig).draw()
        return canvas_pixels(view)
    finally:
        for artist in view.dynamic:
            artist.set_animated(True)  # the view's saved background is left as it was


def test_the_kernel_explorer_redraws_exactly_what_a_full_draw_shows():
    # Every control of this view moves only artists in its dynamic list (it has no static
    # controls any more), so a fast redraw must equal a full draw pixel for pixel: an
    # artist the update changes but the list misses would show stale pixels.
    view = load_view("kernel explorer")
    settings = view.sweep() + [{**view.values(), "stride": s, "padding": p}
                               for s in (1, 2, 3) for p in (0, 2, 3)]
    for setting in settings:
        view.render(**setting)
        fast = canvas_pixels(view)
        np.testing.assert_array_equal(fast, full_draw_pixels(view), err_msg=str(setting))
