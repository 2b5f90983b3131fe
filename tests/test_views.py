"""Every registered live view renders, responds to its controls, and survives their extremes."""

import numpy as np
import pytest

from nnlib.views import VIEWS, load_view
from nnlib.widgets import slider_range


@pytest.fixture(scope="module", params=sorted(VIEWS))
def view(request):
    return load_view(request.param)


def test_every_control_extreme_renders_without_error(view):
    for settings in view.sweep():
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
