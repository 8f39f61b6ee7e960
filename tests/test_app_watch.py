"""Time to watch: the speed keys pace the training loop (and the status line says so); `.`
steps one phase of a step and every pane shows what it left; `G` skips zero_grad."""

from __future__ import annotations

import time

import pytest
from apphelp import FAST, LECTURE, SIZE, status, step, step_then_skip_zero_grad, wait_for

from micrograd.train import TrainConfig, Trainer
from tui.app import MicrogradApp
from tui.formatting import fmt_number
from tui.protocol import SetSpeed
from tui.run_state import SPEEDS, RunMirror
from tui.training.shown_graph import ShownGraph, sample_tags
from tui.widgets.graph import GraphTree
from tui.widgets.params import ParamTable


def test_the_speed_keys_walk_the_paces_and_stop_at_the_ends():
    sent = []
    mirror = RunMirror(lambda c: sent.append(c) or len(sent), TrainConfig())
    assert mirror.speed == 0.0  # full speed
    mirror.change_speed(faster=True)
    assert mirror.speed == 0.0  # already the fastest
    for want in (30.0, 10.0, 5.0, 2.0, 1.0, 1.0):
        mirror.change_speed(faster=False)
        assert mirror.speed == want
    assert sent[-1] == SetSpeed(1.0)
    for _ in SPEEDS:
        mirror.change_speed(faster=True)
    assert mirror.speed == 0.0 and sent[-1] == SetSpeed(0.0)
    assert mirror.shown().speed == 0.0


async def test_two_steps_a_second_then_full_speed_again():
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(4):  # full -> 30 -> 10 -> 5 -> 2
            await pilot.press("less_than_sign")
        assert "(pace 2/s)" in status(app)  # shown at once
        await pilot.press("space")
        start = step(app)
        await wait_for(pilot, lambda: step(app) >= start + 1)  # it trains, slowly
        first, t0 = step(app), time.monotonic()
        await pilot.pause(2.0)
        elapsed = time.monotonic() - t0
        done = step(app) - first
        assert 1 <= done < 2 * elapsed + 8, (done, elapsed)  # full speed would be hundreds
        assert "(pace 2/s)" in status(app) and "running" in status(app)
        for _ in range(4):
            await pilot.press("greater_than_sign")
        assert "pace" not in status(app)
        now = step(app)
        await wait_for(pilot, lambda: step(app) >= now + 200)  # full speed again


def table(app: MicrogradApp) -> dict[str, tuple[str, str, str]]:
    """The Parameters table's cells: name -> (value, grad, update) as shown."""
    return dict(app.query_one(ParamTable)._shown)


def graph(app: MicrogradApp):
    return app.query_one(GraphTree)


async def phase(pilot, app: MicrogradApp, name: str) -> None:
    await pilot.press("full_stop")
    await wait_for(pilot, lambda: f"after {name}" in status(app))


