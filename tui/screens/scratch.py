"""The scratch pad: the lecture's expressions, their graph, and the backward pass by hand.

The learner types `a=2.0, b=-3.0, c=10.0, f=-2.0; e=a*b; d=e+c; L=d*f` (parsed by
`micrograd.expr`: never evaluated), sees the graph unfused as a tree rooted at the output, each
node `e = a * b  data -6  grad 0`, and steps the backward pass one node per `b` press (the
backprop walk of the Graph pane, `tui.backprop`): a node's grad shows 0 until a reader sends it
something, its running sum as it grows, and its final value once it is processed. With the quiz
on (`t`), each node's gradient is asked before it is revealed; a wrong answer is explained with
that node's chain-rule terms. Keyboard only; every user string is shown as text.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Static

from micrograd.engine import Value
from micrograd.expr import ExprError, parse
from micrograd.graph import BackwardStep, GraphSnapshot, snapshot
from micrograd.operators import op_rule
from tui.backprop import BackpropWalk
from tui.formatting import fmt_number
from tui.screens.modal import Modal
from tui.widgets.graph import GraphTree
from tui.widgets.node_detail import describe_forward

CSS_PATH = str(Path(__file__).resolve().parent.parent / "app.tcss")
LECTURE = "a=2.0, b=-3.0, c=10.0, f=-2.0; e=a*b; d=e+c; L=d*f"
SHOW_ALL = 60  # the tree opens fully when it takes at most this many lines
TOLERANCE = 0.01  # a quiz answer within 1% (or 0.01 of a small grad) counts as right
_INFIX = {"+", "-", "*", "/"}


def short_name(snap: GraphSnapshot, i: int) -> str:
    """A node as the learner named it, or `#i` for an unnamed intermediate."""
    return snap.labels[i] or f"#{i}"


def formula(snap: GraphSnapshot, i: int) -> str:
    """How node i reads in the lecture's notation: `e = a * b`, `o = tanh(n)`, `a`."""
    body = operation(snap, i)
    return f"{short_name(snap, i)} = {body}" if body else short_name(snap, i)


def operation(snap: GraphSnapshot, i: int) -> str:
    """What node i computes from its operands: `a * b`, `tanh(n)`; "" for a leaf."""
    op, kids = snap.ops[i], [short_name(snap, c) for c in snap.children[i]]
    if not op:
        return ""
    if op in _INFIX and len(kids) == 2:
        body = f"{kids[0]} {op} {kids[1]}"
    elif op == "neg":
        body = f"-{kids[0]}"
    elif op.startswith("**"):
        body = f"{kids[0]}{op}"
    elif op == "pow":
        body = f"{kids[0]}**{kids[1]}"
    else:
        body = f"{op}({', '.join(kids)})"
    return body


def is_right(answer: float, grad: float) -> bool:
    return abs(answer - grad) <= TOLERANCE * max(1.0, abs(grad))


def explain(snap: GraphSnapshot, i: int) -> Text:
    """Node i's gradient as the chain rule makes it: Σ reader.grad × d reader / d node."""
    me = short_name(snap, i)
    consumers = snap.consumers(i)
    text = Text()
    if not consumers:
        text.append(f"{me} is the output: d{me}/d{me} = 1 starts the pass\n")
        return text
    text.append(f"grad {me} = Σ over what reads {me}: reader.grad × d reader/d {me}\n")
    total = 0.0
    for p, pos in consumers:
        g, local = snap.grads[p], snap.locals[p][pos]
        total += g * local
        reader = short_name(snap, p)
        rule = op_rule(snap.ops[p])
        text.append(f"  {reader}.grad {fmt_number(g)} × d{reader}/d{me} {fmt_number(local)}")
        text.append(f" = {fmt_number(g * local)}", "bold")
        if rule is not None:
            which = "a" if pos == 0 else "b" if pos == 1 else f"#{pos + 1}"
            text.append(f"   ({formula(snap, p)}: {rule.derivative}; {me} is {which})", "dim")
        text.append("\n")
    text.append(f"  grad {me} = {fmt_number(total)}\n", "bold yellow")
    return text


