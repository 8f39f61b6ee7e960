"""Heatmaps of arrays: one colour cell per element, two elements per character (half blocks).

`Heatmap` draws a 2-D array as coloured cells, two rows of elements per line of text: the upper
half block `▀` takes the upper element's colour as its foreground and the lower one's as its
background. Negative values are orange, positive blue, stronger further from zero (the neuron
view's palette); exactly 0 is black and NaN/inf red. Larger arrays scroll; a cursor (arrows,
home/end, page keys) picks an element, drawn in magenta, and the widget posts `CursorMoved`.

Colour is not the only carrier: in *shades* mode (`C`, or `shades=True` for a terminal without
colour or UTF-8) each element is two characters of the neuron view's shading (`·-=≡` below
zero, `·+*#` above) and the cursor is reverse video; `ArrayPairView` always states the element
under the cursor in words. A widget renders what it is given and never asks the trainer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from tui.formatting import fmt_number
from tui.keys import KEYS, bindings
from tui.screens.neuron import heat_style

SHADES_KEY = next(k.shown_as for k in KEYS if k.action == "toggle_shades")  # the hint names it
UPPER_HALF = "▀"
# Per strength level 1..6 (0 is exactly zero): colours below and above zero.
NEGATIVE_COLOURS = ("#3a1c00", "#5f2f00", "#875f00", "#af5f00", "#d78700", "#ffaf00")
POSITIVE_COLOURS = ("#00203a", "#00305f", "#005f87", "#0087af", "#00afd7", "#00d7ff")
ZERO_COLOUR = "#000000"
BAD_COLOUR = "#ff0000"  # NaN or inf
CURSOR_COLOUR = "#ff00ff"
CURSOR_STYLE = Style(color="#ffffff", bgcolor="#af00af", bold=True, reverse=True)
COLOUR_LEVELS = len(POSITIVE_COLOURS)
PLAIN = Style()  # never None: Textual's Monochrome filter (NO_COLOR) reads every segment's style


def scale_of(values: Any) -> float:
    """The largest finite |value| (the full-strength colour), 0 for none."""
    a = np.abs(np.asarray(values, dtype=np.float64))
    a = a[np.isfinite(a)]
    return float(a.max()) if a.size else 0.0


def colour_of(value: float, scale: float) -> str:
    """The colour of one element: its sign's palette at a level by |value| / scale."""
    if not math.isfinite(value):
        return BAD_COLOUR
    if value == 0 or scale <= 0:
        return ZERO_COLOUR
    k = min(COLOUR_LEVELS - 1, int(abs(value) / scale * COLOUR_LEVELS))
    return (NEGATIVE_COLOURS if value < 0 else POSITIVE_COLOURS)[k]


def shade_of(value: float, scale: float) -> tuple[str, Style]:
    """Two characters and a style for one element in shades mode (`!!` for NaN/inf)."""
    if not math.isfinite(value):
        return "!!", Style(color="#ffffff", bgcolor=BAD_COLOUR, bold=True)
    char, style = heat_style(value, scale)
    return char * 2, style


@lru_cache(maxsize=1024)
def _half_style(top: str, bottom: str | None) -> Style:
    return Style(color=top, bgcolor=bottom)


