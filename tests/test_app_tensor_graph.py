"""The Graph pane on tensor nodes, driven with Pilot at 120x40 and 80x24: the backprop walk
(`b`), the gradient check of one element (`c`), the heatmaps in the detail, the neuron view of
a Linear layer's unit (`v`) and conv layers in the Gradients strip."""

from __future__ import annotations

import numpy as np
import pytest
from apphelp import notices, step, wait_for

from micrograd.tensor import RULES
from micrograd.train import TrainConfig
from tui.app import MicrogradApp
from tui.screens.neuron import NeuronScreen
from tui.screens.tensor import ArrayScreen
from tui.widgets.graph import GraphTree
from tui.widgets.health import GradientHealth
from tui.widgets.tensor_detail import TensorNodeDetail

CONV = TrainConfig(
    engine="tensor", dataset="digits", samples=200, test_fraction=0.2, conv=(3,), hidden=(8,),
    optimizer="adam", lr=0.01, batch_size=16, steps=100_000, seed=5,
)  # fmt: skip
MOONS = TrainConfig(engine="tensor", samples=40, hidden=(4,), lr=0.1, steps=100_000, seed=7)
SIZES = [(120, 40), (80, 24)]


async def two_steps(app, pilot) -> GraphTree:
    await wait_for(pilot, lambda: app.tensor.active)
    await pilot.press("n", "n")
    tree = app.query_one(GraphTree)
    await wait_for(pilot, lambda: step(app) == 2 and tree.snapshot is not None and tree.step == 2)
    return tree


@pytest.mark.parametrize("size", SIZES)
async def test_the_backprop_walk_on_a_tensor_graph(size):
    app = MicrogradApp(CONV, paused=True)
    async with app.run_test(size=size) as pilot:
        tree = await two_steps(app, pilot)
        detail = app.query_one(TensorNodeDetail)
        await pilot.press("b")
        await wait_for(pilot, lambda: "backprop 1/" in detail.shown_text())
        walk = app.graph.walk
        snap = tree.snapshot.snap
        assert detail.display and "the loss" in detail.shown_text()
        assert walk.total == sum(n.grad_summary is not None for n in snap.nodes)
        linear = None
        for _ in range(walk.total - 1):
            await pilot.press("b")
            index = walk.current.index
            await wait_for(pilot, lambda index=index: tree.cursor_node.data[1] == index)
            if snap.node(index).op == "linear" and linear is None:
                linear = detail.shown_text()
        # a linear node mid-way: its G, its rule in matrix form, what each operand receives
        assert RULES["linear"].text in linear and "sends to each operand" in linear
        assert "+= dL/dW:" in linear and "→" in linear
        # every running sum ended as the node's gradient (the snapshot's summary)
        for child, after in walk.running.items():
            assert after[3] == pytest.approx(snap.node(child).grad_summary[3])
        assert f"backprop {walk.total}/{walk.total}" in app.graph.border_subtitle
        await pilot.press("b")
        await wait_for(pilot, lambda: any("Backward pass done" in n for n in notices(app)))
        text = detail.shown_text()  # the node's own detail again
        assert app.graph.walk is None and "backprop" not in text and "data:" in text


