"""The heatmap widgets, driven in a small test App as a user would."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from textual.app import App

from tui.widgets.heatmap import (
    BAD_COLOUR,
    CURSOR_COLOUR,
    NEGATIVE_COLOURS,
    POSITIVE_COLOURS,
    UPPER_HALF,
    ArrayPairView,
    Heatmap,
    element_index,
)

CSS = str(Path(__file__).parents[1] / "tui" / "app.tcss")


class One(App):
    CSS_PATH = CSS

    def __init__(self, values, shades=False) -> None:
        super().__init__()
        self.values = values
        self.shades = shades
        self.moves: list[tuple[int, int, float]] = []

    def compose(self):
        yield Heatmap(shades=self.shades)

    def on_mount(self) -> None:
        self.query_one(Heatmap).set_values(self.values)
        self.query_one(Heatmap).focus()

    def on_heatmap_cursor_moved(self, event: Heatmap.CursorMoved) -> None:
        self.moves.append((event.row, event.col, event.value))


def cell(widget: Heatmap, x: int, y: int):
    """The segment drawn at screen cell (x, y) of the widget (after scrolling)."""
    strip = widget.render_line(y)
    pos = 0
    for seg in strip:
        if pos <= x < pos + len(seg.text):
            return seg.text[x - pos], seg.style
        pos += len(seg.text)
    raise AssertionError(f"no cell at {x}")


async def test_brightest_cell_is_where_the_max_is_and_the_most_negative_is_orange():
    rng = np.random.default_rng(0)
    a = rng.uniform(-0.5, 0.5, size=(7, 11))
    a[4, 9] = 2.0
    a[1, 3] = -2.0
    app = One(a)
    async with app.run_test(size=(40, 12)) as pilot:
        hm = app.query_one(Heatmap)
        await pilot.pause()
        assert hm.virtual_size.height == 4  # 7 rows, two per line
        char, style = cell(hm, 9, 2)  # rows 4 and 5 share line 2; row 4 is the upper half
        assert char == UPPER_HALF and style.color.name == POSITIVE_COLOURS[-1]
        char, style = cell(hm, 3, 0)  # row 1 is the lower half of line 0
        assert style.bgcolor.name == NEGATIVE_COLOURS[-1]
        # no other cell is drawn at full strength
        full = [
            (x, y)
            for y in range(4)
            for x in range(11)
            for c in (cell(hm, x, y)[1].color, cell(hm, x, y)[1].bgcolor)
            if c is not None and c.name == POSITIVE_COLOURS[-1]
        ]
        assert full == [(9, 2)]


async def test_cursor_moves_reports_the_value_and_scrolls_a_large_array():
    a = np.arange(60 * 90, dtype=float).reshape(60, 90)
    app = One(a)
    async with app.run_test(size=(30, 10)) as pilot:
        hm = app.query_one(Heatmap)
        await pilot.press("down", "down", "down", "right")
        assert app.moves[-1] == (3, 1, a[3, 1])
        char, style = cell(hm, 1, 1)  # row 3: the lower half of line 1, in the cursor colour
        assert style.bgcolor.name == CURSOR_COLOUR
        await pilot.press("end")
        assert app.moves[-1] == (59, 89, a[59, 89])
        assert hm.scroll_offset.y > 0 and hm.scroll_offset.x > 0  # scrolled to it
        assert hm.scroll_offset.y + hm.size.height > 59 // 2
        await pilot.press("home")
        assert app.moves[-1] == (0, 0, 0.0) and hm.scroll_offset == (0, 0)


async def test_shades_mode_reads_without_colour():
    a = np.array([[-3.0, 0.0, 3.0], [1.0, float("nan"), -1.0]])
    app = One(a, shades=True)
    async with app.run_test(size=(30, 8)) as pilot:
        hm = app.query_one(Heatmap)
        await pilot.pause()
        lines = hm.lines_text()
        # the most negative and the largest positive the strongest shades, 0 blank
        assert lines[0] == "≡≡  ##"
        assert lines[1] == "++!!--"  # +1 and -1 weaker, NaN marked
        await pilot.press("C")  # back to half blocks: one character per element
        assert hm.lines_text() == [UPPER_HALF * 3]
        _, style = cell(hm, 1, 0)
        assert style.bgcolor.name == BAD_COLOUR


def test_element_index_of_a_conv_kernel():
    assert element_index((8, 1, 3, 3), 5, 7) == (5, 0, 2, 1)
    assert element_index((10,), 0, 4) == (4,)
    assert element_index((3, 4), 2, 1) == (2, 1)


class Pair(App):
    CSS_PATH = CSS

    def compose(self):
        yield ArrayPairView()


async def test_pair_moves_both_cursors_and_names_the_element():
    values = np.arange(2 * 3 * 3 * 3, dtype=float).reshape(2, 3, 3, 3)
    grads = -values / 100
    app = Pair()
    async with app.run_test(size=(60, 16)) as pilot:
        pair = app.query_one(ArrayPairView)
        pair.show_arrays("C1.K", values.shape, values.reshape(2, -1), grads.reshape(2, -1), 12)
        await pilot.pause()
        left, right = pair.query(Heatmap)
        left.focus()
        await pilot.press("down", "right", "right", "right", "right")
        assert left.cursor == right.cursor == (1, 4)
        assert pair.cursor_text() == "C1.K[1, 0, 1, 1] = 31   grad -0.31"
        right.focus()
        await pilot.press("left")
        assert left.cursor == (1, 3)
        assert pair.cursor_text() == "C1.K[1, 0, 1, 0] = 30   grad -0.3"
        await pilot.press("C")  # shades: both maps, not only the focused one
        assert left.shades and right.shades
        pair.show_arrays("[b]x[/b]", (2,), [[1.0, 2.0]], None, 0)  # a user string, as text
        await pilot.pause()
        assert pair.cursor_text().startswith("[b]x[/b][1] = 2")
        assert "grad" not in pair.cursor_text()