class StripsView(ScrollView, can_focus=True):
    """A Line-API view of a list of Strips built for the current width, scrolled by the
    compositor's offset; subclasses build the strips in `build_strips`."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._strips: list[Strip] = []
        self._built_for: Any = None

    def invalidate(self) -> None:
        self._built_for = None
        self.refresh()

    def build_strips(self, width: int) -> list[Strip]:
        raise NotImplementedError

    def _ensure(self) -> None:
        key = self.size.width
        if self._built_for != key:
            self._strips = self.build_strips(self.size.width)
            width = max((s.cell_length for s in self._strips), default=0)
            self._built_for = key
            self.virtual_size = Size(width, len(self._strips))

    def on_resize(self) -> None:
        self.invalidate()

    def render_line(self, y: int) -> Strip:
        self._ensure()
        sx, sy = self.scroll_offset
        line = y + sy
        width = self.size.width
        if 0 <= line < len(self._strips):
            return self._strips[line].crop_extend(sx, sx + width, PLAIN)
        return Strip.blank(width, PLAIN)

    def lines_text(self) -> list[str]:
        """The whole content as plain text lines (what tests and the ASCII filter see)."""
        self._ensure()
        return [s.text for s in self._strips]


class Heatmap(StripsView):
    """A 2-D array as colour cells, two rows per line; a cursor on one element."""

    BINDINGS = [
        Binding("up", "move(-1, 0)", "Up", show=False),
        Binding("down", "move(1, 0)", "Move", key_display="↑↓←→"),  # the footer's: all four
        Binding("left", "move(0, -1)", "Left", show=False),
        Binding("right", "move(0, 1)", "Right", show=False),
        Binding("pageup", "move(-8, 0)", show=False),
        Binding("pagedown", "move(8, 0)", show=False),
        Binding("home", "jump(0)", show=False),
        Binding("end", "jump(1)", show=False),
        *bindings("heatmap"),  # C: shades
    ]

    class CursorMoved(Message):
        """The cursor is on element (row, col), whose value is `value`."""

        def __init__(self, heatmap: Heatmap, row: int, col: int, value: float) -> None:
            super().__init__()
            self.heatmap = heatmap
            self.row = row
            self.col = col
            self.value = value

        @property
        def control(self) -> Heatmap:
            return self.heatmap

    def __init__(self, shades: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.values = np.zeros((0, 0))
        self.scale = 0.0
        self.shades = shades
        self.cursor = (0, 0)

    # -- data ---------------------------------------------------------------------------------
    def set_values(self, values: Any, scale: float | None = None) -> None:
        """A new array (a vector is one row); `scale`: the |value| drawn at full strength (by
        default the array's largest). The cursor stays where it was, clamped."""
        a = np.asarray(values, dtype=np.float64)
        if a.ndim < 2:
            a = a.reshape(1, -1)
        elif a.ndim > 2:
            a = a.reshape(a.shape[0], -1)
        self.values = a
        self.scale = scale_of(a) if scale is None else float(scale)
        self.cursor = self._clamped(*self.cursor)
        self.invalidate()

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape  # type: ignore[return-value]

    def value_at(self, row: int, col: int) -> float:
        return float(self.values[row, col])

    def _clamped(self, row: int, col: int) -> tuple[int, int]:
        rows, cols = self.values.shape
        return max(0, min(row, rows - 1)), max(0, min(col, cols - 1))

    # -- keys -----------------------------------------------------------------------------------
    def move_to(self, row: int, col: int, announce: bool = True) -> None:
        """Put the cursor on (row, col) (clamped), scroll it into view, post CursorMoved."""
        if not self.values.size:
            return
        self.cursor = self._clamped(row, col)
        self.invalidate()
        r, c = self.cursor
        if self.shades:
            region = Region(2 * c, r, 2, 1)
        else:
            region = Region(c, r // 2, 1, 1)
        self.scroll_to_region(region, animate=False, immediate=True)
        if announce:
            self.post_message(self.CursorMoved(self, r, c, self.value_at(r, c)))

    def action_move(self, dr: int, dc: int) -> None:
        self.move_to(self.cursor[0] + dr, self.cursor[1] + dc)

    def action_jump(self, end: int) -> None:
        rows, cols = self.values.shape
        self.move_to(rows - 1, cols - 1) if end else self.move_to(0, 0)

    class ShadesToggled(Message):
        """`C` switched this heatmap to shades (or back to colours)."""

        def __init__(self, heatmap: Heatmap, shades: bool) -> None:
            super().__init__()
            self.heatmap = heatmap
            self.shades = shades

    def set_shades(self, shades: bool) -> None:
        self.shades = shades
        self.invalidate()
        self.move_to(*self.cursor, announce=False)

    def action_toggle_shades(self) -> None:
        self.set_shades(not self.shades)
        self.post_message(self.ShadesToggled(self, self.shades))

    # -- drawing --------------------------------------------------------------------------------
    def build_strips(self, width: int) -> list[Strip]:
        a, scale = self.values, self.scale
        if not a.size:
            return []
        return self._shade_strips(a, scale) if self.shades else self._block_strips(a, scale)

    def _block_strips(self, a: np.ndarray, scale: float) -> list[Strip]:
        rows, cols = a.shape
        cr, cc = self.cursor
        out = []
        for r in range(0, rows, 2):
            segments = []
            for c in range(cols):
                top = CURSOR_COLOUR if (r, c) == (cr, cc) else colour_of(a[r, c], scale)
                bottom = None
                if r + 1 < rows:
                    cursor = (r + 1, c) == (cr, cc)
                    bottom = CURSOR_COLOUR if cursor else colour_of(a[r + 1, c], scale)
                segments.append(Segment(UPPER_HALF, _half_style(top, bottom)))
            out.append(Strip(segments, cols).simplify())
        return out

    def _shade_strips(self, a: np.ndarray, scale: float) -> list[Strip]:
        rows, cols = a.shape
        out = []
        for r in range(rows):
            segments = []
            for c in range(cols):
                chars, style = shade_of(a[r, c], scale)
                if (r, c) == self.cursor:
                    style = CURSOR_STYLE
                segments.append(Segment(chars, style))
            out.append(Strip(segments, 2 * cols).simplify())
        return out


def element_index(shape: Sequence[int], row: int, col: int) -> tuple[int, ...]:
    """The index in an array of `shape` of the heatmap cell (row, col) (see tensor_views'
    `as_matrix`: a vector is one row, a higher array one row per leading index)."""
    if len(shape) <= 1:
        return (col,) if shape else ()
    if len(shape) == 2:
        return (row, col)
    return (row, *(int(i) for i in np.unravel_index(col, tuple(shape[1:]))))


class ArrayPairView(Vertical):
    """A parameter's values and gradient as two heatmaps side by side, one cursor for both,
    and the element under it in words: `L0.W[3, 7] = 0.1234   grad -0.0042`."""

    def __init__(self, shades: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.shades = shades
        self.name_shown = ""
        self.array_shape: tuple[int, ...] = ()
        self.has_grads = False

    def compose(self):
        yield Static("", id="pair-head", markup=False)
        with Horizontal(id="pair-maps"):
            yield Heatmap(shades=self.shades, id="pair-values")
            yield Heatmap(shades=self.shades, id="pair-grads")
        yield Static("", id="pair-cursor", markup=False)

    def show_arrays(
        self, name: str, shape: Sequence[int], values: Any, grads: Any | None, step: int
    ) -> None:
        self.name_shown = name
        self.array_shape = tuple(shape)
        self.has_grads = grads is not None
        left = self.query_one("#pair-values", Heatmap)
        right = self.query_one("#pair-grads", Heatmap)
        left.set_values(values)
        right.set_values(np.zeros_like(left.values) if grads is None else grads)
        shown = "x".join(map(str, shape)) or "scalar"
        head = Text()
        head.append(f"{name}", "bold")
        head.append(f"  {shown}  after step {step}\n")
        head.append(f"values (|max| {fmt_number(left.scale)})", "underline")
        head.append("  |  ")
        grad_text = "grads: none yet" if grads is None else f"grads (|max| {right.scale:.4g})"
        head.append(grad_text, "underline")
        head.append(f"\norange < 0 < blue; arrows move the cursor, {SHADES_KEY}: shades", "dim")
        self.query_one("#pair-head", Static).update(head)
        self._describe(*left.cursor)

    def _describe(self, row: int, col: int) -> None:
        left = self.query_one("#pair-values", Heatmap)
        right = self.query_one("#pair-grads", Heatmap)
        if not left.values.size:
            return
        index = ", ".join(map(str, element_index(self.array_shape, row, col)))
        text = f"{self.name_shown}[{index}] = {fmt_number(left.value_at(row, col))}"
        if self.has_grads:
            text += f"   grad {fmt_number(right.value_at(row, col))}"
        self.query_one("#pair-cursor", Static).update(text)

    def on_heatmap_shades_toggled(self, event: Heatmap.ShadesToggled) -> None:
        event.stop()
        for other in self.query(Heatmap):
            if other is not event.heatmap:
                other.set_shades(event.shades)

    def on_heatmap_cursor_moved(self, event: Heatmap.CursorMoved) -> None:
        event.stop()
        for other in self.query(Heatmap):
            if other is not event.heatmap:
                other.move_to(event.row, event.col, announce=False)
        self._describe(event.row, event.col)

    def cursor_text(self) -> str:
        return str(self.query_one("#pair-cursor", Static).render())
