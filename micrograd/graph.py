"""Reading a computation graph: a flat immutable snapshot, counts, and Graphviz DOT export.

A `GraphSnapshot` is the graph of one moment as plain tuples (no `Value` inside), so it pickles
cheaply and crosses a process boundary: node `i` has an op, a label, its data and grad, the
indices of its operands (`children[i]`, in operand order, repeats kept: `a*a` has `(j, j)`) and
the local derivatives d node / d operand aligned with them (`locals[i]`). Nodes are in
topological order, operands before results, so the root is the last index and the chain rule
reads, for every node j other than the root,

    grads[j] = sum(grads[p] * locals[p][k] for p, k in consumers(j))
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

from micrograd.engine import Value, topological_order

__all__ = [
    "BackwardStep",
    "GraphSnapshot",
    "NodeInfo",
    "Send",
    "backward_steps",
    "escape_record",
    "node_count",
    "op_counts",
    "snapshot",
    "split_dots",
    "split_dots_origins",
    "to_dot",
    "under",
    "walk_start",
]


@dataclass(frozen=True)
class NodeInfo:
    """One node of a snapshot, read out for display.

    `consumers` holds (parent index, position of this node among the parent's operands) pairs.
    """

    index: int
    op: str
    label: str
    data: float
    grad: float
    children: tuple[int, ...]
    locals: tuple[float, ...]
    consumers: tuple[tuple[int, int], ...]

    @property
    def is_leaf(self) -> bool:
        return not self.children


@dataclass(frozen=True)
class GraphSnapshot:
    """A graph as plain tuples, nodes in topological order, the root last.

    `ops[i]` is "" for a leaf (a parameter, an input or a constant).
    """

    ops: tuple[str, ...]
    labels: tuple[str, ...]
    data: tuple[float, ...]
    grads: tuple[float, ...]
    children: tuple[tuple[int, ...], ...]
    locals: tuple[tuple[float, ...], ...]

    def __len__(self) -> int:
        return len(self.ops)

    def name(self, i: int) -> str:
        """How the app names node i: `#i op label` (op "leaf" for a leaf), e.g. `#7 dot L0.N3`."""
        label = f" {self.labels[i]}" if self.labels[i] else ""
        return f"#{i} {self.ops[i] or 'leaf'}{label}"

    @property
    def root(self) -> int:
        """Index of the root (the last node); -1 for an empty snapshot."""
        return len(self.ops) - 1

    @cached_property
    def _consumers(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        """For every node, the (parent, position) pairs that read it; built once, on demand."""
        lists: list[list[tuple[int, int]]] = [[] for _ in self.ops]
        for parent, kids in enumerate(self.children):
            for position, child in enumerate(kids):
                lists[child].append((parent, position))
        return tuple(map(tuple, lists))

    def consumers(self, i: int) -> tuple[tuple[int, int], ...]:
        """(parent index, position of node i among the parent's operands) for each use of i.

        A node used twice by one parent (`a*a`) appears twice, once per position. Read from
        the table of every node's consumers once something has built it (the backward walk
        does); else found by one scan for i alone: the app shows one node of each new snapshot,
        and building the whole table for it held the UI thread (benchmarks/README.md).
        """
        table = self.__dict__.get("_consumers")
        if table is not None:
            return table[i]
        n = len(self.ops)
        if not -n <= i < n:
            raise IndexError(f"node {i} is out of range for a graph of {n} nodes")
        i %= n
        return tuple(
            (parent, position)
            for parent, kids in enumerate(self.children)
            if i in kids
            for position, child in enumerate(kids)
            if child == i
        )

    @cached_property
    def _tree_parent(self) -> tuple[int, ...]:
        """For every node, its parent on a shortest path from the root (-1: the root, or a node
        the root does not reach); breadth-first, operands in order, built once, on demand."""
        parent = [-1] * len(self.ops)
        if not self.ops:
            return ()
        root = self.root
        seen = [False] * len(self.ops)
        seen[root] = True
        queue = deque([root])
        children = self.children
        while queue:
            i = queue.popleft()
            for c in children[i]:
                if not seen[c]:
                    seen[c] = True
                    parent[c] = i
                    queue.append(c)
        return tuple(parent)

    def path_to(self, i: int) -> tuple[int, ...]:
        """The node indices from the root down to node i along a shortest path (root first):
        where a tree view of the graph shows node i nearest the top."""
        n = len(self.ops)
        if not 0 <= i < n:
            raise IndexError(f"node {i} is out of range for a graph of {n} nodes")
        parent = self._tree_parent
        path = [i]
        while parent[path[-1]] >= 0:
            path.append(parent[path[-1]])
        return tuple(reversed(path))

    def op_counts(self) -> dict[str, int]:
        """How many nodes each op made ("" counts the leaves)."""
        return dict(Counter(self.ops))

    def node(self, i: int) -> NodeInfo:
        """A read-only view of node i (negative indices count from the root)."""
        n = len(self.ops)
        if not -n <= i < n:
            raise IndexError(f"node {i} is out of range for a graph of {n} nodes")
        i %= n
        return NodeInfo(
            i,
            self.ops[i],
            self.labels[i],
            self.data[i],
            self.grads[i],
            self.children[i],
            self.locals[i],
            self.consumers(i),
        )

    def __getstate__(self) -> dict:
        """Pickle the six tuples only, not the caches."""
        state = dict(self.__dict__)
        state.pop("_consumers", None)
        state.pop("_tree_parent", None)
        return state


def snapshot(root: Value) -> GraphSnapshot:
    """The graph `root` depends on, copied into a `GraphSnapshot` (iterative: any depth)."""
    order = topological_order(root)
    index = {node: i for i, node in enumerate(order)}  # Values hash by identity
    lookup = index.__getitem__
    return GraphSnapshot(
        ops=tuple([n._op for n in order]),
        labels=tuple([n.label for n in order]),
        data=tuple([n.data for n in order]),
        grads=tuple([n.grad for n in order]),
        children=tuple([tuple(map(lookup, n._prev)) for n in order]),
        locals=tuple([n._local for n in order]),
    )


# -- the lecture's view of a neuron: a fused dot as its products and sums -------------------------


def dot_layout(data: tuple[float, ...], local: tuple[float, ...]) -> tuple[int, bool, bool]:
    """How a `dot` node's operands are laid out, read from their values `data` and its locals:
    (k terms, inputs are Values, has a bias). `Value.dot` records (*ws, *xs[, bias]) with locals
    (*x values, *w values[, 1.0]) when the inputs are Values, and (*ws[, bias]) with locals
    (*x values[, 1.0]) when they are plain numbers (constants, not operands)."""
    n = len(data)
    for has_bias in (True, False):
        k2 = n - has_bias
        if k2 > 0 and k2 % 2 == 0 and (not has_bias or local[-1] == 1.0):
            k = k2 // 2
            if all(local[i] == data[k + i] and local[k + i] == data[i] for i in range(k)):
                return k, True, has_bias
    has_bias = n > 0 and local[-1] == 1.0 and n >= 1
    return n - has_bias, False, has_bias


def split_dots(snap: GraphSnapshot) -> GraphSnapshot:
    """`snap` with each fused `dot` node split into products and sums (`split_dots_origins`)."""
    return split_dots_origins(snap)[0]


def split_dots_origins(snap: GraphSnapshot) -> tuple[GraphSnapshot, tuple[int, ...]]:
    """The same graph with each fused `dot` node drawn as the lecture builds a neuron:
    `sum((wi*xi for wi, xi in zip(w, x)), b)`, one `*` node per term (labelled `x0*w0`, as the
    weights are named) and a chain of `+` nodes from the bias, the last one in the dot's place
    with its label. The
    numbers are the engine's: the products and sums in the dot's own order give its value
    exactly, and each new node's grad is the dot's (d dot / d part = 1). Constant inputs (plain
    numbers, which a dot keeps only as locals) become leaves `x0`, `x1`, ... whose grad is what
    this one use sends them (w_i times the dot's grad)."""
    ops: list[str] = []
    labels: list[str] = []
    data: list[float] = []
    grads: list[float] = []
    children: list[tuple[int, ...]] = []
    locals_: list[tuple[float, ...]] = []
    where: list[int] = []  # old index -> new index
    origins: list[int] = []  # new index -> old index (-1: a node the split made)

    def add(op: str, label: str, value: float, grad: float, kids: tuple, local: tuple) -> int:
        origins.append(-1)
        ops.append(op)
        labels.append(label)
        data.append(value)
        grads.append(grad)
        children.append(kids)
        locals_.append(local)
        return len(ops) - 1

    for i, op in enumerate(snap.ops):
        kids, local = snap.children[i], snap.locals[i]
        if op == "dot" and kids:
            k, values, has_bias = dot_layout(tuple(snap.data[c] for c in kids), local)
        if op != "dot" or not kids or k == 0:
            where.append(
                add(op, snap.labels[i], snap.data[i], snap.grads[i], tuple(where[c] for c in kids),
                    local)
            )  # fmt: skip
            origins[-1] = i
            continue
        g = snap.grads[i]
        parts = [where[kids[-1]]] if has_bias else []  # the sum starts from the bias
        total = snap.data[kids[-1]] if has_bias else 0.0
        for j in range(k):
            w, wd = where[kids[j]], snap.data[kids[j]]
            if values:
                x, xd = where[kids[k + j]], snap.data[kids[k + j]]
            else:
                xd = local[j]
                x = add("", f"x{j}", xd, wd * g if g else 0.0, (), ())
            last = j == k - 1
            label = snap.labels[i] if last and not parts else f"x{j}*w{j}"
            product = add("*", label, snap.data[i] if last and not parts else wd * xd, g,
                          (w, x), (xd, wd))  # fmt: skip
            if not parts:  # no bias: the first product starts the sum
                parts.append(product)
                total = data[product]
                continue
            total = snap.data[i] if last else total + data[product]  # the dot's own sum, exactly
            label = snap.labels[i] if last else ""
            parts.append(add("+", label, total, g, (parts[-1], product), (1.0, 1.0)))
        where.append(parts[-1])
        origins[parts[-1]] = i  # the last sum stands for the dot: its value and grad
    split = GraphSnapshot(
        tuple(ops), tuple(labels), tuple(data), tuple(grads), tuple(children), tuple(locals_)
    )
    return split, tuple(origins)


# -- the backward pass, one node at a time ------------------------------------------------------


@dataclass(frozen=True)
class Send:
    """What one node sends one of its operands in the backward pass:

        operand.grad += local * node.grad    (before -> after)

    `complete`: no other node sends this operand anything later, so `after` is its gradient.
    """

    position: int  # which operand of the node (0-based; `a*a` sends twice)
    child: int  # the operand's index
    local: float  # d node / d operand, recorded by the forward pass
    contribution: float  # local * node.grad
    before: float  # the operand's running sum before this contribution
    after: float  # and after it
    complete: bool


@dataclass(frozen=True)
class BackwardStep:
    """Step `number` (1-based) of the backward pass: node `index`, whose gradient `grad` is
    complete (every node that reads it came later in the forward pass, so earlier here),
    sends `local * grad` to each of its operands."""

    number: int
    index: int
    grad: float
    sends: tuple[Send, ...]


def backward_steps(
    snap: GraphSnapshot,
    top: int | None = None,
    start: Sequence[float] | None = None,
    leaves: bool = True,
) -> Iterator[BackwardStep]:
    """Replay `Value.backward()` on a snapshot, one node at a time, root first.

    Every gradient starts at 0 and the root's at 1; nodes are visited in reverse topological
    order, as the engine does, and each adds `local * grad` to its operands' running sums, in the
    engine's order and arithmetic (a node whose gradient is 0 sends nothing), so the final sums
    are the snapshot's grads: exactly for the nodes of one `backward()` call, and for leaves
    whose grads were zeroed before it (as `Trainer.step` does).

    `top`: only the nodes under node `top` (itself included: `under`), in the same order, each
    sum starting at `start[i]` (`walk_start`: what the rest of the pass sends it); a send is
    `complete` once no node of the walk has more to send that operand. `leaves=False` leaves
    out the leaves other than `top` (they send nothing: the sums are the same), numbering the
    rest.
    """
    n = len(snap)
    if not n:
        return
    inside = None if top is None else under(snap, top)
    if start is None:
        partial = [0.0] * n
        partial[snap.root if top is None else top] = 1.0
    else:
        partial = list(start)
    if inside is None:
        remaining = [len(c) for c in snap._consumers]
    else:
        remaining = [sum(p in inside for p, _ in c) for c in snap._consumers]
    children, locals_ = snap.children, snap.locals
    order: Iterable[int] = range(n - 1, -1, -1)
    if inside is not None:
        order = (i for i in order if i in inside)
    if not leaves:
        order = (i for i in order if children[i] or i == top)
    for number, i in enumerate(order, 1):
        g = partial[i]
        sends = []
        for position, (c, local) in enumerate(zip(children[i], locals_[i])):
            before = partial[c]
            if g:
                contribution = local * g
                after = partial[c] = before + contribution
            else:  # the engine skips a zero gradient: nothing is added
                contribution, after = 0.0, before
            remaining[c] -= 1
            sends.append(Send(position, c, local, contribution, before, after, not remaining[c]))
        yield BackwardStep(number, i, g, tuple(sends))


def under(snap: GraphSnapshot, top: int) -> frozenset[int]:
    """Node `top` and every node it depends on: the subgraph a walk from `top` goes through
    (one neuron's inputs and weights, one sample's branch of the loss)."""
    seen = {top}
    stack = [top]
    children = snap.children
    while stack:
        for c in children[stack.pop()]:
            if c not in seen:
                seen.add(c)
                stack.append(c)
    return frozenset(seen)


def walk_start(snap: GraphSnapshot, inside: frozenset[int] | range) -> list[float]:
    """Where a walk through the nodes `inside` starts each running sum so that it ends at the
    snapshot's grad: the node's grad less what the walk's own nodes will send it. That is what
    nodes outside the walk send (all of the top's grad; the other samples' share of a shared
    weight), plus, for a leaf, a grad it held before the pass (zero_grad skipped); the loss's
    1 on a walk of the whole graph. A rest that is only float rounding (the walk sums in
    another order) is 0."""
    start = [0.0] * len(snap)
    grads, locals_ = snap.grads, snap.locals
    for i in inside:
        own = [grads[p] * locals_[p][k] for p, k in snap._consumers[i] if p in inside]
        rest = grads[i] - math.fsum(own)
        scale = abs(grads[i]) + math.fsum(map(abs, own))
        start[i] = rest if abs(rest) > 1e-9 * scale and math.isfinite(rest) else 0.0
    return start


def node_count(root: Value | GraphSnapshot) -> int:
    """Number of distinct nodes in the graph of `root`, root and leaves included."""
    if isinstance(root, GraphSnapshot):
        return len(root)
    return len(topological_order(root))


def op_counts(root: Value | GraphSnapshot) -> dict[str, int]:
    """How many nodes each op made in the graph of `root` ("" counts the leaves)."""
    if isinstance(root, GraphSnapshot):
        return root.op_counts()
    return dict(Counter(n._op for n in topological_order(root)))


# -- Graphviz DOT ---------------------------------------------------------------------------

_RECORD_SPECIAL = {c: "\\" + c for c in '{}|<>"\\'}
_RECORD_SPECIAL["\n"] = "\\n"
_ORDERED = ("-", "/")  # ops whose operand order matters for a reader of the picture
_PLAIN_SPECIAL = {'"': '\\"', "\\": "\\\\", "\n": "\\n"}


def escape_record(text: str) -> str:
    """Escape a field of a record label: braces, bars, angle brackets, quotes, backslashes."""
    return "".join(_RECORD_SPECIAL.get(c, c) for c in text)


def _escape_plain(text: str) -> str:
    """Escape text for a double-quoted DOT string."""
    return "".join(_PLAIN_SPECIAL.get(c, c) for c in text)


def _nearest_root(snap: GraphSnapshot, limit: int) -> list[int]:
    """The `limit` nodes with the fewest edges to the root (breadth-first from the root)."""
    if not len(snap):
        return []
    seen = {snap.root}
    kept = [snap.root]
    queue = deque(kept)
    children = snap.children
    while queue and len(kept) < limit:
        for c in children[queue.popleft()]:
            if c not in seen:
                seen.add(c)
                kept.append(c)
                queue.append(c)
                if len(kept) >= limit:
                    break
    return kept


DOT_MAX_NODES = 2000  # past this, `to_dot` draws the nodes nearest the root only


def to_dot(graph: GraphSnapshot | Value, max_nodes: int = DOT_MAX_NODES) -> str:
    """The graph as Graphviz DOT text, drawn like Karpathy's `draw_dot`.

    Each node is a record `{ label | data ... | grad ... }`; each result has an oval op node
    feeding it, and its operands point at that op node, left to right. Past `max_nodes` nodes,
    only the `max_nodes` nearest the root are drawn and a comment says how many were left out.
    """
    if max_nodes < 1:
        raise ValueError(f"to_dot: max_nodes must be at least 1, got {max_nodes}")
    snap = graph if isinstance(graph, GraphSnapshot) else snapshot(graph)
    total = len(snap)
    kept = sorted(_nearest_root(snap, max_nodes))
    keep = set(kept)
    lines = ["digraph micrograd {"]
    if total > len(kept):
        left_out = total - len(kept)
        lines.append(
            f"  // truncated: {left_out} of {total} nodes left out; "
            f"showing the {len(kept)} nearest the root"
        )
    lines.append("  rankdir=LR;")
    lines.append('  node [shape=record, fontname="Helvetica"];')
    for i in kept:
        label = escape_record(snap.labels[i]) if snap.labels[i] else f"#{i}"
        fields = f"{{ {label} | data {snap.data[i]:.4g} | grad {snap.grads[i]:.4g} }}"
        extra = ", style=bold" if i == snap.root else ""
        lines.append(f'  n{i} [label="{fields}"{extra}];')
        op = snap.ops[i]
        if snap.children[i]:
            lines.append(f'  n{i}_op [label="{_escape_plain(op)}", shape=ellipse];')
            lines.append(f"  n{i}_op -> n{i};")
    for i in kept:
        kids = snap.children[i]
        hidden = 0
        for position, c in enumerate(kids):
            if c not in keep:
                hidden += 1
            elif snap.ops[i] in _ORDERED:  # say which operand is a and which is b
                lines.append(f'  n{c} -> n{i}_op [headlabel="{"ab"[position]}"];')
            else:
                lines.append(f"  n{c} -> n{i}_op;")
        if hidden:
            lines.append(f"  // n{i}: {hidden} of {len(kids)} operands not drawn")
    lines.append("}")
    return "\n".join(lines) + "\n"
