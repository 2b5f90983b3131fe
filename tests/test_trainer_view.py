"""nnlib.display.widgets.TrainerView (play / step / reset) and TrainingMonitor, headless."""

import time

import ipywidgets as W
import numpy as np
import pytest

from nnlib.display.plotting import new_figure
from nnlib.display.widgets import TrainerView, TrainingMonitor
from nnlib.mlp import MLP, fit
from nnlib.optim import SGD

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAGIC = {"png": PNG_MAGIC, "jpeg": b"\xff\xd8\xff"}


def is_image(data, view):
    """``data`` is an encoded image in the view's format (TrainerView defaults to JPEG)."""
    fmt = getattr(view, "image_format", "png")
    return isinstance(data, bytes) and data.startswith(MAGIC[fmt])


class Toy:
    """A tiny trainer: ``reset`` starts a curve, each ``step`` appends a point to it."""

    def __init__(self, interval_ms=70, **kwargs):
        self.calls = {"reset": [], "step": [], "update": 0}
        self.fail_step = None  # raise inside the step with this number
        self.points = []
        fig, ax = new_figure(figsize=(2.5, 1.8))  # small: quick to draw
        (self.line,) = ax.plot([], [])
        self.ax = ax
        controls = {"lr": W.FloatSlider(value=0.1, min=0.01, max=1.0),
                    "size": W.IntSlider(value=3, min=1, max=10)}
        self.view = TrainerView(fig, self.update, controls, self.step, self.reset,
                                reset_controls=("size",), interval_ms=interval_ms,
                                title="toy trainer", **kwargs)

    def reset(self, lr, size):
        self.calls["reset"].append((lr, size))
        self.points = [float(size)]

    def step(self, lr, size):
        self.calls["step"].append((lr, size))
        if self.fail_step == len(self.calls["step"]):
            raise FloatingPointError("overflow in the weights")
        self.points.append(self.points[-1] * (1 - lr))

    def update(self, lr, size):
        self.calls["update"] += 1
        self.line.set_data(np.arange(len(self.points)), self.points)
        self.ax.relim()
        self.ax.autoscale_view()


@pytest.fixture
def toy():
    return Toy()


def test_building_the_view_resets_once_and_draws(toy):
    assert toy.calls["reset"] == [(0.1, 3)]
    assert toy.calls["step"] == []
    assert is_image(toy.view.png, toy.view)
    assert toy.view.frames == 0 and toy.view.message == ""
    png = toy.view.render()
    assert is_image(png, toy.view)
    assert toy.calls["reset"] == [(0.1, 3)]  # the state is kept: no second reset
    assert toy.calls["update"] == 2


def test_changing_a_reset_control_rebuilds_the_state(toy):
    toy.view.advance(2)
    toy.view.controls["lr"].value = 0.5  # not a reset control: acts from the next step on
    toy.view.render()
    assert len(toy.calls["reset"]) == 1 and toy.view.frames == 2
    toy.view.controls["size"].value = 5
    toy.view.render()
    assert toy.calls["reset"] == [(0.1, 3), (0.5, 5)]
    assert toy.view.frames == 0 and toy.points == [5.0]
    toy.view.render(size=7)  # an override counts as a change too
    assert toy.calls["reset"][-1] == (0.5, 7)
    toy.view.render(size=7)
    assert len(toy.calls["reset"]) == 3


def test_moving_a_reset_slider_in_a_displayed_view_resets(toy):
    widget = toy.view.widget
    assert isinstance(widget, W.VBox)
    before = toy.view._image.value
    toy.view.controls["size"].value = 9
    assert toy.calls["reset"][-1] == (0.1, 9)
    assert toy.view._image.value != before


def test_advance_steps_then_draws_once(toy):
    updates = toy.calls["update"]
    png = toy.view.advance(3)
    assert is_image(png, toy.view)
    assert png == toy.view.png
    assert toy.calls["step"] == [(0.1, 3)] * 3
    assert toy.calls["update"] == updates + 1
    assert toy.view.frames == 3
    assert len(toy.points) == 4
    np.testing.assert_allclose(toy.line.get_ydata(), [3.0, 2.7, 2.43, 2.187], rtol=1e-12)
    assert toy.view.last_seconds > 0
    toy.view.advance()
    assert toy.view.frames == 4 and len(toy.calls["step"]) == 4


def test_advance_passes_overrides_to_step(toy):
    toy.view.advance(2, lr=0.5)
    assert toy.calls["step"] == [(0.5, 3)] * 2


def test_an_exception_in_step_becomes_a_one_line_message(toy):
    toy.fail_step = 2
    png = toy.view.advance(5)  # must not raise
    assert is_image(png, toy.view)
    assert len(toy.calls["step"]) == 2  # stops at the failing frame
    message = toy.view.message
    assert message.startswith("Could not draw")
    assert "FloatingPointError" in message and "overflow in the weights" in message
    assert "\n" not in message
    toy.view.advance()
    assert toy.view.message == ""  # the next good frame clears it


