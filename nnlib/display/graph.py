"""Drawing a computation graph of ``nnlib.autograd.Value`` nodes (notebook 04).

``draw_graph(root)`` lays the graph out left to right, inputs first (a small layered
layout: layers, waypoints for long edges, barycentre ordering, then positions
that keep the boxes apart), and draws one box per value with its data and gradient
and one circle per operation. It reads only ``Value``'s public attributes
(``data``, ``grad``, ``label``, ``parents``, ``op``) and ``root.graph()``.
"""


__all__ = ["draw_graph"]


def _layout(order):
    """A layered left-to-right layout for ``draw_graph`` (the Sugiyama recipe, kept small).

    1. Layers: the output sits one layer right of its deepest input; every other
       value sits just left of its first use, so that constants and side branches
       do not pile up on the left, far from where they are needed.
    2. An edge that skips layers gets a waypoint in each layer it crosses, so that
       it runs between boxes instead of through them.
    3. Order within each layer: a few sweeps that sort every node by the mean
       position of its neighbours (the barycentre heuristic), keeping the order
       with the fewest crossings.

    Returns ``(layers, edges, up, down)``: ``layers`` lists each layer's items top
    to bottom, an item being a node or a waypoint (a tuple ``("via", edge, layer)``);
    ``edges`` lists ``(parent, child, waypoints)``, one per input of every
    operation; ``up`` and ``down`` map an item's key (``id(node)`` or the
    waypoint) to its neighbours' keys in the layer before and after.
    """
    ids = {id(node): node for node in order}
    children = {}
    for node in order:
        for parent in node.parents:
            children.setdefault(id(parent), []).append(node)
    depth = {}
    for node in order:  # parents come first in ``order``
        depth[id(node)] = 1 + max((depth[id(p)] for p in node.parents), default=-1)
    for node in reversed(order):  # then as late as possible: next to its first use
        uses = [depth[id(c)] for c in children.get(id(node), ())]
        if uses:
            depth[id(node)] = min(uses) - 1
    lowest = min(depth.values())
    n_layers = max(depth.values()) - lowest + 1
    layers = [[] for _ in range(n_layers)]
    for node in order:
        depth[id(node)] -= lowest
        layers[depth[id(node)]].append(id(node))
    edges, links = [], []  # links: (upper layer item, lower layer item) between adjacent layers
    for node in order:
        for parent in node.parents:  # a * a has two inputs, and gets two arrows
            e = len(edges)
            chain = [id(parent)]
            for layer in range(depth[id(parent)] + 1, depth[id(node)]):
                via = ("via", e, layer)
                layers[layer].append(via)
                chain.append(via)
            chain.append(id(node))
            links += list(zip(chain[:-1], chain[1:]))
            edges.append((parent, node, chain[1:-1]))
    layer_of = {item: k for k, items in enumerate(layers) for item in items}
    up, down = {}, {}
    for a, b in links:
        down.setdefault(a, []).append(b)
        up.setdefault(b, []).append(a)

    def crossings(layers):
        rank = {item: i for items in layers for i, item in enumerate(items)}
        total = 0
        for k in range(len(layers) - 1):
            pairs = [(rank[a], rank[b]) for a, b in links if layer_of[a] == k]
            total += sum(1 for i, (a1, b1) in enumerate(pairs) for a2, b2 in pairs[i + 1:]
                         if (a1 - a2) * (b1 - b2) < 0)
        return total

    def sweep(layers, indices, neighbours):
        layers = [list(items) for items in layers]
        for k in indices:
            rank = {item: i for items in layers for i, item in enumerate(items)}
            old = {item: i for i, item in enumerate(layers[k])}

            def key(item, rank=rank, old=old):
                near = [rank[n] for n in neighbours.get(item, ()) if n in rank]
                return (sum(near) / len(near) if near else old[item], old[item])

            layers[k].sort(key=key)
        return layers

    best, best_crossings = layers, crossings(layers)
    for _ in range(6):
        for indices, neighbours in ((range(1, n_layers), up),
                                    (range(n_layers - 2, -1, -1), down)):
            layers = sweep(layers, indices, neighbours)
            count = crossings(layers)
            if count < best_crossings:
                best, best_crossings = layers, count
        if best_crossings == 0:
            break
    layers = [[ids.get(item, item) if not isinstance(item, tuple) else item for item in items]
              for items in best]
    return layers, edges, up, down


