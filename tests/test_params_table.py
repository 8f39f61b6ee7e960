"""The Parameters table on its own: what it shows after each batch of values."""

from __future__ import annotations

import pytest
from apphelp import wait_for
from textual.app import App, ComposeResult

from tui.formatting import fmt_number
from tui.widgets.params import BUSY_TABLE_EVERY, TABLE_EVERY, TABLE_LAG, ParamTable

NAMES = [f"L0.N{i}.w{j}" for i in range(4) for j in range(3)]


class TableApp(App):
    def compose(self) -> ComposeResult:
        yield ParamTable()


def _shown(app: App) -> str:
    return app.export_screenshot().replace("&#160;", " ")


@pytest.mark.parametrize("direct", [True, False], ids=["one-refresh", "cell-by-cell"])
async def test_the_table_shows_each_new_batch_of_values(direct: bool, monkeypatch) -> None:
    monkeypatch.setattr(ParamTable, "DIRECT_WRITES", direct)
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(ParamTable)
        table.set_names(NAMES)
        for round_ in range(3):
            # values no earlier round showed, so a stale cell cannot pass for a fresh one
            values = [
                (n, 100 * round_ + i + 0.5, -(100 * round_ + i) - 0.25, 1e-3 * (i + 1))
                for i, n in enumerate(NAMES)
            ]
            table.set_values(values)
            await pilot.pause()
            for row, (name, value, grad, update) in enumerate(values):
                want = [name, fmt_number(value), fmt_number(grad), fmt_number(update)]
                assert [str(table.get_cell_at((row, c))) for c in range(4)] == want
            screen = _shown(app)
            for _, value, grad, _ in values[:8]:  # the rows on screen show them too
                assert fmt_number(value) in screen and fmt_number(grad) in screen
        table.set_values([(NAMES[0], 99.5, 1.0, 0.0), ("not.a.parameter", 1.0, 1.0, 1.0)])
        await pilot.pause()
        assert str(table.get_cell_at((0, 1))) == fmt_number(99.5)
        assert str(table.get_cell_at((1, 1))) == fmt_number(201.5)  # untouched rows stay
        assert fmt_number(99.5) in _shown(app)


async def test_values_offered_while_running_are_shown_at_the_tables_pace() -> None:
    """While training runs the table takes a batch at most every TABLE_EVERY seconds
    (BUSY_TABLE_EVERY while keys are pressed), TABLE_LAG after it came; paused, at once."""
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(ParamTable)
        table.set_names(NAMES)
        shown: list[float] = []
        show = table._throttle.show
        table._throttle.show = lambda values: (shown.append(values[0][1]), show(values))
        now = [100.0]
        table._throttle.clock = lambda: now[0]

        def batch(value: float) -> list[tuple[str, float, float, float]]:
            return [(n, value, -value, 0.0) for n in NAMES]

        table.offer(batch(1.5), running=True)
        now[0] += 0.1
        table.offer(batch(2.5), running=True)  # too soon after the last: not shown
        await wait_for(pilot, lambda: shown == [1.5])
        assert str(table.get_cell_at((0, 1))) == fmt_number(1.5)
        now[0] = 100.0 + TABLE_EVERY
        table.offer(batch(3.5), running=True, busy=True)  # keys pressed: the slower pace
        now[0] = 100.0 + BUSY_TABLE_EVERY
        table.offer(batch(4.5), running=True, busy=True)
        await wait_for(pilot, lambda: shown == [1.5, 4.5])
        table.offer(batch(5.5), running=False)  # paused (a step by `n`): at once
        assert shown == [1.5, 4.5, 5.5] and str(table.get_cell_at((0, 1))) == fmt_number(5.5)
        now[0] += 0.1
        table.offer(batch(6.5), running=True)
        table.set_names(NAMES[:3])  # a new model: the values waiting are the old model's
        await pilot.pause(2 * TABLE_LAG)
        assert shown == [1.5, 4.5, 5.5] and str(table.get_cell_at((0, 1))) == ""
