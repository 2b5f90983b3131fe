"""Live views: a figure built once, redrawn into an image when a control changes.

Every interactive view in the course is a ``LiveView``: a matplotlib figure
(from ``nnlib.plotting.new_figure``), a plain ``update(**values)`` function that
changes the figure's artists (never rebuilds them), and a dict of ipywidgets
controls. Moving a control calls ``update`` with the current values and shows
the redrawn figure as a PNG. Keeping ``update`` a plain function lets the
benchmark time every view headless (``LiveView.render``) and lets tests sweep
controls to their extremes.

Speed: drawing text (tick labels, legends) costs most of a redraw, so a view
may name its ``dynamic`` artists, the ones ``update`` changes. The rest of the
figure is then drawn once and cached, and each redraw only restores that
background and draws the dynamic artists ("blitting", as in matplotlib's
animations): typically 10-30 ms instead of 100-200 ms. Controls listed in
``static_controls`` change the cached part too (a colour bar's range, say),
so moving one of them redraws the whole figure.

``update`` may return a short message ("diverged: the loss exceeded 1e6"),
shown under the figure. An unexpected exception is also shown there, in one
line, instead of a traceback in the middle of the lesson.
"""

import contextlib
import io
import time

__all__ = ["LiveView", "figure_png"]


def _agg_canvas(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    return fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)


def _encode_png(canvas):
    from PIL import Image

    width, height = canvas.get_width_height(physical=True)
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    image.save(buf, format="png", compress_level=1)  # fast; size barely changes
    return buf.getvalue()


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
    """

    def __init__(self, fig, update, controls, title="interactive view", dynamic=None,
                 static_controls=(), extra_widgets=()):
        self.fig = fig
        self.dynamic = sorted(dynamic, key=lambda a: a.get_zorder()) if dynamic else None
        self.static_controls = tuple(static_controls)
        self._background = None
        self._static_key = None
        self.update = update
        self.controls = dict(controls)
        self.extra_widgets = list(extra_widgets)  # shown with the controls, not passed on
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
        """Run ``update`` with the controls' values (and any overrides); return PNG bytes.

        Times the whole update-and-draw in ``self.last_seconds``; this is what
        the latency budget (100 ms for a live view) is measured on.
        """
        start = time.perf_counter()
        values = {**self.values(), **overrides}
        try:
            message = self.update(**values)
        except Exception as error:  # shown to the learner in one line, see module doc
            message = f"Could not draw this setting ({type(error).__name__}: {error})"
        self.message = message or ""
        self._png = self._draw(values)
        if self._widget is not None:  # keep a displayed view in step
            self._image.value = self._png
            self._label.value = self._message_html()
        self.last_seconds = time.perf_counter() - start
        return self._png

    def _draw(self, values):
        if self.dynamic is None:
            return figure_png(self.fig)
        canvas = _agg_canvas(self.fig)
        static_key = tuple(values[name] for name in self.static_controls)
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
        return _encode_png(canvas)

    @property
    def png(self):
        return self._png

    @property
    def widget(self):
        """The ipywidgets layout: controls, then the figure, then the message line."""
        if self._widget is None:
            import ipywidgets as W

            self._image = W.Image(value=self._png, format="png")
            self._label = W.HTML(self._message_html())
            for control in self.controls.values():
                control.observe(self._on_change, names="value")
            box = W.HBox(self.extra_widgets + list(self.controls.values()),
                         layout=W.Layout(flex_flow="row wrap"))
            self._widget = W.VBox([box, self._image, self._label])
        return self._widget

    def sweep(self):
        """Settings that visit every control's extremes: its min, middle and max, or each option.

        One control moves at a time from the current values; then every slider sits at
        its minimum, and then at its maximum, together. The benchmark times these
        renders and the tests check that none of them fails.
        """
        base = self.values()
        settings = [dict(base)]
        for name, control in self.controls.items():
            if hasattr(control, "options"):
                values = [o[1] if isinstance(o, tuple) else o for o in control.options]
            else:
                lo, hi = control.min, control.max
                mid = type(control.value)((lo + hi) / 2)
                values = [lo, mid, hi]
            settings += [{**base, name: value} for value in values]
        sliders = {n: c for n, c in self.controls.items() if not hasattr(c, "options")}
        for end in ("min", "max"):
            settings.append({**base, **{n: getattr(c, end) for n, c in sliders.items()}})
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

        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle = bundle[0] if isinstance(bundle, tuple) else bundle
        bundle["image/png"] = base64.b64encode(self._png).decode("ascii")
        bundle["text/plain"] = f"[{self.title}: run the notebook in JupyterLab to interact]"
        return bundle
