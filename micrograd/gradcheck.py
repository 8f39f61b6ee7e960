"""Finite-difference checks of the gradients backpropagation computed.

For a node v of the graph of `root` (a leaf such as a weight, or any intermediate node), the
analytic gradient is `v.grad`, d root / d v as `backward()` left it. The numeric gradient is the
central difference

    (root(v + h) - root(v - h)) / (2h)

where root(v + h) re-runs the forward pass on plain floats: v's value is replaced, and every node
downstream of v is recomputed in topological order from its op and its operands' values. Nodes
upstream of v keep their recorded values, so for an intermediate node this is the same partial
derivative backpropagation computes (v treated as an input, its own operands held fixed).
The live graph is never modified.

Re-running an op needs its float forward rule (`micrograd.operators.OPS[op].forward`); three
ops need more than their operands, and this module recovers it from what the engine records:

- `**n`: n is read from the op name (`"**2"`, `"**-0.5"`). The name shows n with 6 significant
  digits, so when that does not reproduce the node's value, n is recovered from the recorded
  local derivative instead: local = n * a**(n-1) = n * out / a, so n = local * a / out.
- `sum`: `Value.sum` folds plain-number terms into its value without making them operands, so
  the constant part is recovered as out - (sum of the operands' values).
- `dot`: `Value.dot(ws, xs, bias)` records two layouts. With Value inputs the operands are
  (*ws, *xs[, bias]) and the locals (*x values, *w values[, 1.0]). With plain-number inputs
  (constants) the operands are only (*ws[, bias]) and each constant x_i survives only as the
  local derivative d out / d w_i = x_i, so then out = sum(operand_i * local_i) (the bias has
  local 1.0). The layout is told apart by checking that the locals pair up with the operands'
  values as in the first layout and that the recomputed value matches; if both layouts fit (which
  needs all the products to be zero, as when a ReLU layer before it is dead), the Value-input
  layout is taken.

Before perturbing, every recomputed node is checked against its recorded value: a graph whose
leaves changed after its forward pass (an optimizer step) is stale and is refused with an error.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import mul

from micrograd.engine import Value, topological_order
from micrograd.operators import OPS, safe_pow

__all__ = [
    "GradCheck",
    "check_node",
    "check_nodes",
    "gradcheck",
    "numeric_grad",
]

Rule = Callable[[Sequence[float]], float]


@dataclass(frozen=True)
class GradCheck:
    """The analytic and numeric gradient of one node, and whether they agree.

    relative_error = |analytic - numeric| / max(|analytic|, |numeric|) (0 when both are 0);
    ok when |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|).
    """

    index: int  # position of the node in topological order (as in a GraphSnapshot)
    label: str
    op: str
    analytic: float
    numeric: float
    relative_error: float
    ok: bool


class _Forward:
    """The graph of `root` as lists of floats and one forward rule per node."""

    def __init__(self, root: Value) -> None:
        order = topological_order(root)
        index = {node: i for i, node in enumerate(order)}
        self.order = order
        self.index = index
        self.data = [n.data for n in order]
        self.children = [[index[c] for c in n._prev] for n in order]
        self.rules: list[Rule | None] = [_rule(n) if n._prev else None for n in order]
        self._checked = [False] * len(order)

    def _validate(self, affected: Iterable[int]) -> None:
        """Refuse a stale graph: recomputing a node from recorded operands must give its value."""
        data, checked = self.data, self._checked
        for j in affected:
            if checked[j]:
                continue
            operands = [data[c] for c in self.children[j]]
            got = self.rules[j](operands)  # type: ignore[misc]
            want = data[j]
            scale = max([abs(want), *map(abs, operands), *map(abs, self.order[j]._local)])
            if not (
                got == want or abs(got - want) <= 1e-9 * scale or (got != got and want != want)
            ):
                node = self.order[j]
                raise ValueError(
                    f"gradcheck: node {j} ({node._op!r}) holds {want!r} but its operands give "
                    f"{got!r}; the graph is stale (were leaves changed after the forward pass?)"
                )
            checked[j] = True

    def downstream(self, target: int) -> list[int]:
        """Indices of the nodes that depend on `target`, in topological order."""
        hit = [False] * len(self.data)
        hit[target] = True
        out = []
        for j in range(target + 1, len(self.data)):
            for c in self.children[j]:
                if hit[c]:
                    hit[j] = True
                    out.append(j)
                    break
        return out

    def root_at(self, target: int, value: float, affected: list[int]) -> float:
        """The root's value with node `target` set to `value`."""
        vals = self.data.copy()
        vals[target] = value
        children, rules = self.children, self.rules
        for j in affected:
            vals[j] = rules[j]([vals[c] for c in children[j]])  # type: ignore[misc]
        return vals[-1]

    def check(self, node: Value, h: float, rtol: float, atol: float) -> GradCheck:
        target = self.index.get(node)
        if target is None:
            raise ValueError(f"gradcheck: {node!r} is not part of this graph")
        affected = self.downstream(target)
        self._validate(affected)
        x = self.data[target]
        try:
            up = self.root_at(target, x + h, affected)
            down = self.root_at(target, x - h, affected)
        except (ValueError, ZeroDivisionError) as exc:
            raise ValueError(
                f"gradcheck: moving node {target} by +-{h:g} leaves an op's domain ({exc}); "
                "try a smaller h"
            ) from exc
        numeric = (up - down) / (2.0 * h)
        analytic = node.grad
        diff = abs(analytic - numeric)
        size = max(abs(analytic), abs(numeric))
        rel = diff / size if size else (0.0 if diff == 0.0 else math.inf)
        ok = diff <= atol + rtol * size
        return GradCheck(target, node.label, node._op, analytic, numeric, rel, ok)


