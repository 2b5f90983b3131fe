"""A neural-network playground in the spirit of TensorFlow Playground, inside Jupyter.

A small MLP (``nnlib.mlp.MLP``, numpy, forward and backward from the layer
pairs) learns to separate two classes of points in the plane while you watch:

* left, the network: one thumbnail per neuron showing its output over the
  plane, joined by lines whose width is the weight's size and whose colour its
  sign (blue positive, orange negative);
* middle, the decision heatmap: the predicted probability of the blue class,
  with the training points (filled) and the validation points (hollow);
* right, the training and validation loss (cross-entropy) per epoch.

Unlike TensorFlow Playground it trains on cross-entropy rather than squared
error, and it has dropout and a choice of optimizer. Controls that change the
data or the network's shape rebuild it; the learning rate, the penalties, the
dropout rate, the batch size and the optimizer act from the next step on.

``playground_data`` makes the four data sets, scaled into [-1, 1]^2, for the
experiments of the regularization notebook.
"""

from types import SimpleNamespace

import numpy as np

from nnlib.data.toy import DATASETS, playground_data
from nnlib.display.plotting import PALETTE, class_cmap, new_figure
from nnlib.display.widgets import TrainerView
from nnlib.mlp import MLP
from nnlib.optim import make_optimizer

__all__ = ["playground", "PENALTY_STRENGTHS"]

ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
OPTIMIZER_CHOICES = ("SGD", "momentum", "Adam")
PENALTY_STRENGTHS = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1)
BATCH_SIZES = (1, 4, 10, 30, 100)
MAX_DEPTH, MAX_WIDTH = 8, 8
PLANE = 1.5  # the data lie in [-1, 1]^2; the heatmap shows a margin around them
GRID = 50  # heatmap resolution; the thumbnails use every other grid point
THUMB = GRID // 2  # thumbnail size in pixels of the network mosaic
COLUMN_PITCH, ROW_PITCH = 44, 31  # mosaic pixels from one thumbnail to the next
MAX_STEPS_PER_FRAME = 25  # keeps a frame under the 100 ms budget with batch size 1
DIVERGED = 1e4  # a cross-entropy this large (chance is 0.69) means training blew up
UNSTABLE = 2.0  # three times chance after an epoch: the steps overshoot


def _controls():
    import ipywidgets as W

    style = {"description_width": "initial"}

    def lay(width):
        return W.Layout(width=width)

    return {
        "dataset": W.Dropdown(options=DATASETS, value="circles", description="data",
                              layout=lay("160px"), style=style),
        "noise": W.FloatSlider(value=0.1, min=0.0, max=0.5, step=0.05, description="noise",
                               layout=lay("230px"), style=style),
        "train_share": W.IntSlider(value=50, min=10, max=90, step=10,
                                   description="train share %", layout=lay("260px"),
                                   style=style),
        "depth": W.IntSlider(value=2, min=1, max=MAX_DEPTH, description="hidden layers",
                             layout=lay("260px"), style=style),
        "width": W.IntSlider(value=4, min=1, max=MAX_WIDTH, description="neurons per layer",
                             layout=lay("280px"), style=style),
        "activation": W.Dropdown(options=ACTIVATIONS, value="tanh", description="activation",
                                 layout=lay("190px"), style=style),
        "optimizer": W.Dropdown(options=OPTIMIZER_CHOICES, value="SGD",
                                description="optimizer", layout=lay("190px"), style=style),
        "lr": W.FloatLogSlider(value=0.1, base=10, min=-4, max=1, step=0.25,
                               description="learning rate", readout_format=".2g",
                               layout=lay("290px"), style=style),
        "batch_size": W.SelectionSlider(options=BATCH_SIZES, value=10, description="batch size",
                                        layout=lay("250px"), style=style),
        "l1": W.SelectionSlider(options=PENALTY_STRENGTHS, value=0.0, description="L1",
                                layout=lay("230px"), style=style),
        "l2": W.SelectionSlider(options=PENALTY_STRENGTHS, value=0.0, description="L2",
                                layout=lay("230px"), style=style),
        "dropout": W.FloatSlider(value=0.0, min=0.0, max=0.9, step=0.1, description="dropout",
                                 layout=lay("230px"), style=style),
        "show_validation": W.Checkbox(value=True, description="show validation points",
                                      indent=False, layout=lay("200px")),
    }


RESET_CONTROLS = ("dataset", "noise", "train_share", "depth", "width", "activation")


