"""The node detail of a tensor graph: what one array op computed and how its gradient flows.

For node `out = op(A, B, ...)` of a `micrograd.tensor.TensorGraphSnapshot`: its op and shape
(`matmul 100x16`), the forward formula and the vector-Jacobian rule in matrix form, both read
from `micrograd.tensor.RULES` (the table backward() itself runs), its operands with their
shapes, summaries (min, max, mean, norm) of its data and of its gradient G = dL/d(out), the
nodes that read it, and the elements themselves for a small array. Labels are user strings
(a CSV's name can hold `[`): everything is built as `rich.text.Text`, never markup.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from micrograd.tensor import RULES
from tui.formatting import fmt_number

OP_NAMES = {"@": "matmul", "+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow"}
MAX_USERS = 8  # consumers listed by name
VALUE_COLUMNS = 8  # elements a row in the small-array table


def op_display(op: str) -> str:
    """`matmul` for `@`, the op's own name otherwise, `leaf` for a parameter or an input."""
    return OP_NAMES.get(op, op) if op else "leaf"


def shape_text(shape: Sequence[int]) -> str:
    return "x".join(map(str, shape)) if shape else "scalar"


def operand_letters(op: str, n: int) -> list[str]:
    """The operands' names as the rule writes them (`A`, `B` for `A @ B`; `X`, `W`, `b` for
    linear), read from the forward formula; `in0`, `in1`, ... where it names fewer."""
    rule = RULES.get(op)
    letters: list[str] = []
    if rule is not None:
        formula = rule.forward.split("=", 1)[-1]
        for name in re.findall(r"\b([A-Za-z])\b", formula):
            if name not in letters and name != "n":  # n: a constant exponent, not an operand
                letters.append(name)
    return [letters[k] if k < len(letters) else f"in{k}" for k in range(n)]


def node_name(node: Any) -> str:
    return node.label or op_display(node.op)


def summary_text(summary: Sequence[float] | None) -> str:
    if summary is None:
        return "none: no gradient reached it"
    low, high, mean, norm = summary
    return (
        f"min {fmt_number(low)}  max {fmt_number(high)}  mean {fmt_number(mean)}  "
        f"norm {fmt_number(norm)}"
    )


def tensor_node_label(snap: Any, i: int) -> Text:
    """The tree's line for node i: `matmul 100x16 L0  |data| 3.2  |grad| 0.1  (2 in)`."""
    node = snap.node(i)
    text = Text(no_wrap=True)
    if i == snap.root:
        text.append("loss = ", "bold magenta")
    text.append(
        f"{op_display(node.op)} {shape_text(node.shape)}", "bold cyan" if node.op else "bold green"
    )
    if node.label:
        text.append(f" {node.label}", "bold")
    text.append(f"  |data| {fmt_number(node.data_summary[3])}")
    if node.grad_summary is not None:
        grad = node.grad_summary[3]
        text.append(f"  |grad| {fmt_number(grad)}", "red" if grad != grad else "yellow")
    if node.children:
        text.append(f"  ({len(node.children)} in)", "dim")
    return text


def consumers(snap: Any, i: int) -> list[tuple[int, int]]:
    """(node, operand position) of every node that reads node i."""
    return [(n.index, pos) for n in snap.nodes for pos, c in enumerate(n.children) if c == i]


def values_table(values: Sequence[float], shape: Sequence[int], text: Text, style: str) -> None:
    """Elements (flat, C order) in rows of the array's last axis (at most VALUE_COLUMNS)."""
    width = shape[-1] if shape else 1
    width = max(1, min(width, VALUE_COLUMNS))
    for start in range(0, len(values), width):
        row = values[start : start + width]
        text.append("  " + " ".join(f"{fmt_number(v):>9}" for v in row) + "\n", style)