class ScratchWalk(BackpropWalk):
    """The backprop walk with the scratch pad's header."""

    def _header(self) -> Text:
        number = self.current.number if self.current else self.total
        text = Text()
        text.append(f"backward pass {number}/{self.total}", "bold")
        text.append("   b next node, B start again\n", "dim")
        return text

    quiz = False  # while quizzing, sums still growing show as ? (they would give answers away)

    def shown_grad(self, i: int) -> str:
        """What the tree shows as node i's grad at this point of the walk."""
        if i in self.done or (self.current is not None and self.current.index == i):
            return fmt_number(self.snapshot.grads[i])
        if self.quiz and self.current is not None:
            return "?"
        if i in self.partial and self.current is not None:
            return f"{fmt_number(self.partial[i])} so far"
        return "0"


class ScratchTree(GraphTree):
    """The expression's graph; each line reads `e = -6  grad 0  (a * b)`: the value and the
    grad first, so a deep line cut at the pane's edge loses only its formula."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.walk: ScratchWalk | None = None
        self.hidden: int | None = None  # the node whose grad the quiz is asking

    def node_text(self, i: int) -> Text:
        snap = self.snapshot
        text = Text(no_wrap=True)
        current = self.walk is not None and self.walk.current and self.walk.current.index == i
        text.append(short_name(snap, i), "bold green" if not snap.ops[i] else "bold")
        text.append(f" = {fmt_number(snap.data[i])}")
        if i == self.hidden:
            text.append("  grad ?", "bold magenta")
        elif self.walk is not None:
            text.append(f"  grad {self.walk.shown_grad(i)}", "yellow")
        if current:
            text.append(" ◀", "bold magenta")
        body = operation(snap, i)
        if body:
            text.append(f"  ({body})", "dim")
        return text

    def expand_small(self, lines: int = SHOW_ALL) -> None:
        """Open every node, breadth-first, while the tree has at most `lines` lines (a graph
        read as a tree repeats shared nodes, so a big one stays folded)."""
        queue, shown = [self.root], 1
        while queue:
            node = queue.pop(0)
            kids = self.snapshot.children[node.data[1]]
            if not kids or shown + len(kids) > lines:
                continue
            if not node.children:
                self._add_page(node, node.data[1], 0)
            node.expand()
            shown += len(node.children)
            queue.extend(c for c in node.children if c.data and c.data[0] == "node")


class ScratchScreen(Modal[str]):
    """Type an expression, walk its backward pass, optionally as a quiz."""

    BINDINGS = [
        Binding("b,n", "next_node", "Next node"),
        Binding("B", "restart", "Restart"),
        Binding("t", "toggle_quiz", "Quiz"),
        Binding("slash", "edit", "Edit", key_display="/"),
        Binding("escape", "back", "Close"),
    ]

    def __init__(self, text: str = LECTURE) -> None:
        super().__init__()
        self.text = text
        self.expression = parse(text)  # the caller checked the text (ExprError otherwise)
        self.snapshot: GraphSnapshot = _graph(self.expression.root)
        self.walk = ScratchWalk(self.snapshot, 0)
        self.quiz = False
        self.asking: BackwardStep | None = None
        self.verdict: Text | None = None  # the last answer's verdict, shown with the node
        self.right = 0
        self.asked = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="scratch") as box:
            box.border_title = "Scratch: an expression's backward pass"
            yield Input(self.text, id="scratch-text", compact=True, select_on_focus=False)
            yield Static("", id="scratch-info")
            with Horizontal(id="scratch-body"):
                yield ScratchTree(id="scratch-tree")
                with VerticalScroll(id="scratch-detail-pane", can_focus=False):
                    yield Static("", id="scratch-detail")
            with Horizontal(id="scratch-quiz"):
                yield Static("", id="scratch-question")
                yield Input("", id="scratch-answer", compact=True, placeholder="a number")
        yield from self.foot()

    def on_mount(self) -> None:
        if not self.closed:
            self._load()

    # -- the expression ----------------------------------------------------------------------

    def _load(self) -> None:
        tree = self.query_one(ScratchTree)
        self.walk = ScratchWalk(self.snapshot, 0)
        self.walk.quiz = self.quiz
        tree.walk, tree.hidden = self.walk, None
        tree.snapshot = None  # a new graph: rebuild the tree
        tree.set_snapshot(self.snapshot, 0)
        tree.expand_small()
        self.asking, self.verdict, self.right, self.asked = None, None, 0, 0
        self._show_quiz(False)
        self.set_focus(tree)
        self._info()
        self._show(self.snapshot.root)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "scratch-text":
            self._submit_text(event.value)
        elif event.input.id == "scratch-answer":
            self._answer(event.value)

    def _submit_text(self, text: str) -> None:
        try:
            expression = parse(text)
        except ExprError as exc:
            self._info(Text(f"✗ {exc}", "bold red"))
            return
        self.text, self.expression = text, expression
        self.snapshot = _graph(expression.root)
        self._load()

    def _info(self, message: Text | None = None) -> None:
        """The line under the expression: an error, or what the graph is and the mode."""
        if message is None:
            snap = self.snapshot
            root = snap.root
            message = Text()
            message.append(f"{short_name(snap, root)} = {fmt_number(snap.data[root])}", "bold")
            message.append(f"   {len(snap)} nodes   quiz {'on' if self.quiz else 'off'}", "dim")
            if self.asked:
                message.append(f"   {self.right} of {self.asked} right", "dim")
        self.query_one("#scratch-info", Static).update(message)

    # -- the walk ----------------------------------------------------------------------------

    def action_next_node(self) -> None:
        if self.asking is not None:
            self.set_focus(self.query_one("#scratch-answer", Input))
            self._info(Text("Answer first (enter), or escape to see the answer", "bold"))
            return
        tree = self.query_one(ScratchTree)
        step = self.walk.advance()
        self.verdict = None
        if step is None:
            done = Text(f"The backward pass is done: all {len(self.snapshot)} grads are final.")
            done.append("\nB starts it again; / edits the expression.", "dim")
            tree.relabel()
            self._info()
            self._detail(done)
            return
        if self.quiz and step.index != self.snapshot.root:
            self.asking = step
            tree.hidden = step.index
        tree.relabel()
        tree.reveal(step.index)
        if self.asking is not None:
            self._ask(step)
        else:
            self._show(step.index)

    def action_restart(self) -> None:
        self._load()

    def action_toggle_quiz(self) -> None:
        self.quiz = self.walk.quiz = not self.quiz
        if not self.quiz and self.asking is not None:  # reveal the node being asked
            step, self.asking = self.asking, None
            self.query_one(ScratchTree).hidden = None
            self.query_one(ScratchTree).relabel()
            self._show_quiz(False)
            self.set_focus(self.query_one(ScratchTree))
            self._show(step.index)
        self.query_one(ScratchTree).relabel()
        self._info()

    def action_edit(self) -> None:
        self.set_focus(self.query_one("#scratch-text", Input))

    def action_back(self) -> None:
        """escape: a question unanswered shows its answer; a field goes back to the tree; the
        tree closes the screen."""
        if self.asking is not None:
            self._reveal(None)
        elif isinstance(self.focused, Input):
            self.set_focus(self.query_one(ScratchTree))
        else:
            self.dismiss(self.text)  # the app opens the pad on it next time

    def _ask(self, step: BackwardStep) -> None:
        snap = self.snapshot
        name = short_name(snap, step.index)
        text = self.walk._header()
        text.append_text(describe_forward(snap, step.index))
        text.append(f"\nWhat is grad {name} = dL/d{name}? ", "bold magenta")
        text.append("Type it below, enter (within 1%); escape shows it.\n", "dim")
        self._detail(text)
        self.query_one("#scratch-question", Static).update(Text(f"grad {name} = ", "bold"))
        self._show_quiz(True)
        answer = self.query_one("#scratch-answer", Input)
        answer.value = ""
        self.set_focus(answer)

    def _answer(self, typed: str) -> None:
        step = self.asking
        if step is None:
            return
        if not typed.strip():
            self._info(Text("Type a number (or arithmetic such as -2*1), then enter", "bold"))
            return
        try:
            value = parse(typed).root.data  # a number, or arithmetic such as -2*1
        except ExprError as exc:
            self._info(Text(f"✗ the answer: {exc}", "bold red"))
            return
        self._reveal(value)

    def _reveal(self, value: float | None) -> None:
        """Judge the answer `value` (None: the learner gave up) and show the node's grad."""
        step = self.asking
        assert step is not None
        snap = self.snapshot
        name = short_name(snap, step.index)
        self.asked += 1
        verdict = Text()
        if value is not None and is_right(value, step.grad):
            self.right += 1
            verdict.append(f"✓ Right: grad {name} = {fmt_number(step.grad)}\n", "bold green")
        else:
            typed = "no answer" if value is None else f"you typed {fmt_number(value)}"
            verdict.append(f"✗ Not quite: {typed}; grad {name} is ", "bold red")
            verdict.append(f"{fmt_number(step.grad)}\n", "bold red")
            verdict.append_text(explain(snap, step.index))
        self.asking, self.verdict = None, verdict
        tree = self.query_one(ScratchTree)
        tree.hidden = None
        tree.relabel()
        self._show_quiz(False)
        self.set_focus(tree)
        self._info()
        self._show(step.index)

    def _show_quiz(self, shown: bool) -> None:
        self.query_one("#scratch-quiz").set_class(shown, "-shown")

    # -- the detail --------------------------------------------------------------------------

    def on_graph_tree_node_chosen(self, event: GraphTree.NodeChosen) -> None:
        event.stop()
        # the tree announces its cursor line while a new graph replaces the old one: skip that
        if self.asking is None and 0 <= event.index < len(self.snapshot):
            self._show(event.index)

    def _show(self, i: int) -> None:
        snap = self.snapshot
        walk = self.walk
        if walk.current is not None and walk.current.index == i:
            text = Text()
            if self.verdict is not None:
                text.append_text(self.verdict)
            text.append_text(walk.describe(i))
        elif walk.current is None and not walk.done:  # before the pass: the forward values
            text = describe_forward(snap, i)
            text.append("\nb runs the backward pass one node at a time", "dim")
            text.append("; t turns the quiz on" if not self.quiz else "", "dim")
            text.append(".\n", "dim")
        else:
            text = describe_forward(snap, i)
            text.append_text(_status(walk, i))
        self._detail(text)

    def _detail(self, text: Text) -> None:
        self.query_one("#scratch-detail", Static).update(text)


def _status(walk: ScratchWalk, i: int) -> Text:
    """Where node i's grad stands in the walk."""
    text = Text()
    if i in walk.done:
        text.append(f"processed: grad {fmt_number(walk.snapshot.grads[i])} is final\n", "green")
    else:
        text.append(f"grad: {walk.shown_grad(i)}\n", "yellow")
    return text


def _graph(root: Value) -> GraphSnapshot:
    """The expression's graph with its grads (the walk replays them node by node)."""
    root.backward()
    return snapshot(root)


class ScratchApp(App[int]):
    """The scratch pad on its own (`microgradtui --expr TEXT`): escape or q leaves."""

    CSS_PATH = CSS_PATH
    TITLE = "microgradtui scratch"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", show=False)]

    def __init__(self, text: str = LECTURE) -> None:
        super().__init__()
        self.text = text

    def on_mount(self) -> None:
        self.push_screen(ScratchScreen(self.text), lambda _: self.exit(0))
