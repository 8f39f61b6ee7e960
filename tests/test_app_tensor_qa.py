"""What trying the tensor views as a learner found (issue 15): hints that name the keys that
work, titles that say what is shown. Pilot, a real training process."""

from __future__ import annotations

import re

from apphelp import notices, status, step, wait_for

from micrograd.train import TrainConfig
from tui.app import MicrogradApp
from tui.screens.tensor import ArrayScreen
from tui.widgets.heatmap import ArrayPairView, Heatmap
from tui.widgets.tensor_params import TensorParamTable

MOONS = TrainConfig(engine="tensor", samples=40, hidden=(4,), lr=0.1, steps=100_000, seed=7)


async def one_step(pilot, app) -> None:
    await wait_for(pilot, lambda: app.tensor.active)
    await pilot.press("n")
    await wait_for(pilot, lambda: step(app) == 1)


async def shown_pair(pilot, app) -> ArrayPairView:
    await wait_for(pilot, lambda: isinstance(app.screen, ArrayScreen))
    pair = app.screen.query_one(ArrayPairView)
    await wait_for(pilot, lambda: pair.name_shown != "")
    return pair


async def test_the_array_screens_shades_hint_names_the_key_that_switches_them():
    """Before: the hint read `m: shades`; m opens the message log, C switches the shades."""
    app = MicrogradApp(MOONS, paused=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await one_step(pilot, app)
        table = app.query_one(TensorParamTable)
        await wait_for(pilot, lambda: table.row_count == 4)
        table.focus()
        await pilot.press("enter")
        pair = await shown_pair(pilot, app)
        head = str(pair.query_one("#pair-head").render())
        key = re.search(r"(\S+): shades", head)[1]
        screen = app.screen
        before = [h.shades for h in pair.query(Heatmap)]
        await pilot.press(key)
        await pilot.pause()
        assert app.screen is screen  # nothing opened over it
        assert [h.shades for h in pair.query(Heatmap)] == [not s for s in before]


async def test_G_on_the_tensor_engine_says_phase_stepping_is_the_scalar_engines():
    """Before: G put "zero_grad off" in red in the status line of a tensor run, where nothing
    skips zero_grad (only `.`, phase stepping, does, and it is the scalar engine's)."""
    app = MicrogradApp(MOONS, paused=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.tensor.active)
        await pilot.press("G")
        await wait_for(pilot, lambda: any("scalar engine" in n for n in notices(app)))
        assert app.mirror.zero_grad and "zero_grad off" not in status(app)
        assert "E switches" in notices(app)[-1]


async def test_a_digits_run_leaves_the_hidden_samples_table_empty():
    """Before: the Dataset pane filled its samples table (67 columns x 1,000 rows) under the
    digits page, where no one sees it; the hidden table built a Text per cell as it went and the
    UI's memory grew by about 7 MiB over the first 10,000 steps. The scalar engine's digits
    run, which shows the table, still fills it."""
    from tui.widgets.dataset import DatasetPane, SamplesTable

    digits = TrainConfig(
        engine="tensor", dataset="digits", samples=300, hidden=(8,), steps=100_000, seed=3
    )
    app = MicrogradApp(digits, paused=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.tensor.images and "digits" in status(app))
        pane = app.query_one(DatasetPane)
        await wait_for(pilot, lambda: "train" in str(pane.border_subtitle))
        assert app.query_one(SamplesTable).row_count == 0
        assert re.search(r"digits: \d+ train", str(pane.border_subtitle))
    scalar = TrainConfig(dataset="digits", samples=40, hidden=(4,), steps=100_000, seed=3)
    app = MicrogradApp(scalar, paused=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.query_one(SamplesTable).row_count > 0)
