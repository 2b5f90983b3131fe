"""nnlib.autograd.Value against torch.autograd (float64), repeated backward, depth, bad input,
and draw_graph.

The random expressions are built once, evaluated on ``Value`` leaves and on torch
leaves side by side: Python's operators and the method names (``exp``, ``log``,
``tanh``, ``relu``, ``sigmoid``) are the same for both, so one program drives both.
"""

import math
import sys

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from matplotlib.patches import BoxStyle

from nnlib.autograd import Value
from nnlib.display.graph import draw_graph

RTOL, ATOL = 1e-10, 1e-12
BINARY = ("+", "-", "*", "/")
UNARY = ("exp", "log", "tanh", "relu", "sigmoid", "**")
EXPONENTS = (2, 3, -1, -2, 0.5, 1.5, -0.5, 0, 1)


def binary(op, a, b):
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return a / b


def unary(op, a, exponent=None):
    return a**exponent if op == "**" else getattr(a, op)()


def data(node):
    return node.data if isinstance(node, Value) else float(node)


class Expression:
    """A random expression over a few leaves, as a ``Value`` graph and a torch graph."""

    def __init__(self, seed, n_leaves=4, n_ops=30):
        rng = np.random.default_rng(seed)
        self.leaves = [Value(float(rng.uniform(-2, 2)), label=f"x{i}") for i in range(n_leaves)]
        self.tleaves = [torch.tensor(v.data, dtype=torch.float64, requires_grad=True)
                        for v in self.leaves]
        self.ops = []
        pool = list(zip(self.leaves, self.tleaves))
        unused = set(range(len(pool)))  # nodes no operation has taken yet
        for _ in range(n_ops):
            # Prefer the newest node, which makes deep expressions; pick any node
            # otherwise, which reuses leaves and shared sub-expressions.
            i = len(pool) - 1 if rng.random() < 0.5 else int(rng.integers(len(pool)))
            unused.discard(i)
            if rng.random() < 0.5:
                out = self._binary(rng, pool[i], pool, unused)
            else:
                out = self._unary(rng, pool[i])
            if abs(out[0].data) > 100:  # keep magnitudes moderate: exp must not overflow
                out = (out[0] / 100, out[1] / 100)
                self.ops.append("/100")
            unused.add(len(pool))
            pool.append(out)
        # The root adds up every node nothing else used, so that every leaf counts.
        self.root, self.troot = pool[max(unused)]
        for i in sorted(unused)[:-1]:
            self.root, self.troot = self.root + pool[i][0], self.troot + pool[i][1]

    def _binary(self, rng, a, pool, unused):
        op = BINARY[rng.integers(len(BINARY))]
        r = rng.random()
        if r < 0.25:  # a plain number on the right
            b = float(rng.choice([-1.5, -0.5, 2.0, 3.0])) if r < 0.15 else int(rng.integers(1, 4))
            pair = (a, (b, b))
        elif r < 0.5:  # a plain number on the left
            b = float(rng.choice([-1.5, 0.5, 2.0]))
            pair = ((b, b), a)
        else:
            j = int(rng.integers(len(pool)))
            unused.discard(j)
            pair = (a, pool[j])
        if op == "/" and abs(data(pair[1][0])) < 0.2:
            op = "*"  # keep away from division by (nearly) zero
        self.ops.append(op)
        return binary(op, pair[0][0], pair[1][0]), binary(op, pair[0][1], pair[1][1])

    def _unary(self, rng, a):
        op = UNARY[rng.integers(len(UNARY))]
        x = a[0].data
        exponent = float(rng.choice(EXPONENTS)) if op == "**" else None
        if op == "log" and x < 0.1:
            # log of a positive expression of the same node: a*a + 0.5
            a = (a[0] * a[0] + 0.5, a[1] * a[1] + 0.5)
        if op == "exp" and x > 5:
            op = "tanh"
        # x**n for n < 1 needs x away from 0 (x**0 at 0 is tested separately), and a
        # fractional power a positive base.
        if op == "**" and ((exponent < 1 and abs(x) < 0.2)
                           or (not exponent.is_integer() and x < 0.2)):
            exponent = 2.0
        self.ops.append(op if exponent is None else f"**{exponent:g}")
        return unary(op, a[0], exponent), unary(op, a[1], exponent)

    def check(self):
        assert math.isfinite(self.root.data)
        np.testing.assert_allclose(self.root.data, self.troot.item(), rtol=1e-12, atol=1e-14,
                                   err_msg=f"forward differs; ops {self.ops}")
        self.root.backward()
        self.troot.backward()
        self.assert_grads()

    def assert_grads(self):
        for leaf, tleaf in zip(self.leaves, self.tleaves):
            expected = 0.0 if tleaf.grad is None else tleaf.grad.item()
            np.testing.assert_allclose(leaf.grad, expected, rtol=RTOL, atol=ATOL,
                                       err_msg=f"grad of {leaf.label} differs; ops {self.ops}")


