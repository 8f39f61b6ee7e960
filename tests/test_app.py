"""The app driven as a user would, with Pilot: real training process, small fast model.

Waits are bounded polls for a known state (a step count, a run state), never sleeps used as
assertions.
"""

from __future__ import annotations

import multiprocessing
import time

import pytest
from apphelp import FAST, SIZE, status, step, wait_for

from micrograd.train import TrainConfig
from tui.app import MicrogradApp
from tui.formatting import fmt_number
from tui.widgets.graph import GraphTree
from tui.widgets.loss import LossPlot
from tui.widgets.params import ParamTable


async def test_panes_titles_and_status():
    app = MicrogradApp(FAST)
    async with app.run_test(size=SIZE) as pilot:
        titles = {
            app.query_one(f"#{i}").border_title for i in ("dataset", "loss", "params", "graph")
        }
        assert titles == {"Dataset", "Loss", "Parameters", "Graph"}
        await wait_for(pilot, lambda: step(app) >= 3)
        text = status(app)
        for word in ("step ", "loss ", "acc ", "%", "lr 0.1", "steps/s", "running"):
            assert word in text
        for pane in app.query(".pane"):
            assert pane.region.width > 20 and pane.region.height > 8  # all four visible


async def test_small_terminal_and_zoom():
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.query_one("#panes").has_class("-narrow")
        assert all(pane.region.height >= 6 for pane in app.query(".pane"))
        app.query_one(ParamTable).focus()
        await pilot.press("z")
        params = app.query_one("#params")
        assert params.region.width == 80 and params.region.height >= 18
        assert not app.query_one("#loss").display or app.query_one("#loss").region.width == 0
        await pilot.press("z")
        assert app.query_one("#loss").region.width > 0


async def test_plus_doubles_the_lr_shown_and_used():
    app = MicrogradApp(FAST)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: step(app) >= 2)
        await pilot.press("plus")
        assert f"lr {fmt_number(0.2)}" in status(app)  # shown at once
        loss = app.query_one(LossPlot)
        await wait_for(pilot, lambda: loss.lr_marks)  # the training process applied it
        changed_at = loss.lr_marks[-1][0]
        await wait_for(pilot, lambda: step(app) >= changed_at)
        assert app.last_report.lr == pytest.approx(0.2)  # used by the steps after the change
        await pilot.press("minus", "minus")
        assert f"lr {fmt_number(0.05)}" in status(app)


async def test_space_pauses_and_resumes():
    app = MicrogradApp(FAST)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: step(app) >= 2)
        await pilot.press("space")
        assert "paused" in status(app)
        await wait_for(pilot, lambda: app.reported_state == "paused")
        stopped_at = step(app)
        deadline = time.monotonic() + 0.6  # several report intervals: nothing may arrive
        while time.monotonic() < deadline:
            await pilot.pause(0.05)
            assert step(app) == stopped_at
        await pilot.press("space")
        await wait_for(pilot, lambda: step(app) > stopped_at)
        assert "running" in status(app)


async def test_n_takes_exactly_one_step_when_paused():
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.query_one(ParamTable).row_count > 0)
        assert step(app) == 0 and "paused" in status(app)
        await pilot.press("n")
        await wait_for(pilot, lambda: step(app) == 1)
        await pilot.press("n")
        await wait_for(pilot, lambda: step(app) == 2)
        await wait_for(pilot, lambda: app.graph_step == 2)  # the paused step's graph arrived
        assert step(app) == 2 and "step 2 " in status(app)


async def test_tree_expands_to_children_with_data_and_grad():
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        tree = app.query_one(GraphTree)
        await wait_for(pilot, lambda: app.graph_step == 1 and tree.root.children)
        tree.focus()
        root = tree.root
        assert root.is_expanded and "loss" in str(root.label)
        first = root.children[0]
        assert not first.children  # children load only when expanded
        await pilot.press("down", "right")
        await wait_for(pilot, lambda: first.children)
        labels = [str(c.label) for c in first.children]
        assert labels and all("data " in s and "grad " in s for s in labels)
        await pilot.press("left")
        assert not first.is_expanded
        detail = str(app.query_one("#detail").render())
        assert "chain rule" in detail


