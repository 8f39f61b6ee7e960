"""The help screen (`?`): every key (from `tui.keys`), what each pane shows, and how to leave."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from tui.keys import help_lines
from tui.screens.modal import Modal
from tui.widgets.scroll import ScrollBox

PANES = (
    (
        "Dataset",
        "points by class (● train, ○ test) over the decision boundary; a table of "
        "samples with target and prediction when there are more than two inputs",
    ),
    (
        "Loss",
        "train (and test) loss by step; magenta lines mark learning-rate changes, labelled "
        "with the new lr where there is room (the subtitle names the latest)",
    ),
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
    for key, what in help_lines():
        table.add_row(key, what)
    table.add_row("", "")
    for pane, what in PANES:
        table.add_row(Text(pane, "bold"), what)
    return table


class HelpScreen(Modal[None]):
    """Lists every key; any of escape, q or ? closes it."""

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
        Binding("question_mark", "close", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        # The title is set here, not in on_mount: a key storm could close the screen while it
        # mounted, and a query in on_mount then found no #help (NoMatches, seen in tmux).
        with ScrollBox(id="help") as box:
            box.border_title = "microgradtui: keys (escape closes)"
            yield Static(help_text())
        yield from self.foot()

    def action_close(self) -> None:
        self.dismiss()
