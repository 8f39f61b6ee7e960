"""The Parameters pane: every parameter's value, gradient and last update.

Updated about once a second while training runs (`offer`), and only the cells whose shown text
changed. `g` sorts by |gradient| (largest first) and toggles back to the network's order.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from textual.widget import Widget
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from tui.formatting import fmt_number
from tui.keys import bindings

# DataTable keeps 10,000 rendered cells and 1,000 rendered rows, rows' cell Texts and lines, most
# keyed by its update counter. This table changes every second, so entries for anything but the
# visible window of the latest update are never used again, yet they filled the caches over
# minutes and the app's memory grew (benchmarks/README.md; the rows' Texts, 1,000 updates'
# worth of rows, about 3 MiB on the tensor run). Room for a few screens of rows is plenty.
CACHE_SIZES = {
    "_cell_render_cache": 400,
    "_row_render_cache": 100,
    "_row_renderable_cache": 100,
    "_line_cache": 200,
}

TABLE_EVERY = 0.9  # seconds between updates while running
BUSY_TABLE_EVERY = 2.0  # the same while keys are being pressed: a redraw holds a key back
# While running, the table takes its values this long after the boundary and gradient strip
# that came in the same report: each then redraws in a frame of its own, so a key press never
# waits behind all three at once (key-to-screen p95, benchmarks/app_latency.py).
TABLE_LAG = 0.25

# what the grad and update columns hold after each phase of a step (`.`), by zero_grad on/off
PHASE_NOTES = {
    ("forward", True): "after forward: grads still the last step's",
    ("loss", True): "after loss: grads still the last step's",
    ("zero_grad", True): "after zero_grad: every grad is 0",
    ("backward", True): "after backward: this step's grads",
    ("forward", False): "after forward: grads the last step's (G: they stay)",
    ("loss", False): "after loss: grads the last step's (G: they stay)",
    ("zero_grad", False): "zero_grad skipped (G): the last step's grads stay",
    ("backward", False): "after backward: last step's grads + this step's (G)",
    ("update", True): "after update: value moved by -lr × grad (last update)",
    ("update", False): "after update: value moved by -lr × grad (last update)",
}

# (label, key, width)
COLUMNS = (
    ("name", "name", 10),
    ("value", "value", 10),
    ("grad", "grad", 10),
    ("last update", "update", 11),
)


class Throttle:
    """What a table is offered while training runs, passed on to `show` at most every
    TABLE_EVERY seconds (BUSY_TABLE_EVERY while keys are pressed), TABLE_LAG after it came;
    at once when the run is paused (a step by `n` shows its values)."""

    def __init__(
        self,
        widget: Widget,
        show: Callable[[Any], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.widget = widget
        self.show = show
        self.clock = clock
        self.offered_at = -math.inf
        self.due: Any = None  # values waiting TABLE_LAG

    def offer(self, values: Any, running: bool, busy: bool = False) -> None:
        now = self.clock()
        if not running:
            self.offered_at = now
            self.due = None
            self.show(values)
        elif now - self.offered_at >= (BUSY_TABLE_EVERY if busy else TABLE_EVERY):
            self.offered_at = now
            self.due = values
            self.widget.set_timer(TABLE_LAG, self._fill_due)

    def drop(self) -> None:
        """Forget values waiting (they were a previous model's)."""
        self.due = None

    def _fill_due(self) -> None:
        if self.due is not None and self.widget.is_mounted:
            due, self.due = self.due, None
            self.show(due)


def write_cells(
    table: DataTable, changes: Sequence[tuple[str, str, str]], direct: bool = True
) -> None:
    """`update_cell` for many cells (row key, column key, text), with one refresh for all:
    `update_cell` refreshes the table once per cell, which for a second's worth of changes
    (about 1,000 cells) costs the UI thread ten times more (benchmarks/README.md). It writes what
    `update_cell` writes (the cell, and the update counter its render caches are keyed on);
    Textual internals: if they are not there (or not `direct`), cell by cell."""
    data = getattr(table, "_data", None) if direct else None
    if not isinstance(data, dict) or not isinstance(getattr(table, "_update_count", None), int):
        for name, key, text in changes:
            table.update_cell(name, key, text)
    else:
        for name, key, text in changes:
            data[RowKey(name)][ColumnKey(key)] = text
        if changes:
            table._update_count += 1
            table.refresh()
    if changes:
        forget_drawn(table)


def forget_drawn(table: DataTable) -> None:
    """Empty the table's render caches (CACHE_SIZES's), which are keyed by its update count:
    after an update nothing in them is drawn again, yet they held it until pushed out, each
    cached line with the lines cut from it (the tensor table's, for 9 rows: 200 lines, about
    1 MiB, filled over the first 5,000 steps of the issue-15 conv run, benchmarks/README.md).
    Emptied, they hold what one screen drew. Textual internals: skipped if renamed."""
    for attribute in CACHE_SIZES:
        cache = getattr(table, attribute, None)
        if cache is not None and hasattr(cache, "clear"):
            cache.clear()


class ParamTable(DataTable):
    """One row per parameter, keyed by its name (`L0.N3.w1`)."""

    DIRECT_WRITES = True  # see _write_cells; False: always through update_cell

    BINDINGS = bindings("params")

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.names: tuple[str, ...] = ()
        self.sorted_by_grad = False
        self.phase_note = ""  # what a phase of `.` left in the columns (PHASE_NOTES)
        self._shown: dict[str, tuple[str, str, str]] = {}
        self._grads: dict[str, float] = {}
        self._throttle = Throttle(self, self.set_values)
        for attribute, size in CACHE_SIZES.items():  # Textual internals: skip if renamed
            cache = getattr(self, attribute, None)
            if cache is not None and hasattr(cache, "maxsize"):
                cache.maxsize = size

    def on_mount(self) -> None:
        for label, key, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    def set_names(self, names: Sequence[str]) -> None:
        """A new model: one row per parameter, in the network's order."""
        self._throttle.drop()  # values of the previous model
        self.clear()
        self.names = tuple(names)
        self._shown = {}
        self._grads = {}
        for name in names:
            self.add_row(name, "", "", "", key=name)
            self._shown[name] = ("", "", "")

    def offer(
        self, params: Sequence[tuple[str, float, float, float]], running: bool, busy: bool = False
    ) -> None:
        """New values: shown at once when paused; while running at most every TABLE_EVERY
        seconds (BUSY_TABLE_EVERY while keys are `busy`), TABLE_LAG after they came."""
        self._throttle.offer(params, running, busy)

    def set_values(self, params: Sequence[tuple[str, float, float, float]]) -> None:
        """(name, value, grad, last update) for every parameter; redraws changed cells only."""
        changes: list[tuple[str, str, str]] = []
        for name, value, grad, update in params:
            old = self._shown.get(name)
            if old is None:
                continue
            self._grads[name] = grad
            new = (fmt_number(value), fmt_number(grad), fmt_number(update))
            if new == old:
                continue
            for key, a, b in zip(("value", "grad", "update"), old, new):
                if a != b:
                    changes.append((name, key, b))
            self._shown[name] = new
        self._write_cells(changes)
        if self.sorted_by_grad:
            self._sort()

    def _write_cells(self, changes: Sequence[tuple[str, str, str]]) -> None:
        write_cells(self, changes, self.DIRECT_WRITES)

    def selected_name(self) -> str | None:
        """The parameter under the cursor, if the table has rows."""
        if not self.row_count:
            return None
        return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)

    def _sort(self) -> None:
        grads = self._grads

        def magnitude(name: object) -> float:
            g = abs(grads.get(str(name), 0.0))
            return g if g == g else float("inf")  # NaN first: it is what needs looking at

        self.sort("name", key=magnitude, reverse=True)

    def action_sort_by_grad(self) -> None:
        self.sorted_by_grad = not self.sorted_by_grad
        if self.sorted_by_grad:
            self._sort()
        else:
            order = {name: i for i, name in enumerate(self.names)}
            self.sort("name", key=lambda name: order.get(str(name), 0))
        self.show_subtitle()

    def show_phase(self, phase: str, zero_grad: bool) -> None:
        """Say what the last phase of a step (`.`) left in the table ("": a step done)."""
        note = PHASE_NOTES.get((phase, zero_grad), "")
        if note != self.phase_note:
            self.phase_note = note
            self.show_subtitle()

    def show_subtitle(self) -> None:
        sort = "sorted by |grad| (g)" if self.sorted_by_grad else "g: sort by |grad|"
        self.border_subtitle = f"{self.phase_note} · {sort}" if self.phase_note else sort

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        if str(event.column_key.value) == "grad" or self.sorted_by_grad:
            event.stop()
            self.action_sort_by_grad()