def test_an_exception_in_step_is_shown_in_a_displayed_view(toy):
    assert isinstance(toy.view.widget, W.VBox)
    toy.fail_step = 1
    toy.view.step_button.click()  # the "step" button advances one frame
    assert "Could not draw" in toy.view._label.value


def test_reset_rebuilds_the_state(toy):
    toy.view.advance(4)
    png = toy.view.reset()
    assert is_image(png, toy.view)
    assert len(toy.calls["reset"]) == 2
    assert toy.view.frames == 0 and toy.points == [3.0]
    toy.view.reset_button.click()
    assert len(toy.calls["reset"]) == 3


def test_a_tick_that_arrives_right_after_a_frame_is_dropped():
    # interval 10 s: the second tick comes well within 0.4 of an interval of the first
    toy = Toy(interval_ms=10_000)
    toy.view._on_tick(None)
    toy.view._on_tick(None)
    assert len(toy.calls["step"]) == 1 and toy.view.frames == 1
    # once the interval has passed, the next tick runs a frame again
    toy.view._last_tick_end -= 10.0
    toy.view._on_tick(None)
    assert len(toy.calls["step"]) == 2


def test_the_play_widget_ticks_advance_the_view():
    toy = Toy(interval_ms=10_000)
    toy.view.play.value += 1
    assert len(toy.calls["step"]) == 1
    toy.view.play.value += 1  # queued right behind: dropped
    assert len(toy.calls["step"]) == 1


def test_extra_widgets_and_stable_text_form(toy):
    extra = toy.view.extra_widgets
    assert extra[:3] == [toy.view.play, toy.view.step_button, toy.view.reset_button]
    bundle = toy.view._repr_mimebundle_()
    assert bundle["text/plain"] == "[toy trainer: run the notebook in JupyterLab to interact]"
    assert bundle[f"image/{toy.view.image_format}"]


def test_advance_returns_png_bytes_for_a_png_view():
    toy = Toy(image_format="png")
    png = toy.view.advance(3)
    assert png.startswith(PNG_MAGIC) and len(toy.calls["step"]) == 3


def test_an_exception_in_reset_becomes_a_one_line_message(toy):
    def bad_reset(lr, size):
        raise ValueError("no data set of that size")

    toy.view._reset = bad_reset
    toy.view.render(size=8)
    assert toy.view.message.startswith("Could not draw")


# ------------------------------------------------------------------ TrainingMonitor
def test_monitor_outside_a_kernel_updates_silently_before_the_last_step(capsys):
    monitor = TrainingMonitor(total=3, title="fit")
    monitor.update(1, loss=2.0, acc=0.5)
    monitor.update(2, loss=np.float64(1.5), acc=0.6)
    assert monitor.steps == [1, 2]
    assert monitor.history == {"loss": [2.0, 1.5], "acc": [0.5, 0.6]}
    assert all(type(v) is float for v in monitor.history["loss"])
    assert monitor._fig is None  # nothing drawn
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_monitor_outside_a_kernel_records_history_silently(capsys):
    monitor = TrainingMonitor(total=3, title="fit")
    monitor.update(1, loss=2.0, acc=0.5)
    monitor.update(2, loss=np.float64(1.5), acc=0.6)
    monitor.finish()
    monitor.finish()  # twice is harmless
    monitor.update(3, loss=1.0, acc=0.7)  # the last step finishes too
    assert monitor.steps == [1, 2, 3]
    assert monitor.history == {"loss": [2.0, 1.5, 1.0], "acc": [0.5, 0.6, 0.7]}
    assert all(type(v) is float for v in monitor.history["loss"])
    assert monitor._fig is None  # nothing drawn
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_monitor_finish_before_any_update_does_nothing(capsys):
    monitor = TrainingMonitor(total=5)
    monitor.finish()
    assert monitor.history == {} and monitor.steps == []
    assert capsys.readouterr().out == ""


def test_monitor_records_a_fit(capsys):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 2))
    y = (x[:, 0] > 0).astype(int)
    model = MLP([2, 4, 2], seed=0)
    monitor = TrainingMonitor(total=4)
    history = fit(model, SGD(model.params, lr=0.1), x, y, epochs=4, x_val=x, y_val=y,
                  progress=monitor)
    assert monitor.steps == [1, 2, 3, 4]
    assert monitor.history["train loss"] == history.train_loss
    assert monitor.history["validation loss"] == history.val_loss
    assert capsys.readouterr().out == ""


def test_monitor_records_a_diverged_fit_without_raising():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(int)
    model = MLP([2, 8, 2], seed=0)
    monitor = TrainingMonitor(total=50)
    history = fit(model, SGD(model.params, lr=1e6), x, y, epochs=50, batch_size=16,
                  progress=monitor)
    assert history.diverged
    assert monitor.steps == list(range(1, len(history.train_loss) + 1))
    assert monitor.history["train loss"][-1] == float("inf")


