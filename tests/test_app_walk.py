"""Issue 12, time to watch, continued: `G` in every step, the graph of the step under way after
each phase of `.`, a sample chosen in the Dataset pane opens its branch in the Graph, and the
backprop walk shown in the tree (running sums), whole or under one node (`i`)."""

from __future__ import annotations

from apphelp import SIZE, status, step, wait_for

from micrograd.train import TrainConfig, Trainer
from tui.app import MicrogradApp
from tui.formatting import fmt_number
from tui.widgets.graph import GraphTree
from tui.widgets.params import ParamTable

LECTURE = TrainConfig(
    dataset="tiny", hidden=(4, 4), activation="tanh", loss="sse", lr=0.05, seed=3, steps=1000
)


def grads(app: MicrogradApp) -> dict[str, str]:
    """The Parameters table's grad column as shown."""
    return {name: cells[1] for name, cells in app.query_one(ParamTable)._shown.items()}


def tree(app: MicrogradApp) -> GraphTree:
    return app.query_one(GraphTree)


async def test_skipping_zero_grad_applies_to_whole_steps_until_reset():
    buggy, fresh = Trainer(LECTURE), Trainer(LECTURE)  # what the training process does
    buggy.step()
    fresh.step()
    for _ in range(2):
        buggy.step(zero_grad=False)
        fresh.step()
    want = {n: fmt_number(p.grad) for n, p in buggy.model.named_parameters()}
    assert want != {n: fmt_number(p.grad) for n, p in fresh.model.named_parameters()}
    app = MicrogradApp(LECTURE, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await wait_for(pilot, lambda: step(app) == 1)
        await pilot.press("G")
        assert "zero_grad off" in status(app)
        await pilot.press("n", "n")
        await wait_for(pilot, lambda: step(app) == 3 and grads(app) == want)
        assert "zero_grad off" in status(app)  # the training process says so too
        await pilot.press("r")
        assert "zero_grad off" not in status(app)  # at once
        await wait_for(pilot, lambda: step(app) == 0)
        await pilot.pause(0.3)
        assert "zero_grad off" not in status(app)  # and after the new run's reports
