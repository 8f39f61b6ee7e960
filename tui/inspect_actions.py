"""The app's keys for looking inside a step: the backprop debugger, the gradient check, the
neuron view. A mixin of `MicrogradApp` (which owns the bindings), kept apart so app.py stays short.

- `b` walks the backward pass of the shown graph one node per press (`BackpropWalk`): the tree
  opens the path to the node being processed and puts the cursor on it, the detail shows its
  complete gradient and what it sends each input. `B` or escape stops. While walking, the app
  asks for no new graph; if one arrives anyway (a step, a reset) the walk stops.
- `c` checks the gradient of the selected graph node or parameter by a central difference, in
  the training process, on the shown step's graph (`GradCheckView`): a notice, and the detail.
- `v` opens the neuron view (`NeuronScreen`) of the neuron of the selected parameter row
  (`L0.N3.w1`) or graph node (`L0.N3`).
"""

from __future__ import annotations

import re
from typing import Any

from rich.text import Text

from tui.backprop import BackpropWalk
from tui.formatting import fmt_number
from tui.protocol import AskNeuron, CheckGradient, GradCheckView, NeuronView
from tui.screens.neuron import NeuronScreen
from tui.widgets.graph import GraphTree
from tui.widgets.node_detail import NodeDetail
from tui.widgets.params import ParamTable

NEURON = re.compile(r"^L(\d+)\.N(\d+)(?:\.|$)")


def check_text(c: GradCheckView) -> Text:
    text = Text()
    text.append(f"gradient check (step {c.step}):", "underline")
    if c.error:
        text.append(f" could not check: {c.error}\n", "red")
        return text
    text.append(f" analytic {fmt_number(c.analytic)}  numeric {fmt_number(c.numeric)}")
    text.append(f"  relative error {c.relative_error:.1e} ")
    text.append("agree\n" if c.ok else "DISAGREE\n", "bold green" if c.ok else "bold red")
    return text


