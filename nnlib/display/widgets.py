"""Live views: a figure built once, redrawn into an image when a control changes.

Every interactive view in the course is a ``LiveView``: a matplotlib figure
(from ``nnlib.display.plotting.new_figure``), a plain ``update(**values)`` function that
changes the figure's artists (never rebuilds them), and a dict of ipywidgets
controls. Moving a control calls ``update`` with the current values and shows
the redrawn figure as a PNG (or a JPEG, see ``image_format``). Keeping ``update``
a plain function lets the benchmark time every view headless (``LiveView.render``)
and lets tests sweep controls to their extremes.

Speed: drawing text (tick labels, legends) costs most of a redraw, so a view
may name its ``dynamic`` artists, the ones ``update`` changes. The rest of the
figure is then drawn once and cached, and each redraw only restores that
background and draws the dynamic artists ("blitting", as in matplotlib's
animations): typically 10-30 ms instead of 100-200 ms. The dynamic artists are
drawn over the cached rest, in zorder, so a curve that crosses a legend covers it
unless the legend is in the list too (redrawing a legend costs about 10 ms, so
only views whose curves do cross theirs list it). Controls listed in
``static_controls`` change the cached part too (a colour bar's range, say),
so moving one of them redraws the whole figure.

Controls are sliders, menus, checkboxes, number boxes or text boxes (``ipywidgets.Text``:
with ``continuous_update=True`` the view redraws at every keystroke, fine within the
100 ms budget; ``False`` redraws on Enter). ``sweep`` types nothing, one character, the
default and a long text with characters outside most alphabets into a text box.

``update`` may return a short message ("diverged: the loss exceeded 1e6"),
shown under the figure. An unexpected exception is also shown there, in one
line, instead of a traceback in the middle of the lesson.
"""

import contextlib
import io
import time

__all__ = ["LiveView", "TrainerView", "TrainingMonitor", "figure_png", "slider_range",
           "text_extremes", "widget_bundle"]


def _agg_canvas(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    return fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)


def _encode_png(canvas, image_format="png"):
    from PIL import Image

    width, height = canvas.get_width_height(physical=True)
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    if image_format == "jpeg":  # ~5 ms instead of ~30 ms for a large figure: for animations
        image.convert("RGB").save(buf, format="jpeg", quality=90)
    else:
        image.save(buf, format="png", compress_level=1)  # fast; size barely changes
    return buf.getvalue()


def _call(function, values):
    """``function(**values)``'s message, or a one-line description of its exception."""
    try:
        return function(**values) or ""
    except Exception as error:  # shown to the learner in one line, see module doc
        return f"Could not draw this setting ({type(error).__name__}: {error})"


def slider_range(control):
    """``(min, middle, max)`` of a slider's values (a log slider's min and max are exponents)."""
    if hasattr(control, "base"):  # FloatLogSlider
        return tuple(control.base**e for e in (control.min, (control.min + control.max) / 2,
                                                control.max))
    return control.min, (control.min + control.max) / 2, control.max


def text_extremes(default):
    """What a learner may type into a text box: nothing, one character, the default, a lot.

    The long text repeats the default and ends with characters that few alphabets hold
    (accents, a symbol, a tab), which a view must drop or refuse with a message.
    """
    return ["", default[:1] or "a", default, (default + " ") * 8 + "déjà vu ☃\t"]


def widget_bundle(widget, **kwargs):
    """The MIME bundle that displays ``widget``, with ipywidgets 7.7 or 8.

    ipywidgets 8 widgets have ``_repr_mimebundle_``. Those of 7.x (Colab's front end
    ships 7.x) only have ``_ipython_display_``, which publishes this same view
    reference, so it is built here from the widget's model id.
    """
    if hasattr(widget, "_repr_mimebundle_"):
        bundle = widget._repr_mimebundle_(**kwargs)
        return dict(bundle[0] if isinstance(bundle, tuple) else bundle)
    view = {"version_major": 2, "version_minor": 0, "model_id": widget.model_id}
    return {"text/plain": repr(widget), "application/vnd.jupyter.widget-view+json": view}


def figure_png(fig):
    """Render a whole matplotlib figure to PNG bytes with the Agg backend."""
    canvas = _agg_canvas(fig)
    canvas.draw()
    return _encode_png(canvas)


