"""The node detail: how one graph node was computed and how its gradient was made.

For node `v = op(a1, ..., ak)`: its inputs with their values and the local derivatives
d v / d ai recorded by the forward pass, and the chain rule for its own gradient:

    v.grad = sum over consumers u of  u.grad * (d u / d v)

written out with the numbers (the loss itself starts the backward pass with grad 1).
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from micrograd.graph import GraphSnapshot
from micrograd.operators import op_rule
from tui.formatting import fmt_number
from tui.widgets.scroll import ScrollBox

MAX_TERMS = 12  # inputs and chain-rule terms listed one by one; the rest are summed


def describe(snap: GraphSnapshot, i: int) -> Text:
    """The detail text for node i of snapshot `snap`."""
    text = describe_forward(snap, i, grad=True)
    text.append("gradient (chain rule: Σ consumer.grad × local):\n", "underline")
    consumers = snap.consumers(i)
    if not consumers:
        text.append("  the loss itself: grad = 1 starts the backward pass\n")
        return text
    terms = [(p, snap.grads[p], snap.locals[p][pos]) for p, pos in consumers]
    total = sum(g * local for _, g, local in terms)
    for p, g, local in terms[:MAX_TERMS]:
        text.append(f"  {fmt_number(g)} × {fmt_number(local)}", "yellow")
        text.append(f"   from {snap.name(p)}\n", "dim")
    if len(terms) > MAX_TERMS:
        rest = sum(g * local for _, g, local in terms[MAX_TERMS:])
        text.append(f"  + {fmt_number(rest)}   from {len(terms) - MAX_TERMS} more consumers\n")
    text.append(f"  = {fmt_number(total)}", "bold yellow")
    text.append(f"   (grad shown: {fmt_number(snap.grads[i])})\n")
    return text


def describe_forward(snap: GraphSnapshot, i: int, grad: bool = False) -> Text:
    """How node i was computed: its name and value (and grad), its op's rule, and its inputs
    with the local derivatives the forward pass recorded."""
    text = Text()
    op = snap.ops[i]
    text.append(snap.name(i), "bold")
    text.append(f"   data {fmt_number(snap.data[i])}")
    text.append(f"   grad {fmt_number(snap.grads[i])}\n" if grad else "\n")
    rule = op_rule(op) if op else None
    if rule is not None:
        text.append(f"{op}: {rule.formula};  {rule.derivative}\n", "italic")
    children = snap.children[i]
    if children:
        text.append("inputs (value, local derivative d out/d input):\n", "underline")
        for pos, c in enumerate(children[:MAX_TERMS]):
            local = snap.locals[i][pos]
            text.append(f"  {snap.name(c)}  = {fmt_number(snap.data[c])}")
            text.append(f"   local {fmt_number(local)}\n", "cyan")
        if len(children) > MAX_TERMS:
            text.append(f"  … {len(children) - MAX_TERMS} more inputs\n", "dim")
    else:
        text.append("a leaf: a parameter, an input or a constant\n", "dim")
    return text


class NodeDetail(ScrollBox):
    """Scrollable detail of the graph node under the tree's cursor. It takes the focus (tab
    from the tree), so its arrows and PgUp/PgDn scroll it: in a small terminal the chain-rule
    sum lies below its first lines, and only zooming showed it before (issue 12)."""

    HINT = "Move the cursor in the graph to see how a node was computed."
    TITLE = "detail (tab: scroll)"

    def compose(self):
        self.border_title = self.TITLE
        yield Static(self.HINT, id="detail")

    def clear(self) -> None:
        self.query_one("#detail", Static).update(self.HINT)

    def show_node(self, snapshot: GraphSnapshot, index: int, extra: Text | None = None) -> None:
        """Node `index` of `snapshot`, and `extra` (e.g. a gradient check) under it."""
        text = describe(snapshot, index)
        if extra is not None:
            text.append_text(extra)
        self.show_text(text)

    def show_text(self, text: Text) -> None:
        self.query_one("#detail", Static).update(text)
