"""The CNN notebook's views: a kernel explorer, a trained CNN's feature maps, and occlusion.

``kernel_explorer`` convolves a real image with a 3x3 kernel the learner picks
or types, at a chosen stride and padding, and shows the output-size formula
with the numbers filled in. ``feature_map_explorer`` and ``occlusion_explorer``
look inside a trained torch CNN (``nnlib.models.cnn.build_cnn``); the notebook passes
the one it trained, and without one they train a small MNIST model once
(about 2 s) so that the benchmark and the tests can build them on their own.
"""

import functools

import numpy as np

from nnlib.convnet import KERNELS
from nnlib.display.plotting import DIVERGING_CMAP, PALETTE, new_figure
from nnlib.display.widgets import LiveView
from nnlib.layers import conv2d_forward, conv_output_size, unseen_size
from nnlib.models.cnn import feature_maps, occlusion_map

__all__ = ["kernel_explorer", "feature_map_explorer", "occlusion_explorer", "explorer_images",
           "conv_stack_explorer"]

_MAX_PADDING = 2


@functools.cache
def explorer_images():
    """A few real test images to convolve: name -> ``(28, 28)`` array in [0, 1]."""
    from nnlib.data import load_fashion_mnist, load_mnist

    mnist, fashion = load_mnist(), load_fashion_mnist()
    images = {}
    for ds, wanted in ((mnist, ("7", "2")), (fashion, ("Sneaker", "Trouser", "Bag"))):
        for name in wanted:
            k = ds.class_names.index(name)
            first = int(np.flatnonzero(ds.y_test == k)[0])
            label = f"digit {name}" if ds is mnist else name.lower()
            images[label] = ds.x_test[first]
    return images


def _output_formula(size, stride, padding, k=3):
    """The formula with numbers, and the size torch (and nnlib) use: rounded down."""
    exact = (size + 2 * padding - k) / stride + 1  # the unrounded value, shown in words
    text = f"({size} + 2·{padding} − {k}) / {stride} + 1 = {exact:g}"
    return text, conv_output_size(size, k, stride, padding), exact.is_integer()


def _never_seen(size, stride, padding, k=3):
    """What a stride that does not divide the size leaves out, in words; None if it divides.

    The kernel's last position ends at ``(out - 1) * stride + k``: the padded
    rows and columns past it are never seen (the image is square, so the rows
    and the columns alike). Say how many, and whether any of them are the
    image's own pixels or only padding zeros.
    """
    padded = size + 2 * padding
    unseen = unseen_size(size, k, stride, padding)
    if not unseen:
        return None
    what = "row and the last column are" if unseen == 1 else f"{unseen} rows and columns are"
    where = f"{size} pixels" + (f" with padding {padding} ({padded} in all)" if padding else "")
    own = unseen - padding
    if own <= 0:
        tail = (" (padding zeros only: every pixel of the image is still seen)"
                if padding else "")
    elif padding:
        tail = f" ({own} of them the image's own)"
    else:
        tail = ""
    return f"stride {stride} on {where}: the last {what} never seen{tail}"