async def test_phase_stepping_shows_each_phase_in_every_pane():
    app = MicrogradApp(LECTURE, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await wait_for(pilot, lambda: step(app) == 1 and graph(app).step == 1)
        old = table(app)
        assert any(float(g) != 0 for _, g, _ in old.values())  # step 1 left gradients
        await phase(pilot, app, "forward")
        assert step(app) == 1 and "paused" in status(app)
        await phase(pilot, app, "loss")
        await wait_for(pilot, lambda: graph(app).step == 2)  # the step under way's graph
        snap = graph(app).snapshot
        assert snap.labels[snap.root] == "loss" and snap.grads[snap.root] == 0.0  # no grads yet
        assert snap.data[snap.root] > 0
        assert [g for _, g, _ in table(app).values()] == [g for _, g, _ in old.values()]
        await phase(pilot, app, "zero_grad")
        await wait_for(pilot, lambda: all(float(g) == 0 for _, g, _ in table(app).values()))
        await phase(pilot, app, "backward")
        await wait_for(pilot, lambda: graph(app).snapshot.grads[graph(app).snapshot.root] == 1.0)
        await wait_for(pilot, lambda: any(float(g) != 0 for _, g, _ in table(app).values()))
        before = table(app)
        assert all(float(u) == 0 for _, _, u in before.values())  # not moved yet
        await phase(pilot, app, "update")
        await wait_for(pilot, lambda: step(app) == 2)
        await wait_for(pilot, lambda: table(app) != before)
        lr = LECTURE.lr
        for name, (value, grad, update) in table(app).items():
            assert float(update) == pytest.approx(-lr * float(grad), rel=0.02, abs=1e-9), name
            assert float(value) == pytest.approx(
                float(before[name][0]) - lr * float(grad), rel=0.02, abs=2e-3
            ), name


async def test_skipping_zero_grad_accumulates_gradients_in_the_table():
    replica = Trainer(LECTURE)  # what the training process does, step for step
    replica.step()
    for _ in range(4):
        replica.step_phase(zero_grad=False)
    app = MicrogradApp(LECTURE, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await step_then_skip_zero_grad(pilot, app)
        for name in ("forward", "loss", "zero_grad", "backward"):
            await phase(pilot, app, name)
        want = {n: fmt_number(p.grad) for (n, p) in replica.model.named_parameters()}
        await wait_for(pilot, lambda: {n: c[1] for n, c in table(app).items()} == want)
        fresh = Trainer(LECTURE)
        fresh.step()
        for _ in range(4):
            fresh.step_phase()
        assert want != {n: fmt_number(p.grad) for (n, p) in fresh.model.named_parameters()}
        await pilot.press("G")
        assert "zero_grad" not in status(app)


def test_each_samples_branch_is_labelled_with_its_sample():
    t = Trainer(LECTURE)
    t.step()
    params = list(t.model.named_parameters())
    shown = ShownGraph(1, t.last_root, params, [p.data for _, p in params],
                       samples=sample_tags(t))  # fmt: skip
    labels = [x for x in shown.snapshot.labels if x.startswith("L2.N0 sample")]
    X, y = t.data.X_train, t.data.y_train
    assert len(labels) == len(X) == 4
    for i, (x, label) in enumerate(zip(X, y, strict=True)):
        tag = f"sample {i}: x=({', '.join(f'{v:.3g}' for v in x)}) y={'+1' if label else '-1'}"
        assert any(lab.endswith(tag) and lab.startswith("L2.N0") for lab in labels), tag
    assert all("sample" not in out.label for _, out in t.last_samples)  # only in the snapshot
    config = TrainConfig(samples=30, hidden=(3,), batch_size=5, seed=2)
    batched, before = Trainer(config), Trainer(config)  # `before`: the weights forward saw
    batched.step()
    picked = [i for i, _ in batched.last_samples]
    assert len(picked) == 5 and len(set(picked)) == 5  # the batch's samples, by their index
    tags = dict((id(v), tag) for v, tag in sample_tags(batched))
    for i, out in batched.last_samples:
        assert out.data == pytest.approx(before.model(before.data.X_train[i]).data, abs=1e-12)
        assert tags[id(out)].startswith(f"sample {i}: x=({batched.data.X_train[i][0]:.3g}, ")


async def test_the_graph_names_each_samples_branch():
    app = MicrogradApp(LECTURE, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await wait_for(pilot, lambda: graph(app).snapshot is not None)
        labels = sorted(x for x in graph(app).snapshot.labels if " sample " in x)
        assert [x.split(":")[0].split()[-1] for x in labels] == ["0", "1", "2", "3"]
        assert labels[0] == "L2.N0 sample 0: x=(2, 3, -1) y=+1"  # the lecture's xs[0], ys[0]
        snap = graph(app).snapshot  # the loss's terms, (yout - ygt)**2, name their sample too
        data_loss = snap.labels.index("data loss") if "data loss" in snap.labels else snap.root
        terms = snap.children[data_loss]
        assert sorted(snap.labels[c] for c in terms) == [x.removeprefix("L2.N0 ") for x in labels]
        assert all(snap.ops[c] == "**2" for c in terms)


@pytest.mark.parametrize("loss", ["hinge", "mse", "bce"])
def test_a_mean_losses_terms_name_their_samples_too(loss):
    for config in (TrainConfig(samples=20, hidden=(3,), seed=1, loss=loss, alpha=1e-3),
                   TrainConfig(dataset="blobs", samples=12, hidden=(3,), seed=1)):  # fmt: skip
        t = Trainer(config)
        t.step()
        params = list(t.model.named_parameters())
        snap = ShownGraph(1, t.last_root, params, [p.data for _, p in params],
                          samples=sample_tags(t)).snapshot  # fmt: skip
        terms = sorted(int(x.split(":")[0].split()[1]) for x in snap.labels
                       if x.startswith("sample "))  # fmt: skip
        assert terms == list(range(len(t.data.X_train))), t.loss_name
