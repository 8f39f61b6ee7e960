""" "Same step, two engines": the scalar graph's size next to the tensor graph's.

Renders a `tensor_views.EngineComparison`: for each engine the nodes and links of one step's
graph, milliseconds a step and the loss of the first step (equal: both engines run the same
math on the same weights and batch), and what batching buys (how many times fewer nodes, how
many times faster).
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from tui.formatting import fmt_number


def _count(v: int | None) -> str:
    return "-" if v is None else f"{v:,}"


def comparison_table(cmp: Any) -> Table:
    table = Table(box=None, padding=(0, 2), header_style="bold")
    table.add_column("")
    table.add_column("scalar engine", justify="right")
    table.add_column("tensor engine", justify="right")
    s, t = cmp.scalar, cmp.tensor
    table.add_row("nodes a step", _count(s.nodes), _count(t.nodes))
    table.add_row("links (operands)", _count(s.links), _count(t.links))
    ms = [None if e.ms_per_step is None else f"{e.ms_per_step:.3g}" for e in (s, t)]
    table.add_row("ms a step", ms[0] or "-", ms[1] or "-")
    table.add_row("loss of step 1", fmt_number(s.loss) if s.loss is not None else "-",
                  fmt_number(t.loss) if t.loss is not None else "-")  # fmt: skip
    return table


def comparison_summary(cmp: Any) -> Text:
    s, t = cmp.scalar, cmp.tensor
    text = Text()
    text.append(f"The same first step, {cmp.batch} samples, from the same weights:\n", "bold")
    if s.nodes and t.nodes and s.ms_per_step and t.ms_per_step:
        text.append(
            f"{s.nodes / t.nodes:,.0f}x fewer nodes and {s.ms_per_step / t.ms_per_step:,.0f}x "
            "faster with one node per array: the loop over numbers runs inside numpy.\n"
        )
    if cmp.same_loss is True:
        text.append("Both losses agree (to 1e-9): the same math, batched.\n", "green")
    elif cmp.same_loss is False:
        text.append("The losses differ: a bug worth reporting.\n", "bold red")
    if s.note:
        text.append(f"scalar engine: {s.note}\n", "dim")
    text.append("(tensor engine on the CPU in float64; a median of a few steps)", "dim")
    return text


class EnginesView(Static):
    """The comparison as a table and a sentence or two."""

    def __init__(self, **kwargs) -> None:
        super().__init__("measuring both engines on this config …", **kwargs)
        self.comparison: Any = None

    def show_comparison(self, cmp: Any) -> None:
        self.comparison = cmp
        self.update(comparison_renderable(cmp))


def comparison_renderable(cmp: Any) -> Group:
    return Group(comparison_table(cmp), comparison_summary(cmp))