async def test_parameter_table_arrows_and_sort_by_grad():
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        table = app.query_one(ParamTable)
        await wait_for(pilot, lambda: table.row_count and table.get_cell_at((0, 2)) != "")
        table.focus()
        await pilot.press("down", "down")
        assert table.cursor_row == 2
        await pilot.press("g")
        grads = [abs(float(table.get_cell_at((r, 2)))) for r in range(table.row_count)]
        assert grads == sorted(grads, reverse=True)
        await pilot.press("g")
        assert table.get_cell_at((0, 0)) == table.names[0]


async def test_divergence_pauses_and_says_so():
    app = MicrogradApp(TrainConfig(samples=40, hidden=(4,), lr=1e6, loss="mse", seed=7))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "diverged" in status(app))
        assert app.reported_state == "diverged"
        diverged_at = step(app)
        await pilot.pause(0.3)
        assert step(app) == diverged_at
        assert any("lower the learning rate" in n.message.lower() for n in app.messages)


async def test_q_quits_with_status_0_leaving_no_child():
    """How fast it quits is measured in benchmarks/app_latency.py; here only that it does."""
    app = MicrogradApp(FAST)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: step(app) >= 2)
        process = app.session.process
        assert process is not None and process.is_alive()
        await pilot.press("q")
    process.join(timeout=30)  # a generous bound: the machine may be busy
    assert not process.is_alive()
    assert process not in multiprocessing.active_children()
    assert app.return_code == 0


async def test_palette_save_and_export(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await wait_for(pilot, lambda: app.graph_step == 1)
        await pilot.press("ctrl+p")
        await pilot.press(*"double the")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "lr 0.2" in status(app))
        await pilot.press("s", "e")
        await wait_for(pilot, lambda: len(list(tmp_path.glob("microgradtui-*"))) == 2)
        saved = {p.suffix for p in tmp_path.glob("microgradtui-*")}
        assert saved == {".json", ".dot"}
        assert (tmp_path / "microgradtui-graph-step1.dot").read_text().startswith("digraph")


async def test_resumes_a_saved_checkpoint(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n", "n")
        await wait_for(pilot, lambda: step(app) == 3)
        await pilot.press("s")
        await wait_for(pilot, lambda: list(tmp_path.glob("*.json")))
    (path,) = tmp_path.glob("*.json")
    app = MicrogradApp(FAST, paused=True, load=str(path))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: step(app) == 3)  # the saved history, then on from there
        assert len(app.query_one(LossPlot).steps) == 3
        await pilot.press("n")
        await wait_for(pilot, lambda: step(app) == 4)


async def test_zero_sets_the_learning_rate_back_to_the_runs_initial_value():
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("plus", "plus")
        await wait_for(pilot, lambda: "lr 0.4 " in status(app) + " ")
        await pilot.press("0")
        await wait_for(pilot, lambda: "lr 0.1 " in status(app) + " ")
        await pilot.press("n")
        await wait_for(pilot, lambda: step(app) == 1)
        assert app.last_report.lr == FAST.lr
        await wait_for(pilot, lambda: any("initial 0.1" in n.message for n in app.messages))


async def test_panes_under_a_modal_take_reports_every_half_second_and_at_once_after():
    """Before: every report redrew the panes under an open modal, and each change redrew the
    whole dimmed screen behind it (UI 31-36% of a core instead of 8-9% on the conv digits run,
    training 15-25% slower). Under a modal the panes now take reports at most every
    COVERED_EVERY seconds (they still move behind it); closing it brings them up at once."""
    from tui.app import COVERED_EVERY

    app = MicrogradApp(FAST)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: step(app) >= 3)
        taken: list[float] = []
        on_progress = app._on_progress

        def counted(p) -> None:
            taken.append(time.monotonic())
            on_progress(p)

        app._on_progress = counted
        await pilot.pause(1.0)
        assert min(b - a for a, b in zip(taken, taken[1:])) < COVERED_EVERY  # uncovered: often
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: app.screen.is_modal)
        await pilot.pause(0.3)
        taken.clear()
        await pilot.pause(2.5)
        assert len(taken) >= 2, taken  # still taken, behind the modal
        gaps = [b - a for a, b in zip(taken, taken[1:])]
        assert min(gaps) >= COVERED_EVERY * 0.95, gaps
        shown = step(app)
        taken.clear()
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.screen.is_modal and taken)
        await wait_for(pilot, lambda: step(app) > shown)
