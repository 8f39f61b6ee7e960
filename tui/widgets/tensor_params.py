"""The Parameters pane on the tensor engine: one row per parameter array.

Each row: the array's name (`L0.W`), its shape and the norms of its value, its gradient and its
last update (`tensor_views.ParamRow`). A few arrays; only the cells whose shown text changed
are rewritten, with one refresh for all. While training runs the rows offered (`offer`, twice a
second) are shown at the Parameters table's pace (`tui.widgets.params.Throttle`): every norm
changes every step, and a repaint of the table holds a key press back. `enter` posts
`ArrayChosen` (the app opens the array as a heatmap).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.message import Message
from textual.widgets import DataTable

from tui.formatting import fmt_number
from tui.widgets.params import CACHE_SIZES, Throttle, write_cells
from tui.widgets.tensor_detail import shape_text

COLUMNS = (("name", "name"), ("shape", "shape"), ("|value|", "value"), ("|grad|", "grad"),
           ("|update|", "update"))  # fmt: skip
# The norms' columns: as wide as the widest norm fmt_number writes (`1.464e-05`), so a norm that
# grows longer is drawn whole (update_cell keeps a column's width; name and shape never change).
NUMBER_WIDTH = 9


class TensorParamTable(DataTable):
    """One row per parameter array, keyed by its name."""

    class ArrayChosen(Message):
        """Enter on the row of the array `name`."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.names: tuple[str, ...] = ()
        self._shown: dict[str, tuple[str, ...]] = {}
        self._waiting: Sequence[Any] | None = None  # rows given before the columns exist
        self._throttle = Throttle(self, self.set_rows)
        for attribute, size in CACHE_SIZES.items():  # as ParamTable: else memory grows for good
            cache = getattr(self, attribute, None)
            if cache is not None and hasattr(cache, "maxsize"):
                cache.maxsize = size

    def on_mount(self) -> None:
        for label, key in COLUMNS:
            width = NUMBER_WIDTH if key in ("value", "grad", "update") else None
            self.add_column(label, key=key, width=width)
        if self._waiting is not None:
            self.set_rows(self._waiting)

    def offer(self, rows: Sequence[Any], running: bool, busy: bool = False) -> None:
        """`ParamRow`s from a model report: shown at once when paused, else at the table's pace
        (a new set of names at once: a new model)."""
        if tuple(r.name for r in rows) != self.names:
            self.set_rows(rows)
        else:
            self._throttle.offer(rows, running, busy)

    def set_rows(self, rows: Sequence[Any]) -> None:
        """`ParamRow`s; a new set of names rebuilds the table, else changed cells are redrawn."""
        if not self.columns:  # mounted a moment ago: its columns come with on_mount
            self._waiting = rows
            return
        self._waiting = None
        names = tuple(r.name for r in rows)
        if names != self.names:
            self._throttle.drop()  # rows of the previous model
            self.clear()
            self.names = names
            self._shown = {}
            for r in rows:
                cells = self._cells(r)
                self.add_row(*cells, key=r.name)
                self._shown[r.name] = cells
            return
        changes = []
        for r in rows:
            cells, old = self._cells(r), self._shown[r.name]
            changes += [(r.name, key, b) for (_, key), a, b in zip(COLUMNS, old, cells) if a != b]
            self._shown[r.name] = cells
        write_cells(self, changes)

    @staticmethod
    def _cells(r: Any) -> tuple[str, ...]:
        return (r.name, shape_text(r.shape), fmt_number(r.value_norm), fmt_number(r.grad_norm),
                fmt_number(r.update_norm))  # fmt: skip

    def selected_name(self) -> str | None:
        if not self.names or self.cursor_row is None:
            return None
        return self.names[min(self.cursor_row, len(self.names) - 1)]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.post_message(self.ArrayChosen(str(event.row_key.value)))
