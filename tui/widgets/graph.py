"""The Graph pane: a Tree of one step's computation graph, rooted at the loss.

It browses a flat `GraphSnapshot` (plain data, one consistent moment), never live `Value`s.
Children are added only when a node is expanded, at most PAGE at a time: a "more" node
loads the next page. `left` collapses (or goes to the parent), `right` expands.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tui.formatting import fmt_number
from tui.keys import bindings
from tui.protocol import FORWARD_OP, NO_GRADS

PAGE = 20  # children shown per page under a wide node
# Tree keeps 1,024 rendered lines keyed by its update counters. While training runs the graph is
# relabelled every 2 s, so the lines of older graphs are never drawn again, yet they filled the
# cache over minutes and the app's memory grew; a few screens of lines is plenty, and a relabel
# of the whole tree empties it (256 lines with the pieces cut from them were about 0.4 MiB,
# filled over 13,000 steps of the issue-15 conv run).
LINE_CACHE = 256


def op_name(op: str) -> str:
    return op if op else "leaf"


def node_label(snap: Any, i: int, grad: float | str | None = None) -> Text:
    """`op label  data x  grad g` for node i (the root is called loss); `grad`, if given, is
    shown instead of the snapshot's (a walk's running sum, or "-" before the backward pass).
    A snapshot that labels its own nodes (a tensor graph's: `matmul 100x16`) says it with
    `tree_label`."""
    if hasattr(snap, "tree_label"):
        return snap.tree_label(i)
    text = Text(no_wrap=True)
    if snap.ops[i] == FORWARD_OP:  # the step under way after its forward pass: no loss yet
        text.append("forward pass", "bold magenta")
        text.append(f" of {snap.labels[i]}: {len(snap.children[i])} outputs", "bold")
        text.append("  (no loss yet: . computes it)", "dim")
        return text
    if i == len(snap) - 1:
        text.append("loss = ", "bold magenta")
    text.append(op_name(snap.ops[i]), "bold cyan" if snap.ops[i] else "bold green")
    if snap.labels[i]:
        text.append(f" {snap.labels[i]}", "bold")
    text.append(f"  data {fmt_number(snap.data[i])}")
    if isinstance(grad, str):
        text.append(f"  grad {grad}", "dim")
    else:
        grad = snap.grads[i] if grad is None else grad
        text.append(f"  grad {fmt_number(grad)}", "red" if grad != grad else "yellow")
    n = len(snap.children[i])
    if n:
        text.append(f"  ({n} in)", "dim")
    return text


def same_structure(a: Any, b: Any) -> bool:
    return a is not None and b is not None and a.ops == b.ops and a.children == b.children


class GraphTree(Tree):
    """The graph of one step. Node data: ("node", index) or ("more", parent index, offset)."""

    BINDINGS = [
        *bindings("graph"),  # left, right
        Binding("shift+space", "nothing", show=False),  # expand-all would add the whole graph
    ]

    class NodeChosen(Message):
        """The cursor is on graph node `index` of `snapshot`."""

        def __init__(self, snapshot: Any, index: int) -> None:
            super().__init__()
            self.snapshot = snapshot
            self.index = index

    def __init__(self, **kwargs) -> None:
        super().__init__("no graph yet: it arrives after the first step", **kwargs)
        self.snapshot: Any = None
        self.step = 0
        self.phase = ""  # the snapshot's step is under way: its last phase done (GraphView)
        # a backprop walk's running sums, shown instead of the snapshot's grads while it lasts
        self.walk_sums: Callable[[int], float] | None = None
        self.auto_expand = False
        self.guide_depth = 2
        self._revealed: list[TreeNode] = []  # nodes `reveal` opened, closed again when off path
        self._lines: dict[int, list[TreeNode]] = {}  # graph node -> its loaded lines
        cache = getattr(self, "_line_cache", None)  # Textual internals: skip if renamed
        if cache is not None and hasattr(cache, "maxsize"):
            cache.maxsize = LINE_CACHE

    def clear_snapshot(self) -> None:
        """A new model or dataset: the old graph no longer applies."""
        self.snapshot = None
        self.step = 0
        self.phase = ""
        self.walk_sums = None
        self._lines = {}
        self.reset("no graph yet: it arrives after the first step")

    def set_snapshot(self, snapshot: Any, step: int, phase: str = "") -> None:
        """Show a new snapshot (of a step under way, after `phase`, if given); keep the
        expanded nodes when the graph has the same shape."""
        old = self.snapshot
        self.snapshot = snapshot
        self.step = step
        self.phase = phase
        if same_structure(old, snapshot):
            self._relabel(self.root)
        else:
            root = snapshot.root if isinstance(snapshot.root, int) else len(snapshot) - 1
            self._revealed = []
            self.reset(self.node_text(root), ("node", root))
            self._lines = {root: [self.root]}
            self.root.allow_expand = bool(snapshot.children[root])
            self.root.expand()
            # the cursor is on the new root once the lines are laid out; `cursor_node` still
            # names a line of the old tree, whose index means another node in this graph
            self._announce(self.root)
            return
        if self.cursor_node is not None:
            self._announce(self.cursor_node)

    def node_text(self, i: int) -> Text:
        """The line that shows node i (a subclass may show it differently)."""
        return node_label(self.snapshot, i, self.grad_shown(i))

    def grad_shown(self, i: int) -> float | str | None:
        """What node i's line shows as its gradient: a walk's running sum while one lasts, "-"
        before the backward pass of the step under way, else (None) the snapshot's."""
        if self.walk_sums is not None:
            return self.walk_sums(i)
        return "-" if self.phase in NO_GRADS else None

    def relabel(self, indices: set[int] | None = None) -> None:
        """Redraw the loaded lines of the graph nodes `indices` (None: all of them), after what
        `node_text` shows for them has changed."""
        self._relabel(self.root, indices)

    def _relabel(self, node: TreeNode, indices: set[int] | None = None) -> None:
        if indices is not None:  # a few nodes (a walk's step): their lines, looked up
            for i in indices:
                for line in self._lines.get(i, ()):
                    line.set_label(self.node_text(i))
            return
        stack = [node]
        while stack:
            n = stack.pop()
            if n.data and n.data[0] == "node" and (indices is None or n.data[1] in indices):
                n.set_label(self.node_text(n.data[1]))
            stack.extend(n.children)
        if node is self.root:  # every line is drawn anew: the cached ones never again
            cache = getattr(self, "_line_cache", None)  # Textual internals: skip if renamed
            if cache is not None and hasattr(cache, "clear"):
                cache.clear()

    def _add_page(self, parent: TreeNode, index: int, offset: int) -> None:
        snap = self.snapshot
        children = snap.children[index]
        for c in children[offset : offset + PAGE]:
            line = parent.add(self.node_text(c), ("node", c), allow_expand=bool(snap.children[c]))
            self._lines.setdefault(c, []).append(line)
        rest = len(children) - offset - PAGE
        if rest > 0:
            parent.add_leaf(
                Text(f"… {rest} more (enter)", "dim italic"), ("more", index, offset + PAGE)
            )

    def reveal(self, index: int) -> TreeNode | None:
        """Open the path from the root to graph node `index` (loading pages as needed) and put
        the cursor on it. Nodes opened by the previous reveal that are off this path close."""
        snap = self.snapshot
        if snap is None:
            return None
        node = self.root
        on_path = {id(node)}
        opened = []
        for child in snap.path_to(index)[1:]:
            if not node.is_expanded:
                if not node.children:
                    self._add_page(node, node.data[1], 0)
                node.expand()
                opened.append(node)
            node = self._find_child(node, child)
            if node is None:
                return None
            on_path.add(id(node))
        for old in self._revealed:
            if id(old) not in on_path and old.is_expanded:
                old.collapse()
        self._revealed = [n for n in self._revealed if id(n) in on_path] + opened
        _ = self.last_line  # lay the lines out now, so the new nodes have line numbers
        self.move_cursor(node)
        return node

    def current_node(self) -> TreeNode | None:
        """The node under the cursor; None until the lines of a new graph are laid out (after
        a reset Tree's `cursor_node` still names a node of the old tree for a moment)."""
        node = self.cursor_node
        return node if node is not None and self.is_current(node) else None

    def is_current(self, node: TreeNode) -> bool:
        """`node` is a line of the graph shown, not of one it replaced (an event about a node
        of the old tree can arrive after a new graph of another shape reset the tree)."""
        while node.parent is not None:
            node = node.parent
        return node is self.root

    def sample_node(self, sample: int) -> int | None:
        """The top node of training sample `sample`'s branch (the node nearest the root whose
        label names it, `sample 3: x=... y=...`); None if the graph has no such branch."""
        snap = self.snapshot
        if snap is None or not hasattr(snap, "labels"):
            return None
        tag = f"sample {sample}:"
        found = [j for j, x in enumerate(snap.labels) if x.startswith(tag) or f" {tag}" in x]
        return min(found, key=lambda j: len(snap.path_to(j)), default=None)

    def samples_shown(self) -> int:
        """How many samples have a branch in the graph."""
        snap = self.snapshot
        if snap is None or not hasattr(snap, "labels"):
            return 0
        return len({x.split("sample ", 1)[1].split(":")[0] for x in snap.labels if "sample " in x})

    def _find_child(self, parent: TreeNode, index: int) -> TreeNode | None:
        """The child of `parent` that shows graph node `index`, loading further pages."""
        while True:
            more = None
            for c in parent.children:
                if c.data == ("node", index):
                    return c
                if c.data and c.data[0] == "more":
                    more = c
            if more is None:
                return None
            _, i, offset = more.data
            more.remove()
            self._add_page(parent, i, offset)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded) -> None:
        node = event.node
        if self.snapshot is None or not node.data or node.data[0] != "node":
            return
        if not node.children and self.is_current(node):
            self._add_page(node, node.data[1], 0)

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        node = event.node
        if not self.is_current(node):
            event.stop()
            return
        if node.data and node.data[0] == "more":
            event.stop()
            _, index, offset = node.data
            parent = node.parent
            node.remove()
            if parent is not None:
                self._add_page(parent, index, offset)
        elif node.data and node.data[0] == "node" and node.allow_expand:
            node.toggle()

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        self._announce(event.node)

    def _announce(self, node: TreeNode) -> None:
        snap = self.snapshot
        if snap is None or not node.data or node.data[0] != "node" or not self.is_current(node):
            return
        if node.data[1] < len(snap):  # a highlight of the tree before a new graph came in
            self.post_message(self.NodeChosen(snap, node.data[1]))

    def action_collapse_or_parent(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.is_expanded:
            node.collapse()
        elif node.parent is not None:
            self.move_cursor(node.parent)

    def action_expand_or_child(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and not node.is_expanded:
            node.expand()
        elif node.children:
            self.move_cursor(node.children[0])

    def action_nothing(self) -> None:
        """Swallow shift+space."""