@pytest.mark.parametrize("seed", range(40))
def test_random_expressions_match_torch(seed):
    Expression(seed).check()


@pytest.mark.parametrize("seed", range(5))
def test_long_random_expressions_with_one_leaf_match_torch(seed):
    # a single leaf used everywhere: every path back to it must add up
    Expression(1000 + seed, n_leaves=1, n_ops=80).check()


def test_random_expressions_use_every_kind_of_operation():
    ops = set()
    for seed in range(40):
        ops.update(Expression(seed).ops)
    for op in ("+", "-", "*", "/", "exp", "log", "tanh", "relu", "sigmoid"):
        assert op in ops
    assert {f"**{e:g}" for e in EXPONENTS} <= ops


# One operation at a time, numbers on either side, so that a failure names the rule.
SINGLE = {
    "a + b": lambda a, b: a + b,
    "a + 2": lambda a, b: a + 2,
    "2.5 + a": lambda a, b: 2.5 + a,
    "a - b": lambda a, b: a - b,
    "a - 2": lambda a, b: a - 2,
    "2 - a": lambda a, b: 2 - a,
    "-a": lambda a, b: -a,
    "a * b": lambda a, b: a * b,
    "a * 3": lambda a, b: a * 3,
    "-0.5 * a": lambda a, b: -0.5 * a,
    "a / b": lambda a, b: a / b,
    "a / 4": lambda a, b: a / 4,
    "3 / a": lambda a, b: 3 / a,
    "a * a": lambda a, b: a * a,
    "a / a": lambda a, b: a / a,
    "a ** 3": lambda a, b: a**3,
    "b ** 0.5": lambda a, b: b**0.5,
    "a ** -2": lambda a, b: a**-2,
    "a ** 0": lambda a, b: a**0,
    "exp(a)": lambda a, b: a.exp(),
    "log(b)": lambda a, b: b.log(),
    "tanh(a)": lambda a, b: a.tanh(),
    "relu(a)": lambda a, b: a.relu(),
    "relu(b)": lambda a, b: b.relu(),
    "sigmoid(a)": lambda a, b: a.sigmoid(),
    "a * b + a": lambda a, b: a * b + a,
    "tanh(a * b) * exp(b) / (a + b)": lambda a, b: (a * b).tanh() * b.exp() / (a + b),
}


