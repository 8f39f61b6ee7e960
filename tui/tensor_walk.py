"""The backprop walk on a tensor graph: the backward pass one array node per key press.

`TensorWalk` has `tui.backprop.BackpropWalk`'s interface (`snapshot`, `step`, `total`,
`current`, `advance()`, `describe(i)`), so the Graph pane walks either graph the same way. Its
steps come from the training process (`micrograd.tensor_grad.backward_steps`, sent as a
`TensorWalkReport`): for the node being processed, its G (complete: every node that reads it came
first), its rule in matrix form from `micrograd.tensor.RULES`, and what the rule sends each
operand, with the operand's running sum before and after (summaries: shape, min, max, norm).
Plain data in, rich Text out: no widgets here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text

from micrograd.tensor import RULES
from tui.formatting import fmt_number
from tui.widgets.tensor_detail import (
    consumers,
    node_name,
    op_display,
    operand_letters,
    shape_text,
)


def brief(s: Sequence[float] | None) -> str:
    """`min -0.1 max 0.2 norm 1.3` of a (min, max, mean, norm) summary."""
    if s is None:
        return "nothing yet"
    return f"min {fmt_number(s[0])} max {fmt_number(s[1])} norm {fmt_number(s[3])}"


def title(node: Any, text: Text, style: str) -> None:
    """`L1 = linear 32x10`, or `relu 32x16` for a node without a label."""
    if node.label:
        text.append(node.label, "bold")
        text.append(" = ")
    text.append(f"{op_display(node.op)} {shape_text(node.shape)}\n", style)


class TensorWalk:
    """Where the backward pass of one tensor graph has got to."""

    def __init__(self, snapshot: Any, step: int, steps: Sequence[Any]) -> None:
        self.snapshot = snapshot  # the TensorTreeSnapshot the tree shows
        self.step = step
        self.steps = tuple(steps)
        self.total = len(self.steps)
        self._next = 0
        self.current: Any = None
        self.done: set[int] = set()
        self.running: dict[int, Any] = {}  # node -> summary of its running sum so far
        self.received: dict[int, int] = {}

    def advance(self) -> Any:
        """The next node of the pass; None when every node with a gradient is processed."""
        if self.current is not None:
            self.done.add(self.current.index)
        if self._next >= self.total:
            self.current = None
            return None
        step = self.current = self.steps[self._next]
        self._next += 1
        for send in step.sends:
            self.running[send.child] = send.after
            self.received[send.child] = self.received.get(send.child, 0) + 1
        return step

    def _header(self) -> Text:
        number = self.current.number if self.current else self.total
        text = Text()
        text.append(f"backprop {number}/{self.total}", "bold")
        text.append(f" of step {self.step}'s tensor graph   b next, B stop\n", "dim")
        return text

    def describe(self, i: int) -> Text:
        snap = self.snapshot.snap
        if not 0 <= i < len(snap):
            return self._header()
        step = self.current
        if step is not None and step.index == i:
            return self._describe_current(step)
        node = snap.node(i)
        text = self._header()
        title(node, text, "cyan")
        readers = len([u for u, _ in consumers(snap, i)])
        if i in self.done:
            text.append(f"processed: its gradient is final ({brief(node.grad_summary)})\n",
                        "green")  # fmt: skip
        elif i == snap.root:
            text.append("the loss: its G starts at 1\n")
        elif node.grad_summary is None:
            text.append("no gradient reaches it (an input or a constant)\n", "dim")
        else:
            got = self.received.get(i, 0)
            text.append(f"running sum so far: {brief(self.running.get(i))}", "yellow")
            text.append(f"   ({got} of {readers} readers sent")
            text.append(", complete)\n" if got == readers else ")\n")
            text.append(f"(final grad after the pass: {brief(node.grad_summary)})\n", "dim")
        return text

    def _describe_current(self, step: Any) -> Text:
        snap = self.snapshot.snap
        i = step.index
        node = snap.node(i)
        text = self._header()
        text.append("▶ ", "bold magenta")
        title(node, text, "bold cyan")
        if i == snap.root:
            text.append("the loss: G = dL/dL = 1 starts the backward pass\n")
        else:
            readers = len(consumers(snap, i))
            text.append(f"G = dL/d this node, complete ({readers} reader")
            text.append(f"{'s' * (readers != 1)} came first, each sending its part):\n")
        text.append(f"  G {shape_text(node.shape)}: {brief(step.grad)}\n", "bold yellow")
        rule = RULES.get(node.op)
        if not node.children or rule is None:
            text.append("a leaf: it sends nothing on; G is what the optimizer uses\n")
            return text
        text.append("rule:  ", "underline")
        text.append(f"{rule.text}\n", "italic")
        text.append("sends to each operand (its running sum before → after):\n", "underline")
        letters = operand_letters(node.op, len(node.children))
        sent = {s.position: s for s in step.sends}
        for position, c in enumerate(node.children):
            child = snap.node(c)
            text.append(f"  {letters[position]} = ")
            text.append(node_name(child), "bold")
            text.append(f" {shape_text(child.shape)}")
            send = sent.get(position)
            if send is None:
                text.append("  nothing: a constant (no gradient)\n", "dim")
                continue
            text.append(f"\n    += dL/d{letters[position]}: {brief(send.contribution)}\n", "cyan")
            text.append(f"    sum {brief(send.before)} → {brief(send.after)}", "yellow")
            text.append("  done\n" if send.complete else "\n", "green")
        return text
