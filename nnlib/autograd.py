"""A scalar autograd engine: every number remembers how it was made.

Each operation on ``Value`` objects returns a new ``Value`` that records its
inputs (``parents``) and a small function that, given the output's gradient,
adds the local chain-rule terms into the inputs' gradients. ``backward()``
orders the graph so that every node comes after everything it feeds, then runs
those functions from the output back to the leaves::

    a, b = Value(2.0, "a"), Value(-3.0, "b")
    c = a * b + a          # c.data == -4.0
    c.backward()           # a.grad == b + 1 == -2.0, b.grad == a == 2.0

Gradients accumulate with ``+=`` because a value used twice (``a`` above) gets
a contribution from each use. ``backward()`` first sets every gradient in the
graph to zero, so calling it again, or on a new graph that shares leaves with
an old one, gives the same answer (micrograd's engine forgets this).

``draw_graph(root)`` draws the graph with matplotlib: one box per value with
its data and gradient, one circle per operation. Tested against
``torch.autograd`` on random expressions (tests/test_autograd.py).
"""

import math
import numbers

__all__ = ["Value", "draw_graph"]


class Value:
    """A scalar, its gradient, and the operation that produced it.

    Args:
        data: a real number.
        label: a name shown by ``draw_graph`` (optional).

    Attributes:
        data: the value, a Python float.
        grad: d(output)/d(this value) after ``output.backward()``; 0.0 before.
        parents: the values this one was computed from (empty for a leaf).
        op: the operation's symbol ("+", "*", "tanh", ...), "" for a leaf.
    """

    __slots__ = ("data", "grad", "label", "parents", "op", "_backward")

    def __init__(self, data, label="", parents=(), op=""):
        if isinstance(data, Value):
            raise TypeError("data must be a real number, got a Value; use the Value itself")
        if isinstance(data, bool) or not isinstance(data, numbers.Real):
            raise TypeError(f"data must be a real number, got {data!r}")
        self.data = float(data)
        self.grad = 0.0
        self.label = str(label)
        self.parents = tuple(parents)
        self.op = op
        self._backward = _no_op

    def __repr__(self):
        name = f"{self.label}: " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"

    # ------------------------------------------------------------ operations
    # Each one computes the output, then attaches the rule
    # d(loss)/d(input) += d(output)/d(input) * d(loss)/d(output).

    def __add__(self, other):
        other = _as_value(other)
        out = Value(self.data + other.data, parents=(self, other), op="+")

        def backward():
            self.grad += out.grad  # d(a + b)/da = 1
            other.grad += out.grad

        out._backward = backward
        return out

    def __mul__(self, other):
        other = _as_value(other)
        out = Value(self.data * other.data, parents=(self, other), op="*")

        def backward():
            self.grad += other.data * out.grad  # d(a b)/da = b
            other.grad += self.data * out.grad

        out._backward = backward
        return out

    def __pow__(self, exponent):
        if isinstance(exponent, Value) or isinstance(exponent, bool) or not isinstance(
                exponent, numbers.Real):
            raise TypeError(f"the exponent must be a plain number, got {exponent!r}")
        exponent = float(exponent)
        if self.data == 0 and exponent < 0:
            raise ZeroDivisionError(f"0.0 ** {exponent} is undefined (division by zero)")
        if self.data < 0 and not exponent.is_integer():
            raise ValueError(f"a negative number ({self.data}) to the power {exponent} "
                             "is not a real number")
        out = Value(self.data**exponent, parents=(self,), op=f"**{exponent:g}")

        def backward():
            # d x^n/dx = n x^(n-1); at x = 0 that is 0 for n = 0 or n >= 1, infinite for 0 < n < 1
            if exponent == 0 or (self.data == 0 and exponent >= 1):
                local = 0.0 if exponent != 1 else 1.0
            elif self.data == 0:
                local = math.inf
            else:
                local = exponent * self.data ** (exponent - 1)
            self.grad += local * out.grad

        out._backward = backward
        return out

    def exp(self):
        try:
            e = math.exp(self.data)
        except OverflowError:  # beyond about e^709: as torch, infinity
            e = math.inf
        out = Value(e, parents=(self,), op="exp")

        def backward():
            self.grad += out.data * out.grad  # d e^x/dx = e^x

        out._backward = backward
        return out

    def log(self):
        if self.data <= 0:
            raise ValueError(f"log needs a positive number, got {self.data}")
        out = Value(math.log(self.data), parents=(self,), op="log")

        def backward():
            self.grad += out.grad / self.data  # d log x/dx = 1/x

        out._backward = backward
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), parents=(self,), op="tanh")

        def backward():
            self.grad += (1.0 - out.data**2) * out.grad  # d tanh x/dx = 1 - tanh^2 x

        out._backward = backward
        return out

    def relu(self):
        out = Value(max(self.data, 0.0), parents=(self,), op="relu")

        def backward():
            self.grad += (self.data > 0) * out.grad  # 1 where x > 0, else 0 (torch's choice at 0)

        out._backward = backward
        return out

    def sigmoid(self):
        # Two stable branches: exp of a large positive number would overflow.
        if self.data >= 0:
            s = 1.0 / (1.0 + math.exp(-self.data))
        else:
            e = math.exp(self.data)
            s = e / (1.0 + e)
        out = Value(s, parents=(self,), op="sigmoid")

        def backward():
            self.grad += s * (1.0 - s) * out.grad  # d sigma/dx = sigma (1 - sigma)

        out._backward = backward
        return out

    # Everything else is built from the operations above.
    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-_as_value(other))

    def __truediv__(self, other):
        other = _as_value(other)
        if other.data == 0:
            raise ZeroDivisionError("division by a Value whose data is 0.0")
        return self * other**-1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return _as_value(other) - self

    def __rtruediv__(self, other):
        return _as_value(other) / self

    # --------------------------------------------------------------- backward
    def graph(self):
        """Every value this one depends on (itself included), each after its parents."""
        order, seen = [], set()
        stack = [(self, False)]
        while stack:  # an explicit stack: deep graphs would exceed Python's recursion limit
            node, parents_done = stack.pop()
            if parents_done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p in node.parents if id(p) not in seen)
        return order

    def backward(self):
        """Fill ``.grad`` of every value in the graph with d(self)/d(value)."""
        order = self.graph()
        for node in order:
            node.grad = 0.0  # a fresh start: gradients from an earlier backward() are gone
        self.grad = 1.0  # d(self)/d(self)
        for node in reversed(order):
            node._backward()


def _no_op():
    pass


def _as_value(x):
    if isinstance(x, Value):
        return x
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"can only combine a Value with a real number or a Value, got {x!r}")
    return Value(x)


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
