"""Live views: a figure built once, redrawn into an image when a control changes.

Every interactive view in the course is a ``LiveView``: a matplotlib figure
(from ``nnlib.plotting.new_figure``), a plain ``update(**values)`` function that
changes the figure's artists (never rebuilds them), and a dict of ipywidgets
controls. Moving a control calls ``update`` with the current values and shows
the redrawn figure as a PNG. Keeping ``update`` a plain function lets the
benchmark time every view headless (``LiveView.render``) and lets tests sweep
controls to their extremes.

``update`` may return a short message ("diverged: the loss exceeded 1e6"),
shown under the figure. An unexpected exception is also shown there, in one
line, instead of a traceback in the middle of the lesson.
"""

import io
import time

__all__ = ["LiveView", "figure_png"]


def figure_png(fig):
    """Render a matplotlib figure to PNG bytes with the Agg backend."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    buf = io.BytesIO()
    canvas.print_png(buf)
    return buf.getvalue()


class LiveView:
    """A figure, an update function and the controls that drive it.

    Args:
        fig: a ``matplotlib.figure.Figure`` built once by the caller.
        update: ``update(**values) -> str | None``, with one keyword per
            control; changes the figure's artists in place.
        controls: dict name -> ipywidgets control (anything with ``.value``).
        title: a short name, used in the text shown where widgets cannot run.
    """

    def __init__(self, fig, update, controls, title="interactive view"):
        self.fig = fig
        self.update = update
        self.controls = dict(controls)
        self.title = title
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
        self._png = figure_png(self.fig)
        if self._widget is not None:  # keep a displayed view in step
            self._image.value = self._png
            self._label.value = self._message_html()
        self.last_seconds = time.perf_counter() - start
        return self._png

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
            box = W.HBox(list(self.controls.values()), layout=W.Layout(flex_flow="row wrap"))
            self._widget = W.VBox([box, self._image, self._label])
        return self._widget

    def _on_change(self, _change):
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