def _network_layout(depth, width):
    """Lower-left pixel of each neuron's thumbnail in the mosaic, per column; and its size."""
    rows = max(width, 2)
    columns = [[(0, (rows - 2) * ROW_PITCH // 2 + (1 - k) * ROW_PITCH) for k in range(2)]]
    for layer in range(1, depth + 1):
        columns.append([(layer * COLUMN_PITCH, (width - 1 - k) * ROW_PITCH + (rows - width)
                         * ROW_PITCH // 2) for k in range(width)])
    size = (depth * COLUMN_PITCH + THUMB, (rows - 1) * ROW_PITCH + THUMB)  # (x, y) pixels
    return columns, size


def playground():
    """The playground: pick data and a network, press play, and watch it learn.

    Controls: data set, noise, share of points used for training, hidden layers,
    neurons per layer, activation, optimizer, learning rate, batch size, L1 and
    L2 strength, dropout, and whether to show the validation points. Press
    "reset" for a fresh initialization (a new seed each time).
    """
    fig, (ax_net, ax_map, ax_loss) = new_figure(
        1, 3, figsize=(13.5, 4.9), gridspec_kw={"width_ratios": [1.35, 1.05, 1.0]})
    cmap = class_cmap()
    ticks = np.linspace(-PLANE, PLANE, GRID)
    g1, g2 = np.meshgrid(ticks, ticks)
    grid = np.column_stack([g1.ravel(), g2.ravel()])  # (GRID^2, 2)
    thumb = slice(None, None, 2)

    # Network panel: one mosaic image holds every neuron's thumbnail (one image draws far
    # faster than dozens); NaN pixels between thumbnails are transparent, so the weight
    # lines drawn underneath show through.
    ax_net.set_title("Network: each square is one neuron's output")
    ax_net.axis("off")
    net_cmap = class_cmap().with_extremes(bad=(1, 1, 1, 0))
    mosaic = ax_net.imshow(np.full((2, 2), np.nan), cmap=net_cmap, vmin=-1, vmax=1,
                           origin="lower", zorder=3, interpolation="nearest")
    from matplotlib.collections import LineCollection

    edges = LineCollection([], zorder=1)
    ax_net.add_collection(edges)
    input_labels = [ax_net.text(0, 0, name, ha="right", va="center", fontsize=11)
                    for name in ("$x_1$", "$x_2$")]

    heat = ax_map.imshow(np.zeros((GRID, GRID)), cmap=cmap, vmin=0, vmax=1, origin="lower",
                         extent=(-PLANE, PLANE, -PLANE, PLANE), alpha=0.9)
    colors = np.array([PALETTE["orange"], PALETTE["blue"]])
    train_dots = ax_map.scatter([], [], s=22, edgecolors="white", linewidths=0.6, zorder=3)
    val_dots = ax_map.scatter([], [], s=22, facecolors="none", linewidths=1.2, zorder=3)
    ax_map.set(xlim=(-PLANE, PLANE), ylim=(-PLANE, PLANE), aspect="equal",
               xlabel="$x_1$", ylabel="$x_2$", title="Output: P(blue class)")
    fig.colorbar(heat, ax=ax_map, shrink=0.8, ticks=[0, 0.5, 1])

    (train_line,) = ax_loss.plot([], [], color=PALETTE["blue"], lw=2, label="training loss")
    (val_line,) = ax_loss.plot([], [], color=PALETTE["vermillion"], lw=2,
                               label="validation loss")
    ax_loss.axhline(np.log(2), color="0.5", ls=":", lw=1.2, label="chance (ln 2)")
    ax_loss.set(ylim=(0, 1.0), xlabel="epoch", ylabel="cross-entropy (nats)",
                title="Loss")
    ax_loss.legend(loc="upper right", fontsize=9)
    readout = ax_loss.text(0.03, 0.03, "", transform=ax_loss.transAxes, fontsize=9,
                           family="monospace", va="bottom", zorder=5,
                           bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "0.7"})

    state = SimpleNamespace(resets=0)

    def reset(dataset, noise, train_share, depth, width, activation, **_):
        seed = state.resets  # 0 on the first build: the notebook's output is reproducible
        state.resets += 1
        X, y = playground_data(dataset, noise, seed=0)
        n_train = round(len(X) * train_share / 100)
        state.x_train, state.y_train = X[:n_train], y[:n_train]
        state.x_val, state.y_val = X[n_train:], y[n_train:]
        state.model = MLP([2] + [width] * depth + [2], activation=activation, seed=seed)
        state.rng = np.random.default_rng(seed)
        state.optimizer, state.optimizer_key = None, None
        state.order, state.cursor, state.seen = np.arange(n_train), n_train, 0
        state.epochs, state.train_loss, state.val_loss = [0.0], [], []
        state.diverged = False
        _record()
        # Layout of this network's thumbnails and weight lines.
        state.columns, (width_px, height_px) = _network_layout(depth, width)
        state.canvas = np.full((height_px, width_px), np.nan)
        mosaic.set_extent((0, width_px, 0, height_px))
        ax_net.set(xlim=(-18, width_px + 4), ylim=(-4, height_px + 4), aspect="equal")
        for label, (x, y) in zip(input_labels, state.columns[0]):
            label.set_position((x - 4, y + THUMB / 2))
        segments = []
        for left, right in zip(state.columns[:-1], state.columns[1:]):
            for x0, y0 in left:
                for x1, y1 in right:
                    segments.append([(x0 + THUMB, y0 + THUMB / 2), (x1, y1 + THUMB / 2)])
        edges.set_segments(segments)
        train_dots.set_offsets(state.x_train)
        train_dots.set_facecolors(colors[state.y_train])
        val_dots.set_offsets(state.x_val)
        val_dots.set_edgecolors(colors[state.y_val])

    def _record():
        with np.errstate(all="ignore"):
            train = state.model.evaluate(state.x_train, state.y_train)
            val = state.model.evaluate(state.x_val, state.y_val)
        state.train_loss.append(train)
        state.val_loss.append(val)
        if not (train < DIVERGED):
            state.diverged = True

    def step(optimizer, lr, batch_size, l1, l2, dropout, **_):
        if state.diverged:
            return
        model = state.model
        model.dropout = dropout
        if state.optimizer_key != optimizer:  # a new optimizer starts with fresh state
            state.optimizer = make_optimizer(optimizer, model.params, lr)
            state.optimizer_key = optimizer
        state.optimizer.lr = lr
        n = len(state.x_train)
        size = min(batch_size, n)
        with np.errstate(all="ignore"):
            for _ in range(min(max(n // size, 1), MAX_STEPS_PER_FRAME)):
                if state.cursor + size > n:  # a new epoch: reshuffle
                    state.order, state.cursor = state.rng.permutation(n), 0
                batch = state.order[state.cursor:state.cursor + size]
                state.cursor += size
                state.seen += size
                loss, grads = model.loss(state.x_train[batch], state.y_train[batch], l1=l1, l2=l2)
                if not loss < DIVERGED:
                    state.diverged = True
                    break
                state.optimizer.step(grads)
        state.epochs.append(state.seen / n)
        _record()

    def x_limit():
        limit = 10
        while limit < state.epochs[-1]:
            limit *= 2
        return limit

    def update(show_validation, lr, l1, l2, dropout, optimizer, batch_size, **_):
        model = state.model
        with np.errstate(all="ignore"):
            acts = model.hidden_activations(grid)
            probs = model.predict_proba(grid)[:, 1]
        heat.set_data(np.nan_to_num(probs, nan=0.5).reshape(GRID, GRID))
        centre = 0.5 if model.activation == "sigmoid" else 0.0
        for column, values in zip(state.columns, [grid] + acts):
            offset = centre if column is not state.columns[0] else 0.0  # inputs: centred on 0
            for (x, y), a in zip(column, values.T):
                a = np.nan_to_num(a.reshape(GRID, GRID)[thumb, thumb] - offset)
                scale = np.abs(a).max()
                state.canvas[y:y + THUMB, x:x + THUMB] = a / scale if scale > 1e-12 else a
        mosaic.set_data(state.canvas)
        weights = [model.params[f"w{i}"].ravel() for i in range(1, model.n_layers)]
        flat = np.nan_to_num(np.concatenate(weights))  # in the order of the edge segments
        thickest = 3.2 * 4 / max(4, len(state.columns), len(state.columns[-1]))  # crowded: thinner
        edges.set_linewidths(0.3 + thickest * np.abs(flat) / max(np.abs(flat).max(), 1e-12))
        edges.set_colors(colors[(flat > 0).astype(int)])
        limit = x_limit()
        ax_loss.set_xlim(0, limit)
        show = np.isfinite
        train_line.set_data(state.epochs, np.where(show(state.train_loss), state.train_loss, 9))
        val_line.set_data(state.epochs, np.where(show(state.val_loss), state.val_loss, 9))
        val_dots.set_visible(show_validation)
        gap = state.val_loss[-1] - state.train_loss[-1]
        readout.set_text(
            f"epoch {state.epochs[-1]:6.1f}   {optimizer} lr {lr:.2g}  batch {batch_size}\n"
            f"train {state.train_loss[-1]:.3f}  val {state.val_loss[-1]:.3f}  gap {gap:+.3f}\n"
            f"L1 {l1:g}  L2 {l2:g}  dropout {dropout:.1f}")
        if state.diverged:
            return (f"Diverged at epoch {state.epochs[-1]:.1f}: the loss blew up. Lower the "
                    "learning rate, then press reset.")
        if state.epochs[-1] >= 1 and state.train_loss[-1] > UNSTABLE:
            return (f"Unstable: the training loss ({state.train_loss[-1]:.3g}) is far above "
                    "chance (ln 2 = 0.69), so the steps overshoot. Lower the learning rate "
                    "(or the dropout), then press reset.")
        if state.epochs[-1] >= 100 and state.train_loss[-1] > 0.6:
            return ("Training is stuck near chance: try another learning rate, a wider or "
                    "shallower network, or tanh/relu instead of sigmoid.")
        return None

    dynamic = [mosaic, edges, heat, train_dots, val_dots, train_line, val_line, readout]
    view = TrainerView(fig, update, _controls(), step=step, reset=reset,
                       reset_controls=RESET_CONTROLS, title="neural-network playground",
                       dynamic=dynamic, static_controls=("depth", "width"), static_key=x_limit)
    view.state = state  # the model, the data and the loss history, for experiments and tests
    return view