def test_monitor_in_a_kernel_draws_and_updates_its_display(monkeypatch):
    # Pretend to be in a kernel; display() returns a handle whose update() is recorded.
    import IPython.display

    shown = []

    class Handle:
        def update(self, obj):
            shown.append(("update", obj))

    def fake_display(obj, display_id=False):
        shown.append(("display", obj))
        return Handle()

    monkeypatch.setattr(TrainingMonitor, "_in_kernel", lambda self: True)
    monkeypatch.setattr(IPython.display, "display", fake_display)
    monitor = TrainingMonitor(total=2, title="fit", every_seconds=0.0)
    monitor.update(1, loss=2.0)
    assert shown[0][0] == "display" and bytes(monitor._image.value).startswith(PNG_MAGIC)
    assert monitor._bar.value == 1 and "1/2 epochs: loss 2" in monitor._text.value
    monitor.update(2, loss=1.0)
    assert shown[-1] == ("update", monitor)
    assert monitor._bar.value == 2
    bundle = monitor._repr_mimebundle_()
    assert bundle["text/plain"] == "[fit: 2 epochs]"
    assert bundle["image/png"]


@pytest.fixture
def in_kernel(monkeypatch):
    """Pretend to run in a kernel; returns the list of objects the display handle was given."""
    import IPython.display

    shown = []

    class Handle:
        def update(self, obj):
            shown.append(sorted(obj.history))

    monkeypatch.setattr(TrainingMonitor, "_in_kernel", lambda self: True)
    monkeypatch.setattr(IPython.display, "display", lambda obj, display_id=False: Handle())
    return shown


def test_monitor_spends_about_5_percent_of_the_time_drawing_at_most(in_kernel, monkeypatch):
    monitor = TrainingMonitor(total=10_000, every_seconds=0.0)
    draws = []
    original = monitor._redraw

    def counted():
        draws.append(1)
        original()

    monkeypatch.setattr(monitor, "_redraw", counted)
    start = time.perf_counter()
    for step in range(1, 200):
        monitor.update(step, loss=1.0 / step)
        time.sleep(0.002)  # a fast training step
    elapsed = time.perf_counter() - start
    assert len(draws) <= 1 + elapsed / (20 * monitor._draw_seconds) + 1
    assert monitor.history["loss"][-1] == 1.0 / 199  # every value kept, drawn or not


def test_named_runs_share_one_chart_and_each_finish_redraws_it(in_kernel):
    shown = in_kernel
    monitor = TrainingMonitor(total=2, xlabel="step")
    for name in ("RNN", "LSTM"):
        run = monitor.run(name)
        run.update(1, **{"train loss": 2.0})
        run.update(2, **{"train loss": 1.0})
        run.finish()
    assert shown[-1] == ["LSTM train loss", "RNN train loss"]  # the saved output has both
    assert monitor.positions["RNN train loss"] == [1, 2]
    monitor.finish()
    assert len(shown) == 2  # nothing new since the last finish: no redraw


def test_each_named_run_keeps_one_colour_for_all_its_metrics(in_kernel):
    monitor = TrainingMonitor(total=2, xlabel="step")
    for name in ("RNN", "LSTM"):
        monitor.run(name).update(1, **{"train loss": 2.0})
        monitor.run(name).update(2, **{"train loss": 1.0, "validation loss": 1.5})
    lines = {line.get_label(): line for line in monitor._ax.get_lines()}
    assert lines["RNN train loss"].get_color() == lines["RNN validation loss"].get_color()
    assert lines["RNN train loss"].get_color() != lines["LSTM train loss"].get_color()
    assert lines["LSTM validation loss"].get_linestyle() == "--"


def test_a_run_that_stopped_early_ends_the_final_chart_at_its_last_step(in_kernel):
    monitor = TrainingMonitor(total=300, every_seconds=0.0)
    for epoch in range(1, 23):  # early stopping at epoch 22 of 300
        monitor.update(epoch, **{"train loss": 1 / epoch, "validation loss": 0.5})
        assert monitor._ax.get_xlim() == (0, 300)  # while training: the whole budget
    monitor.update(22.5, **{"final test loss": 0.6})  # one point, not hidden under the curves
    monitor.finish()
    assert monitor._ax.get_xlim() == (0, 22.5)
    lone = next(line for line in monitor._ax.get_lines() if line.get_label() == "final test loss")
    assert lone.get_markersize() > 3 and lone.get_zorder() > 2 and not lone.get_clip_on()
    train = next(line for line in monitor._ax.get_lines() if line.get_label() == "train loss")
    assert train.get_markersize() == 3  # 22 points: an ordinary curve
    assert all(float(t).is_integer() for t in monitor._ax.get_xticks())  # epochs: whole ticks
