"""Reading a tensor graph's backward pass: checking one element's gradient, and stepping
through the pass node by node.

`check_element(root, node, element)` compares `node.grad[element]` (what `backward()` left)
with the central difference

    (L(node[element] + h) - L(node[element] - h)) / (2h)

where L(...) re-runs the forward pass of the recorded graph in float64: the node's data is
copied with one element moved, and every node downstream of it is recomputed from its operands
with the same public op (`FORWARD`, one entry per op of `micrograd.tensor.RULES`), so the batch,
the labels and the parameters are the ones of the recorded step. Nodes upstream keep their
recorded data: for an intermediate node this is the partial derivative backpropagation computes
(the node treated as an input). The live graph is never modified. A graph whose leaves changed
after its forward pass (an optimizer step) does not reproduce its loss and is refused.

`backward_steps(root)` replays `Tensor.backward()` one node at a time, as
`micrograd.graph.backward_steps` does for scalars: each node's G, and what its rule sends each
operand (the operand's running sum growing from nothing to its final gradient).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from micrograd.device import to_host
from micrograd.tensor import (
    RULES,
    Tensor,
    conv2d,
    linear,
    max_pool2d,
    sumsq,
    topological_order,
    xp_of,
)

__all__ = [
    "FORWARD",
    "ElementCheck",
    "Send",
    "TensorStep",
    "backward_steps",
    "check_element",
    "largest_grad_element",
    "summary",
]

Forward = Callable[[Sequence[Tensor], Tensor], Tensor]


def _bias(ts: Sequence[Tensor]) -> Tensor | None:
    return ts[2] if len(ts) > 2 else None


# How each op's result is recomputed from its operands (constants) and the node's recorded
# context: the same public ops the forward pass ran.
FORWARD: dict[str, Forward] = {
    "+": lambda ts, n: ts[0] + ts[1],
    "-": lambda ts, n: ts[0] - ts[1],
    "*": lambda ts, n: ts[0] * ts[1],
    "/": lambda ts, n: ts[0] / ts[1],
    "**": lambda ts, n: ts[0] ** n._ctx[0],
    "neg": lambda ts, n: -ts[0],
    "@": lambda ts, n: ts[0] @ ts[1],
    "exp": lambda ts, n: ts[0].exp(),
    "log": lambda ts, n: ts[0].log(),
    "tanh": lambda ts, n: ts[0].tanh(),
    "relu": lambda ts, n: ts[0].relu(),
    "sigmoid": lambda ts, n: ts[0].sigmoid(),
    "softplus": lambda ts, n: ts[0].softplus(),
    "sum": lambda ts, n: ts[0].sum(n._ctx[0], n._ctx[1]),
    "mean": lambda ts, n: ts[0].mean(n._ctx[0], n._ctx[1]),
    "max": lambda ts, n: ts[0].max(n._ctx[0], n._ctx[1]),
    "softmax": lambda ts, n: ts[0].softmax(n._ctx[0]),
    "log_softmax": lambda ts, n: ts[0].log_softmax(n._ctx[0]),
    "reshape": lambda ts, n: ts[0].reshape(n.shape),
    "transpose": lambda ts, n: ts[0].transpose(n._ctx[0]),
    "gather": lambda ts, n: ts[0].gather(n._ctx[1]),
    "sumsq": lambda ts, n: sumsq(ts),
    "linear": lambda ts, n: linear(ts[0], ts[1], _bias(ts)),
    "conv2d": lambda ts, n: conv2d(ts[0], ts[1], _bias(ts), n._ctx[0], n._ctx[1]),
    "max_pool2d": lambda ts, n: max_pool2d(ts[0], n._ctx[0], n._ctx[1]),
}


def summary(a: Any) -> tuple[float, float, float, float]:
    """(min, max, mean, norm) of an array, as host floats."""
    h = np.asarray(to_host(a), dtype=np.float64)
    if h.size == 0:
        return (0.0, 0.0, 0.0, 0.0)
    return (float(h.min()), float(h.max()), float(h.mean()), float(np.sqrt(np.vdot(h, h))))


def largest_grad_element(node: Tensor) -> tuple[int, ...]:
    """The index of the element of `node.grad` with the largest |value| (the first of ties)."""
    g = np.abs(np.asarray(to_host(node.grad), dtype=np.float64))
    if g.ndim == 0:
        return ()
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(g)), g.shape))


@dataclass(frozen=True)
class ElementCheck:
    """The analytic and numeric gradient of one element of one node, and whether they agree."""

    index: int  # the node's position in topological order (as in a TensorGraphSnapshot)
    element: tuple[int, ...]
    analytic: float
    numeric: float
    relative_error: float
    ok: bool
    # the one-sided slopes (L(x+h) - L(x)) / h and (L(x) - L(x-h)) / h, when they disagree and
    # the analytic gradient is one of them: the element sits on a kink (a ReLU at 0, a tie in
    # a max), where no single slope exists and backprop takes one side
    kink: tuple[float, float] | None = None


class _Replay:
    """The graph of `root` as float64 arrays, recomputed node by node from FORWARD."""

    def __init__(self, root: Tensor) -> None:
        self.order = topological_order(root)
        self.index = {node: i for i, node in enumerate(self.order)}
        self.data = [self._f64(t.data) for t in self.order]

    @staticmethod
    def _f64(a: Any) -> Any:
        return a.astype(np.float64, copy=False)

    def downstream(self, target: int) -> list[int]:
        hit = {target}
        out = []
        for j in range(target + 1, len(self.order)):
            if any(c in hit for c in (self.index[p] for p in self.order[j]._prev)):
                hit.add(j)
                out.append(j)
        return out

    def loss(self, overrides: dict[int, Any], affected: Sequence[int]) -> float:
        vals = dict(overrides)
        for j in affected:
            node = self.order[j]
            rule = FORWARD.get(node._op)
            if rule is None:
                raise ValueError(f"no forward rule for op {node._op!r}")
            ops = [Tensor(vals.get(self.index[p], self.data[self.index[p]]), requires_grad=False)
                   for p in node._prev]  # fmt: skip
            vals[j] = rule(ops, node).data
        last = len(self.order) - 1
        return float(vals.get(last, self.data[last]))


def check_element(
    root: Tensor,
    node: Tensor,
    element: tuple[int, ...] | None = None,
    h: float = 1e-6,
    rtol: float | None = None,
    atol: float | None = None,
) -> ElementCheck:
    """`node.grad[element]` against a central difference of the loss `root` (a scalar) in
    float64; `element` defaults to the one of largest |grad|. Tolerances: rtol 1e-5, atol 1e-7
    for a float64 graph, 1e-3 and 1e-5 for float32 (its grads carry float32 rounding).
    ValueError says why a node cannot be checked."""
    replay = _Replay(root)
    target = replay.index.get(node)
    if target is None:
        raise ValueError("the node is not part of this graph")
    if node.grad is None:
        raise ValueError("no gradient reached this node (an input or a constant)")
    element = largest_grad_element(node) if element is None else tuple(element)
    if len(element) != node.ndim or any(not 0 <= i < n for i, n in zip(element, node.shape)):
        raise ValueError(f"element {list(element)} is outside shape {node.shape}")
    affected = replay.downstream(target)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        recorded = float(root.data)
        again = replay.loss({}, affected)
        if not math.isclose(again, recorded, rel_tol=1e-6, abs_tol=1e-9):
            raise ValueError(
                f"re-running the forward pass gives loss {again:.6g}, not the recorded "
                f"{recorded:.6g}: the graph is stale (were the parameters changed after it?)"
            )
        base = replay.data[target]
        xp = xp_of(base)
        losses = []
        for sign in (1.0, -1.0):
            moved = xp.array(base, dtype=np.float64, copy=True)
            moved[element] += sign * h
            losses.append(replay.loss({target: moved}, affected))
    numeric = (losses[0] - losses[1]) / (2.0 * h)
    analytic = float(to_host(node.grad)[element])
    single = np.dtype(node.data.dtype).itemsize < 8
    rtol = (1e-3 if single else 1e-5) if rtol is None else rtol
    atol = (1e-5 if single else 1e-7) if atol is None else atol
    diff = abs(analytic - numeric)
    size = max(abs(analytic), abs(numeric))
    rel = diff / size if size else (0.0 if diff == 0.0 else math.inf)
    ok = diff <= atol + rtol * size
    # A kink: the one-sided slopes differ by more than a smooth function's curvature gives
    # over h, and backprop took one of them (a smooth function's gradient is their mean).
    right, left = (losses[0] - again) / h, (again - losses[1]) / h
    steep = max(abs(right), abs(left))
    kink = None
    if abs(right - left) > 1e-7 + 1e-3 * steep and not ok:
        if min(abs(analytic - right), abs(analytic - left)) <= atol + rtol * steep:
            kink = (right, left)
    return ElementCheck(target, element, analytic, numeric, rel, ok, kink)


# -- the backward pass, one node at a time -----------------------------------------------------

Summary = tuple[float, float, float, float]


@dataclass(frozen=True)
class Send:
    """What node `TensorStep.index`'s rule sends operand `position` (node `child`): the
    contribution's summary and the child's running sum before (None: nothing yet) and after;
    `complete` when every node that reads the child has sent its part."""

    position: int
    child: int
    contribution: Summary
    before: Summary | None
    after: Summary
    complete: bool


@dataclass(frozen=True)
class TensorStep:
    """One node of the backward pass: its G (complete: every reader came first) and sends."""

    number: int  # 1 for the loss
    index: int
    grad: Summary
    sends: tuple[Send, ...]


def backward_steps(root: Tensor) -> Iterator[TensorStep]:
    """Replay `root.backward()` over the recorded graph (its grads as they are), one node with
    a gradient at a time, the loss first: each node's G is its recorded grad, and its rule
    (`micrograd.tensor.RULES`) is applied to it again to show what each operand receives."""
    order = topological_order(root)
    index = {node: i for i, node in enumerate(order)}
    readers = [0] * len(order)
    for node in order:
        for p in node._prev:
            if p.requires_grad:
                readers[index[p]] += 1
    running: dict[int, Any] = {}
    number = 0
    for node in reversed(order):
        if node.grad is None:
            continue
        number += 1
        g = node.grad
        sends = []
        if node._prev:
            xp = xp_of(node.data)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                grads = RULES[node._op].vjp(xp, node, g)
            for position, (child, cg) in enumerate(zip(node._prev, grads)):
                if cg is None or not child.requires_grad:
                    continue
                c = index[child]
                before = running.get(c)
                after = cg if before is None else before + cg
                running[c] = after
                readers[c] -= 1
                sends.append(
                    Send(position, c, summary(cg), None if before is None else summary(before),
                         summary(after), readers[c] == 0)
                )  # fmt: skip
        yield TensorStep(number, index[node], summary(g), tuple(sends))
