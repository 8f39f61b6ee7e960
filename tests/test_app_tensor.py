"""The app on the tensor engine, driven with Pilot: a real training process, small runs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from apphelp import SIZE, notices, status, step, wait_for

from micrograd.tensor import RULES
from micrograd.train import TrainConfig
from tui.app import MicrogradApp
from tui.formatting import fmt_number
from tui.screens.tensor import ArrayScreen, EnginesScreen, FiltersScreen
from tui.widgets.digits import ConfusionMatrix, DigitsView, label_text
from tui.widgets.engines import EnginesView, comparison_renderable
from tui.widgets.graph import GraphTree
from tui.widgets.heatmap import ArrayPairView, Heatmap
from tui.widgets.tensor_detail import TensorNodeDetail
from tui.widgets.tensor_params import TensorParamTable

CONV = TrainConfig(
    engine="tensor", dataset="digits", samples=300, test_fraction=0.2, conv=(4,), hidden=(16,),
    optimizer="adam", lr=0.01, batch_size=32, steps=100_000, seed=5,
)  # fmt: skip
MOONS = TrainConfig(engine="tensor", samples=40, hidden=(4,), lr=0.1, steps=100_000, seed=7)


def shown(app, selector: str) -> str:
    """The text of the widget `selector` on the screen on top."""
    return str(app.screen.query_one(selector).render())


def engines(app) -> str:
    """The engines comparison as the console would write it."""
    from rich.console import Console

    cmp = app.screen.query_one(EnginesView).comparison
    if cmp is None:
        return ""
    console = Console(width=100)
    with console.capture() as capture:
        console.print(comparison_renderable(cmp))
    return capture.get()


async def test_a_conv_run_on_digits_fills_the_panes(tmp_path, monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    app = MicrogradApp(CONV, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.tensor.active)
        await pilot.press("n", "n")
        table = app.query_one(TensorParamTable)
        await wait_for(pilot, lambda: step(app) == 2 and table.row_count == 6)
        assert "digits tensor conv 4 on 1x8x8, 64-16-10" in status(app)
        assert not app.query_one("#params").display and table.display
        assert [str(table.get_cell_at((i, 0))) for i in range(6)][:3] == ["C0.K", "C0.b", "L0.W"]
        assert str(table.get_cell_at((0, 1))) == "4x1x3x3"
        view = app.query_one(DigitsView)
        await wait_for(pilot, lambda: view.page is not None and view.page.step == 2)
        page = view.page
        text = "\n".join(view.lines_text())
        assert not app.tensor.shades and "▀" in text  # colour and UTF-8: half blocks
        for p, t in zip(page.predicted, page.true):
            if p != t:
                assert label_text(p, t) in text  # each wrong one marked as such
        matrix = app.query_one(ConfusionMatrix)
        assert sum(map(sum, matrix.counts)) == 60 and matrix.display
        assert "acc train" in app.query_one("#loss").border_title
        # the graph: one node per array op, with its shape and the rule in matrix form
        tree = app.query_one(GraphTree)
        await wait_for(pilot, lambda: tree.snapshot is not None and tree.step == 2)
        assert "conv2d" in tree.snapshot.ops and len(tree.snapshot) < 40
        assert str(tree.root.label).startswith("loss = add scalar")
        tree.focus()
        await pilot.press("down")
        detail = app.query_one(TensorNodeDetail)
        assert detail.display and not app.query_one("#detail-pane").display
        await wait_for(pilot, lambda: "backward:" in detail.shown_text())
        node = tree.snapshot.node(tree.cursor_node.data[1])
        assert RULES[node.op].text in detail.shown_text()
        before = detail.shown_text()
        # a node of the graph before (a key storm: E, then the tree announced its old cursor)
        app.graph.show_detail(tree.snapshot, len(tree.snapshot) + 500)
        assert detail.shown_text() == before
        # enter on a parameter row: its arrays as heatmaps
        table.focus()
        await pilot.press("down", "down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ArrayScreen))
        pair = app.screen.query_one(ArrayPairView)
        left = pair.query_one("#pair-values", Heatmap)
        await wait_for(pilot, lambda: left.values.shape == (64, 16))
        await pilot.press("right")
        assert pair.cursor_text().startswith("L0.W[0, 1] = ")
        await pilot.press("escape")
        # the filter view
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, FiltersScreen))
        await wait_for(pilot, lambda: "C0: 4 filters of 1x3x3" in shown(app, "#filters-text"))
        await pilot.press("escape")
        # the backprop walk works on the tensor graph (tests/test_app_tensor_graph.py); the
        # lecture's view of a neuron is the scalar engine's
        await pilot.press("b")
        await wait_for(pilot, lambda: "backprop 1/" in detail.shown_text())
        await pilot.press("B")
        await pilot.press("u")
        await wait_for(
            pilot, lambda: any("* and + view of a neuron works" in n for n in notices(app))
        )
        assert not app.split_dots
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, EnginesScreen))
        await wait_for(pilot, lambda: "no conv layers" in engines(app), timeout=20)


async def test_moons_on_tensors_compares_the_engines_at_80x24():
    app = MicrogradApp(MOONS, paused=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.tensor.active)
        await pilot.press("n")
        await wait_for(pilot, lambda: step(app) == 1)
        assert "tensor" in status(app)
        assert not app.query_one("#dataset").has_class("-images")
        assert app.query_one("#boundary").display
        await pilot.press("t")
        await wait_for(pilot, lambda: "Both losses agree" in engines(app), timeout=20)
        text = engines(app)
        assert "nodes a step" in text and "scalar engine" in text
        await pilot.press("escape")
        await pilot.press("f")
        await wait_for(pilot, lambda: any("for a conv model" in n for n in notices(app)))
        assert not isinstance(app.screen, FiltersScreen)
        np.testing.assert_equal(app.query_one(TensorParamTable).row_count, 4)


@pytest.mark.parametrize(
    "env",
    [{"NO_COLOR": "1"}, {"LC_ALL": "C"}, {"TERM": "xterm"}],
    ids=["no-colour", "LANG=C", "16-colours"],
)
async def test_without_colour_or_utf8_the_images_are_drawn_as_shading(monkeypatch, env):
    monkeypatch.setenv("TERM", "xterm-256color")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = MicrogradApp(CONV, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.tensor.active)
        await pilot.press("n")
        view = app.query_one(DigitsView)
        await wait_for(pilot, lambda: view.page is not None)
        assert view.shades and app.tensor.shades
        text = "".join(view.lines_text())
        assert "▀" not in text and "@" in text  # a digit's brightest pixels


async def test_E_switches_the_engine_with_the_same_seed():
    app = MicrogradApp(replace(MOONS, engine="scalar"), paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "moons 2-4-1" in status(app))
        await pilot.press("E")
        await wait_for(pilot, lambda: app.tensor.active and "moons tensor 2-4-1" in status(app))
        assert app.mirror.run_config.seed == MOONS.seed and app.mirror.run_config.engine == "tensor"
        await pilot.press("n")
        await wait_for(pilot, lambda: step(app) == 1)
        tensor_loss = app.last_report.loss
        await pilot.press("E")
        await wait_for(pilot, lambda: not app.tensor.active and "moons 2-4-1" in status(app))
        await pilot.press("n")
        await wait_for(pilot, lambda: step(app) == 1)
        assert abs(app.last_report.loss - tensor_loss) < 1e-9  # the same first step
        assert app.query_one("#params").display and not app.query_one("#tparams").display


async def test_E_keeps_a_conv_run_on_tensors():
    app = MicrogradApp(CONV, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.tensor.active)
        await pilot.press("E")
        await wait_for(pilot, lambda: any("no conv layers" in n for n in notices(app)))
        assert app.mirror.run_config.engine == "tensor"


async def test_A_opens_the_selected_nodes_arrays(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    app = MicrogradApp(MOONS, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.tensor.active)
        await pilot.press("n")
        tree = app.query_one(GraphTree)
        await wait_for(pilot, lambda: tree.snapshot is not None and tree.step == 1)
        tree.focus()
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(app.screen, ArrayScreen))
        pair = app.screen.query_one(ArrayPairView)
        await wait_for(pilot, lambda: pair.name_shown.startswith("node "))
        title = str(app.screen.query_one("#array-box").border_title)  # not "weights | grads"
        assert title == f"{pair.name_shown}: data | grads (escape closes)"
        root = tree.snapshot.node(tree.snapshot.root)
        assert pair.name_shown == f"node {root.index}: + loss"
        assert (
            pair.cursor_text()
            == f"{pair.name_shown}[] = {fmt_number(root.data_summary[0])}   grad 1"
        )


@pytest.mark.parametrize("config", [CONV, MOONS], ids=["conv", "moons"])
async def test_the_engines_screen_says_measured_once_the_figures_are_in(config):
    """Before: the message bar kept "Measuring the first steps on both engines …" after the
    figures came, and a conv run read "scalar engine: the scalar engine has no conv layers"."""
    from tui.widgets.messages import MessageBar

    app = MicrogradApp(config, paused=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.tensor.active)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, EnginesScreen))
        await wait_for(pilot, lambda: engines(app), timeout=20)
        await pilot.pause()
        bar = app.screen.query_one(MessageBar).text
        assert bar.startswith("· Measured: ") and "Measuring" not in bar, bar
        text = " ".join(engines(app).split())
        if config.conv:
            assert "scalar engine: no conv layers, so it cannot run this model" in text
            assert "tensor engine only" in bar
        else:
            assert "x fewer nodes" in bar and "faster on tensors" in bar
