"""The backprop debugger: the backward pass of the shown graph, one node per key press.

`BackpropWalk` follows `micrograd.graph.backward_steps` on a snapshot and keeps each node's
running sum, so the detail can show, for the node being processed, that its gradient is complete
and what it sends each of its inputs (their sums growing from 0, as the engine's own pass does),
and for any other node how far its sum has got. Plain data in, rich Text out: no widgets here.
"""

from __future__ import annotations

from rich.text import Text

from micrograd.graph import BackwardStep, GraphSnapshot, backward_steps
from tui.formatting import fmt_number

MAX_SENDS = 12  # inputs listed one by one; the rest are summed up


class BackpropWalk:
    """Where the backward pass of one snapshot has got to."""

    def __init__(self, snap: GraphSnapshot, step: int) -> None:
        self.snapshot = snap
        self.step = step  # the training step whose graph this is
        self.total = len(snap)
        self._steps = backward_steps(snap)
        self.current: BackwardStep | None = None
        self.partial: dict[int, float] = {snap.root: 1.0}  # running sums that have started
        self.received: dict[int, int] = {}  # contributions each node has received so far
        self.done: set[int] = set()  # nodes already processed

    def advance(self) -> BackwardStep | None:
        """The next node of the pass; None when every node has been processed."""
        if self.current is not None:
            self.done.add(self.current.index)
        step = next(self._steps, None)
        self.current = step
        if step is not None:
            for send in step.sends:
                self.partial[send.child] = send.after
                self.received[send.child] = self.received.get(send.child, 0) + 1
        return step

    def describe(self, i: int) -> Text:
        """The detail for node i at this point of the walk."""
        step = self.current
        if step is not None and step.index == i:
            return self._describe_current(step)
        snap = self.snapshot
        text = self._header()
        text.append(snap.name(i), "bold")
        text.append(f"   data {fmt_number(snap.data[i])}\n")
        n_consumers = len(snap.consumers(i))
        got = self.received.get(i, 0)
        running = self.partial.get(i, 0.0)
        if i in self.done:
            text.append(f"processed: grad {fmt_number(snap.grads[i])} is final\n", "green")
        elif i == snap.root:
            text.append("the loss: its grad starts at 1\n")
        else:
            text.append(f"running sum so far: {fmt_number(running)}", "yellow")
            text.append(f"   ({got} of {n_consumers} contributions received")
            text.append(", complete)\n" if got == n_consumers else ")\n")
            text.append(f"(final grad after the pass: {fmt_number(snap.grads[i])})\n", "dim")
        return text

    def _header(self) -> Text:
        number = self.current.number if self.current else self.total
        text = Text()
        text.append(f"backprop {number}/{self.total}", "bold")
        text.append(f" of step {self.step}'s graph   b next, B stop\n", "dim")
        return text

    def _describe_current(self, step: BackwardStep) -> Text:
        snap = self.snapshot
        i = step.index
        text = self._header()
        text.append("▶ ", "bold magenta")
        text.append(snap.name(i), "bold")
        text.append(f"   data {fmt_number(snap.data[i])}\n")
        consumers = snap.consumers(i)
        if not consumers:
            text.append("the loss: d loss / d loss = 1 starts the backward pass\n")
        else:
            text.append("grad (complete: its readers came first) = Σ grad × local\n")
            terms = [(p, snap.grads[p], snap.locals[p][pos]) for p, pos in consumers]
            for p, g, local in terms[:MAX_SENDS]:
                text.append(f"  {fmt_number(g)} × {fmt_number(local)}", "yellow")
                text.append(f"   from {snap.name(p)}\n", "dim")
            if len(terms) > MAX_SENDS:
                rest = sum(g * local for _, g, local in terms[MAX_SENDS:])
                more = len(terms) - MAX_SENDS
                text.append(f"  + {fmt_number(rest)}   from {more} more\n")
        text.append(f"  grad = {fmt_number(step.grad)}\n", "bold yellow")
        if not step.sends:
            text.append("a leaf: it sends nothing on; this grad is what the optimizer uses\n")
            return text
        text.append("sends local × grad to each input (its running sum):\n", "underline")
        for send in step.sends[:MAX_SENDS]:
            text.append(f"  {snap.name(send.child)}", "bold")
            text.append(f"  += {fmt_number(send.local)} × {fmt_number(step.grad)}", "cyan")
            text.append(f" = {fmt_number(send.contribution)}")
            text.append(f"   {fmt_number(send.before)} → {fmt_number(send.after)}", "yellow")
            text.append("  done\n" if send.complete else "\n", "green")
        if len(step.sends) > MAX_SENDS:
            text.append(f"  … and {len(step.sends) - MAX_SENDS} more inputs\n", "dim")
        return text