class LiveView:
    """A figure, an update function and the controls that drive it.

    Args:
        fig: a ``matplotlib.figure.Figure`` built once by the caller.
        update: ``update(**values) -> str | None``, with one keyword per
            control; changes the figure's artists in place.
        controls: dict name -> ipywidgets control (anything with ``.value``).
        title: a short name, used in the text shown where widgets cannot run.
        dynamic: the artists ``update`` changes; enables cached redraws (see
            the module doc). ``None`` redraws the whole figure every time.
        static_controls: names of controls whose change alters the rest of
            the figure (axis limits, colour bar), forcing a full redraw.
        extra_widgets: widgets shown with the controls but not passed to
            ``update`` (a preset menu, say).
        static_key: ``static_key() -> hashable``, called after ``update``; a
            change forces a full redraw (a loss axis that grew, say).
        image_format: ``"png"``, or ``"jpeg"`` for large views, animated or with
            a busy figure (encodes about six times faster).
        control_box: an ipywidgets container that holds the controls (and extra
            widgets) arranged by the caller, a grid say; by default they wrap in
            one row.
    """

    def __init__(self, fig, update, controls, title="interactive view", dynamic=None,
                 static_controls=(), extra_widgets=(), static_key=None, image_format="png",
                 control_box=None):
        if image_format not in ("png", "jpeg"):
            raise ValueError(f"image_format must be 'png' or 'jpeg', got {image_format!r}")
        self.image_format = image_format
        self.fig = fig
        self.dynamic = sorted(dynamic, key=lambda a: a.get_zorder()) if dynamic else None
        self.static_controls = tuple(static_controls)
        self.static_key = static_key
        self._background = None
        self._static_key = None
        self.update = update
        self.controls = dict(controls)
        self.extra_widgets = list(extra_widgets)  # shown with the controls, not passed on
        self.control_box = control_box
        self.title = title
        self._holding = False
        self.message = ""
        self.last_seconds = 0.0
        self._png = None
        self._widget = None
        self.render()

    def values(self):
        """The controls' current values, as keyword arguments for ``update``."""
        return {name: control.value for name, control in self.controls.items()}

    def render(self, **overrides):
        """Run ``update`` with the controls' values (and any overrides); return the image's
        bytes (PNG, or JPEG for ``image_format="jpeg"``).

        Times the whole update-and-draw in ``self.last_seconds``; this is what
        the latency budget (100 ms for a live view) is measured on.
        """
        start = time.perf_counter()
        values = {**self.values(), **overrides}
        self.message = _call(self.update, values)
        self._png = self._draw(values)
        if self._widget is not None:  # keep a displayed view in step
            self._image.value = self._png
            self._label.value = self._message_html()
        self.last_seconds = time.perf_counter() - start
        return self._png

    def _draw(self, values):
        if self.dynamic is None:
            canvas = _agg_canvas(self.fig)
            canvas.draw()
            return _encode_png(canvas, self.image_format)
        canvas = _agg_canvas(self.fig)
        static_key = tuple(values[name] for name in self.static_controls)
        if self.static_key is not None:
            static_key += (self.static_key(),)
        if self._background is None or static_key != self._static_key:
            for artist in self.dynamic:
                artist.set_animated(True)  # left out of the full draw, drawn below
            canvas.draw()
            # Keep the layout of the first draw: re-solving it costs ~60 ms a redraw.
            self.fig.set_layout_engine("none")
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            self._static_key = static_key
        else:
            canvas.restore_region(self._background)
        for artist in self.dynamic:
            if artist.get_visible():
                self.fig.draw_artist(artist)
        return _encode_png(canvas, self.image_format)

    @property
    def png(self):
        """The last rendered image's bytes (PNG, or JPEG for ``image_format="jpeg"``)."""
        return self._png

    @property
    def widget(self):
        """The ipywidgets layout: controls, then the figure, then the message line."""
        if self._widget is None:
            import ipywidgets as W

            self._image = W.Image(value=self._png, format=self.image_format)
            self._label = W.HTML(self._message_html())
            for control in self.controls.values():
                control.observe(self._on_change, names="value")
            box = self.control_box or W.HBox(self.extra_widgets + list(self.controls.values()),
                                             layout=W.Layout(flex_flow="row wrap"))
            self._widget = W.VBox([box, self._image, self._label])
        return self._widget

    def sweep(self):
        """Settings that visit every control's extremes: its min, middle and max, or each option.

        One control moves at a time from the current values (a text box visits the
        texts of ``text_extremes``); then every slider sits at its minimum, and then
        at its maximum, together. The benchmark times these renders and the tests
        check that none of them fails.
        """
        base = self.values()
        settings = [dict(base)]
        for name, control in self.controls.items():
            if hasattr(control, "options"):
                values = [o[1] if isinstance(o, tuple) else o for o in control.options]
            elif isinstance(control.value, bool):  # a checkbox
                values = [False, True]
            elif isinstance(control.value, str):  # a text box
                values = text_extremes(control.value)
            else:
                lo, mid, hi = slider_range(control)
                values = [lo, type(control.value)(mid), hi]
            settings += [{**base, name: value} for value in values]
        sliders = {n: slider_range(c) for n, c in self.controls.items()
                   if not hasattr(c, "options") and not isinstance(c.value, (bool, str))}
        for end in (0, 2):
            settings.append({**base, **{n: r[end] for n, r in sliders.items()}})
        return settings

    @contextlib.contextmanager
    def hold(self):
        """Change several controls at once with a single redraw at the end (presets)."""
        self._holding = True
        try:
            yield self
        finally:
            self._holding = False
            self.render()

    def _on_change(self, _change):
        if not self._holding:
            self.render()

    def _message_html(self):
        if not self.message:
            return ""
        import html

        return f"<b style='color:#D55E00'>{html.escape(self.message)}</b>"

    def _repr_mimebundle_(self, **kwargs):
        # In Jupyter the widget shows; on GitHub or nbviewer the PNG does; the
        # short text keeps saved outputs stable for nbval.
        import base64

        bundle = widget_bundle(self.widget, **kwargs)
        bundle[f"image/{self.image_format}"] = base64.b64encode(self._png).decode("ascii")
        bundle["text/plain"] = f"[{self.title}: run the notebook in JupyterLab to interact]"
        return bundle


