"""The status line on one row at any width: what matters stays when it does not fit (before, at
80 columns a tensor digits run's state and engine wrapped onto a row that is never shown)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from textual.app import App, ComposeResult

from tui.run_state import RunShown
from tui.widgets.status import StatusLine

# a tensor digits run with a test split, at a 4-digit step
DIGITS = RunShown(
    step=1234,
    loss=0.123456,
    accuracy=0.9551,
    test_loss=0.234567,
    lr=0.01,
    rate=45.3,
    state="running",
    what="digits tensor conv 8,16 on 1x8x8, 64-10",
)
# the regex benchmarks/app_latency.py reads the status with (its STATUS_RE)
STATUS_RE = re.compile(
    r"\bstep (\d+)  loss (\S+)  (?:test \S+  )?acc (\S+)%  lr (\S+)(?: \((\S+) asked\))?  "
    r"(\S+) steps/s  (\w+)"
)
KEPT = ("step 1234", "loss 0.1235", "acc 95.5%", "lr 0.01")


class StatusApp(App):
    CSS = "#status { height: 1; padding: 0 1; }"  # as tui/app.tcss

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")


async def shown(run: RunShown, width: int) -> list[str]:
    """The rows the status line shows on a screen `width` columns wide."""
    app = StatusApp()
    async with app.run_test(size=(width, 24)) as pilot:
        line = app.query_one(StatusLine)
        line.run = run
        await pilot.pause()
        return [line.render_line(y).text.strip() for y in range(line.size.height)]


@pytest.mark.parametrize("state", ["running", "paused", "diverging", "diverged"])
async def test_a_digits_run_at_80_columns_shows_its_state_and_engine_on_its_one_row(state):
    """Before: 'step 1234  loss ...  45.3 steps/s' filled the row; the state and the engine
    fell onto a second row that is never shown."""
    (row,) = await shown(replace(DIGITS, state=state), 80)
    assert len(row) <= 78
    for part in (*KEPT, f" {state} digits tensor"):
        assert part in row, (part, row)


async def test_the_least_important_parts_go_first_and_the_full_line_shows_where_it_fits():
    (wide,) = await shown(DIGITS, 140)
    assert STATUS_RE.search(wide) and wide.endswith("  digits tensor conv 8,16 on 1x8x8, 64-10")
    (row,) = await shown(DIGITS, 100)  # `what` shortened: the line as scripts read it
    assert STATUS_RE.search(row) and "test 0.2346" in row and row.endswith(" digits tensor…")
    (row,) = await shown(DIGITS, 80)  # one space between fields, then no steps/s figure
    assert "steps/s" not in row and "test 0.2346" in row and " digits tensor" in row
    (row,) = await shown(DIGITS, 60)  # then no test loss, no `what`
    assert "test" not in row and row.endswith("lr 0.01 running")
    # the moons demo at 120 columns, as benchmarks/app_latency.py reads it
    moons = replace(DIGITS, test_loss=None, lr=0.5, what="moons 2-16-16-1", step=123456)
    assert STATUS_RE.search((await shown(moons, 120))[0])


async def test_what_is_trained_is_cut_between_words_never_inside_one():
    """Before: at 80 columns the default demo's `moons 2-16-16-1` showed as `moons 2-16-1…`,
    another network. A word that does not fit goes whole."""
    moons = replace(DIGITS, test_loss=None, lr=0.5, what="moons 2-16-16-1", step=300)
    seen = set()
    for width in range(60, 130):
        (row,) = await shown(moons, width)
        seen.add(row.split("running")[-1].strip())
    assert seen == {"moons…", "moons 2-16-16-1"}, seen  # the name, or all of it
    words = {w.rstrip(",") for w in DIGITS.what.split()}
    cut = 0
    for width in range(60, 150):
        (row,) = await shown(DIGITS, width)
        if "digits" in row and row.endswith("…"):
            cut += 1
            assert row[:-1].rsplit(" ", 1)[-1] in words, (width, row)  # a whole word, then …
    assert cut > 10


async def test_pace_lr_asked_and_zero_grad_off_stay_at_80_columns():
    run = replace(DIGITS, state="paused", speed=2, zero_grad=False, what="digits 64-16-16-10",
                  test_loss=None)  # fmt: skip
    (row,) = await shown(run, 80)
    for part in (*KEPT, "(pace 2/s)", " paused ", "zero_grad off (G)"):  # no room for `what`
        assert part in row, (part, row)
    (row,) = await shown(replace(run, phase="backward", phase_loss=0.5, speed=0), 80)
    assert "step 1235 after backward" in row and " paused " in row and "zero_grad off (G)" in row
    (row,) = await shown(replace(run, lr_asked="×2", zero_grad=True, state="running"), 80)
    for part in (*KEPT, "lr 0.01 (×2 asked)", "(pace 2/s)", " running ", "digits"):
        assert part in row, (part, row)


@pytest.mark.parametrize("width", [60, 40, 20])
async def test_narrower_screens_cut_the_line_rather_than_wrap_it(width):
    (row,) = await shown(replace(DIGITS, zero_grad=False), width)
    assert row.startswith("step 1234") and len(row) <= width - 2
