"""A scalar-valued reverse-mode autograd engine.

Each op computes its result and records its local derivatives (d out / d operand) as plain
floats, side by side, in one place. `backward()` then only has to multiply and add:

    operand.grad += local * out.grad

so a node holds no closure, the graph has no reference cycles and is freed by reference
counting alone, and a graph pickles. The topological order is built with an explicit stack,
so a 1,000,000-node chain backpropagates without touching the recursion limit.

`backward()` follows PyTorch: leaves (nodes with no operands, such as parameters) accumulate
their gradient across calls; intermediate nodes are reset on every call, so calling it twice adds
exactly one more gradient to every leaf and never double-counts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from operator import mul

from micrograd.operators import OPS, checked_log, checked_pow, safe_exp, safe_pow, sigmoid

__all__ = ["OPS", "Value", "dot_node", "read_dot_inputs", "topological_order"]

Number = int | float
Operand = "Value | int | float"

# Shared local-derivative tuples: ops whose derivatives are constants allocate none.
_ONE = (1.0,)
_ZERO = (0.0,)
_MINUS_ONE = (-1.0,)
_ADD = (1.0, 1.0)
_SUB = (1.0, -1.0)


class Value:
    """One scalar node of a computation graph: its value, its gradient and how it was made."""

    __slots__ = ("data", "grad", "_prev", "_local", "_op", "label")

    def __init__(
        self,
        data: Number,
        _children: Sequence[Value] = (),
        _op: str = "",
        label: str = "",
        _local: Sequence[float] = (),
    ) -> None:
        if type(data) is not float:
            if isinstance(data, bool) or not isinstance(data, (int, float)):
                if isinstance(data, Value):
                    raise TypeError("Value(...) takes a number, not another Value; use it as is")
                raise TypeError(f"Value(...) takes an int or a float, got {type(data).__name__}")
            data = float(data)
        self.data = data
        self.grad = 0.0
        self._prev: tuple[Value, ...] = tuple(_children)
        self._local: tuple[float, ...] = tuple(_local)
        self._op = _op
        self.label = label

    # -- arithmetic --------------------------------------------------------------------------

    def __add__(self, other: Operand) -> Value:
        """a + b; d/da = 1, d/db = 1"""
        other = other if isinstance(other, Value) else Value(other)
        return _node(self.data + other.data, (self, other), "+", _ADD)

    def __mul__(self, other: Operand) -> Value:
        """a * b; d/da = b, d/db = a"""
        other = other if isinstance(other, Value) else Value(other)
        return _node(self.data * other.data, (self, other), "*", (other.data, self.data))

    def __sub__(self, other: Operand) -> Value:
        """a - b; d/da = 1, d/db = -1"""
        other = other if isinstance(other, Value) else Value(other)
        return _node(self.data - other.data, (self, other), "-", _SUB)

    def __truediv__(self, other: Operand) -> Value:
        """a / b; d/da = 1/b, d/db = -a/b**2"""
        other = other if isinstance(other, Value) else Value(other)
        b = other.data
        if b == 0.0:
            raise ZeroDivisionError(f"/: division by zero ({self.data!r} / {b!r})")
        return _node(self.data / b, (self, other), "/", (1.0 / b, -self.data / (b * b)))

    def __pow__(self, n: Operand) -> Value:
        """a ** n for a constant n; d/da = n * a**(n-1).

        Overflow gives inf (-inf for a negative base and an odd n), underflow 0; a negative
        base with a non-integer n raises ValueError, 0 to a negative power ZeroDivisionError.
        A Value exponent makes a two-operand "pow" node (`_pow_value`).
        """
        if isinstance(n, Value):
            return self._pow_value(n)
        if isinstance(n, bool) or not isinstance(n, (int, float)):
            raise TypeError(f"**: the exponent must be a number or a Value, got {n!r}")
        a = self.data
        if a < 0.0 and not float(n).is_integer():
            raise ValueError(f"**: a negative base ({a!r}) needs an integer exponent, got {n!r}")
        if a == 0.0 and n < 0:
            raise ZeroDivisionError(f"**: zero ({a!r}) raised to a negative power ({n!r})")
        out = safe_pow(a, n)
        local = n * safe_pow(a, n - 1) if a != 0.0 or n >= 1 else (math.inf if n > 0 else 0.0)
        return _node(out, (self,), f"**{n:g}", (local,))

    def _pow_value(self, b: Value) -> Value:
        """a ** b, b a Value, for a > 0; d/da = b * a**(b-1), d/db = a**b * log(a).
        A base <= 0 raises ValueError (log(a) is not defined there)."""
        a, e = self.data, b.data
        out = checked_pow(a, e)
        return _node(out, (self, b), "pow", (e * safe_pow(a, e - 1.0), out * math.log(a)))

    def __rpow__(self, other: Number) -> Value:  # other ** self: a constant base
        return Value(other)._pow_value(self)

    def __neg__(self) -> Value:
        """-a; d/da = -1"""
        return _node(-self.data, (self,), "neg", _MINUS_ONE)

    def __radd__(self, other: Number) -> Value:  # other + self
        return Value(other).__add__(self)

    def __rsub__(self, other: Number) -> Value:  # other - self
        return Value(other).__sub__(self)

    def __rmul__(self, other: Number) -> Value:  # other * self
        return Value(other).__mul__(self)

    def __rtruediv__(self, other: Number) -> Value:  # other / self
        return Value(other).__truediv__(self)

    # -- functions ---------------------------------------------------------------------------

    def exp(self) -> Value:
        """exp(a); d/da = exp(a). Overflow gives inf, not an exception."""
        e = safe_exp(self.data)
        return _node(e, (self,), "exp", (e,))

    def log(self) -> Value:
        """log(a) for a > 0; d/da = 1/a"""
        a = self.data
        return _node(checked_log(a), (self,), "log", (1.0 / a,))

    def tanh(self) -> Value:
        """tanh(a); d/da = 1 - tanh(a)**2"""
        t = math.tanh(self.data)
        return _node(t, (self,), "tanh", (1.0 - t * t,))

    def relu(self) -> Value:
        """max(0, a); d/da = 1 if a > 0 else 0"""
        a = self.data
        if a > 0.0:
            return _node(a, (self,), "relu", _ONE)
        return _node(0.0, (self,), "relu", _ZERO)

    def sigmoid(self) -> Value:
        """1 / (1 + exp(-a)); d/da = s * (1 - s)"""
        s = sigmoid(self.data)
        return _node(s, (self,), "sigmoid", (s * (1.0 - s),))

    # -- n-ary ops: one node instead of a chain ----------------------------------------------

    @staticmethod
    def sum(terms: Iterable[Operand]) -> Value:
        """a1 + a2 + ... + ak as one node; d/dai = 1. Plain numbers are constants."""
        children: list[Value] = []
        total = 0.0
        for t in terms:
            if isinstance(t, Value):
                children.append(t)
                total += t.data
            else:
                total += t
        return _node(total, tuple(children), "sum", _ONE * len(children))

    @staticmethod
    def dot(ws: Sequence[Value], xs: Sequence[Operand], bias: Operand | None = None) -> Value:
        """w1*x1 + ... + wk*xk (+ b) as one node; d/dwi = xi, d/dxi = wi, d/db = 1.

        `ws` are Values; `xs` may hold plain numbers (constants: no gradient flows to them) or
        Values; a plain-number `bias` becomes a constant Value. The sum runs left to right
        starting from the bias, like `sum(w*x, b)` in Karpathy's Neuron.
        """
        if len(ws) != len(xs):
            raise ValueError(f"dot: {len(ws)} weights but {len(xs)} inputs")
        if bias is not None and type(bias) is not Value:
            bias = Value(bias)  # type: ignore[arg-type]
        wd = [w.data for w in ws]
        values, xd = read_dot_inputs(xs)
        if bias is not None:
            return dot_node(ws, wd, values, xd, bias)
        if values is None:
            return _node(sum(map(mul, wd, xd), 0.0), (*ws,), "dot", (*xd,))
        return _node(sum(map(mul, wd, xd), 0.0), (*ws, *values), "dot", (*xd, *wd))

    # -- backpropagation ---------------------------------------------------------------------

    def _backward(self) -> None:
        """One node's share of the chain rule, as the lecture runs it by hand: add
        `local * self.grad` to each operand's grad, once per call (operands in order, `a*a`
        twice). Call it on every node in reverse topological order, after `o.grad = 1.0`,
        and the grads are those `backward()` gives; calling it twice adds twice.
        A zero grad sends nothing (as in `backward()`: 0 * inf would be NaN), a NaN sends NaN."""
        g = self.grad
        if g:
            for child, local in zip(self._prev, self._local):
                child.grad += local * g
        elif g != g:
            for child in self._prev:
                child.grad += math.nan

    def backward(self) -> None:
        """Fill `grad` of every node this one depends on with d self / d node (chain rule)."""
        order = topological_order(self)
        for node in order:
            if node._prev:
                node.grad = 0.0  # intermediates hold this pass's gradient only
        self.grad += 1.0
        for node in reversed(order):
            g = node.grad
            if g:
                for child, local in zip(node._prev, node._local):
                    child.grad += local * g
            elif g != g:  # NaN must propagate, as it would through the multiplication
                for child in node._prev:
                    child.grad += math.nan

    # -- display and pickling ----------------------------------------------------------------

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    def __reduce__(self) -> tuple:
        """Pickle a graph as a flat list, so depth never meets the recursion limit.

        Leaves are pickled as themselves (a model's parameters keep their identity within one
        pickle); inner nodes are rebuilt from (data, grad, op, label, child indices, locals).
        """
        if not self._prev:
            return (_leaf, (self.data, self.grad, self.label))
        order = topological_order(self)
        index = {id(node): i for i, node in enumerate(order)}
        flat = [
            node
            if not node._prev
            else (
                node.data,
                node.grad,
                node._op,
                node.label,
                tuple(index[id(c)] for c in node._prev),
                node._local,
            )
            for node in order
        ]
        return (_rebuild, (flat,))


_new = object.__new__


def _node(data: float, children: tuple[Value, ...], op: str, local: tuple[float, ...]) -> Value:
    """A result node: what every op returns. Skips `Value.__init__`'s checks of user input,
    which an op's own float arithmetic does not need (this is the forward pass's hot path)."""
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v._prev = children
    v._local = local
    v._op = op
    v.label = ""
    return v


def read_dot_inputs(xs: Sequence[Operand]) -> tuple[Sequence[Value] | None, list[float]]:
    """The inputs of a dot, read once: (the Values, their data), or (None, the numbers as
    floats) when all are plain numbers (constants, which `dot` does not make operands). A mix
    of both makes its numbers constant Values."""
    try:
        xd = [x.data for x in xs]  # type: ignore[union-attr]
        sum(xd, 0.0)  # numbers, not e.g. numpy's float64.data (a memoryview): else TypeError
        return xs, xd  # type: ignore[return-value]
    except (AttributeError, TypeError):
        pass
    if not any(isinstance(x, Value) for x in xs):
        return None, [float(x) for x in xs]  # type: ignore[arg-type]
    values = [x if isinstance(x, Value) else Value(x) for x in xs]
    return values, [x.data for x in values]


def dot_node(
    ws: Sequence[Value],
    wd: list[float],
    xs: Sequence[Value] | None,
    xd: list[float],
    bias: Value,
) -> Value:
    """The node `Value.dot(ws, xs, bias)` makes, without its checks, from what
    `read_dot_inputs` read (`xs`, `xd`) and the weights' data `wd` (equal lengths, unchecked).

    Value inputs: operands (*ws, *xs, bias), locals (*xd, *wd, 1.0). Plain-number inputs
    (`xs` None) are constants, not operands: (*ws, bias), locals (*xd, 1.0). A layer's forward
    pass calls this once per neuron (`micrograd.nn`): the hot path.
    """
    if xs is None:
        return _node(sum(map(mul, wd, xd), bias.data), (*ws, bias), "dot", (*xd, 1.0))
    return _node(sum(map(mul, wd, xd), bias.data), (*ws, *xs, bias), "dot", (*xd, *wd, 1.0))


def topological_order(root: Value) -> list[Value]:
    """Every node `root` depends on, operands before their results, `root` last.

    Iterative depth-first post-order with an explicit stack: no recursion limit. A node whose
    operands are all visited already (a weight's second use, an input shared by a layer's
    neurons: most of a network's links) is emitted at once, checked by one C-level `issuperset`
    over its operands rather than a Python loop. Any other node goes back on the stack under a
    `None` marker, its unvisited operands above it, and is emitted when the marker comes up.
    """
    order: list[Value] = []
    visited: set[Value] = set()
    stack: list[Value | None] = [root]
    push, pop, append = stack.append, stack.pop, order.append
    seen, covers = visited.add, visited.issuperset
    while stack:
        node = pop()
        if node is None:  # every operand of the node under the marker is in `order` now
            append(pop())  # type: ignore[arg-type]
            continue
        if node in visited:
            continue
        seen(node)
        prev = node._prev
        if covers(prev):  # a leaf, or every operand done
            append(node)
            continue
        push(node)
        push(None)
        for child in prev:
            if child not in visited:
                push(child)
    return order


def _leaf(data: float, grad: float, label: str) -> Value:
    v = Value(data, label=label)
    v.grad = grad
    return v


def _rebuild(flat: list) -> Value:
    nodes: list[Value] = []
    for item in flat:
        if isinstance(item, Value):
            nodes.append(item)
            continue
        data, grad, op, label, children, local = item
        v = Value(data, [nodes[i] for i in children], op, label, local)
        v.grad = grad
        nodes.append(v)
    return nodes[-1]
