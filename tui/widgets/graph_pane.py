"""The Graph pane: the tree of the shown step's graph over the node detail, and what the pane
does with them: the backprop walk, the gradient checks it asked for, the detail of the node
under the cursor.

- `b` walks the backward pass of the shown graph one node per press (`BackpropWalk`): the tree
  opens the path to the node being processed and puts the cursor on it, the detail shows its
  complete gradient and what it sends each input, and the tree's lines show every node's running
  sum (0 until something reaches it). `i` walks only the subgraph under the node at the cursor.
  `B` or escape stops. If a new graph arrives (a step, a reset) the walk stops; while walking,
  the app asks for no new graph.
- `c` checks the selected node's (or a parameter's) gradient: the pane posts `CheckRequested`
  up, the app asks the training process, and the `GradCheckView` comes back to `show_check`.
- On a tensor graph (one node per array, `tui.tensor_app`) the walk's steps come from the
  training process: `b` posts `WalkRequested`, and `start_walk` gets a `tui.tensor_walk.TensorWalk`
  with the BackpropWalk's interface; the detail is the tensor detail.
"""

from __future__ import annotations

import contextlib
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.message import Message

from tui.backprop import BackpropWalk
from tui.formatting import fmt_number
from tui.protocol import FORWARD_OP, NO_GRADS, GradCheckView
from tui.widgets.graph import GraphTree
from tui.widgets.node_detail import NodeDetail


def check_text(c: GradCheckView) -> Text:
    text = Text()
    text.append(f"gradient check (step {c.step}):", "underline")
    if c.error:
        text.append(f" could not check: {c.error}\n", "red")
        return text
    text.append(f" analytic {fmt_number(c.analytic)}  numeric {fmt_number(c.numeric)}")
    text.append(f"  relative error {c.relative_error:.1e} ")
    text.append("agree\n" if c.ok else "DISAGREE\n", "bold green" if c.ok else "bold red")
    if c.note:
        text.append(f"  {c.note}\n", "dim")
    return text


def forward_text(snap: Any, i: int) -> Text:
    """The detail of the root of a graph after the forward phase: what it stands for."""
    text = Text()
    text.append(f"the forward pass of {snap.labels[i]}", "bold")
    text.append(f": {len(snap.children[i])} outputs, each computed from its inputs and the "
                "parameters (expand them to see how).\n")  # fmt: skip
    text.append("No loss yet (the loss phase adds it on top) and no gradients: every grad is 0 "
                "until the backward phase.\n", "dim")  # fmt: skip
    return text


