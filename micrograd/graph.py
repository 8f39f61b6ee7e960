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

from collections import Counter, deque
from dataclasses import dataclass
from functools import cached_property

from micrograd.engine import Value, topological_order

__all__ = [
    "GraphSnapshot",
    "NodeInfo",
    "node_count",
    "op_counts",
    "snapshot",
    "to_dot",
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

        A node used twice by one parent (`a*a`) appears twice, once per position.
        """
        return self._consumers[i]

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
        """Pickle the six tuples only, not the consumer cache."""
        state = dict(self.__dict__)
        state.pop("_consumers", None)
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


def _escape_record(text: str) -> str:
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


def to_dot(graph: GraphSnapshot | Value, max_nodes: int = 2000) -> str:
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
        label = _escape_record(snap.labels[i]) if snap.labels[i] else f"#{i}"
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
