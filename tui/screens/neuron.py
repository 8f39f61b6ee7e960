"""The neuron view (`v`): what one neuron computes, as TensorFlow Playground shows it.

Two inputs: the neuron's output over the input plane as a heatmap (orange below zero, blue above,
stronger further from zero; a shading character for the size and `-`/`+` shapes for the sign, so
it reads without colour too; blank where it is exactly 0, as a ReLU is on its dead side), with
the training points on top. More inputs: its output on each training sample. Beside it: its
weights and bias, their values and gradients. While training runs it refreshes every second.
`left`/`right` go to the previous/next neuron of the layer. On the tensor engine a neuron is a
unit of a Linear layer (column j of W and b[j]), and one sample of the shown step's batch is
worked through under the formula.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.widgets import Static

from tui.formatting import fmt_number
from tui.protocol import NeuronView
from tui.screens.modal import Modal
from tui.widgets.dataset import POINT_COLOURS
from tui.widgets.scroll import ScrollBox

NEURON = re.compile(r"^L(\d+)\.N(\d+)(?:[. ]|$)")  # a neuron's name (+ its sample), a parameter's
GRID = (48, 16)  # grid points asked for (cols, rows); the heatmap shows one per cell
# narrower than this, the weights and their grads go above the heatmap instead of beside it
# (beside it at 80 columns the grad column was cut off: issue 12 item 5)
SIDE_BY_SIDE = GRID[0] + 44
REFRESH_EVERY = 1.0  # seconds between refreshes while training runs
# Per strength level 1..4 (0 is exactly zero: blank): background and character.
NEGATIVE = (("#3a1c00", "·"), ("#5f2f00", "-"), ("#875f00", "="), ("#af5f00", "≡"))
POSITIVE = (("#00203a", "·"), ("#00305f", "+"), ("#005f87", "*"), ("#0087af", "#"))
LEVELS = len(POSITIVE)


def level(value: float, scale: float) -> int:
    """0 for exactly 0 (or NaN), else 1..LEVELS by |value| / scale."""
    if not value or value != value or not scale:
        return 0
    return min(LEVELS, 1 + int(abs(value) / scale * LEVELS))


def heat_style(value: float, scale: float) -> tuple[str, Style]:
    k = level(value, scale)
    if k == 0:
        return " ", Style(color="#808080")
    bg, char = (NEGATIVE if value < 0 else POSITIVE)[k - 1]
    return char, Style(color="#c0c0c0", bgcolor=bg)


def heatmap(view: NeuronView) -> Text:
    """One character per grid point, the training points on top (● in their class colour)."""
    grid = view.grid
    rows, cols = len(grid), len(grid[0]) if grid else 0
    finite = [abs(v) for row in grid for v in row if v == v and abs(v) != float("inf")]
    scale = max(finite, default=0.0)
    points: dict[tuple[int, int], int] = {}
    x0, x1, y0, y1 = view.bounds
    if x1 > x0 and y1 > y0:
        for x, y, label in view.points:
            c, r = int((x - x0) / (x1 - x0) * cols), int((y1 - y) / (y1 - y0) * rows)
            if 0 <= c < cols and 0 <= r < rows:
                points[(c, r)] = label
    text = Text(no_wrap=True)
    for r, row in enumerate(grid):
        for c, value in enumerate(row):
            char, style = heat_style(value, scale)
            label = points.get((c, r))
            if label is not None:
                colour = POINT_COLOURS[label % len(POINT_COLOURS)]
                char, style = "●", style + Style(color=colour, bold=True)
            text.append(char, style)
        text.append("\n")
    return text


def legend(view: NeuronView) -> Text:
    grid = view.grid
    values = [v for row in grid for v in row]
    text = Text()
    if values:
        text.append(f"output from {fmt_number(min(values))} to {fmt_number(max(values))}   ")
    finite = [v for v in values if v == v and abs(v) != float("inf")]
    scale = max(map(abs, finite), default=1.0) or 1.0
    low, high = min(finite, default=0.0), max(finite, default=0.0)
    for v in (-scale, -scale / 2, 0.0, scale / 2, scale):
        if not low <= v <= high and v:
            continue  # only the shades this map uses
        char, style = heat_style(v, scale)
        text.append(f" {char} ", style)
        text.append(f"{fmt_number(v)}{' (blank)' if not v else ''} ", "dim")
    x0, x1, y0, y1 = view.bounds
    text.append(f"\n● training points by class;  x0 {fmt_number(x0)} to {fmt_number(x1)} →,")
    text.append(f"  x1 {fmt_number(y0)} to {fmt_number(y1)} ↑")
    return text


def per_sample(view: NeuronView) -> Table:
    table = Table(box=None, padding=(0, 1), header_style="bold")
    for name in ("#", "inputs", "class", "output"):
        table.add_column(name, justify="right" if name != "inputs" else "left")
    for i, (x, label, out) in enumerate(view.samples):
        shown = ", ".join(fmt_number(v) for v in x[:4]) + (" …" if len(x) > 4 else "")
        table.add_row(str(i), shown, str(label), fmt_number(out))
    return table


def weights_table(view: NeuronView) -> Table:
    table = Table(box=None, padding=(0, 1), header_style="bold")
    table.add_column("param")
    table.add_column("value", justify="right")
    table.add_column("grad", justify="right", style="yellow")
    for name, value, grad in view.weights:
        table.add_row(name, fmt_number(value), fmt_number(grad))
    return table


def formula(view: NeuronView) -> Text:
    n_in = len(view.weights) - 1
    if view.layer == 0:
        reads = f"the inputs x0..x{n_in - 1}"
    else:
        reads = f"the {n_in} outputs of layer {view.layer - 1}"
    kind = "output" if view.layer == view.layers - 1 else "hidden"
    text = Text()
    text.append(f"{view.name}", "bold")
    text.append(f": {kind} neuron {view.neuron} of layer {view.layer} (of {view.layers})\n")
    text.append(f"out = {view.activation}(w · in + b), reading {reads}\n", "italic")
    text.append(f"weights after step {view.step}; grads from step {view.step}'s backward pass")
    text.append("   ←/→ another neuron\n" if view.units != 1 else "\n", "dim")
    return text


class NeuronScreen(Modal[None]):
    """One neuron: its output over the input plane (or per sample), its weights and grads."""

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("v", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
        Binding("left", "unit(-1)", "Previous neuron", priority=True),
        Binding("right", "unit(1)", "Next neuron", priority=True),
    ]

    def __init__(
        self, layer: int, neuron: int, request: Callable[[int, int, int, int], None]
    ) -> None:
        super().__init__()
        self.neuron_layer = layer
        self.neuron_index = neuron
        self.name_shown = f"L{layer}.N{neuron}"
        self._request = request  # asks the training process for a NeuronView
        self.last_view: NeuronView | None = None

    def compose(self) -> ComposeResult:
        with ScrollBox(id="neuron") as box:  # titled here: see HelpScreen.compose
            box.border_title = f"Neuron {self.name_shown} (escape closes)"
            yield Static(f"asking the training process for {self.name_shown} …", id="neuron-head")
            with Horizontal(id="neuron-body"):
                yield Static("", id="neuron-map")
                yield Static("", id="neuron-weights")
        yield from self.foot()

    def on_mount(self) -> None:
        if self.closed:
            return
        self.ask()
        self.set_interval(REFRESH_EVERY, self._refresh_if_running)
        self.lay_out(self.app.size.width)

    def on_resize(self, event: events.Resize) -> None:
        self.lay_out(event.size.width)

    def lay_out(self, width: int) -> None:
        """The weights beside the heatmap, or above it when the terminal is too narrow."""
        try:  # a view closed by a key sent with the one that opened it: its widgets are going
            body = self.query_one("#neuron-body")
            weights, heatmap = self.query_one("#neuron-weights"), self.query_one("#neuron-map")
        except NoMatches:
            return
        stacked = width < SIDE_BY_SIDE
        if stacked != body.has_class("-stacked"):
            body.set_class(stacked, "-stacked")
            if stacked:
                body.move_child(weights, before=heatmap)
            else:
                body.move_child(weights, after=heatmap)

    def ask(self) -> None:
        self._request(self.neuron_layer, self.neuron_index, *GRID)

    def action_unit(self, delta: int) -> None:
        """The previous/next neuron of the layer (kept within it once a view said its size)."""
        units = self.last_view.units if self.last_view is not None else 0
        index = max(0, self.neuron_index + delta)
        if units:
            index = min(index, units - 1)
        if index == self.neuron_index:
            return
        self.neuron_index = index
        self.name_shown = f"L{self.neuron_layer}.N{index}"
        self.query_one("#neuron").border_title = f"Neuron {self.name_shown} (escape closes)"
        self.query_one("#neuron-head", Static).update(f"asking for {self.name_shown} …")
        self.ask()

    def _refresh_if_running(self) -> None:
        if getattr(self.app, "state", "") == "running":
            self.ask()

    def show_view(self, view: NeuronView) -> None:
        """A NeuronView for this neuron arrived."""
        if not self.ready:  # closed, or not mounted yet: it asks again in on_mount
            return
        self.last_view = view
        head = formula(view)
        if view.note:
            head.append(view.note + "\n", "cyan")
        if view.grid:
            head.append_text(legend(view))
            self.query_one("#neuron-map", Static).update(heatmap(view))
        else:
            head.append("its output on each training sample (more than two inputs)")
            self.query_one("#neuron-map", Static).update(per_sample(view))
        self.query_one("#neuron-head", Static).update(head)
        self.query_one("#neuron-weights", Static).update(weights_table(view))

    def action_close(self) -> None:
        self.dismiss()