def _rule(node: Value) -> Rule:
    """The float forward rule of one (non-leaf) node, with what it needs recovered."""
    op = node._op
    entry = OPS.get(op)
    if entry is not None and entry.forward is not None:
        return entry.forward
    if op.startswith("**"):
        return _pow_rule(node)
    if op == "sum":
        offset = node.data - math.fsum(c.data for c in node._prev)
        return lambda xs: math.fsum(xs) + offset
    if op == "dot":
        return _dot_rule(node)
    raise ValueError(f"gradcheck: no forward rule for op {op!r}")


def _pow_rule(node: Value) -> Rule:
    """a ** n, n from the op name, or from the local derivative when the name is rounded."""
    a, out = node._prev[0].data, node.data
    try:
        n = float(node._op[2:])
    except ValueError as exc:
        raise ValueError(f"gradcheck: cannot read the exponent of op {node._op!r}") from exc
    if safe_pow(a, n) != out and a != 0.0 and out != 0.0 and math.isfinite(out):
        better = node._local[0] * a / out  # local = n * a**(n-1) = n * out / a
        if abs(safe_pow(a, better) - out) < abs(safe_pow(a, n) - out):
            n = better
    if n.is_integer():
        n = int(n)  # as the engine was most likely given it; a negative base needs it
    return lambda xs: safe_pow(xs[0], n)


def _dot_rule(node: Value) -> Rule:
    """Tell the two layouts of a dot node apart (see the module docstring)."""
    prev, local, out = node._prev, node._local, node.data
    k, has_bias = divmod(len(prev), 2)
    if k and (not has_bias or local[-1] == 1.0):
        pairs = all(local[i] == prev[k + i].data and local[k + i] == prev[i].data for i in range(k))
        if pairs:

            def value_inputs(xs: Sequence[float]) -> float:
                return sum(map(mul, xs[:k], xs[k : 2 * k]), xs[-1] if has_bias else 0.0)

            operands = [c.data for c in prev]
            if math.isclose(value_inputs(operands), out, rel_tol=1e-9, abs_tol=1e-300):
                return value_inputs

    def constant_inputs(xs: Sequence[float]) -> float:
        return sum(map(mul, xs, local), 0.0)

    return constant_inputs


def numeric_grad(root: Value, node: Value, h: float = 1e-6) -> float:
    """(root(node + h) - root(node - h)) / (2h), re-running the forward pass on floats."""
    return _Forward(root).check(node, h, 0.0, 0.0).numeric


def check_node(
    root: Value, node: Value, h: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-7
) -> GradCheck:
    """Compare `node.grad` (from `root.backward()`) with a central difference of step h."""
    return _Forward(root).check(node, h, rtol, atol)


def check_nodes(
    root: Value,
    nodes: Iterable[Value] | None = None,
    h: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-7,
) -> list[GradCheck]:
    """`check_node` for many nodes of one graph (default: every leaf), sharing the set-up."""
    forward = _Forward(root)
    if nodes is None:
        nodes = [n for n in forward.order if not n._prev]
    return [forward.check(n, h, rtol, atol) for n in nodes]


def gradcheck(
    f: Callable[[], Value],
    leaves: Sequence[Value],
    h: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-7,
) -> list[GradCheck]:
    """Build `root = f()`, backpropagate, and check the gradient of each of `leaves`.

    The leaves' grads are zeroed first; `backward()` adds to the other leaves' grads as usual.
    """
    for leaf in leaves:
        leaf.grad = 0.0
    root = f()
    root.backward()
    return check_nodes(root, leaves, h, rtol, atol)