QUEUED_TICK_SECONDS = 0.005


class TrainerView(LiveView):
    """A live view of a model that trains: play / pause, step and reset.

    The view keeps training state (a model, its optimizer, a loss history) in
    the caller's closures. Three plain functions drive it:

    * ``reset(**values)`` builds fresh state from the controls' values;
    * ``step(**values)`` trains for one frame (a few optimizer steps);
    * ``update(**values)`` draws the current state, as for any ``LiveView``.

    Changing one of the ``reset_controls`` (the data set, the network's
    shape) rebuilds the state; the other controls (learning rate, penalties)
    act from the next step on, as in TensorFlow Playground. ``advance()`` is
    one tick of "play": a step and a redraw, timed in ``last_seconds``, so the
    benchmark can measure updates per second headless.

    In Jupyter, a ``Play`` widget ticks every ``interval_ms`` in the browser;
    a tick that arrives while the kernel is still busy with the previous
    frame is dropped rather than queued, so pausing takes effect at once and
    the view never lags behind. A short interval keeps the kernel busy: a
    frame slower than the interval is followed by the next fresh tick within
    ``interval_ms``.
    """

    def __init__(self, fig, update, controls, step, reset, reset_controls=(), interval_ms=40,
                 **kwargs):
        import ipywidgets as W

        self._step = step
        self._reset = reset
        self.reset_controls = tuple(reset_controls)
        self._built_for = None
        self.frames = 0
        self.interval_ms = interval_ms
        self._last_tick_end = 0.0
        self.play = W.Play(value=0, min=0, max=10**9, interval=interval_ms, show_repeat=False,
                           description="play / pause")
        self.step_button = W.Button(description="step", icon="step-forward",
                                    layout=W.Layout(width="80px"))
        self.reset_button = W.Button(description="reset", icon="refresh",
                                     layout=W.Layout(width="80px"))
        self.play.observe(self._on_tick, names="value")
        self.step_button.on_click(lambda _: self.advance())
        self.reset_button.on_click(lambda _: self.reset())
        extra = [self.play, self.step_button, self.reset_button, *kwargs.pop("extra_widgets", ())]
        kwargs.setdefault("image_format", "jpeg")
        super().__init__(fig, update, controls, extra_widgets=extra, **kwargs)

    def _ensure_state(self, values):
        """Rebuild the state if a reset control changed; the error message if that failed."""
        key = tuple(values[name] for name in self.reset_controls)
        if key == self._built_for:
            return ""
        self.frames = 0
        error = _call(self._reset, values)
        self._built_for = None if error else key  # a failed build is tried again next time
        return error

    def render(self, **overrides):
        error = self._ensure_state({**self.values(), **overrides})
        png = super().render(**overrides)
        self._show_error(error)
        return png

    def _show_error(self, error):
        """Put ``error`` on the message line (the figure may show an older state)."""
        if error:
            self.message = error
            if self._widget is not None:
                self._label.value = self._message_html()

    def reset(self):
        """Fresh state from the current controls (a new initialization), then redraw."""
        self._built_for = None
        return self.render()

    def advance(self, frames=1, **overrides):
        """Train for ``frames`` frames, then redraw once; returns the PNG.

        ``last_seconds`` times the training and the drawing together: the
        budget for a trainer is 100 ms, at least 10 updates per second.
        """
        start = time.perf_counter()
        values = {**self.values(), **overrides}
        if error := self._ensure_state(values):
            png = LiveView.render(self, **overrides)
            self._show_error(error)
            self.last_seconds = time.perf_counter() - start
            return png
        message = ""
        for _ in range(frames):
            message = _call(self._step, values)
            self.frames += 1
            if message:
                break
        png = LiveView.render(self, **overrides)
        if message and not self.message:
            self._show_error(message)
        self.last_seconds = time.perf_counter() - start
        return png

    def _on_tick(self, _change):
        # A tick that queued up while the last frame was being computed is handled
        # within a millisecond or two of that frame's end; a fresh tick arrives at a
        # random moment later. Drop the queued ones so frames never pile up.
        if time.perf_counter() - self._last_tick_end < QUEUED_TICK_SECONDS:
            return
        self.advance()
        self._last_tick_end = time.perf_counter()