def _isotonic_positions(desired, gaps):
    """Positions closest to ``desired`` (least squares) with ``pos[i+1] - pos[i] >= gaps[i]``."""
    offsets = [0.0]
    for gap in gaps:
        offsets.append(offsets[-1] + gap)
    # Pool adjacent violators on desired - offset, which must be non-decreasing.
    blocks = []  # [mean, weight]
    for value in (d - o for d, o in zip(desired, offsets)):
        blocks.append([value, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2 = blocks.pop()
            v1, w1 = blocks.pop()
            blocks.append([(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2])
    fitted = [value for value, weight in blocks for _ in range(weight)]
    return [f + o for f, o in zip(fitted, offsets)]


def draw_graph(root, ax=None, show_grad=True, highlight=None):
    """Draw the computation graph that produced ``root``, left to right.

    Each value is a rounded box with its label, data and (if ``show_grad``)
    gradient; the operation that made it sits in a circle just left of its box;
    one arrow per input runs from the right edge of the input's box to the
    operation's circle. The layout is layered (see ``_layout``): inputs on the
    left, ``root`` on the right, the order within each column chosen to avoid
    crossing arrows. Values named in ``highlight`` (a set of Values) get an
    orange box.

    Returns the matplotlib ``Figure``.
    """
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path

    from nnlib.display.plotting import PALETTE, new_figure

    order = root.graph()
    layers, edges, up, down = _layout(order)
    highlight = {id(v) for v in (highlight or ())}

    # Sizes in layout units (inches at full scale) of 9 pt monospace text in a padded box:
    # a character is 0.6 em wide, a line 1.3 em high, the box adds 0.3 em on each side.
    em = 9 / 72
    char_w, line_h, box_pad, circle_pad = 0.6 * em, 1.3 * em, 0.3 * em, 0.25 * em
    texts = {}
    for node in order:
        lines = [f"{node.label + ' = ' if node.label else ''}{node.data:.4g}"]
        if show_grad:
            lines.append(f"grad {node.grad:.4g}")
        texts[id(node)] = "\n".join(lines)
    box_w = {k: max(map(len, t.split("\n"))) * char_w + 2 * box_pad for k, t in texts.items()}
    box_h = {k: (t.count("\n") + 1) * line_h + 2 * box_pad for k, t in texts.items()}
    # A circle box is round around the padded text: its radius is half the larger side.
    radius = {id(n): (max(len(n.op) * char_w, 1.02 * em) + 2 * circle_pad) / 2
              for n in order if n.op}
    gap_x, gap_y, via_h, link = 0.55, 0.22, 0.06, 0.08

    def key(item):
        return item if isinstance(item, tuple) else id(item)

    # Columns: a circle zone (if any node in the layer has an operation), then the boxes.
    col_left, circle_zone, col_width = [], [], []
    x = 0.0
    for items in layers:
        nodes = [i for i in items if not isinstance(i, tuple)]
        zone = 2 * max((radius.get(id(n), 0.0) for n in nodes), default=0.0)
        zone += link if zone else 0.0
        col_left.append(x)
        circle_zone.append(zone)
        col_width.append(zone + max((box_w[id(n)] for n in nodes), default=0.3))
        x += col_width[-1] + gap_x
    total_w = x - gap_x

    # Rows: start evenly spaced, then pull each item towards its neighbours' mean height
    # (keeping the order and the minimum gaps), sweeping left to right and back.
    def height(item):
        if isinstance(item, tuple):
            return via_h
        return max(box_h[id(item)], 2 * radius.get(id(item), 0.0))

    y = {}
    for items in layers:
        gaps = [(height(a) + height(b)) / 2 + gap_y for a, b in zip(items, items[1:])]
        start = -sum(gaps) / 2
        for item, pos in zip(items, _isotonic_positions([start] * len(items), gaps)):
            y[key(item)] = pos
    for _ in range(12):
        for indices in (range(len(layers)), range(len(layers) - 1, -1, -1)):
            for k in indices:
                items = layers[k]
                desired = []
                for item in items:
                    near = [y[n] for n in (*up.get(key(item), ()), *down.get(key(item), ()))]
                    desired.append(sum(near) / len(near) if near else y[key(item)])
                gaps = [(height(a) + height(b)) / 2 + gap_y for a, b in zip(items, items[1:])]
                for item, pos in zip(items, _isotonic_positions(desired, gaps)):
                    y[key(item)] = pos
    y = {k: -v for k, v in y.items()}  # first item on top
    top = max(y[key(i)] + height(i) / 2 for items in layers for i in items)
    bottom = min(y[key(i)] - height(i) / 2 for items in layers for i in items)

    margin = 0.25
    width_in, height_in = total_w + 2 * margin, top - bottom + 2 * margin
    if ax is None:
        scale = min(1.0, 15 / width_in, 10 / height_in)
        fig, ax = new_figure(figsize=(width_in * scale, height_in * scale))
        fig.set_layout_engine("none")
        ax.set_position([0, 0, 1, 1])
    else:
        bbox = ax.get_position()
        fig_w, fig_h = ax.figure.get_size_inches()
        scale = min(1.0, bbox.width * fig_w / width_in, bbox.height * fig_h / height_in)
        ax.set_aspect("equal", adjustable="box")
    fig = ax.figure
    ax.set_xlim(-margin, total_w + margin)
    ax.set_ylim(bottom - margin, top + margin)
    ax.axis("off")
    fontsize = 9 * scale  # text shrinks with the figure, so it keeps fitting its box

    layer_of, box_left, circle_x = {}, {}, {}
    for k, items in enumerate(layers):
        for item in items:
            if isinstance(item, tuple):
                continue
            layer_of[id(item)] = k
            left = col_left[k] + circle_zone[k]
            box_left[id(item)] = left
            yc = y[id(item)]
            face = PALETTE["orange"] if id(item) in highlight else "white"
            ax.text(left + box_w[id(item)] / 2, yc, texts[id(item)], ha="center", va="center",
                    fontsize=fontsize, family="monospace", zorder=3,
                    bbox={"boxstyle": "round,pad=0.3", "facecolor": face, "edgecolor": "0.3"})
            if item.op:
                cx = left - link - radius[id(item)]
                circle_x[id(item)] = cx
                ax.text(cx, yc, item.op, ha="center", va="center", fontsize=fontsize,
                        family="monospace", zorder=3,
                        bbox={"boxstyle": "circle,pad=0.25", "facecolor": PALETTE["sky"],
                              "edgecolor": "0.3"})
                ax.plot([cx + radius[id(item)], left], [yc, yc], color="0.35", lw=1.2,
                        zorder=2)

    # Where arrows leave a box (fanned along its right edge) and reach a circle.
    outgoing, incoming = {}, {}
    for e, (parent, child, vias) in enumerate(edges):
        first = vias[0] if vias else id(child)
        last = vias[-1] if vias else id(parent)
        outgoing.setdefault(id(parent), []).append((y[first], e))
        incoming.setdefault(id(child), []).append((y[last], e))
    start_y, end_y = {}, {}
    for store, table in ((outgoing, start_y), (incoming, end_y)):
        for k, uses in store.items():
            uses.sort(key=lambda use: -use[0])  # top to bottom
            span = 0.3 * box_h[k] if store is outgoing else 1.1 * radius[k]
            for i, (_, e) in enumerate(uses):
                frac = 0.0 if len(uses) == 1 else 0.5 - i / (len(uses) - 1)
                table[e] = y[k] + frac * span
    for e, (parent, child, vias) in enumerate(edges):
        k_parent = layer_of[id(parent)]
        x0 = box_left[id(parent)] + box_w[id(parent)]
        points = [(x0, start_y[e]), (col_left[k_parent] + col_width[k_parent], start_y[e])]
        for via in vias:
            k = via[2]
            points += [(col_left[k], y[via]), (col_left[k] + col_width[k], y[via])]
        r, dy = radius[id(child)], end_y[e] - y[id(child)]
        end = (circle_x[id(child)] - (r * r - dy * dy) ** 0.5, end_y[e])
        # Straight runs inside columns, horizontal-tangent curves across the gaps.
        vertices, codes = [points[0]], [Path.MOVETO]
        for i, (px, py) in enumerate(points[1:] + [end]):
            qx, qy = vertices[-1]
            if i % 2 == 0:  # within a column
                vertices.append((px, py))
                codes.append(Path.LINETO)
            else:  # across a gap
                mid = (qx + px) / 2
                vertices += [(mid, qy), (mid, py), (px, py)]
                codes += [Path.CURVE4] * 3
        ax.add_patch(FancyArrowPatch(path=Path(vertices, codes), arrowstyle="-|>",
                                     mutation_scale=9 * scale, color="0.45", lw=1, zorder=1))
    return fig