@pytest.mark.parametrize("a_value, b_value", [(-1.3, 0.7), (2.1, 3.4)])
@pytest.mark.parametrize("name", SINGLE)
def test_each_operation_matches_torch(name, a_value, b_value):
    f = SINGLE[name]
    a, b = Value(a_value), Value(b_value)
    ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a_value, b_value))
    out, tout = f(a, b), f(ta, tb)
    assert isinstance(out, Value)
    np.testing.assert_allclose(out.data, tout.item(), rtol=1e-14)
    out.backward()
    tout.backward()
    for ours, theirs in ((a, ta), (b, tb)):
        expected = 0.0 if theirs.grad is None else theirs.grad.item()
        np.testing.assert_allclose(ours.grad, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("x", [-800.0, -30.0, 0.0, 30.0, 800.0])
def test_sigmoid_and_tanh_are_stable_at_large_inputs(x):
    for op in ("sigmoid", "tanh"):
        v, t = Value(x), torch.tensor(x, dtype=torch.float64, requires_grad=True)
        out, tout = getattr(v, op)(), getattr(t, op)()
        out.backward()
        tout.backward()
        assert out.data == pytest.approx(tout.item(), rel=1e-15, abs=0)
        assert v.grad == pytest.approx(t.grad.item(), rel=1e-12, abs=1e-300)


def test_relu_gradient_at_zero_is_zero_as_torch():
    x = Value(0.0)
    y = x.relu()
    y.backward()
    t = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    t.relu().backward()
    assert y.data == 0.0
    assert x.grad == t.grad.item() == 0.0


def test_the_docstring_example():
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    c = a * b + a
    assert c.data == -4.0
    c.backward()
    assert (a.grad, b.grad, c.grad) == (-2.0, 2.0, 1.0)


def test_data_is_a_float_and_leaves_start_with_zero_grad():
    v = Value(3, label="three")
    assert type(v.data) is float and v.data == 3.0
    assert v.grad == 0.0 and v.parents == () and v.op == ""
    assert type(Value(np.float64(1.5)).data) is float
    assert "three" in repr(v) and "data=3" in repr(v)


def test_backward_twice_gives_the_same_gradients():
    e = Expression(7)
    e.root.backward()
    first = [leaf.grad for leaf in e.leaves]
    all_nodes = {id(n): n.grad for n in e.root.graph()}
    e.root.backward()
    assert [leaf.grad for leaf in e.leaves] == first
    assert {id(n): n.grad for n in e.root.graph()} == all_nodes
    e.troot.backward()
    e.assert_grads()


def test_backward_on_a_new_graph_sharing_leaves_gives_fresh_gradients():
    a, b = Value(2.0), Value(-3.0)
    (a * b).backward()
    assert (a.grad, b.grad) == (-3.0, 2.0)
    (a + b * b).backward()  # not -3 + 1 and 2 - 6: the old gradients are gone
    assert (a.grad, b.grad) == (1.0, -6.0)
    # and on random expressions sharing all their leaves, against torch
    e = Expression(11)
    e.root.backward()
    second = e.root.tanh() * e.leaves[0] - e.leaves[1].exp()
    tsecond = e.troot.tanh() * e.tleaves[0] - e.tleaves[1].exp()
    second.backward()
    tsecond.backward()
    e.assert_grads()


def test_intermediate_gradients_match_torch():
    a, b = Value(0.8), Value(-1.7)
    ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (0.8, -1.7))
    h, th = a * b + b.exp(), ta * tb + tb.exp()
    th.retain_grad()
    out, tout = h.tanh() * h, th.tanh() * th
    out.backward()
    tout.backward()
    np.testing.assert_allclose(h.grad, th.grad.item(), rtol=RTOL, atol=ATOL)


def test_graph_lists_each_node_once_after_its_parents():
    e = Expression(3)
    order = e.root.graph()
    assert len({id(n) for n in order}) == len(order)
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for parent in node.parents:
            assert position[id(parent)] < position[id(node)]
    assert order[-1] is e.root


def test_a_deep_chain_does_not_hit_the_recursion_limit():
    depth = max(5000, 2 * sys.getrecursionlimit())  # a recursive sort would fail well before
    x = Value(0.5)
    y = x
    for _ in range(depth):
        y = y * 1.0001 + x  # two more nodes (and a number leaf) per step
    assert len(y.graph()) > 3 * depth
    y.backward()
    # y_n = 1.0001 y_{n-1} + x, so dy/dx = sum_{k=0}^{n} 1.0001^k
    expected = (1.0001 ** (depth + 1) - 1) / 0.0001
    assert x.grad == pytest.approx(expected, rel=1e-9)
    chain = Value(0.3)
    z = chain
    for _ in range(depth):
        z = z.tanh()
    z.backward()
    assert 0 < chain.grad < 1