class InspectActions:
    """Actions and report handlers mixed into the App."""

    walk: BackpropWalk | None = None

    @property
    def checks(self) -> dict[tuple[int, int], GradCheckView]:
        """Gradient checks of the shown step's nodes, by (step, node index)."""
        return self.__dict__.setdefault("_gradchecks", {})

    # -- the backprop debugger ---------------------------------------------------------------
    def action_backprop_next(self: Any) -> None:
        if self.tensor.scalar_only("backprop walk"):
            return
        tree = self.query_one(GraphTree)
        if tree.snapshot is None:
            self.notify("No graph yet: take a step first (n)", timeout=3)
            return
        if self.walk is None or self.walk.snapshot is not tree.snapshot:
            self.walk = BackpropWalk(tree.snapshot, tree.step)
            tree.focus()
            self.notify(
                f"Backprop through step {tree.step}'s graph, {len(tree.snapshot)} nodes, "
                "loss first: b next node, B or escape stops"
                + ("" if self.query_one(NodeDetail).display else " (z: zoom to see the detail)"),
                timeout=4,
            )
        step = self.walk.advance()
        if step is None:
            total = self.walk.total
            self.stop_walk()
            self.notify(f"Backward pass done: {total} nodes, every gradient complete", timeout=4)
            return
        self.query_one(
            "#graph"
        ).border_subtitle = f"step {tree.step}, backprop {step.number}/{self.walk.total}"
        if tree.reveal(step.index) is None:  # the cursor did not move: show the step anyway
            self.query_one(NodeDetail).show_text(self.walk.describe(step.index))

    def action_backprop_stop(self: Any) -> None:
        if self.walk is not None:
            self.stop_walk()
            self.notify("Backprop walk stopped", timeout=2)

    def stop_walk(self: Any) -> None:
        self.walk = None
        tree = self.query_one(GraphTree)
        if tree.snapshot is not None:
            self.query_one(
                "#graph"
            ).border_subtitle = f"step {tree.step}, {len(tree.snapshot)} nodes"
            node = tree.cursor_node
            if node is not None and node.data and node.data[0] == "node":
                self.show_detail(tree.snapshot, node.data[1])

    def walk_graph_arrived(self: Any, snapshot: Any) -> None:
        """A new graph is shown: a walk on the old one ends."""
        if self.walk is not None and self.walk.snapshot is not snapshot:
            self.stop_walk()
            self.notify("A new graph arrived: the backprop walk stopped (b starts again)")

    def show_detail(self: Any, snapshot: Any, index: int) -> None:
        """The detail of a graph node: the walk's view while walking, else the node's own,
        with its gradient check if one was made."""
        detail = self.query_one(NodeDetail)
        if self.walk is not None and self.walk.snapshot is snapshot:
            detail.show_text(self.walk.describe(index))
            return
        check = self.checks.get((self.query_one(GraphTree).step, index))
        detail.show_node(snapshot, index, check_text(check) if check else None)

    def selection(self: Any) -> tuple[str, Any]:
        """("param", name) or ("node", index): the focused table's row or tree's node, else the
        graph's cursor, else the table's; ("", None) when there is neither."""
        table, tree = self.query_one(ParamTable), self.query_one(GraphTree)
        focused = self.focused
        if isinstance(focused, ParamTable) and table.row_count:
            return "param", _row_name(table)
        if _graph_index(tree) is not None:
            return "node", _graph_index(tree)
        if table.row_count:
            return "param", _row_name(table)
        return "", None

    # -- the gradient check ------------------------------------------------------------------
    def action_gradcheck(self: Any) -> None:
        tree = self.query_one(GraphTree)
        if tree.snapshot is None:
            self.notify("No graph to check yet: take a step first (n)", timeout=3)
            return
        kind, what = self.selection()
        if kind == "param":
            self.session.send(CheckGradient(tree.step, name=what))
        elif kind == "node":
            self.session.send(CheckGradient(tree.step, index=what))
        else:
            self.notify("Select a graph node or a parameter row first, then press c", timeout=4)
            return
        self.notify("Checking the gradient by finite differences …", timeout=2)

    def _on_gradcheckview(self: Any, c: GradCheckView) -> None:
        checks = self.checks
        for key in [k for k in checks if k[0] != c.step]:
            del checks[key]  # keep the checks of one step only
        checks[(c.step, c.index)] = c
        if c.error:
            self.notify(f"Gradient check of {c.name}: {c.error}", severity="warning", timeout=8)
        else:
            verdict = "agree" if c.ok else "DISAGREE"
            self.notify(
                f"Gradient check of {c.name} (step {c.step}): analytic {fmt_number(c.analytic)}, "
                f"numeric {fmt_number(c.numeric)}, relative error {c.relative_error:.1e}: "
                f"{verdict}",
                severity="information" if c.ok else "warning",
                timeout=8,
            )
        tree = self.query_one(GraphTree)
        if tree.snapshot is not None and tree.step == c.step and _graph_index(tree) == c.index:
            self.show_detail(tree.snapshot, c.index)

    # -- the neuron view ---------------------------------------------------------------------
    def action_neuron(self: Any) -> None:
        if self.tensor.scalar_only("neuron view"):
            return
        kind, what = self.selection()
        name = ""
        if kind == "param":
            name = str(what)
        elif kind == "node":
            name = self.query_one(GraphTree).snapshot.labels[what]
        match = NEURON.match(name)
        if match is None:
            self.notify(
                "Select a neuron first: a parameter row L0.N3.* or a graph node labelled L0.N3",
                timeout=4,
            )
            return
        layer, neuron = int(match[1]), int(match[2])
        self.push_screen(NeuronScreen(layer, neuron, self.request_neuron))

    def request_neuron(self: Any, layer: int, neuron: int, cols: int, rows: int) -> None:
        self.session.send(AskNeuron(layer, neuron, cols, rows))

    def _on_neuronview(self: Any, view: NeuronView) -> None:
        screen = self.screen
        if isinstance(screen, NeuronScreen) and screen.name_shown == view.name:
            screen.show_view(view)


def _row_name(table: ParamTable) -> str:
    return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)


def _graph_index(tree: GraphTree) -> int | None:
    node = tree.cursor_node
    if tree.snapshot is None or node is None or not node.data or node.data[0] != "node":
        return None
    return node.data[1]
