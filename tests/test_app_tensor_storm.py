"""The app on a tensor run under a seeded key storm with resizes (down to 30x8), and resizes
down to 40x12 and back in every tensor view: the digits page, the zoomed graph with the
detail's heatmaps, a node's and a parameter's arrays, the filters, the engines, the neuron
view. The app must never crash (issue 13's key storm, on issue 15's views)."""

from __future__ import annotations

from apphelp import step, wait_for
from test_crash import back_to_training, counting_quits, storm, storm_keys

from micrograd.train import TrainConfig
from tui.app import MicrogradApp
from tui.screens.neuron import NeuronScreen
from tui.screens.tensor import ArrayScreen, EnginesScreen, FiltersScreen
from tui.widgets.digits import DigitsView
from tui.widgets.graph import GraphTree
from tui.widgets.tensor_detail import TensorNodeDetail
from tui.widgets.tensor_params import TensorParamTable

CONV = TrainConfig(
    engine="tensor", dataset="digits", samples=300, test_fraction=0.2, conv=(4, 4), hidden=(16,),
    optimizer="adam", lr=0.01, batch_size=32, steps=100_000, seed=5,
)  # fmt: skip
# the tensor views' keys, and the ones that move within them
TENSOR_KEYS = ["b", "B", "c", "v", "A", "f", "t", "C", "pagedown", "pageup", "enter", "z", "z",
               "escape", "down", "up", "left", "right", "tab", "shift+tab", "home", "end",
               "space", "n", "left_square_bracket", "right_square_bracket", "m", "h"]  # fmt: skip
STORM_SIZES = ((80, 24), (60, 16), (40, 12), (30, 8), (120, 40))
VIEW_SIZES = ((40, 12), (80, 24), (60, 16), (45, 13), (120, 40))


async def test_a_seeded_key_storm_on_a_conv_run_with_resizes_leaves_it_training(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # s, e, w and p write into the current folder
    app = MicrogradApp(CONV)
    counting_quits(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: step(app) >= 2, timeout=30)
        # first the tensor views' keys alone (the run stays a conv run on digits) ...
        for k, size in enumerate(STORM_SIZES):
            await pilot.resize_terminal(*size)
            await storm(pilot, TENSOR_KEYS, 160, seed=20 + k)
        assert app.tensor.active and app.mirror.run_config.conv == (4, 4)
        # ... then every key of the app (d, o, E: other datasets, settings, engines)
        for k, size in enumerate(STORM_SIZES):
            await pilot.resize_terminal(*size)
            await storm(pilot, storm_keys() + TENSOR_KEYS, 120, seed=40 + k)
        await pilot.resize_terminal(120, 40)
        await back_to_training(pilot, app)


async def resize_through(pilot, app) -> None:
    for size in VIEW_SIZES:
        await pilot.resize_terminal(*size)
        await pilot.pause()
    assert app.is_running


async def open_and_resize(pilot, app, key: str, screen: type) -> None:
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, screen), timeout=20)
    await pilot.pause(0.3)  # its first report in
    await resize_through(pilot, app)
    await pilot.press("escape")
    await wait_for(pilot, lambda: not app.screen.is_modal)


async def test_resizing_every_tensor_view_to_40x12_and_back_never_crashes(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")  # colours: half blocks
    app = MicrogradApp(CONV, paused=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.tensor.active)
        await pilot.press("n", "n")
        tree = app.query_one(GraphTree)
        await wait_for(pilot, lambda: step(app) == 2 and tree.step == 2)
        detail = app.query_one(TensorNodeDetail)
        for shades in (False, True):
            assert app.query_one(DigitsView).shades == shades
            # the digits page, zoomed, on its second page
            app.query_one(DigitsView).focus()
            await pilot.press("z", "pagedown")
            await resize_through(pilot, app)
            await pilot.press("z")
            # the graph zoomed: a node's detail with its heatmaps, then the walk
            tree.focus()
            await pilot.press("down", "z")
            await wait_for(pilot, lambda: "data:" in detail.shown_text())
            await resize_through(pilot, app)
            await pilot.press("b")
            await wait_for(pilot, lambda: "backprop 1/" in detail.shown_text())
            await pilot.press("b", "b")
            await resize_through(pilot, app)
            await pilot.press("B")
            await open_and_resize(pilot, app, "A", ArrayScreen)
            await pilot.press("z")
            # a parameter array, the filters, the engines, a unit of L0
            table = app.query_one(TensorParamTable)
            table.focus()
            await open_and_resize(pilot, app, "enter", ArrayScreen)
            await open_and_resize(pilot, app, "f", FiltersScreen)
            await open_and_resize(pilot, app, "t", EnginesScreen)
            table.focus()
            await pilot.press("down", "down", "down", "down")  # C0.K C0.b C1.K C1.b L0.W
            await open_and_resize(pilot, app, "v", NeuronScreen)
            app.query_one(DigitsView).focus()
            await pilot.press("C")  # the images in shades (then colours again): again
            await pilot.pause()
        assert not app.query_one(DigitsView).shades
        await pilot.press("n")
        await wait_for(pilot, lambda: step(app) == 3)