BAD_INPUT = [
    (lambda: Value("a"), TypeError, "data must be a real number, got 'a'"),
    (lambda: Value(True), TypeError, "data must be a real number, got True"),
    (lambda: Value(None), TypeError, "data must be a real number"),
    (lambda: Value(1 + 2j), TypeError, "data must be a real number"),
    (lambda: Value(np.array([1.0, 2.0])), TypeError, "data must be a real number"),
    (lambda: Value(Value(1.0)), TypeError, "got a Value; use the Value itself"),
    (lambda: Value(2.0) ** Value(2.0), TypeError, "exponent must be a plain number"),
    (lambda: Value(2.0) ** True, TypeError, "exponent must be a plain number"),
    (lambda: Value(2.0) ** "2", TypeError, "exponent must be a plain number"),
    (lambda: 2.0 ** Value(2.0), TypeError, r"unsupported operand type\(s\) for \*\*"),
    (lambda: Value(1.0) + "a", TypeError, "can only combine a Value with a real number"),
    (lambda: "a" * Value(1.0), TypeError, "can only combine a Value with a real number"),
    (lambda: Value(1.0) - None, TypeError, "can only combine a Value with a real number"),
    (lambda: Value(1.0) * True, TypeError, "can only combine a Value with a real number"),
    (lambda: Value(0.0).log(), ValueError, "log needs a positive number, got 0.0"),
    (lambda: Value(-2.0).log(), ValueError, "log needs a positive number, got -2.0"),
    (lambda: Value(0.0) ** -1, ZeroDivisionError, "division by zero"),
    (lambda: Value(0.0) ** -0.5, ZeroDivisionError, "division by zero"),
    (lambda: Value(1.0) / 0, ZeroDivisionError, "division by a Value whose data is 0.0"),
    (lambda: Value(1.0) / Value(0.0), ZeroDivisionError, "division"),
    (lambda: 1.0 / Value(0.0), ZeroDivisionError, "division"),
    (lambda: Value(-4.0) ** 0.5, ValueError, "is not a real number"),
    (lambda: Value(-4.0) ** 1.5, ValueError, r"negative number \(-4.0\) to the power 1.5"),
]


@pytest.mark.parametrize("make, error, match", BAD_INPUT,
                         ids=[str(i) for i in range(len(BAD_INPUT))])
def test_rejects_bad_input_with_a_clear_message(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_negative_base_with_integer_exponent_is_fine():
    x = Value(-2.0)
    y = x**3 + x**-1
    y.backward()
    assert y.data == -8.5
    assert x.grad == pytest.approx(3 * 4 - 1 / 4, rel=1e-15)


def test_power_zero_at_zero_has_zero_gradient_as_torch():
    x = Value(0.0)
    y = x**0
    assert y.data == 1.0
    y.backward()
    t = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    (t**0).backward()
    assert x.grad == t.grad.item() == 0.0


# ------------------------------------------------------------------ draw_graph
def box_texts(ax, style):
    return [t for t in ax.texts if isinstance(t.get_bbox_patch().get_boxstyle(), style)]


def test_draw_graph_has_one_box_per_value_and_one_circle_per_operation():
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    c = a * b + a
    c.label = "c"
    c.backward()
    fig = draw_graph(c)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    nodes = c.graph()  # a, b, a*b, c
    assert len(nodes) == 4
    n_ops = sum(1 for n in nodes if n.op)
    assert len(ax.texts) == len(nodes) + n_ops
    boxes = box_texts(ax, BoxStyle.Round)
    circles = box_texts(ax, BoxStyle.Circle)
    assert len(boxes) == len(nodes) and len(circles) == n_ops
    assert sorted(t.get_text() for t in circles) == ["*", "+"]
    texts = [t.get_text() for t in boxes]
    assert "a = 2\ngrad -2" in texts and "b = -3\ngrad 2" in texts
    assert "c = -4\ngrad 1" in texts
    assert len(ax.patches) == sum(len(n.parents) for n in nodes)  # one arrow per input


def test_draw_graph_counts_number_leaves_and_shared_nodes_once():
    e = Expression(5, n_ops=12)
    e.root.backward()
    fig = draw_graph(e.root, show_grad=False)
    nodes = e.root.graph()
    ax = fig.axes[0]
    assert len(box_texts(ax, BoxStyle.Round)) == len(nodes)
    assert len(box_texts(ax, BoxStyle.Circle)) == sum(1 for n in nodes if n.op)
    assert not any("grad" in t.get_text() for t in ax.texts)


def test_draw_graph_of_a_single_leaf():
    fig = draw_graph(Value(1.5, "x"))
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.texts] == ["x = 1.5\ngrad 0"]
    assert not ax.patches


def test_draw_graph_into_given_axes_with_highlight():
    from nnlib.display.plotting import PALETTE, new_figure

    fig, ax = new_figure()
    a, b = Value(1.0, "a"), Value(2.0, "b")
    out = (a * b).tanh()
    assert draw_graph(out, ax=ax, highlight={a}) is fig
    colours = [t.get_bbox_patch().get_facecolor() for t in box_texts(ax, BoxStyle.Round)]
    from matplotlib.colors import to_rgba

    assert colours.count(to_rgba(PALETTE["orange"])) == 1
