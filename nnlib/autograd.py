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

``nnlib.display.graph.draw_graph(root)`` draws the graph with matplotlib: one box
per value with its data and gradient, one circle per operation. Tested against
``torch.autograd`` on random expressions (tests/test_autograd.py).
"""

import math
import numbers

__all__ = ["Value"]


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
