"""The footer on as many lines as its keys need (one at 120 columns, two or three at 80): cut
after "b Backprop c", it hid Check grad, Neuron, Settings and Help at 80x24 (issue 12 item 5)."""

from __future__ import annotations

from math import ceil

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

MAX_LINES = 3


def key_width(key: FooterKey) -> int:
    """Its cells in the compact footer: `key label` and the one-cell gap after it."""
    label = f" {key.description}" if key.description else ""
    return cell_len(key.key_display + label) + 1


def lines_needed(widths: list[int], room: int) -> int:
    """The fewest lines (up to MAX_LINES) whose grid of `widths`, row by row, fits in `room`."""
    for lines in range(1, MAX_LINES):
        columns = ceil(len(widths) / lines) if widths else 1
        grid = [max(widths[c::columns]) for c in range(columns)] if widths else [0]
        if sum(grid) <= room:
            return lines
    return MAX_LINES


class KeyFooter(Footer):
    """Textual's compact footer, laid out as a grid of 1 to 3 lines so every key shows."""

    DEFAULT_CSS = """
    KeyFooter.-lines {
        layout: grid;
        grid-columns: auto;
        grid-gutter: 0 0;
    }
    KeyFooter.-lines FooterKey {
        margin: 0 !important;
        padding-right: 1;
    }
    """

    def __init__(self) -> None:
        super().__init__(compact=True, show_command_palette=False)
        self._laid_out_for = -1  # the width the lines were counted for
        self.lines = 1

    def compose(self) -> ComposeResult:
        keys = list(super().compose())
        self._lay_out(keys, self.size.width or self.app.size.width)
        yield from keys

    def _lay_out(self, keys: list, room: int) -> None:
        """The keys on as few lines (up to MAX_LINES) as fit in `room` cells."""
        widths = [key_width(k) for k in keys if isinstance(k, FooterKey)]
        self._laid_out_for = room
        self.lines = lines_needed(widths, room) if len(widths) == len(keys) else 1
        self.set_class(self.lines > 1, "-lines")
        self.styles.height = self.lines
        self.styles.grid_size_columns = max(1, ceil(len(keys) / self.lines))

    def on_resize(self, event: events.Resize) -> None:
        """The same keys laid out again for the new width. Not a recompose: Textual's Footer
        recomposes when the keys change (a focus move), and a second recompose running beside
        that one (this handler used to start one) removed keys the first was still mounting;
        both waited forever and the screen froze at 100% CPU (a tmux key storm with resizes)."""
        if event.size.width != self._laid_out_for:
            self._lay_out(list(self.children), event.size.width)