class _NamedRun:
    """``TrainingMonitor.run(name)``: forwards updates with the run's name before each metric."""

    def __init__(self, monitor, name):
        self.monitor, self.name = monitor, name

    def update(self, step, **metrics):
        named = {f"{self.name} {k}": v for k, v in metrics.items()}
        for metric in named:
            self.monitor._run_of[metric] = self.name  # one colour per run
        self.monitor.update(step, **named)

    def finish(self):
        self.monitor.finish()


class TrainingMonitor:
    """A progress bar and a live loss curve for a training loop; silent outside Jupyter.

    Pass one to a training function (``nnlib.mlp.fit(..., progress=monitor)``)
    or call ``update(step, **metrics)`` yourself. In a notebook it displays
    itself at the first update and redraws at most every ``every_seconds``, and
    never spends more than about 5% of the training time on drawing (a redraw
    that took 0.1 s waits at least 2 s for the next);
    the last update (``step == total``) or ``finish()`` draws the final
    curves, which the saved notebook keeps.

    Its text form is constant (``[title: N steps]``) so that saved outputs do not
    depend on timing. Metrics may come at different rates (a training loss every
    few batches, a test loss once per epoch, at fractional steps): each curve
    keeps its own steps. To compare several runs on one chart, give each its own
    ``monitor.run("LSTM")``: the same monitor, with the run's name before every
    metric ("LSTM train loss").
    """

    def __init__(self, total, title="training", xlabel="epoch", ylabel="loss",
                 every_seconds=0.3, log_y=False):
        self.total = int(total)
        self.title = title
        self.xlabel, self.ylabel = xlabel, ylabel
        self.every_seconds = every_seconds
        self.log_y = log_y
        self.history = {}  # metric name -> values
        self._run_of = {}  # metric name -> the run it belongs to (see ``run``)
        self.positions = {}  # metric name -> the steps of those values
        self.steps = []
        self._handle = None
        self._last_draw = 0.0
        self._draw_seconds = 0.0  # how long the last redraw took
        self._fig = None
        self._finished_at = None  # len(self.steps) when the final curves were last drawn

    def update(self, step, **metrics):
        self.steps.append(step)
        for name, value in metrics.items():
            self.history.setdefault(name, []).append(float(value))
            self.positions.setdefault(name, []).append(step)
        if self._handle is None:
            self._show()
        done = step >= self.total
        wait = max(self.every_seconds, 20 * self._draw_seconds)
        if done or time.perf_counter() - self._last_draw > wait:
            self._redraw()
        if done:
            self.finish()

    def finish(self):
        """Draw the final curves (also into the saved notebook); again after new updates."""
        if self._finished_at == len(self.steps):
            return
        self._finished_at = len(self.steps)
        if self._handle:  # None before the first update, False outside a kernel
            self._redraw()
            self._handle.update(self)

    def run(self, name):
        """This monitor for one of several runs: ``update(step, loss=...)`` records
        ``"{name} loss"``, so the runs share one chart and can be compared."""
        return _NamedRun(self, name)

    def _in_kernel(self):
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
        return shell is not None and getattr(shell, "kernel", None) is not None

    def _show(self):
        if not self._in_kernel():
            self._handle = False
            return
        import ipywidgets as W
        from IPython.display import display

        self._bar = W.IntProgress(value=0, min=0, max=self.total, description=self.title,
                                  style={"description_width": "initial"})
        self._text = W.HTML("")
        self._image = W.Image(format="png")
        self._box = W.VBox([W.HBox([self._bar, self._text]), self._image])
        self._redraw()
        self._handle = display(self, display_id=True)

    def _redraw(self):
        if not self._handle and self._handle is not None:
            return  # not in a kernel: nothing to draw
        from matplotlib.ticker import MaxNLocator

        from nnlib.display.plotting import COLORS, new_figure

        start = time.perf_counter()
        if self._fig is None:
            self._fig, self._ax = new_figure(figsize=(6, 2.8))
        ax = self._ax
        ax.clear()
        runs = list(dict.fromkeys(self._run_of.get(n, n) for n in self.history))
        per_run = {}  # a run's first metric is drawn solid, its next ones dashed, dotted
        longest = max(map(len, self.history.values()), default=0)
        for name, values in self.history.items():
            run = self._run_of.get(name, name)
            nth = per_run[run] = per_run.get(run, -1) + 1
            # a few points beside long curves (a final validation loss): large, over the
            # curves, one marker shape per run so that two runs' points stay told apart;
            # markers are not clipped, so that the points on the axis's last step show whole
            index = runs.index(run)
            if len(values) <= 3 and 10 * len(values) <= longest:
                points = {"marker": ("o", "s", "D", "^")[index % 4], "ms": 7, "zorder": 3,
                          "markeredgecolor": "white"}
            else:
                points = {"marker": "o" if len(values) < 30 else None, "ms": 3, "zorder": 2}
            ax.plot(self.positions[name], values, color=COLORS[index % len(COLORS)],
                    ls=("-", "--", ":")[nth % 3], lw=2, label=name,
                    clip_on=len(values) >= 30, **points)
        # while training the axis spans the whole budget; a run that stopped early ends
        # the final chart at its last step, so that its curves are not squeezed to the left
        finished = self._finished_at == len(self.steps) and self.steps
        end = min(max(self.steps), self.total) if finished else self.total
        ax.set(xlabel=self.xlabel, ylabel=self.ylabel, xlim=(0, max(end, 1)))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs, steps, seeds
        if self.log_y:
            ax.set_yscale("log")
        if self.history:
            ax.legend(loc="best", fontsize=9)
        step = self.steps[-1] if self.steps else 0
        self._bar.value = int(min(step, self.total))
        last = ", ".join(f"{k} {v[-1]:.4g}" for k, v in self.history.items())
        self._text.value = f"{step:g}/{self.total} {self.xlabel}s" + (f": {last}" if last else "")
        self._image.value = figure_png(self._fig)
        self._last_draw = time.perf_counter()
        self._draw_seconds = self._last_draw - start

    def _repr_mimebundle_(self, **kwargs):
        import base64

        bundle = widget_bundle(self._box, **kwargs)
        bundle["image/png"] = base64.b64encode(self._image.value).decode("ascii")
        bundle["text/plain"] = f"[{self.title}: {self.total} {self.xlabel}s]"
        return bundle
