"""The help screen (`?`): every key, what each pane shows, and how to leave."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.screens.on_top import OnTop

KEYS = (
    ("space", "run / pause"),
    ("n", "one step (when paused)"),
    ("+  -", "double / halve the learning rate"),
    ("]  [", "raise / lower the learning rate by 10%"),
    ("r", "reset: new weights, same config"),
    ("d", "next dataset"),
    ("tab  shift+tab", "move between panes"),
    ("z", "zoom the focused pane (again: back)"),
    ("arrows  enter", "browse the table and the tree"),
    ("left  right", "graph: collapse / expand (or go to parent / first child)"),
    ("g", "parameters: sort by |gradient| (again: network order)"),
    ("l", "loss: log scale on / off"),
    ("s", "save a checkpoint (JSON) in the current folder"),
    ("e", "export the shown graph as Graphviz DOT"),
    ("b", "backprop walk: the next node of the shown graph's backward pass"),
    ("B  escape", "stop the backprop walk"),
    ("c", "gradient check of the selected graph node or parameter (finite differences)"),
    ("v", "neuron view of the selected parameter row L0.N3.* or graph node L0.N3"),
    ("o", "settings: data, model, training (applying starts a new run)"),
    ("N  S", "regenerate the data: next noise level / next seed (a new run)"),
    (
        "1 2 3  x",
        "dataset pane cursor (arrows): add a class 0/1/2 point / remove the nearest",
    ),
    ("h", "gradients strip: each layer's gradient norm over time (on / off)"),
    ("w  p", "write the loss history as CSV / the screen as SVG, in the current folder"),
    ("ctrl+p", "command palette: every action by name"),
    ("?", "this help"),
    ("q", "quit"),
)

PANES = (
    (
        "Dataset",
        "points by class (● train, ○ test) over the decision boundary; a table of "
        "samples with target and prediction when there are more than two inputs",
    ),
    ("Loss", "train (and test) loss by step; magenta lines mark learning-rate changes"),
    ("Parameters", "every weight and bias: value, gradient, last update"),
    (
        "Gradients",
        "each layer's gradient norm over time on one log scale (a vanishing layer sits low); "
        "notices name dead ReLU neurons and vanishing, exploding or NaN gradients, once each",
    ),
    (
        "Graph",
        "the last step's computation graph from the loss down: op, data, grad; "
        "the detail shows the inputs, local derivatives and the chain-rule sum",
    ),
)


def help_text() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for key, what in KEYS:
        table.add_row(key, what)
    table.add_row("", "")
    for pane, what in PANES:
        table.add_row(Text(pane, "bold"), what)
    return table


class HelpScreen(OnTop, ModalScreen[None]):
    """Lists every key; any of escape, q or ? closes it."""

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
        Binding("question_mark", "close", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        # The title is set here, not in on_mount: a key storm could close the screen while it
        # mounted, and a query in on_mount then found no #help (NoMatches, seen in tmux).
        with VerticalScroll(id="help") as box:
            box.border_title = "microgradtui: keys (escape closes)"
            yield Static(help_text())

    def action_close(self) -> None:
        self.dismiss()
