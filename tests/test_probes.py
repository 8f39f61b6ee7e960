"""The training process's side of the gradient check and the neuron view, in-process."""

from __future__ import annotations

import queue

from micrograd.train import TrainConfig, Trainer
from tui.protocol import AskNeuron, CheckGradient, GradCheckView, NeuronView, Notice, Reset, Step
from tui.training.loop import TrainingLoop
from tui.training.shown_graph import ShownGraph, neuron_view

SMALL = TrainConfig(samples=20, hidden=(4,), lr=0.1, seed=7, steps=1000)


def shown_after_one_step() -> tuple[Trainer, ShownGraph]:
    trainer = Trainer(SMALL)
    params = trainer.model.named_parameters()
    before = [p.data for _, p in params]
    trainer.step()
    return trainer, ShownGraph(1, trainer.last_root, params, before)


def test_the_snapshot_shows_the_parameters_as_the_forward_pass_used_them():
    trainer = Trainer(SMALL)
    params = trainer.model.named_parameters()
    before = [p.data for _, p in params]
    trainer.step()
    snap = ShownGraph(1, trainer.last_root, params, before).snapshot
    moved = 0
    for (name, p), x in zip(params, before):
        i = snap.labels.index(name)
        assert snap.data[i] == x and snap.grads[i] == p.grad
        moved += p.data != x  # the optimizer moved it after the forward pass
    assert moved > len(params) // 2


def test_checks_the_shown_graph_after_training_moved_on():
    trainer, shown = shown_after_one_step()
    snap = shown.snapshot
    for _ in range(3):
        trainer.step()
    live = [(p.data, p.grad) for p in trainer.params]
    hidden = snap.labels.index("L0.N1")
    for result in (shown.check(index=hidden), shown.check(name="L0.N2.w0")):
        assert result.error is None and result.step == 1
        assert result.analytic == snap.grads[result.index]
        assert result.relative_error < 1e-4 and result.ok
    assert [(p.data, p.grad) for p in trainer.params] == live  # put back as they were
    missing = shown.check(name="L9.N9.w9")
    assert missing.error and not missing.ok


def test_runner_answers_gradcheck_and_neuron_commands():
    commands: queue.Queue = queue.Queue()
    reports: queue.Queue = queue.Queue()
    runner = TrainingLoop(SMALL, True, commands, reports, None)
    runner.handle(1, Step())
    runner.handle(2, CheckGradient(1, 0, None))
    runner.handle(3, CheckGradient(7, 0, None))  # not the shown step
    runner.handle(4, AskNeuron(0, 3, 10, 5))
    runner.handle(5, AskNeuron(4, 0, 10, 5))
    got = []
    while not reports.empty():
        got.append(reports.get())
    checks = [r for r in got if isinstance(r, GradCheckView)]
    assert len(checks) == 1 and checks[0].index == 0 and checks[0].relative_error < 1e-4
    (view,) = [r for r in got if isinstance(r, NeuronView)]
    assert view.name == "L0.N3" and len(view.grid) == 5 and len(view.grid[0]) == 10
    assert len(view.points) == 20 and [w[0] for w in view.weights][-1] == "L0.N3.b"
    notices = [r.text for r in got if isinstance(r, Notice)]
    assert any("step 7" in t for t in notices) and any("no neuron L4.N0" in t for t in notices)


def test_neuron_view_per_sample_for_more_than_two_inputs():
    trainer = Trainer(TrainConfig(dataset="tiny", hidden=(3,), seed=1))
    X, y = trainer.data.X_train, trainer.data.y_train
    view = neuron_view(trainer.model, 0, 0, 2, X, y)
    assert view.grid == () and len(view.samples) == len(X)
    assert [s[2] for s in view.samples] == trainer.model.predict_neuron(X, 0, 2)


def _model_views(reports: queue.Queue) -> list:
    from tui.protocol import ModelView

    got = []
    while not reports.empty():
        got.append(reports.get())
    return [r for r in got if isinstance(r, ModelView)]


def test_the_model_view_shows_each_parameters_last_update():
    commands: queue.Queue = queue.Queue()
    reports: queue.Queue = queue.Queue()
    runner = TrainingLoop(SMALL, True, commands, reports, None)
    params = runner.trainer.model.named_parameters()
    runner.handle(1, Step())
    before = [p.data for _, p in params]
    runner.handle(2, Step())
    view = _model_views(reports)[-1]
    assert view.step == 2
    assert [row[0] for row in view.params] == [name for name, _ in params]
    assert [row[1] for row in view.params] == [p.data for _, p in params]
    assert [row[3] for row in view.params] == [p.data - b for (_, p), b in zip(params, before)]
    assert sum(row[3] != 0.0 for row in view.params) > len(params) // 2
    runner.handle(3, Reset())  # new weights: nothing updated yet
    view = _model_views(reports)[-1]
    assert view.step == 0 and all(row[3] == 0.0 for row in view.params)