@pytest.mark.parametrize("size", SIZES)
async def test_the_check_of_one_element_and_the_heatmaps_in_the_detail(size, monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")  # colours: half blocks (else shading)
    app = MicrogradApp(CONV, paused=True)
    async with app.run_test(size=size) as pilot:
        tree = await two_steps(app, pilot)
        tree.focus()
        snap = tree.snapshot.snap
        target = next(n.index for n in snap.nodes if n.op == "linear" and n.label == "L0")
        tree.reveal(target)
        detail = app.query_one(TensorNodeDetail)
        await wait_for(pilot, lambda: "L0 = linear" in detail.shown_text())
        text = detail.shown_text()
        assert "heatmap (" in text and "data |max|" in text and "grad |max|" in text
        assert "▀" in text  # half blocks: colour and UTF-8 here
        maps = [line for line in text.splitlines() if "▀" in line]
        assert maps and all(len(line) <= detail.content_size.width for line in maps)  # fit
        await pilot.press("c")
        await wait_for(pilot, lambda: (2, target) in app.graph.checks)
        check = app.graph.checks[(2, target)]
        node = snap.node(target)
        assert check.error is None and check.ok and len(check.element) == 2
        largest = max(-node.grad_summary[0], node.grad_summary[1])
        assert abs(check.analytic) == pytest.approx(largest)
        assert check.analytic == pytest.approx(check.numeric, rel=1e-5)
        await wait_for(pilot, lambda: "gradient check (step 2)" in detail.shown_text())
        assert "(the largest |grad|) of 16x8" in detail.shown_text()
        assert any("Gradient check of L0[" in n for n in notices(app))


@pytest.mark.parametrize("size", SIZES)
async def test_the_neuron_view_of_a_linear_unit(size):
    app = MicrogradApp(MOONS, paused=True)
    async with app.run_test(size=size) as pilot:
        tree = await two_steps(app, pilot)
        tree.focus()
        snap = tree.snapshot
        l0 = snap.labels.index("L0")
        tree.reveal(l0)
        await wait_for(pilot, lambda: tree.cursor_node.data[1] == l0)
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, NeuronScreen))
        screen = app.screen
        await wait_for(pilot, lambda: screen.last_view is not None)
        view = screen.last_view
        assert view.name == "L0.N0" and view.units == 4 and view.grid  # two inputs: the plane
        names = [w[0] for w in view.weights]
        assert names == ["L0.W[0, 0]", "L0.W[1, 0]", "L0.b[0]"]
        head = str(screen.query_one("#neuron-head").render())
        assert "sample 0 of step 2's batch" in head and "dL/dpre" in head
        await pilot.press("right")
        await wait_for(pilot, lambda: screen.last_view.name == "L0.N1")
        assert [w[0] for w in screen.last_view.weights][-1] == "L0.b[1]"
        for _ in range(5):
            await pilot.press("right")
        assert screen.neuron_index == 3  # kept within the layer's 4 units
        await pilot.press("escape")


async def test_a_neuron_of_a_conv_models_dense_layer_from_the_parameter_row():
    app = MicrogradApp(CONV, paused=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await two_steps(app, pilot)
        table = app.query_one("#tparams")
        table.focus()
        await pilot.press("down", "down", "down", "down")  # L1.W
        assert table.selected_name() == "L1.W"
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, NeuronScreen))
        screen = app.screen
        await wait_for(pilot, lambda: screen.last_view is not None)
        assert screen.last_view.name == "L1.N0" and len(screen.last_view.weights) == 9
        assert screen.last_view.samples  # 64 inputs: the output on each sample


@pytest.mark.parametrize("size", SIZES)
async def test_conv_layers_in_the_gradients_strip(size):
    app = MicrogradApp(CONV, paused=True)
    async with app.run_test(size=size) as pilot:
        await two_steps(app, pilot)
        strip = app.query_one(GradientHealth)
        if not strip.display:
            await pilot.press("h")  # hidden in a small terminal until h
        await wait_for(pilot, lambda: strip.names == ("C0", "L0", "L1") and strip.last_step == 2)
        lines = strip.render().plain.splitlines()
        assert [line.split()[0] for line in lines] == ["C0", "L0", "L1"]
        assert np.isfinite(strip.norms[0][-1]) and strip.norms[0][-1] > 0


@pytest.mark.parametrize("size", SIZES)
async def test_c_in_an_array_screen_checks_the_element_under_the_cursor(size):
    app = MicrogradApp(CONV, paused=True)
    async with app.run_test(size=size) as pilot:
        tree = await two_steps(app, pilot)
        tree.focus()
        target = tree.snapshot.labels.index("L0")
        tree.reveal(target)
        await wait_for(pilot, lambda: app.graph.cursor_index() == target)
        await pilot.press("A")  # the node's arrays: data and grad, 16x8
        await wait_for(pilot, lambda: isinstance(app.screen, ArrayScreen))
        screen = app.screen
        await wait_for(pilot, lambda: screen.last is not None)
        await pilot.press("down", "right", "right", "c")
        check_line = screen.query_one("#array-check")
        await wait_for(pilot, lambda: "gradient check (step 2)" in str(check_line.render()))
        assert "agree" in str(check_line.render())
        c = app.graph.checks[(2, target)]
        assert c.element == (1, 2) and "the cursor's" in c.note and c.ok
        await pilot.press("escape")
        # a parameter's array (enter on its row): the element of the parameter in the graph
        table = app.query_one("#tparams")
        table.focus()
        await pilot.press("down", "down", "enter")  # L0.W
        await wait_for(pilot, lambda: isinstance(app.screen, ArrayScreen))
        screen = app.screen
        await wait_for(pilot, lambda: screen.last is not None)
        await pilot.press("right", "c")
        check_line = screen.query_one("#array-check")
        await wait_for(pilot, lambda: "agree" in str(check_line.render()))
        assert screen.checking == (0, 1)
