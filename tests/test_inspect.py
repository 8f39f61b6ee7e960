"""Looking inside a step, as a user would (Pilot): the backprop walk (b), the gradient check (c)
and the neuron view (v). Real training process, small fast model, bounded waits."""

from __future__ import annotations

from apphelp import FAST, SIZE, wait_for

from micrograd.engine import Value, topological_order
from micrograd.graph import snapshot
from micrograd.train import TrainConfig, Trainer
from tui.app import MicrogradApp
from tui.backprop import BackpropWalk
from tui.screens.help import help_text
from tui.screens.neuron import NeuronScreen
from tui.widgets.graph import GraphTree
from tui.widgets.params import ParamTable


def detail(app: MicrogradApp) -> str:
    return str(app.query_one("#detail").render())


async def one_step(app: MicrogradApp, pilot) -> GraphTree:
    await pilot.press("n")
    tree = app.query_one(GraphTree)
    await wait_for(pilot, lambda: app.graph_step == 1 and tree.root.children)
    return tree


def test_walk_running_sums_match_the_grads():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    out = (a * b + a).tanh()
    out.backward()
    walk = BackpropWalk(snapshot(out), 1)
    ia = walk.snapshot.labels.index("a")
    steps = []
    while (step := walk.advance()) is not None:
        steps.append(step)
        if step.number == 2:  # a has had one of its two contributions
            text = walk.describe(ia).plain
            assert "running sum so far" in text and "1 of 2 contributions" in text
    assert len(steps) == len(walk.snapshot) and walk.current is None
    assert walk.partial[ia] == a.grad and walk.partial[walk.snapshot.labels.index("b")] == b.grad


async def test_b_walks_the_backward_pass_node_by_node():
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        tree = await one_step(app, pilot)
        snap = tree.snapshot
        await pilot.press("b", "b", "b")
        walk = app.graph.walk
        assert walk is not None and walk.current.number == 3
        current = walk.current.index
        assert current == len(snap) - 3  # reverse topological order
        await wait_for(pilot, lambda: "backprop 3/" in detail(app))
        assert tree.cursor_node.data == ("node", current)  # the tree shows where it is
        assert "grad (complete" in detail(app) and "sends local × grad" in detail(app)
        assert "backprop 3/" in app.query_one("#graph").border_subtitle
        # deep nodes far down wide, paged nodes are opened too
        leaf = snap.labels.index("L0.N3.w1")
        node = tree.reveal(leaf)
        assert node is not None and tree.cursor_node is node and node.data == ("node", leaf)
        await pilot.press("B")
        assert app.graph.walk is None
        await pilot.press("b")
        assert app.graph.walk.current.number == 1 and "the loss" in app.graph.walk.describe(
            len(snap) - 1
        )
        await pilot.press("escape")
        assert app.graph.walk is None


async def test_c_checks_a_graph_node_and_a_parameter():
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        tree = await one_step(app, pilot)
        tree.focus()
        await pilot.press("down", "down")  # a node under the loss
        index = tree.cursor_node.data[1]
        await pilot.press("c")
        await wait_for(pilot, lambda: (1, index) in app.graph.checks)
        check = app.graph.checks[(1, index)]
        assert check.error is None and check.relative_error < 1e-4
        # the same run in this process: step 1's graph holds the same gradient at that node
        trainer = Trainer(FAST)
        trainer.step()
        assert check.analytic == topological_order(trainer.last_root)[index].grad
        await wait_for(pilot, lambda: "gradient check (step 1)" in detail(app))
        table = app.query_one(ParamTable)
        table.focus()
        await pilot.press("down")  # L0.N0.w1
        await pilot.press("c")
        await wait_for(pilot, lambda: len(app.graph.checks) == 2)
        (param,) = [c for key, c in app.graph.checks.items() if key != (1, index)]
        assert param.name == "L0.N0.w1" and param.relative_error < 1e-4 and param.ok
        assert any("relative error" in n.message for n in app.messages)


async def test_v_opens_the_neuron_view_and_escape_closes_it():
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await one_step(app, pilot)
        table = app.query_one(ParamTable)
        table.focus()
        await pilot.press("down", "down", "down", "down")  # L0.N1.w1
        await pilot.press("v")
        assert isinstance(app.screen, NeuronScreen)
        screen = app.screen
        await wait_for(pilot, lambda: screen.last_view is not None)
        view = screen.last_view
        assert view.name == "L0.N1" and view.step == 1 and len(view.grid) > 4
        assert [w[0] for w in view.weights] == ["L0.N1.w0", "L0.N1.w1", "L0.N1.b"]
        head = str(screen.query_one("#neuron-head").render())
        assert "hidden neuron 1 of layer 0" in head and "relu" in head
        assert "●" in str(screen.query_one("#neuron-map").render())
        await pilot.press("escape")
        assert not isinstance(app.screen, NeuronScreen)
        # from the graph: the node labelled L1.N0 (the output neuron; its sample follows)
        tree = app.query_one(GraphTree)
        labels = tree.snapshot.labels
        tree.reveal(next(i for i, x in enumerate(labels) if x.startswith("L1.N0 sample ")))
        tree.focus()
        await pilot.press("v")
        await wait_for(pilot, lambda: getattr(app.screen, "last_view", None) is not None)
        assert app.screen.last_view.name == "L1.N0"
        await pilot.press("escape")


async def test_neuron_view_per_sample_for_more_than_two_inputs():
    app = MicrogradApp(TrainConfig(dataset="tiny", hidden=(3,), seed=1), paused=True)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(ParamTable)
        await wait_for(pilot, lambda: table.row_count > 0)
        table.focus()
        await pilot.press("v")
        await wait_for(pilot, lambda: getattr(app.screen, "last_view", None) is not None)
        view = app.screen.last_view
        assert view.grid == () and view.samples
        assert "each training sample" in str(app.screen.query_one("#neuron-head").render())


def test_help_lists_the_new_keys():
    from rich.console import Console

    console = Console(width=120, record=True)
    console.print(help_text())
    text = console.export_text()
    for words in ("backprop walk", "gradient check", "neuron view"):
        assert words in text
