"""The lecture's items in the app: diverging on the status line, `d` onto a dataset's own
defaults, `]` and `[` as exact inverses, the scratch pad's key and `--expr`."""

from __future__ import annotations

import re
from dataclasses import replace

from micrograd.train import TrainConfig
from tests.apphelp import FAST, SIZE, notices, status, wait_for
from tests.apphelp import LECTURE as LECTURE_RUN
from tui.app import MicrogradApp
from tui.screens.scratch import LECTURE, ScratchScreen, ScratchTree


async def test_an_exploding_loss_reads_diverging_with_a_notice_before_inf():
    # the issue's `--dataset tiny` before: 16,16 ReLU, lr 0.5, squared error (a step a second
    # apart would reach inf at step 4: the status must say diverging before)
    config = TrainConfig(dataset="tiny", hidden=(16, 16), lr=0.5, steps=3)
    app = MicrogradApp(config)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any("diverging: the loss" in n for n in notices(app)))
        notice = next(n for n in notices(app) if "diverging: the loss" in n)
        assert "lower the learning rate" in notice and "- or [ lowers it" in notice
        assert "zero_grad" not in notice  # it was on: not the cause
        await wait_for(pilot, lambda: app.mirror.step >= 3)
        assert app.mirror.last_report.diverging and app.mirror.last_report.loss < float("inf")


async def test_a_run_diverging_without_zero_grad_names_it_as_the_cause():
    """Before: with zero_grad skipped (G, the lecture's bug) the divergence notice said only to
    lower the learning rate; the cause the learner switched on was not named."""
    app = MicrogradApp(replace(LECTURE_RUN, lr=0.1), paused=True)  # diverges at step ~8 without it
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.mirror.step == 0)
        await pilot.press("G", "space")
        await wait_for(pilot, lambda: any("diverging: the loss" in n for n in notices(app)))
        notice = next(n for n in notices(app) if "diverging: the loss" in n)
        assert notice.startswith("zero_grad is off (G turns it on)"), notice


async def test_a_run_that_stays_far_above_its_best_loss_reads_diverging_on_the_status_line():
    app = MicrogradApp(replace(FAST, lr=1000.0))  # hinge: the loss grows, finite, to ~300
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "diverging" in status(app))
        assert app.mirror.last_report.diverging
        await pilot.press("space")  # paused by the learner: it says paused
        await wait_for(pilot, lambda: "paused" in status(app))


async def test_next_dataset_takes_the_datasets_own_defaults():
    app = MicrogradApp(replace(FAST, dataset="blobs", hidden=(16, 16), lr=0.5), paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.mirror.run_config.dataset == "blobs")
        await pilot.press("d")  # blobs -> tiny: the lecture's network, loss and rate
        await wait_for(pilot, lambda: app.mirror.run_config.dataset == "tiny")
        tiny = app.mirror.run_config
        assert (tiny.hidden, tiny.activation, tiny.loss, tiny.lr) == ((4, 4), "tanh", "sse", 0.05)
        await wait_for(pilot, lambda: "tiny 3-4-4-1" in status(app))
        await pilot.press("d")  # tiny -> digits: the general defaults again
        await wait_for(pilot, lambda: app.mirror.run_config.dataset == "digits")
        assert app.mirror.run_config.hidden == (16, 16) and app.mirror.run_config.lr == 0.5


async def test_right_then_left_bracket_gives_the_same_learning_rate():
    app = MicrogradApp(replace(FAST, lr=0.07), paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.mirror.lr == 0.07)
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: app.mirror.lr != 0.07)
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: app.mirror.lr == 0.07)  # exactly (x1.1 then x0.9: 0.0693)


