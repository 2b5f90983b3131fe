"""The course's figure style: one colour-blind-safe palette, labelled axes, image grids.

Colours are the Okabe-Ito palette, distinguishable under the common forms of
colour blindness. Sequential heatmaps use ``viridis``; signed quantities
(weights, gradients, a neuron's pre-activation) use the diverging ``RdBu_r``
centred on zero.
"""

import numpy as np

__all__ = [
    "PALETTE",
    "COLORS",
    "SEQUENTIAL_CMAP",
    "DIVERGING_CMAP",
    "class_cmap",
    "use_course_style",
    "new_figure",
    "show_images",
]

PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}
COLORS = [PALETTE[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky", "yellow")]
SEQUENTIAL_CMAP = "viridis"
DIVERGING_CMAP = "RdBu_r"



def class_cmap():
    """Orange (class 0) through white to blue (class 1): the colours of the class markers."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list(
        "course_classes", [PALETTE["orange"], "#FFFFFF", PALETTE["blue"]])


_STYLE = {
    "figure.figsize": (6.0, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.labelsize": 11,
    "legend.frameon": False,
    "image.cmap": SEQUENTIAL_CMAP,
    "font.size": 10,
    # Opaque figures: in JupyterLab's dark theme a transparent one puts black text on a
    # dark page (some inline backends default to a transparent figure face).
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
}


def use_course_style():
    """Apply the course style to matplotlib's global settings (idempotent)."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update(_STYLE)
    mpl.rcParams["axes.prop_cycle"] = cycler(color=COLORS)


def new_figure(nrows=1, ncols=1, figsize=None, **kwargs):
    """A matplotlib ``Figure`` not managed by pyplot, with the course style.

    Interactive views build their figure once with this and redraw it into a
    widget (see ``nnlib.display.widgets``); pyplot would also display it a second time.
    Returns ``(fig, axes)`` like ``plt.subplots``.
    """
    from matplotlib.figure import Figure

    use_course_style()
    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=True, **kwargs)
    return fig, axes


def show_images(images, labels=None, class_names=None, ncols=10, title=None, cmap="gray_r",
                size=1.0):
    """Show a grid of grey-scale images with optional labels; returns the pyplot figure.

    Args:
        images: array ``(N, H, W)`` of values in [0, 1].
        labels: optional integer array ``(N,)``; shown above each image, as
            ``class_names[label]`` when names are given.
        ncols: images per row.
        size: inches per image.
    """
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (N, H, W), got {images.shape}")
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"labels must have length {len(images)}, got {len(labels)}")
    use_course_style()
    n = len(images)
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows * 1.15),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i >= n:
            continue
        ax.imshow(images[i], cmap=cmap, vmin=0.0, vmax=1.0)
        if labels is not None:
            name = class_names[labels[i]] if class_names is not None else labels[i]
            ax.set_title(str(name), fontsize=8, fontweight="normal")
    if title:
        fig.suptitle(title)
    return fig
