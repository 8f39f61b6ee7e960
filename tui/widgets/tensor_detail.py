"""The node detail of a tensor graph: what one array op computed and how its gradient flows.

For node `out = op(A, B, ...)` of a `micrograd.tensor.TensorGraphSnapshot`: its op and shape
(`matmul 100x16`), the forward formula and the vector-Jacobian rule in matrix form, both read
from `micrograd.tensor.RULES` (the table backward() itself runs), its operands with their
shapes, summaries (min, max, mean, norm) of its data and of its gradient G = dL/d(out), the
nodes that read it, the elements themselves for a small array, and a heatmap of its data and
its gradient side by side (the corner of the array the snapshot keeps, cropped to the pane's
width; the checked element in magenta). Labels are user strings (a CSV's name can hold `[`):
everything is built as `rich.text.Text`, never markup.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from micrograd.tensor import RULES
from tui.formatting import fmt_number
from tui.widgets.heatmap import (
    CURSOR_COLOUR,
    CURSOR_STYLE,
    UPPER_HALF,
    colour_of,
    scale_of,
    shade_of,
)
from tui.widgets.node_detail import NodeDetail
from tui.widgets.scroll import ScrollBox

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


def describe_tensor(snap: Any, i: int, after_summaries: Text | None = None) -> Text:
    """The detail text for node i of a TensorGraphSnapshot; `after_summaries` (a check, the
    heatmaps) goes after the data and grad summaries, before its operands and its readers
    (in a small pane the first lines are what shows)."""
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
    if not node.children:
        text.append("a leaf: a parameter, an input or a constant (no rule to apply)\n", "dim")
    text.append("data:     ", "underline")
    text.append(summary_text(node.data_summary) + "\n")
    text.append("grad (G): ", "underline")
    text.append(summary_text(node.grad_summary) + "\n", "yellow")
    if after_summaries is not None:
        text.append_text(after_summaries)
    if node.children:
        text.append("operands:\n", "underline")
        for letter, c in zip(letters, node.children):
            child = snap.node(c)
            text.append(f"  {letter} = ")
            text.append(node_name(child), "bold")
            text.append(f"  {shape_text(child.shape)}  ({op_display(child.op)}, node {c})\n")
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


def matrix_cell(shape: Sequence[int], element: Sequence[int]) -> tuple[int, int]:
    """Where element `element` of an array of `shape` sits in its matrix (`matrix_shape`)."""
    if len(shape) <= 1:
        return (0, int(element[0]) if element else 0)
    col = int(np.ravel_multi_index(tuple(element[1:]), tuple(shape[1:])))
    return (int(element[0]), col)


def heat_lines(
    a: np.ndarray, cols: int, shades: bool, mark: tuple[int, int] | None = None
) -> list[Text]:
    """The first `cols` columns of matrix `a` as lines of text: half blocks, two rows a line
    (orange below zero, blue above, black 0, red NaN/inf), or in `shades` two characters an
    element, one row a line; the element `mark` in magenta (reverse video in shades)."""
    a = a[:, :cols]
    scale = scale_of(a)
    rows, n = a.shape
    lines = []
    if shades:
        for r in range(rows):
            line = Text(no_wrap=True)
            for c in range(n):
                chars, style = shade_of(float(a[r, c]), scale)
                line.append(chars, CURSOR_STYLE if (r, c) == mark else style)
            lines.append(line)
        return lines
    for r in range(0, rows, 2):
        line = Text(no_wrap=True)
        for c in range(n):
            top = CURSOR_COLOUR if (r, c) == mark else colour_of(float(a[r, c]), scale)
            bottom = None
            if r + 1 < rows:
                below = float(a[r + 1, c])
                bottom = CURSOR_COLOUR if (r + 1, c) == mark else colour_of(below, scale)
            line.append(UPPER_HALF, Style(color=top, bgcolor=bottom))
        lines.append(line)
    return lines


def heatmap_text(
    node: Any, width: int, shades: bool = False, element: Sequence[int] | None = None
) -> Text:
    """The node's data and grad as two heatmaps, side by side when `width` allows (else one
    above the other), with what part of the array they show."""
    text = Text()
    if node.data_preview is None:
        return text
    data = np.asarray(node.data_preview, dtype=np.float64).reshape(len(node.data_preview), -1)
    grad = None
    if node.grad_preview is not None:
        grad = np.asarray(node.grad_preview, dtype=np.float64).reshape(data.shape)
    per = 2 if shades else 1  # characters an element
    rows, total_cols = node.matrix_shape
    shown_rows, shown_cols = data.shape
    side = (width - 3) // 2 // per
    stacked = side < min(8, shown_cols) or grad is None
    cols = max(1, min(shown_cols, (width // per) if stacked else side))
    mark = matrix_cell(node.shape, element) if element else None
    where = f"rows 0-{shown_rows - 1} of {rows}" if shown_rows < rows else f"{rows} rows"
    where += f", cols 0-{cols - 1} of {total_cols}" if cols < total_cols else f", {cols} cols"
    text.append("heatmap", "underline")
    text.append(f" ({where}; orange < 0 < blue)\n", "dim")
    left = heat_lines(data, cols, shades, mark)
    head_d = f"data |max| {fmt_number(scale_of(data[:, :cols]))}"
    if grad is None:
        text.append(head_d + "   grad: none\n")
        for line in left:
            text.append_text(line)
            text.append("\n")
        return text
    right = heat_lines(grad, cols, shades, mark)
    head_g = f"grad |max| {fmt_number(scale_of(grad[:, :cols]))}"
    if stacked:
        for head, lines, style in ((head_d, left, ""), (head_g, right, "yellow")):
            text.append(head + "\n", style)
            for line in lines:
                text.append_text(line)
                text.append("\n")
        return text
    gap = "   "
    text.append(f"{head_d:<{cols * per}}{gap}")
    text.append(head_g + "\n", "yellow")
    for l_line, r_line in zip(left, right):
        text.append_text(l_line)
        text.append(" " * (cols * per - l_line.cell_len) + gap)
        text.append_text(r_line)
        text.append("\n")
    return text


class TensorNodeDetail(ScrollBox):
    """Scrollable detail of the tensor graph node under the tree's cursor: its rule, summaries
    and heatmaps, or the backprop walk's text while walking. It takes the focus (tab from the
    tree) to scroll by keys, as the scalar one does (`tui.widgets.node_detail`)."""

    HINT = "Move the cursor in the graph to see how an array node was computed."

    def __init__(self, shades: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shades = shades  # heatmaps as shading characters (no colour or UTF-8)
        self._shown: tuple[Any, int, Text | None, Sequence[int] | None] | None = None

    def compose(self):
        self.border_title = NodeDetail.TITLE
        yield Static(self.HINT, id="tensor-detail")

    def show_node(
        self,
        snapshot: Any,
        index: int,
        extra: Text | None = None,
        element: Sequence[int] | None = None,
    ) -> None:
        """Node `index`'s detail; `extra` (a gradient check) after it, `element` (the checked
        one) marked in the heatmaps."""
        self._shown = (snapshot, index, extra, element)
        middle = Text() if extra is None else extra.copy()
        width = max(20, (self.content_size.width or 40) - 1)
        middle.append_text(heatmap_text(snapshot.node(index), width, self.shades, element))
        self.query_one("#tensor-detail", Static).update(describe_tensor(snapshot, index, middle))

    def show_text(self, text: Text) -> None:
        """Any text in place of a node's detail (the backprop walk's)."""
        self._shown = None
        self.query_one("#tensor-detail", Static).update(text)

    def on_resize(self) -> None:
        if self._shown is not None:  # the heatmaps fit the new width
            self.show_node(*self._shown)

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