class GraphPane(Vertical):
    """The tree, the node detail, the walk and the checks of one shown graph."""

    class CheckRequested(Message):
        """Check node `index`, or the parameter `name`, of the graph of step `step`."""

        def __init__(self, step: int, index: int | None, name: str | None) -> None:
            super().__init__()
            self.step = step
            self.index = index
            self.name = name

    class WalkRequested(Message):
        """A tensor graph's backward pass for the walk, of the graph of step `step`."""

        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.walk: Any = None  # a BackpropWalk, or a TensorWalk on a tensor graph
        self.checks: dict[tuple[int, int], GradCheckView] = {}  # of the shown step, by node
        self.graph_step = -1  # the step whose graph is shown; -1 before one

    def compose(self) -> ComposeResult:
        yield GraphTree(id="tree")
        yield NodeDetail(id="detail-pane")

    @property
    def tree(self) -> GraphTree:
        return self.query_one(GraphTree)

    @property
    def detail(self) -> NodeDetail:
        return self.query_one(NodeDetail)

    # -- the focus: in a small terminal the Graph's row grows while the Graph has it (app.tcss)
    def on_descendant_focus(self) -> None:
        self.call_later(self._mark_focus)

    def on_descendant_blur(self) -> None:
        self.call_later(self._mark_focus)

    def _mark_focus(self) -> None:
        if self.parent is not None:
            self.parent.set_class(self.has_focus_within, "-graph-focus")
            self.call_after_refresh(self._cursor_in_view)

    def _cursor_in_view(self) -> None:
        """The tree's cursor line on screen, in the tree made smaller by the focused detail."""
        tree = self.tree
        if tree.cursor_node is not None:
            tree.scroll_to_node(tree.cursor_node, animate=False)

    # -- what arrives ---------------------------------------------------------------------------
    def clear(self) -> None:
        """A new run: the old graph no longer applies."""
        self.tree.clear_snapshot()
        self.walk = None
        self.detail.clear()
        self.border_subtitle = ""
        self.graph_step = -1

    def show_graph(self, snapshot: Any, step: int, phase: str = "") -> None:
        """The graph of step `step`; `phase`: that step is under way, after this phase."""
        self.graph_step = step
        stopped = self.walk is not None and self.walk.snapshot is not snapshot
        if stopped:
            self.walk = None
            self.tree.walk_sums = None  # before the new graph's lines are made
        self.tree.set_snapshot(snapshot, step, phase)
        self.show_subtitle()
        if stopped:
            self.stop_walk()
            self.app.notify("A new graph arrived: the backprop walk stopped (b starts again)")

    def show_subtitle(self) -> None:
        """Which step the graph is of (under way: after which phase), and its size."""
        tree = self.tree
        if tree.snapshot is None:
            self.border_subtitle = ""
            return
        under_way = ""  # the status line names the step under way the same way
        if tree.phase:
            grads = " (no grads yet)" if tree.phase in NO_GRADS else ""
            under_way = f" after {tree.phase}{grads}"
        self.border_subtitle = f"step {tree.step}{under_way}, {len(tree.snapshot)} nodes"

    def no_grads_yet(self, what: str) -> bool:
        """True (and a notice) if the graph is of a step whose backward pass has not run."""
        tree = self.tree
        if tree.phase in NO_GRADS:
            self.app.notify(
                f"No {what} yet: step {tree.step}'s graph has no gradients until its backward "
                "phase (. steps on)",
                timeout=4,
            )
            return True
        return False

    def show_check(self, c: GradCheckView) -> None:
        for key in [k for k in self.checks if k[0] != c.step]:
            del self.checks[key]  # keep the checks of one step only
        self.checks[(c.step, c.index)] = c
        if c.error:
            self.app.notify(f"Gradient check of {c.name}: {c.error}", severity="warning", timeout=8)
        else:
            verdict = "agree" if c.ok else "DISAGREE"
            self.app.notify(  # the verdict first: at 80 columns the bar cuts the line's end
                f"Gradient check of {c.name} (step {c.step}): {verdict}, relative error "
                f"{c.relative_error:.1e} (analytic {fmt_number(c.analytic)}, "
                f"numeric {fmt_number(c.numeric)})",
                severity="information" if c.ok else "warning",
                timeout=8,
            )
        tree = self.tree
        if tree.snapshot is not None and tree.step == c.step and self.cursor_index() == c.index:
            self.show_detail(tree.snapshot, c.index)

    def on_graph_tree_node_chosen(self, message: GraphTree.NodeChosen) -> None:
        message.stop()
        with contextlib.suppress(NoMatches):  # it may arrive while the app shuts down
            self.show_detail(message.snapshot, message.index)

    def show_detail(self, snapshot: Any, index: int) -> None:
        """The detail of a graph node: the walk's view while walking, else the node's own,
        with its gradient check if one was made; a tensor graph's node in the tensor detail
        (`tui.tensor_app` mounts it here for a tensor run)."""
        if hasattr(snapshot, "tree_label"):
            if 0 <= index < len(snapshot):  # else a node of the graph before (a new run)
                self._show_tensor_detail(snapshot, index)
            return
        if self.walk is not None and self.walk.snapshot is snapshot:
            self.detail.show_text(self.walk.describe(index))
            return
        if 0 <= index < len(snapshot) and snapshot.ops[index] == FORWARD_OP:
            self.detail.show_text(forward_text(snapshot, index))
            return
        check = self.checks.get((self.tree.step, index))
        self.detail.show_node(snapshot, index, check_text(check) if check else None)

    def _show_tensor_detail(self, snapshot: Any, index: int) -> None:
        detail = self.query_one("#tdetail-pane")
        if self.walk is not None and self.walk.snapshot is snapshot:
            detail.show_text(self.walk.describe(index))
            return
        check = self.checks.get((self.tree.step, index))
        extra = check_text(check) if check else None
        detail.show_node(snapshot.snap, index, extra, check.element if check else None)

    def _walk_detail(self) -> Any:
        """The detail the walk writes in: the tensor one for a tensor graph."""
        if self.walk is not None and hasattr(self.walk.snapshot, "tree_label"):
            return self.query_one("#tdetail-pane")
        return self.detail

    # -- the selection -------------------------------------------------------------------------
    def cursor_index(self) -> int | None:
        """The graph node under the tree's cursor, if any."""
        tree = self.tree
        node = tree.current_node()
        if tree.snapshot is None or node is None or not node.data or node.data[0] != "node":
            return None
        return node.data[1] if node.data[1] < len(tree.snapshot) else None

    def label(self, index: int) -> str:
        return self.tree.snapshot.labels[index]

    def show_sample(self, sample: int) -> None:
        """Open training sample `sample`'s branch in the tree, the cursor on its top node."""
        tree = self.tree
        if tree.snapshot is None:
            self.app.notify("No graph yet: take a step first (n)", timeout=3)
            return
        index = tree.sample_node(sample)
        if index is None:
            self.app.notify(
                f"Sample {sample} is not in the shown graph: step {tree.step} trained on a "
                f"batch of {tree.samples_shown()} samples (each branch names its sample)",
                timeout=4,
            )
            return
        tree.reveal(index)
        self.app.notify(
            f"Sample {sample}: its branch in step {tree.step}'s graph, {tree.snapshot.name(index)}"
            " (tab to the Graph to browse it; i walks its backward pass)",
            timeout=4,
        )

    # -- the gradient check --------------------------------------------------------------------
    def request_check(self, name: str | None = None) -> None:
        """Ask for a check of the parameter `name`, or else of the node under the cursor."""
        tree = self.tree
        if tree.snapshot is None:
            self.app.notify("No graph to check yet: take a step first (n)", timeout=3)
            return
        if self.no_grads_yet("gradient check"):
            return
        index = None if name is not None else self.cursor_index()
        if name is None and index is None:
            self.app.notify("Select a graph node or a parameter row first, then press c", timeout=4)
            return
        self.post_message(self.CheckRequested(tree.step, index, name))
        self.app.notify("Checking the gradient by finite differences …", timeout=2)

    # -- the backprop walk ---------------------------------------------------------------------
    def backprop_next(self) -> None:
        """The next node of the walk; a walk of the whole graph if none is under way."""
        if not self._can_walk():
            return
        tree = self.tree
        if self.walk is None or self.walk.snapshot is not tree.snapshot:
            if hasattr(tree.snapshot, "tree_label"):  # a tensor graph: steps from the training
                self.post_message(self.WalkRequested(tree.step))  # process (start_walk)
                return
            self._start_walk(None)
        self._walk_on()

    def backprop_under(self) -> None:
        """A walk of the subgraph under the node at the tree's cursor (from a walk: under the
        node it is at), its first node: tens of nodes instead of the whole graph's thousands.
        The scalar engine's graph only (the app says so on a tensor run)."""
        if not self._can_walk():
            return
        index = self.cursor_index()
        if index is None:
            self.app.notify("Put the graph's cursor on a node first (a neuron, a sample's "
                            "branch), then press i", timeout=4)  # fmt: skip
            return
        self._start_walk(index)
        self._walk_on()

    def _can_walk(self) -> bool:
        if self.tree.snapshot is None:
            self.app.notify("No graph yet: take a step first (n)", timeout=3)
            return False
        return not self.no_grads_yet("backward pass to walk")

    def _start_walk(self, top: int | None) -> None:
        """A walk of the scalar graph shown (under node `top`, if given); the tree's lines show
        its running sums."""
        tree = self.tree
        snap = tree.snapshot
        before = getattr(self.walk, "inside", ())
        self.walk = walk = BackpropWalk(snap, tree.step, top)
        tree.walk_sums = walk.running_grad  # the tree's grads are the walk's running sums
        tree.relabel({*before, *walk.inside})  # the lines whose shown grad changes
        tree.focus()
        where = "the whole graph" if top is None else f"the ops under {snap.name(top)}"
        self.app.notify(
            f"Backprop walk through {where}: {walk.total:,} of step {tree.step}'s "
            f"{len(snap):,} nodes; the tree shows the running sums"
            + ("" if top is None else " (a leaf's fills in as its readers send)")
            + "; b next node, B or escape stops, tab: scroll the detail",
            timeout=4,
        )

    def _walk_on(self) -> None:
        tree, walk = self.tree, self.walk
        assert walk is not None
        step = walk.advance()
        if step is None:
            self.stop_walk()
            self.app.notify(
                f"Backward pass done: {walk.total:,} nodes, every gradient complete", timeout=4
            )
            return
        top = getattr(walk, "top", None)  # a scalar walk under one node
        under = "" if top is None else f" under #{top}"
        self.border_subtitle = f"step {tree.step}, backprop {step.number}/{walk.total:,}{under}"
        if tree.walk_sums is not None:
            tree.relabel({step.index, *(send.child for send in step.sends)})  # sums that moved
        already = self.cursor_index() == step.index  # no highlight: no NodeChosen comes
        if tree.reveal(step.index) is None or already:  # the cursor did not move: show it here
            self._walk_detail().show_text(walk.describe(step.index))

    def start_walk(self, walk: Any) -> None:
        """A tensor graph's walk, its steps arrived: begin it at the loss (if the graph it is
        of is still the one shown)."""
        tree = self.tree
        if tree.snapshot is None or tree.step != walk.step:
            self.app.notify("The graph moved on before its backward pass arrived: b again",
                            timeout=4)  # fmt: skip
            return
        walk.snapshot = tree.snapshot
        self.walk = walk
        tree.focus()
        self.app.notify(
            f"Backprop, step {tree.step}'s tensor graph ({walk.total} nodes with a gradient): "
            "b next node, B stops, tab: scroll the detail",
            timeout=4,
        )
        self.backprop_next()

    def backprop_stop(self) -> None:
        if self.walk is not None:
            self.stop_walk()
            self.app.notify("Backprop walk stopped", timeout=2)

    def stop_walk(self) -> None:
        walked = getattr(self.walk, "inside", None)
        self.walk = None
        tree = self.tree
        if tree.walk_sums is not None:
            tree.walk_sums = None  # the snapshot's grads again
            tree.relabel(set(walked) if walked is not None else None)
        if tree.snapshot is not None:
            self.show_subtitle()
            index = self.cursor_index()
            if index is not None:
                self.show_detail(tree.snapshot, index)
