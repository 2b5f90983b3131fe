"""Fast monospaced text for the views: glyphs rendered once, a text pasted as one image.

matplotlib draws a ``Text`` glyph by glyph (about 0.2 ms a glyph here); the views that
redraw hundreds of characters per drag (sampled text, token labels, gate rows) paste
pre-rendered glyph tiles instead:

* :class:`Typewriter` renders each glyph once with PIL and turns rows of text into an
  RGBA image by indexing;
* :func:`typed_text` (a block of text), :func:`typed_labels` (a row of labels under an
  axis) and :func:`stamps` (short texts at many points) are matplotlib artists that
  draw such images;
* :func:`draw_rgba` puts one RGBA image on a renderer.
"""

import numpy as np

__all__ = ["Typewriter", "draw_rgba", "typed_text", "typed_labels", "stamps"]


class Typewriter:
    """Monospaced glyphs rendered once with PIL; a text then becomes an RGBA image by indexing.

    matplotlib 3.11 draws a ``Text`` glyph by glyph, about 0.2 ms a glyph here: 200
    sampled characters would cost 40 ms per model and redraw. Pasting pre-rendered
    glyph tiles costs a fraction of a millisecond, and monospaced text needs no layout.
    """

    def __init__(self, size=13, bold=False):
        from matplotlib import font_manager
        from PIL import ImageFont

        path = font_manager.findfont(font_manager.FontProperties(
            family="DejaVu Sans Mono", weight="bold" if bold else "normal"))
        self.font = ImageFont.truetype(path, size)
        ascent, descent = self.font.getmetrics()
        self.width = int(np.ceil(self.font.getlength("M")))  # pixels per character
        self.height = ascent + descent + max(2, size // 4)  # pixels per line, with spacing
        self._index = {}
        self._tiles = [np.zeros((self.height, self.width))]  # tile 0: blank
        self._stacked = None
        self._short = {}  # images of short texts (labels), which come back often

    def _tile(self, ch):
        if ch not in self._index:
            from PIL import Image, ImageDraw

            image = Image.new("L", (self.width, self.height), 0)
            ImageDraw.Draw(image).text((0, 1), ch, font=self.font, fill=255)
            self._index[ch] = len(self._tiles)
            self._tiles.append(np.asarray(image) / 255.0)
            self._stacked = None
        return self._index[ch]

    def image(self, rows, colour="0.1", first=0, first_colour="C0"):
        """``rows`` (strings) as an RGBA ``uint8`` image, the first ``first`` characters
        (row after row) in ``first_colour``."""
        from matplotlib.colors import to_rgb

        key = (tuple(rows), colour, first, first_colour)
        if key in self._short:
            return self._short[key]
        R, C = len(rows), max(map(len, rows))
        ids = np.zeros((R, C), dtype=np.intp)
        for r, row in enumerate(rows):
            ids[r, :len(row)] = [self._tile(ch) for ch in row]
        if self._stacked is None:
            self._stacked = np.stack(self._tiles)
        h, w = self.height, self.width
        alpha = self._stacked[ids].transpose(0, 2, 1, 3).reshape(R * h, C * w)
        rgb = np.empty((R * C, 3))
        rgb[:] = to_rgb(colour)
        rgb[:first] = to_rgb(first_colour)
        rgb = np.repeat(np.repeat(rgb.reshape(R, C, 3), h, axis=0), w, axis=1)
        out = np.empty((R * h, C * w, 4), dtype=np.uint8)
        out[..., :3] = np.rint(rgb * 255)
        out[..., 3] = np.rint(alpha * 255)
        if R * C <= 8 and len(self._short) < 4096:
            self._short[key] = out
        return out


def draw_rgba(renderer, image, x, y):
    """Draw an RGBA ``uint8`` image (top row first) with its lower left corner at pixel x, y."""
    gc = renderer.new_gc()
    renderer.draw_image(gc, round(x), round(y), image[::-1])
    gc.restore()


def typed_text(ax, typewriter, xy, transform=None, ha="left", va="top"):
    """Add monospaced text drawn by ``typewriter`` to ``ax``, placed like ``ax.text``.

    ``xy`` is in axes coordinates unless ``transform`` says otherwise. The artist's
    ``set_text(text, **colours)`` changes it (lines split at ``\\n``; colours as
    ``Typewriter.image``). It is left out of the layout, like a label placed by hand.
    """
    from matplotlib.artist import Artist

    class TypedText(Artist):
        def __init__(self):
            super().__init__()
            self.set_transform(ax.transAxes if transform is None else transform)
            self.set_in_layout(False)
            self._image = None

        def set_text(self, text, **colours):
            self._image = typewriter.image(text.split("\n"), **colours) if text else None
            self.stale = True

        def draw(self, renderer):
            if not self.get_visible() or self._image is None:
                return
            h, w = self._image.shape[:2]
            x, y = self.get_transform().transform(xy)
            x -= {"left": 0, "center": w / 2, "right": w}[ha]
            y -= {"top": h, "center": h / 2, "bottom": 0}[va]
            draw_rgba(renderer, self._image, x, y)

    artist = TypedText()
    ax.add_artist(artist)
    return artist


def typed_labels(ax, typewriter, y=-0.02):
    """Add a row of short labels under ``ax`` (``y`` in axes coordinates), centred at data x.

    ``set_labels(xs, labels)`` changes them. The row is pasted into one image at
    draw time, where the positions in pixels are known: one ``draw_image`` for
    sixty labels instead of sixty.
    """
    from matplotlib.artist import Artist
    from matplotlib.transforms import blended_transform_factory

    class TypedLabels(Artist):
        def __init__(self):
            super().__init__()
            self.set_transform(blended_transform_factory(ax.transData, ax.transAxes))
            self.set_in_layout(False)
            self._xs, self._labels = [], []

        def set_labels(self, xs, labels):
            self._xs, self._labels = list(xs), list(labels)
            self.stale = True

        def draw(self, renderer):
            if not self.get_visible() or not self._labels:
                return
            images = [typewriter.image([label]) for label in self._labels]
            pixels = self.get_transform().transform([(x, y) for x in self._xs])
            lefts = [round(px - image.shape[1] / 2) for (px, _), image in zip(pixels, images)]
            start = min(lefts)
            width = max(left + image.shape[1] for left, image in zip(lefts, images)) - start
            strip = np.zeros((typewriter.height, width, 4), dtype=np.uint8)
            for left, image in zip(lefts, images):
                strip[:, left - start:left - start + image.shape[1]] = image
            draw_rgba(renderer, strip, start, pixels[0][1] - typewriter.height)

    artist = TypedLabels()
    ax.add_artist(artist)
    return artist


def stamps(ax, typewriter, transform=None, ha="center", va="center", rotate=False):
    """An artist that stamps short texts at many points of ``ax`` in one go.

    ``set_items([(x, y, text, colour), ...])`` changes them; ``(x, y)`` is in data
    coordinates unless ``transform`` says otherwise. ``rotate`` turns each text a
    quarter turn (read from bottom to top), for the labels under a heatmap's columns.
    """
    from matplotlib.artist import Artist

    class Stamps(Artist):
        def __init__(self):
            super().__init__()
            self.set_transform(ax.transData if transform is None else transform)
            self.set_in_layout(False)
            self._items = []

        def set_items(self, items):
            self._items = list(items)
            self.stale = True

        def draw(self, renderer):
            if not self.get_visible() or not self._items:
                return
            pixels = self.get_transform().transform([(x, y) for x, y, _, _ in self._items])
            for (px, py), (_, _, text, colour) in zip(pixels, self._items):
                image = typewriter.image([text], colour=colour)
                if rotate:
                    image = np.rot90(image)
                h, w = image.shape[:2]
                px -= {"left": 0, "center": w / 2, "right": w}[ha]
                py -= {"top": h, "center": h / 2, "bottom": 0}[va]
                draw_rgba(renderer, np.ascontiguousarray(image), px, py)

    artist = Stamps()
    ax.add_artist(artist)
    return artist
