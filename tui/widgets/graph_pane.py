"""The Graph pane: the tree of the shown step's graph over the node detail, and what the pane
does with them: the backprop walk, the gradient checks it asked for, the detail of the node
under the cursor.

- `b` walks the backward pass of the shown graph one node per press (`BackpropWalk`): the tree
  opens the path to the node being processed and puts the cursor on it, the detail shows its
  complete gradient and what it sends each input. `B` or escape stops. If a new graph arrives
  (a step, a reset) the walk stops; while walking, the app asks for no new graph.
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
from tui.protocol import GradCheckView
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

    def show_graph(self, snapshot: Any, step: int) -> None:
        self.graph_step = step
        self.tree.set_snapshot(snapshot, step)
        self.border_subtitle = f"step {step}, {len(snapshot)} nodes"
        if self.walk is not None and self.walk.snapshot is not snapshot:
            self.stop_walk()
            self.app.notify("A new graph arrived: the backprop walk stopped (b starts again)")

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
        node = tree.cursor_node
        if tree.snapshot is None or node is None or not node.data or node.data[0] != "node":
            return None
        return node.data[1]

    def label(self, index: int) -> str:
        return self.tree.snapshot.labels[index]

    # -- the gradient check --------------------------------------------------------------------
    def request_check(self, name: str | None = None) -> None:
        """Ask for a check of the parameter `name`, or else of the node under the cursor."""
        tree = self.tree
        if tree.snapshot is None:
            self.app.notify("No graph to check yet: take a step first (n)", timeout=3)
            return
        index = None if name is not None else self.cursor_index()
        if name is None and index is None:
            self.app.notify("Select a graph node or a parameter row first, then press c", timeout=4)
            return
        self.post_message(self.CheckRequested(tree.step, index, name))
        self.app.notify("Checking the gradient by finite differences …", timeout=2)

    # -- the backprop walk ---------------------------------------------------------------------
    def backprop_next(self) -> None:
        tree = self.tree
        if tree.snapshot is None:
            self.app.notify("No graph yet: take a step first (n)", timeout=3)
            return
        if self.walk is None or self.walk.snapshot is not tree.snapshot:
            if hasattr(tree.snapshot, "tree_label"):  # a tensor graph: steps from the training
                self.post_message(self.WalkRequested(tree.step))  # process (start_walk)
                return
            self.walk = BackpropWalk(tree.snapshot, tree.step)
            tree.focus()
            self.app.notify(
                f"Backprop, step {tree.step} ({len(tree.snapshot)} nodes): b next node, "
                "B stops, tab: scroll the detail",
                timeout=4,
            )
        step = self.walk.advance()
        if step is None:
            total = self.walk.total
            self.stop_walk()
            self.app.notify(
                f"Backward pass done: {total} nodes, every gradient complete", timeout=4
            )
            return
        self.border_subtitle = f"step {tree.step}, backprop {step.number}/{self.walk.total}"
        already = self.cursor_index() == step.index  # no highlight: no NodeChosen comes
        if tree.reveal(step.index) is None or already:  # the cursor did not move: show it here
            self._walk_detail().show_text(self.walk.describe(step.index))

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
        self.walk = None
        tree = self.tree
        if tree.snapshot is not None:
            self.border_subtitle = f"step {tree.step}, {len(tree.snapshot)} nodes"
            index = self.cursor_index()
            if index is not None:
                self.show_detail(tree.snapshot, index)
