import ipywidgets as W
import numpy as np
import pytest

from nnlib.display.plotting import new_figure
from nnlib.display.widgets import LiveView, figure_png

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def view():
    fig, ax = new_figure()
    x = np.linspace(0, 1, 50)
    (line,) = ax.plot(x, x)
    calls = []

    def update(slope, shift):
        calls.append((slope, shift))
        if slope > 9:
            raise FloatingPointError("overflow in exp")
        line.set_ydata(slope * x + shift)
        return "flat line" if slope == 0 else None

    controls = {"slope": W.FloatSlider(value=1.0, min=-10, max=10),
                "shift": W.FloatSlider(value=0.0, min=-1, max=1)}
    v = LiveView(fig, update, controls, title="test view")
    v.line, v.calls = line, calls
    return v


def test_renders_png_from_the_controls_values(view):
    assert view.png.startswith(PNG_MAGIC)
    assert view.calls == [(1.0, 0.0)]
    assert view.last_seconds > 0


def test_render_with_overrides_updates_the_figure(view):
    png = view.render(slope=2.0)
    np.testing.assert_allclose(view.line.get_ydata()[-1], 2.0)
    assert png == view.png == figure_png(view.fig)  # rendering is repeatable
    assert view.message == ""


def test_update_messages_and_errors_become_one_line(view):
    view.render(slope=0.0)
    assert view.message == "flat line"
    view.render(slope=10.0)
    assert view.message.startswith("Could not draw this setting (FloatingPointError")


def test_moving_a_control_redraws_the_displayed_image(view):
    widget = view.widget
    before = view._image.value
    view.controls["slope"].value = -3.0
    assert view.calls[-1] == (-3.0, 0.0)
    assert view._image.value != before
    view.controls["slope"].value = 0.0
    assert "flat line" in view._label.value
    assert isinstance(widget, W.VBox)


def test_mimebundle_is_stable_text_plus_png_plus_widget(view):
    bundle = view._repr_mimebundle_()
    assert bundle["text/plain"] == "[test view: run the notebook in JupyterLab to interact]"
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["image/png"]
