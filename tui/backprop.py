"""The backprop debugger: the backward pass of the shown graph, one node per key press.

`BackpropWalk` follows `micrograd.graph.backward_steps` on a snapshot and keeps each node's
running sum, so the detail can show, for the node being processed, that its gradient is complete
and what it sends each of its inputs (their sums growing from 0, as the engine's own pass does),
and for any other node how far its sum has got; the tree shows the sums (`running_grad`).

A walk may go through the subgraph under one node only (`top`: one neuron, one sample's branch
of the loss): tens of nodes instead of thousands. What the rest of the graph sends into it is
counted as done, in each sum from the start (`micrograd.graph.walk_start`), so every sum still
ends at the node's gradient. Plain data in, rich Text out: no widgets here.
"""

from __future__ import annotations

from rich.text import Text

from micrograd.graph import BackwardStep, GraphSnapshot, backward_steps, under, walk_start
from tui.formatting import fmt_number

MAX_SENDS = 12  # inputs listed one by one; the rest are summed up


class BackpropWalk:
    """Where the backward pass of one snapshot has got to."""

    def __init__(self, snap: GraphSnapshot, step: int, top: int | None = None) -> None:
        self.snapshot = snap
        self.step = step  # the training step whose graph this is
        self.top = top  # walk only the subgraph under this node (None: the whole graph)
        self.inside: frozenset[int] | range = range(len(snap)) if top is None else under(snap, top)
        # each sum's start: 1 for the loss, and what the walk will not send (walk_start)
        self._start = walk_start(snap, self.inside)
        # a walk under one node skips its leaves (a neuron's weights are most of its subgraph):
        # their sums fill in as their readers send, shown in the tree and the detail
        self._steps = backward_steps(snap, top, self._start, leaves=top is None)
        self.total = (
            len(self.inside)
            if top is None
            else sum(1 for i in self.inside if snap.children[i] or i == top)
        )
        self.current: BackwardStep | None = None
        # running sums that have started (the top's, and what the rest of the graph sends)
        first = snap.root if top is None else top
        self.partial: dict[int, float] = {
            i: self._start[i] for i in self.inside if self._start[i] or i == first
        }
        self.received: dict[int, int] = {}  # contributions each node has received so far
        self.done: set[int] = set()  # nodes already processed

    def running_grad(self, i: int) -> float:
        """Node i's gradient as far as the walk has got: its running sum (0 before anything
        reached it), final once processed; a node outside a walk under one node has its own."""
        if i not in self.inside:
            return self.snapshot.grads[i]
        return self.partial.get(i, 0.0)

    def inputs_inside(self, i: int) -> int:
        """How many contributions node i gets from the walk's nodes."""
        return sum(p in self.inside for p, _ in self.snapshot.consumers(i))

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
        if i not in self.inside:
            text.append(f"outside this walk (under {snap.name(self.top)}): its grad "
                        f"{fmt_number(snap.grads[i])} counts as done\n", "dim")  # fmt: skip
            return text
        n_consumers = self.inputs_inside(i)
        got = self.received.get(i, 0)
        running = self.running_grad(i)
        if i in self.done:
            text.append(f"processed: grad {fmt_number(snap.grads[i])} is final\n", "green")
        elif i == snap.root:
            text.append("the loss: its grad starts at 1\n")
        else:
            text.append(f"running sum so far: {fmt_number(running)}", "yellow")
            text.append(f"   ({got} of {n_consumers} contributions received")
            text.append(", complete)\n" if got == n_consumers else ")\n")
            if self._start[i] and i != self.top:
                text.append(f"(it started at {fmt_number(self._start[i])}: "
                            f"{self._outside(i)})\n", "dim")  # fmt: skip
            text.append(f"(final grad after the pass: {fmt_number(snap.grads[i])})\n", "dim")
        return text

    def _outside(self, i: int) -> str:
        """Where a sum's start comes from: nodes outside the walk, a grad from before."""
        outside = sum(p not in self.inside for p, _ in self.snapshot.consumers(i))
        if outside:
            return f"what {outside} node{'s' * (outside != 1)} outside this walk send it"
        return "a grad from before this backward pass: zero_grad was skipped (G)"

    def _header(self) -> Text:
        number = self.current.number if self.current else self.total
        text = Text()
        text.append(f"backprop {number}/{self.total}", "bold")
        if self.top is not None:
            text.append(f" under {self.snapshot.name(self.top)}", "bold")
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
        if i == self.top:
            text.append("the top of this walk: its grad is complete, what the rest of the graph "
                        "sent it\n")  # fmt: skip
        elif not consumers:
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