async def test_the_scratch_key_and_expr_open_the_pad_over_the_app():
    app = MicrogradApp(FAST, paused=True, expr="x=0.5; y=x*x")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ScratchScreen))
        tree = app.screen.query_one(ScratchTree)
        assert tree.get_node_at_line(0).label.plain == "y = 0.25  grad 0  (x * x)"
        await pilot.press("b", "b")
        assert tree.get_node_at_line(1).label.plain.startswith("x = 0.5  grad 1")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ScratchScreen))
        await pilot.press("a")  # the key: the pad again, on the last expression
        await wait_for(pilot, lambda: isinstance(app.screen, ScratchScreen))
        assert app.screen.text == "x=0.5; y=x*x"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ScratchScreen))
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ScratchScreen))
        assert app.screen.text == LECTURE


async def test_a_dot_export_that_stops_at_its_node_limit_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = MicrogradApp(TrainConfig(steps=100_000), paused=True)  # the moons demo: 7,144 nodes
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await wait_for(pilot, lambda: app.graph_step == 1, timeout=30)
        await pilot.press("e")
        await wait_for(pilot, lambda: any("Wrote the graph" in n for n in notices(app)), 30)
        told = next(n for n in notices(app) if "Wrote the graph" in n)
        total = int(
            re.search(r"its 2,000 nodes nearest the loss, of ([\d,]+)", told)[1].replace(",", "")
        )
        assert total > 2000
        text = next(tmp_path.glob("microgradtui-*.dot")).read_text()
        assert f"// truncated: {total - 2000} of {total} nodes left out" in text


async def test_lecture_shows_neurons_as_products_and_sums_and_u_toggles_it():
    from micrograd.train import config_for_dataset

    config = replace(config_for_dataset(TrainConfig(dataset="tiny")), steps=100_000)
    app = MicrogradApp(config, paused=True, lecture=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await wait_for(pilot, lambda: app.graph_step == 1)
        await wait_for(pilot, lambda: "*" in app.graph.tree.snapshot.ops)
        snap = app.graph.tree.snapshot
        assert "dot" not in snap.ops and "x0*w0" in snap.labels  # the lecture's x1*w1 nodes
        await pilot.press("u")
        await wait_for(pilot, lambda: "dot" in app.graph.tree.snapshot.ops)
        assert app.graph.tree.snapshot.data[-1] == snap.data[-1]  # the same loss, fused


def test_a_gradient_check_on_the_split_graph_checks_the_node_shown():
    from micrograd.train import Trainer, config_for_dataset
    from tui.training.shown_graph import ShownGraph

    trainer = Trainer(config_for_dataset(TrainConfig(dataset="tiny")))
    params = list(trainer.model.named_parameters())
    forward = [p.data for _, p in params]
    trainer.step()
    shown = ShownGraph(1, trainer.last_root, params, forward, split=True)
    snap = shown.snapshot
    weight = snap.labels.index("L0.N0.w0")
    view = shown.check(index=weight)
    assert view.ok and view.index == weight and view.analytic == snap.grads[weight]
    product = snap.labels.index("x0*w0")
    failed = shown.check(index=product)
    assert not failed.ok and "split neuron" in failed.error
    by_name = shown.check(name="L0.N0.w0")
    assert by_name.ok and by_name.index == weight


async def test_the_lectures_samples_show_their_targets_as_plus_and_minus_one():
    from micrograd.train import config_for_dataset
    from tui.widgets.dataset import SamplesTable

    config = replace(config_for_dataset(TrainConfig(dataset="tiny")), steps=100_000)
    app = MicrogradApp(config, paused=True, lecture=True)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(SamplesTable)
        await wait_for(pilot, lambda: table.row_count == 4)
        targets = [str(table.get_cell(str(i), "target")) for i in range(4)]
        assert targets == ["+1", "-1", "-1", "+1"]  # the lecture's ys = [1.0, -1.0, -1.0, 1.0]
    app = MicrogradApp(replace(config, loss="bce"), paused=True)
    async with app.run_test(size=SIZE) as pilot:  # bce trains on labels 0/1: shown as they are
        table = app.query_one(SamplesTable)
        await wait_for(pilot, lambda: table.row_count == 4)
        assert [str(table.get_cell(str(i), "target")) for i in range(4)] == ["1", "0", "0", "1"]