def kernel_explorer():
    """Convolve a real image with a 3x3 kernel: pick a classic one or type your own.

    Controls: a preset menu (fills the nine kernel cells), the nine cells, the
    stride, the padding and the image. Left: the padded input, with the
    original image framed and the first three kernel positions outlined (they
    step by the stride). Middle: the kernel. Right: the output, its size from
    ``(size + 2·padding − kernel) / stride + 1``. Where that is not a whole
    number (the stride does not divide the size) the output is what torch and
    ``nnlib.layers.conv2d_forward`` compute: the size rounds down, the last rows
    and columns are never seen (shaded on the input), and the view says so
    ("stride 3 on 28 pixels: the last row and the last column are never seen").
    """
    import ipywidgets as W
    from matplotlib.patches import Rectangle

    images = explorer_images()
    fig, (ax_in, ax_k, ax_out) = new_figure(1, 3, figsize=(12, 4.3),
                                            gridspec_kw={"width_ratios": [1.1, 0.55, 1.1]})
    lim = (-_MAX_PADDING - 0.5, 28 + _MAX_PADDING - 0.5)
    padded_im = ax_in.imshow(np.zeros((28, 28)), cmap="gray_r", vmin=0, vmax=1,
                             interpolation="nearest")
    image_frame = ax_in.add_patch(Rectangle((-0.5, -0.5), 28, 28, fill=False,
                                            ec=PALETTE["sky"], lw=1.5, ls="--"))
    pad_frame = Rectangle((-0.5, -0.5), 28, 28, fill=False, ec="0.45", lw=1)
    ax_in.add_patch(pad_frame)
    windows = [Rectangle((0, 0), 3, 3, fill=False, ec=color, lw=2)
               for color in (PALETTE["vermillion"], PALETTE["orange"], PALETTE["green"])]
    for window in windows:
        ax_in.add_patch(window)
    # the rows and columns past the kernel's last position, shaded where the stride leaves
    # some out (hidden otherwise, so the default view draws nothing of them)
    unseen = [Rectangle((0, 0), 1, 1, fc="0.5", ec="none", alpha=0.45, hatch="//",
                        visible=False) for _ in range(2)]
    for band in unseen:
        ax_in.add_patch(band)
    ax_in.set(xlim=lim, ylim=lim[::-1])
    in_title = ax_in.set_title("")

    kernel_im = ax_k.imshow(np.zeros((3, 3)), cmap=DIVERGING_CMAP, vmin=-1, vmax=1)
    cell_text = [[ax_k.text(j, i, "", ha="center", va="center", fontsize=11)
                  for j in range(3)] for i in range(3)]
    ax_k.set_title("kernel $w$")

    out_im = ax_out.imshow(np.zeros((28, 28)), cmap=DIVERGING_CMAP, vmin=-1, vmax=1,
                           interpolation="nearest")
    out_title = ax_out.set_title("")
    for ax in (ax_in, ax_k, ax_out):
        ax.axis("off")
    formula = fig.supxlabel("output size", fontsize=11, family="monospace")

    def update(stride, padding, image, **cells):
        w = np.array([[cells[f"w{i}{j}"] for j in range(3)] for i in range(3)], dtype=float)
        x = images[image]
        text, size, whole = _output_formula(28, stride, padding)
        xp = np.pad(x, padding)
        # where the stride does not divide the size, conv2d_forward rounds down as torch does:
        # the rows and columns from `visited` on are never seen
        visited = (size - 1) * stride + 3
        out, _ = conv2d_forward(x[None, None], w[None, None], np.zeros(1), stride=stride,
                                padding=padding)
        out = out[0, 0]
        offset = -padding
        left_out = len(xp) - visited
        top, end = offset - 0.5, offset + len(xp) - 0.5
        unseen[0].set_bounds(end - left_out, top, left_out, len(xp))  # the last columns
        unseen[1].set_bounds(top, end - left_out, len(xp) - left_out, left_out)  # last rows
        for band in unseen:
            band.set_visible(left_out > 0)
        padded_im.set_data(xp)
        padded_im.set_extent((offset - 0.5, offset + len(xp) - 0.5, offset + len(xp) - 0.5,
                              offset - 0.5))
        for n, window in enumerate(windows):
            window.set_xy((offset + n * stride - 0.5, offset - 0.5))
            window.set_visible((n * stride + 3) <= len(xp))
        pad_frame.set_bounds(offset - 0.5, offset - 0.5, len(xp), len(xp))
        in_title.set_text(f"input 28×28 (dashed), padding {padding} → {len(xp)}×{len(xp)}\n"
                          f"first kernel positions, {stride} apart")
        kernel_im.set_data(w)
        scale = max(np.abs(w).max(), 1e-9)
        kernel_im.set_clim(-scale, scale)
        for i in range(3):
            for j in range(3):
                cell_text[i][j].set_text(f"{w[i, j]:.3g}")
                cell_text[i][j].set_color("white" if abs(w[i, j]) > 0.6 * scale else "black")
        out_im.set_data(out)
        # drawn at the input's scale (one cell per pixel), from under the centre of the first
        # kernel position: the output never looks larger than the input
        out_im.set_extent((offset + 0.5, offset + 0.5 + size, offset + 0.5 + size, offset + 0.5))
        ax_out.set(xlim=lim, ylim=lim[::-1])
        vmax = max(np.abs(out).max(), 1e-9)
        out_im.set_clim(-vmax, vmax)
        out_title.set_text(f"output {size}×{size} (stride {stride})")
        rounded = "" if whole else f", rounded down to {size}"
        formula.set_text(f"output size = (size + 2·padding − kernel) / stride + 1 = {text}"
                         f"{rounded}")
        if not whole:
            return (f"{_never_seen(28, stride, padding)}. {text} is not a whole number: "
                    f"conv2d_forward (like torch) rounds down to {size} positions, and no "
                    f"kernel position reaches the shaded band")
        return None

    cells = {f"w{i}{j}": W.BoundedFloatText(value=float(KERNELS["vertical edges (Sobel)"][i, j]),
                                            min=-9, max=9, step=0.1,
                                            layout=W.Layout(width="64px"))
             for i in range(3) for j in range(3)}
    style = {"description_width": "initial"}
    controls = {
        "stride": W.IntSlider(value=1, min=1, max=3, description="stride", style=style),
        "padding": W.IntSlider(value=0, min=0, max=_MAX_PADDING, description="padding",
                               style=style),
        "image": W.Dropdown(options=list(images), value="sneaker", description="image"),
        **cells,
    }
    preset = W.Dropdown(options=[*KERNELS, "custom"], value="vertical edges (Sobel)",
                        description="kernel", style=style)
    grid = W.GridBox(list(cells.values()),
                     layout=W.Layout(grid_template_columns="repeat(3, 66px)"))
    box = W.HBox([W.VBox([preset, controls["image"], controls["stride"], controls["padding"]]),
                  W.VBox([W.HTML("<b>kernel</b> (type any numbers)"), grid])])
    # Everything the controls move is redrawn over a saved copy of the rest (axes are off,
    # so nothing else changes): a stride or padding step costs what a kernel cell does.
    dynamic = [padded_im, image_frame, pad_frame, *windows, *unseen, in_title, kernel_im,
               *[t for row in cell_text for t in row], out_im, out_title, formula]
    view = LiveView(fig, update, controls, title="kernel explorer", dynamic=dynamic,
                    extra_widgets=[preset], control_box=box, image_format="jpeg")

    applying = []  # non-empty while a preset fills the cells

    def apply_preset(change):
        if change["new"] == "custom":
            return
        applying.append(True)
        try:
            with view.hold():
                for cell, value in zip(cells.values(), KERNELS[change["new"]].ravel()):
                    cell.value = float(value)
        finally:
            applying.clear()

    def typed(_change):  # a number typed by hand: the kernel is no longer the preset
        if not applying and preset.value != "custom":
            preset.value = "custom"

    preset.observe(apply_preset, names="value")
    for cell in cells.values():
        cell.observe(typed, names="value")
    return view


