"""Reports coalesced on their way to the UI (issue 13 item 2): whatever arrives while the UI is
busy, what waits for it is bounded, and nothing it must show is lost."""

from __future__ import annotations

import time

from apphelp import FAST, SIZE, step, wait_for

from micrograd.train import StepReport
from tui.app import MicrogradApp
from tui.mailbox import MAX_EVENTS, MAX_STEPS, Mailbox
from tui.protocol import (
    DatasetView,
    GraphView,
    LrChanged,
    ModelView,
    Notice,
    Progress,
    Step,
    Stopped,
)
from tui.widgets.loss import LossPlot
from tui.widgets.params import ParamTable


def progress(first: int, n: int, state: str = "running", serial: int = 0) -> Progress:
    reports = tuple(StepReport(s, 1.0 / s, 0.5, 0.1, 0.001) for s in range(first, first + n))
    return Progress(reports, state, 100.0, 0.1, serial)


def model(step_: int) -> ModelView:
    return ModelView(step_, (), (), (0.0, 1.0, 0.0, 1.0), ())


def dataset(name: str) -> DatasetView:
    return DatasetView(name, [], [], [], [], 2, 2, 0.1, (), "2-1")


def test_the_ui_is_told_once_until_it_takes():
    box = Mailbox()
    assert box.put(model(1)) is True
    assert box.put(model(2)) is False  # already told
    assert box.take() == [model(2)]
    assert box.put(model(3)) is True


def test_views_keep_only_the_latest_and_progress_merges_every_step():
    box = Mailbox()
    for s in range(1, 1001):
        box.put(progress(s, 1, serial=s))
        box.put(model(s))
        box.put(GraphView(s, object()))
    waiting = box.take()
    assert len(waiting) == 3
    merged = next(r for r in waiting if isinstance(r, Progress))
    assert [r.step for r in merged.reports] == list(range(1, 1001))
    assert merged.serial == 1000
    assert next(r for r in waiting if isinstance(r, ModelView)).step == 1000
    assert next(r for r in waiting if isinstance(r, GraphView)).step == 1000


def test_what_waits_is_bounded_under_any_flood():
    box = Mailbox()
    for s in range(20_000):
        box.put(progress(10 * s + 1, 10))
        box.put(Notice(f"notice {s}"))
        box.put(LrChanged(s, 0.1))
        box.put(model(s))
    waiting = box.take()
    assert len(waiting) <= 2 + MAX_EVENTS
    merged = next(r for r in waiting if isinstance(r, Progress))
    assert len(merged.reports) == MAX_STEPS and merged.reports[-1].step == 200_000
    notices = [r for r in waiting if isinstance(r, Notice)]
    assert notices[-1].text == "notice 19999"  # the newest events are the ones kept


def test_a_new_run_drops_what_waits_about_the_old_one_and_stopped_is_kept():
    box = Mailbox()
    box.put(progress(1, 5))
    box.put(model(5))
    box.put(Notice("Reset"))
    box.put(dataset("circles"))
    box.put(progress(1, 1))
    box.put(Stopped("gone"))
    for _ in range(MAX_EVENTS * 2):
        box.put(Notice("more"))
    waiting = box.take()
    kinds = [type(r).__name__ for r in waiting]
    assert kinds[:3] == ["DatasetView", "Progress", "Stopped"]  # the old run's went first
    assert kinds[3:] == ["Notice"] * MAX_EVENTS  # then the newest events, "Reset" gone
    assert next(r for r in waiting if isinstance(r, Progress)).reports[0].step == 1


def graph_waiting(box: Mailbox, step: int) -> bool:
    """Step `step`'s graph waits in the mailbox (read under its lock, as `take` does)."""
    with box._lock:  # noqa: SLF001 (the test looks inside while the UI cannot)
        return any(isinstance(r, GraphView) and r.step == step for r in box._waiting)


async def test_while_the_ui_is_busy_reports_wait_coalesced_and_no_step_is_lost():
    """Before: every report became a message of its own; a UI busy for a while then drew each
    of the graphs that came meanwhile, one after another (and held them all until then)."""
    app = MicrogradApp(FAST, paused=True)
    graphs: list[int] = []
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.query_one(ParamTable).row_count > 0)
        shown = app._on_graph_view
        app._on_graph_view = lambda g: (graphs.append(g.step), shown(g))
        for _ in range(60):
            app.session.send(Step())
        # the UI is busy (this test holds its loop) until the 60th step's graph waits for it:
        # a fixed 3 s let a loaded machine answer the steps in several batches (1 run in ~10)
        deadline = time.monotonic() + 30
        while not graph_waiting(app.mailbox, 60):
            assert time.monotonic() < deadline, "the 60 steps were not answered in 30 s"
            time.sleep(0.05)
        await wait_for(pilot, lambda: step(app) == 60, timeout=30)
        await pilot.pause(0.5)
        assert app.graph_step == 60
        assert len(graphs) <= 3, graphs  # the latest graph, not 60 of them
        assert list(app.query_one(LossPlot).steps) == list(range(1, 61))  # every step's loss
