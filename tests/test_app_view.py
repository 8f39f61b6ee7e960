"""Tests that see what the user sees: the panes' rendered lines, checked against the model.

The app trains FAST in its own process; the test steps its own `Trainer(FAST)` as many times
(the same seed gives the same run bit for bit) and reads what the Dataset, Loss and status panes
draw (`Widget.render_lines`: the strips the screen is made of, text and styles), so a picture
that is wrong while the app's state is right (a boundary upside down, accuracy plotted as the
loss, a percentage off by 100) fails here.
"""

from __future__ import annotations

import time

import pytest
from apphelp import FAST, SIZE, step, wait_for
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from micrograd.train import Trainer
from tui.app import MicrogradApp
from tui.formatting import fmt_number
from tui.widgets.dataset import REGION_STRONG, REGION_WEAK, BoundaryView
from tui.widgets.loss import LossPlot
from tui.widgets.status import StatusLine

BRAILLE = range(0x2800, 0x2900)


@pytest.fixture(autouse=True)
def truecolor(monkeypatch):
    """The panes' full palette, whatever TERM the tests run under: with 16 colours (TERM=xterm)
    the Dataset pane draws its regions in the terminal's standard colours (tui/terminal.py)."""
    monkeypatch.setenv("COLORTERM", "truecolor")


def rendered(widget: Widget) -> list[Strip]:
    """The widget's lines as the screen draws them, border included."""
    width, height = widget.outer_size
    return widget.render_lines(Region(0, 0, width, height))


async def paused_after_training(pilot, app: MicrogradApp, at_least: int) -> Trainer:
    """Let the app train `at_least` steps, pause it, and return a Trainer at the same step."""
    await wait_for(pilot, lambda: step(app) >= at_least, timeout=30)
    await pilot.press("space")
    await wait_for(pilot, lambda: app.reported_state == "paused", timeout=30)
    trainer = Trainer(FAST)
    for _ in range(step(app)):
        trainer.step()
    return trainer


def region_classes(view: BoundaryView) -> list[list[int]]:
    """The class each cell's background shows (-1: no region drawn)."""
    colours = {c: k for k, c in enumerate(REGION_STRONG)} | {
        c: k for k, c in enumerate(REGION_WEAK)
    }
    out = []
    for strip in rendered(view):
        row = []
        for segment in strip:
            bg = segment.style.bgcolor if segment.style else None
            k = colours.get(bg.name if bg else "", -1)
            row.extend([k] * len(segment.text))
        out.append(row)
    return out


def expected_regions(trainer: Trainer, view: BoundaryView) -> list[list[int]]:
    """The model's class at the centre of each cell: the top row is the largest y."""
    cols, rows = view.size
    x0, x1, y0, y1 = view.bounds
    centres = [
        [x0 + (x1 - x0) * (c + 0.5) / cols, y1 - (y1 - y0) * (r + 0.5) / rows]
        for r in range(rows)
        for c in range(cols)
    ]
    flat = trainer.predict_grid(centres)
    return [flat[r * cols : (r + 1) * cols] for r in range(rows)]


async def test_the_boundary_shows_the_models_class_in_every_cell():
    app = MicrogradApp(FAST)
    async with app.run_test(size=SIZE) as pilot:
        trainer = await paused_after_training(pilot, app, 40)
        view = app.query_one(BoundaryView)
        cols, rows = view.size

        def grid_fits() -> bool:
            return len(view.grid) == rows and all(len(r) == cols for r in view.grid)

        await wait_for(pilot, grid_fits)
        want = expected_regions(trainer, view)
        assert len({k for row in want for k in row}) == 2, "both classes must be on screen"
        deadline = time.monotonic() + 10  # the paused step's grid may be on its way
        while True:
            shown = region_classes(view)
            wrong = sum(a != b for sr, wr in zip(shown, want) for a, b in zip(sr, wr))
            if wrong == 0 or time.monotonic() > deadline:
                break
            await pilot.pause(0.1)
        assert wrong == 0, f"{wrong} of {cols * rows} cells show the wrong class"


def plotted_last_value(lines: list[str]) -> tuple[float, float]:
    """(the value of the curve's rightmost point, one text row's span) read off the plot: the
    y axis's tick labels give each row's value; the rightmost braille dots give the row."""
    top = next(i for i, line in enumerate(lines) if "┌" in line)
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    ticks = []
    for i in range(top + 1, bottom):
        label = lines[i].split("┤")[0].strip("│ ") if "┤" in lines[i] else ""
        if label:
            ticks.append((i, float(label)))
    assert len(ticks) >= 2, lines
    (r0, v0), (r1, v1) = ticks[0], ticks[-1]
    per_row = (v1 - v0) / (r1 - r0)
    right = -1
    rows_at_right: list[int] = []
    for i in range(top + 1, bottom):
        cols = [c for c, ch in enumerate(lines[i]) if ord(ch) in BRAILLE]
        if cols and cols[-1] > right:
            right, rows_at_right = cols[-1], [i]
        elif cols and cols[-1] == right:
            rows_at_right.append(i)
    row = sum(rows_at_right) / len(rows_at_right)
    return v0 + (row - r0) * per_row, abs(per_row)


async def test_the_loss_pane_ends_at_the_last_loss_and_the_status_says_it():
    app = MicrogradApp(FAST)
    async with app.run_test(size=SIZE) as pilot:
        trainer = await paused_after_training(pilot, app, 40)
        last = trainer.history[-1]
        plot = app.query_one(LossPlot)
        await wait_for(pilot, lambda: plot.steps and plot.steps[-1] == last.step)
        await wait_for(pilot, lambda: not plot._dirty)  # redrawn with the last point
        await pilot.pause()
        lines = [strip.text for strip in rendered(plot)]
        value, row_span = plotted_last_value(lines)
        assert abs(value - last.loss) <= 1.5 * row_span, (value, last.loss, "\n".join(lines))
        first_loss = trainer.history[0].loss
        assert abs(first_loss - last.loss) > 4 * row_span  # the curve is tall enough to tell

        text = rendered(app.query_one(StatusLine))[0].text
        assert f"step {last.step} " in text, text
        assert f"loss {fmt_number(last.loss)} " in text, text
        assert f" acc {100 * last.accuracy:.1f}% " in text, text