def describe_tensor(snap: Any, i: int) -> Text:
    """The detail text for node i of a TensorGraphSnapshot."""
    node = snap.node(i)
    text = Text()
    text.append(node_name(node), "bold")
    text.append(f" = {op_display(node.op)} {shape_text(node.shape)}", "bold cyan")
    text.append(f"  ({node.dtype})\n")
    rule = RULES.get(node.op)
    letters = operand_letters(node.op, len(node.children))
    if rule is not None:
        text.append("forward:  ", "underline")
        text.append(f"{rule.forward}\n", "italic")
        text.append("backward: ", "underline")
        text.append(f"{rule.text}", "italic")
        text.append(f"   (G = dL/d this node, {shape_text(node.shape)})\n", "dim")
    if node.children:
        text.append("operands:\n", "underline")
        for letter, c in zip(letters, node.children):
            child = snap.node(c)
            text.append(f"  {letter} = ")
            text.append(node_name(child), "bold")
            text.append(f"  {shape_text(child.shape)}  ({op_display(child.op)}, node {c})\n")
    else:
        text.append("a leaf: a parameter, an input or a constant (no rule to apply)\n", "dim")
    text.append("data:     ", "underline")
    text.append(summary_text(node.data_summary) + "\n")
    text.append("grad (G): ", "underline")
    text.append(summary_text(node.grad_summary) + "\n", "yellow")
    users = consumers(snap, i)
    if i == snap.root:
        text.append("the loss itself: G = 1 starts the backward pass\n")
    elif users:
        text.append("read by (G is the sum of what each sends back):\n", "underline")
        for u, pos in users[:MAX_USERS]:
            user = snap.node(u)
            letter = operand_letters(user.op, len(user.children))[pos]
            text.append(f"  {node_name(user)}", "bold")
            text.append(f"  {op_display(user.op)} {shape_text(user.shape)}, as {letter}\n")
        if len(users) > MAX_USERS:
            text.append(f"  … {len(users) - MAX_USERS} more\n", "dim")
    if node.data_values is not None:
        text.append("data values:\n", "underline")
        values_table(node.data_values, node.shape, text, "")
    if node.grad_values is not None:
        text.append("grad values:\n", "underline")
        values_table(node.grad_values, node.shape, text, "yellow")
    return text


class TensorNodeDetail(VerticalScroll, can_focus=False):
    """Scrollable detail of the tensor graph node under the tree's cursor."""

    HINT = "Move the cursor in the graph to see how an array node was computed."

    def compose(self):
        yield Static(self.HINT, id="tensor-detail")

    def show_node(self, snapshot: Any, index: int, extra: Text | None = None) -> None:
        text = describe_tensor(snapshot, index)
        if extra is not None:
            text.append_text(extra)
        self.query_one("#tensor-detail", Static).update(text)

    def shown_text(self) -> str:
        return str(self.query_one("#tensor-detail", Static).render())


class TensorTreeSnapshot:
    """A `TensorGraphSnapshot` as the graph tree reads a snapshot: `ops`, `labels`, `children`,
    `root`, `path_to` and `tree_label(i)` (the tree's line for a node)."""

    def __init__(self, snap: Any) -> None:
        self.snap = snap
        self.ops = tuple(n.op for n in snap.nodes)
        self.labels = tuple(n.label for n in snap.nodes)
        self.children = tuple(n.children for n in snap.nodes)
        self._parent: list[int] | None = None

    def __len__(self) -> int:
        return len(self.ops)

    @property
    def root(self) -> int:
        return len(self.ops) - 1

    def node(self, i: int) -> Any:
        return self.snap.node(i)

    @property
    def nodes(self) -> Any:
        return self.snap.nodes

    def tree_label(self, i: int) -> Text:
        return tensor_node_label(self.snap, i)

    def path_to(self, i: int) -> tuple[int, ...]:
        """Root first, down to node i along a shortest path (breadth-first, operands in order)."""
        if self._parent is None:
            parent = [-1] * len(self.ops)
            seen = {self.root}
            queue = [self.root]
            for k in queue:  # grows as it goes: breadth-first
                for c in self.children[k]:
                    if c not in seen:
                        seen.add(c)
                        parent[c] = k
                        queue.append(c)
            self._parent = parent
        path = [i]
        while self._parent[path[-1]] >= 0:
            path.append(self._parent[path[-1]])
        return tuple(reversed(path))