# --------------------------------------------------------------------------- trained CNN


@functools.cache
def _small_trained_cnn():
    """A small MNIST CNN for building the views without the notebook (about 2 s)."""
    from nnlib.data import load_mnist
    from nnlib.models.cnn import build_cnn
    from nnlib.models.training import train_classifier

    ds = load_mnist(dtype=np.float32)
    model = build_cnn(seed=0)
    train_classifier(model, ds.x_train[:3000, None], ds.y_train[:3000], epochs=2,
                     batch_size=128, lr=4e-3, device="cpu")
    return model, ds


def _model_and_data(model, dataset):
    if (model is None) != (dataset is None):
        raise ValueError("pass both the trained model and its dataset (or neither)")
    return _small_trained_cnn() if model is None else (model, dataset)


def _mosaic(maps, cols):
    """Tile ``(F, s, s)`` maps, each scaled to [0, 1] by its own maximum, into one image."""
    F, s, _ = maps.shape
    rows = -(-F // cols)
    tiles = np.full((rows * cols, s, s), np.nan)
    tiles[:F] = maps / np.maximum(maps.reshape(F, -1).max(axis=1), 1e-9)[:, None, None]
    return tiles.reshape(rows, cols, s, s).transpose(0, 2, 1, 3).reshape(rows * s, cols * s)


def feature_map_explorer(model=None, dataset=None, n_images=40):
    """What each convolution layer of a trained CNN responds to, for a chosen test image.

    Controls: the test image (one of the first ``n_images``) and the layer.
    Left: the image, with the network's prediction. Middle: the chosen
    layer's feature maps after the ReLU (conv 1: 8 maps of 28×28; conv 2: 32 of
    14×14), each scaled to its own maximum, bright where the filter fires.
    Right: the predicted class probabilities.
    """
    import ipywidgets as W

    from nnlib.models.training import predict_proba

    model, dataset = _model_and_data(model, dataset)
    x, y, names = dataset.x_test[:n_images], dataset.y_test[:n_images], dataset.class_names
    probs = predict_proba(model, x[:, None])
    fig, (ax_img, ax_maps, ax_p) = new_figure(1, 3, figsize=(12.5, 3.8),
                                              gridspec_kw={"width_ratios": [1, 2.4, 1.1]})
    img = ax_img.imshow(x[0], cmap="gray_r", vmin=0, vmax=1)
    ax_img.axis("off")
    img_title = ax_img.set_title("")
    sample = [_mosaic(m, cols=8 if len(m) > 8 else 4) for m in feature_maps(model, x[0])]
    maps_im = ax_maps.imshow(sample[0], cmap="magma", vmin=0, vmax=1, interpolation="nearest")
    ax_maps.axis("off")
    maps_title = ax_maps.set_title("")
    bars = ax_p.barh(np.arange(len(names)), np.zeros(len(names)), color=PALETTE["sky"])
    ax_p.set(yticks=np.arange(len(names)), yticklabels=names, xlim=(0, 1), title="prediction")
    ax_p.invert_yaxis()
    ax_p.tick_params(axis="y", labelsize=8)

    def update(image, layer):
        maps = feature_maps(model, x[image])
        index = 0 if layer == "conv 1" else len(maps) - 1
        chosen = maps[index]
        img.set_data(x[image])
        guess = int(probs[image].argmax())
        verdict = "right" if guess == y[image] else "WRONG"
        img_title.set_text(f"test image {image}: {names[y[image]]}\n"
                           f"predicted {names[guess]} ({verdict})")
        maps_im.set_data(_mosaic(chosen, cols=8 if len(chosen) > 8 else 4))
        maps_title.set_text(f"{layer}: {len(chosen)} feature maps of "
                            f"{chosen.shape[1]}×{chosen.shape[2]} (after ReLU)")
        for k, bar in enumerate(bars):
            bar.set_width(probs[image, k])
            bar.set_color(PALETTE["blue"] if k == y[image] else PALETTE["sky"])
        return None

    controls = {
        "image": W.IntSlider(value=0, min=0, max=len(x) - 1, description="test image"),
        "layer": W.ToggleButtons(options=["conv 1", "conv 2"], value="conv 1",
                                 description="layer"),
    }
    dynamic = [img, img_title, maps_im, maps_title, *bars]
    return LiveView(fig, update, controls, title="feature maps", dynamic=dynamic)


def occlusion_explorer(model=None, dataset=None, n_images=40, stride=2):
    """Hide part of the image: how much does the network still believe in the right class?

    Controls: the test image, the size of the patch and its position. The view
    starts at the test image whose most harmful 8x8 patch costs the most.
    Left: the image with the patch (its pixels set to 0, the background).
    Middle: the probability of the true class for the patch at every position
    (computed once per image and patch size, all positions in one batch): dark
    where hiding the pixels hurts, which is where the network looks. Right: all
    class probabilities with the patch where it is now.
    """
    import ipywidgets as W
    from matplotlib.patches import Rectangle

    from nnlib.models.training import predict_proba

    model, dataset = _model_and_data(model, dataset)
    x, y, names = dataset.x_test[:n_images], dataset.y_test[:n_images], dataset.class_names
    full = predict_proba(model, x[:, None])
    cache = {}

    def heat(image, patch):
        key = (image, patch)
        if key not in cache:
            cache[key] = occlusion_map(model, x[image], int(y[image]), patch=patch,
                                       stride=stride)
        return cache[key]

    fig, (ax_img, ax_map, ax_p) = new_figure(1, 3, figsize=(12.5, 3.9),
                                             gridspec_kw={"width_ratios": [1, 1.2, 1.1]})
    img = ax_img.imshow(x[0], cmap="gray_r", vmin=0, vmax=1)
    box = Rectangle((0, 0), 1, 1, fill=False, ec=PALETTE["vermillion"], lw=2)
    ax_img.add_patch(box)
    ax_img.axis("off")
    img_title = ax_img.set_title("")
    heat_im = ax_map.imshow(np.zeros((2, 2)), cmap="viridis", vmin=0, vmax=1,
                            interpolation="nearest", extent=(-0.5, 27.5, 27.5, -0.5))
    marker = Rectangle((0, 0), 1, 1, fill=False, ec=PALETTE["vermillion"], lw=2)
    ax_map.add_patch(marker)
    ax_map.set(xlim=(-0.5, 27.5), ylim=(27.5, -0.5))
    ax_map.axis("off")
    map_title = ax_map.set_title("")
    fig.colorbar(heat_im, ax=ax_map, fraction=0.046, pad=0.03,
                 label="P(true class), patch centred here")
    bars = ax_p.barh(np.arange(len(names)), np.zeros(len(names)), color=PALETTE["sky"])
    ax_p.set(yticks=np.arange(len(names)), yticklabels=names, xlim=(0, 1),
             title="prediction with the patch")
    ax_p.invert_yaxis()
    ax_p.tick_params(axis="y", labelsize=8)

    def update(image, patch, row, col):
        probs_map, corners = heat(image, patch)
        # the patch's top-left corner, snapped to the grid the map was computed on
        r = corners[np.abs(corners - min(row, 28 - patch)).argmin()]
        c = corners[np.abs(corners - min(col, 28 - patch)).argmin()]
        hidden = x[image].copy()
        hidden[r:r + patch, c:c + patch] = 0.0
        p = predict_proba(model, hidden[None, None])[0]
        img.set_data(hidden)  # what the network sees: the patch set to 0, the background
        box.set_bounds(c - 0.5, r - 0.5, patch, patch)
        marker.set_bounds(c - 0.5, r - 0.5, patch, patch)
        # each map cell sits at its patch's centre
        half = (patch - 1) / 2
        step = corners[1] - corners[0] if len(corners) > 1 else 1
        heat_im.set_data(probs_map)
        heat_im.set_extent((corners[0] + half - step / 2, corners[-1] + half + step / 2,
                            corners[-1] + half + step / 2, corners[0] + half - step / 2))
        truth = int(y[image])
        verdict = "right" if full[image].argmax() == truth else "WRONG"
        img_title.set_text(f"{names[truth]} ({verdict} without the patch)\n"
                           f"P({names[truth]}) = {p[truth]:.2f} with the patch")
        map_title.set_text(f"lowest P({names[truth]}) = {probs_map.min():.2f}")
        for k, bar in enumerate(bars):
            bar.set_width(p[k])
            bar.set_color(PALETTE["blue"] if k == truth else PALETTE["sky"])
        return None

    drops = [full[k, y[k]] - heat(k, 8)[0].min() for k in range(len(x))]
    controls = {
        "image": W.IntSlider(value=int(np.argmax(drops)), min=0, max=len(x) - 1,
                             description="test image"),
        "patch": W.IntSlider(value=8, min=2, max=14, step=2, description="patch size"),
        "row": W.IntSlider(value=10, min=0, max=27, description="patch row"),
        "col": W.IntSlider(value=10, min=0, max=27, description="patch column"),
    }
    dynamic = [img, box, img_title, heat_im, marker, map_title, *bars]
    return LiveView(fig, update, controls, title="occlusion", dynamic=dynamic)


def conv_stack_explorer(model=None, dataset=None, n_images=40):
    """The trained CNN's architecture, with what each layer makes of a chosen test image.

    The diagram of ``nnlib.display.diagrams.conv_stack``, its shapes traced from the model
    (``nnlib.models.cnn.layer_shapes``); the slider picks one of the first ``n_images`` test
    images, drawn in place of the input block. Under each layer: the root mean square of
    its output for that image (how strongly the layer responds), and below the predicted
    class. All layers' outputs are computed once, when the view is built.
    """
    import ipywidgets as W

    from nnlib.display.diagrams import conv_stack
    from nnlib.models.cnn import layer_outputs

    model, dataset = _model_and_data(model, dataset)
    x, y, names = dataset.x_test[:n_images], dataset.y_test[:n_images], dataset.class_names
    outputs = layer_outputs(model, x)
    rows = [(name, out.shape[1:]) for name, out in outputs]
    rms = np.stack([np.sqrt(np.mean(out.reshape(len(x), -1) ** 2, axis=1))
                    for _, out in outputs], axis=1)  # (images, layers)
    guesses = outputs[-1][1].argmax(axis=1)
    fig, handles = conv_stack(rows)
    ax = handles["ax"]
    input_box = handles["boxes"][0]
    input_box.set_visible(False)
    bounds = input_box.get_bbox().bounds  # x, y, width, height in data coordinates
    inset = ax.inset_axes(bounds, transform=ax.transData)
    inset.set_axis_off()
    img = inset.imshow(x[0], cmap="gray_r", vmin=0, vmax=1)
    ax.set_ylim(bottom=-2.45)  # room for the verdict
    verdict = ax.text(ax.get_xlim()[0] + 0.3, -2.4, "", ha="left", va="bottom", fontsize=10)

    def update(image):
        k = int(min(max(image, 0), len(x) - 1))
        img.set_data(x[k])
        for text, value in zip(handles["values"], rms[k]):
            text.set_text(f"rms {value:.2f}")
        guess = int(guesses[k])
        verdict.set_text(f"test image {k}: {names[y[k]]}; predicted {names[guess]} "
                         f"({'right' if guess == y[k] else 'WRONG'})")

    controls = {"image": W.IntSlider(value=0, min=0, max=len(x) - 1, description="test image")}
    dynamic = [img, verdict, *handles["values"]]
    return LiveView(fig, update, controls, title="CNN layers", dynamic=dynamic)
