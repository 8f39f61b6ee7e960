"""The training process's side of data edits, new settings, CSV export and replays, run
in-process (the `TrainingLoop` with plain queues: no child process)."""

from __future__ import annotations

import csv
import queue

from micrograd import checkpoint
from micrograd.health import HealthReport
from micrograd.train import TrainConfig, Trainer
from tui.protocol import (
    AddPoint,
    Configure,
    DataEdited,
    DatasetView,
    ExportHistory,
    ModelView,
    NextDataset,
    Notice,
    RemovePoint,
    Reset,
    Resume,
    ScaleLr,
    Step,
)
from tui.training.edits import history_csv
from tui.training.loop import TrainingLoop

FAST = TrainConfig(samples=20, hidden=(4,), lr=0.1, seed=7)


def _runner(**kw) -> tuple[TrainingLoop, queue.Queue]:
    reports: queue.Queue = queue.Queue()
    runner = TrainingLoop(
        kw.pop("config", FAST), True, queue.Queue(), reports, kw.pop("load", None), **kw
    )
    return runner, reports


def _drain(q: queue.Queue) -> list:
    out = []
    while not q.empty():
        out.append(q.get_nowait())
    return out


def _notices(reports: list) -> list[str]:
    return [r.text for r in reports if isinstance(r, Notice)]


def test_add_and_remove_points_reach_the_trainer_and_the_app():
    runner, reports = _runner()
    _drain(reports)
    runner.handle(1, AddPoint((0.25, -0.5), 1))
    got = _drain(reports)
    (edited,) = [r for r in got if isinstance(r, DataEdited)]
    assert edited.X_train[-1] == [0.25, -0.5] and len(edited.X_train) == 21
    assert runner.trainer.data.X_train[-1] == [0.25, -0.5]
    assert any(t.startswith("Added a class 1 point at (0.25, -0.50)") for t in _notices(got))
    runner.handle(2, RemovePoint((0.25, -0.5)))
    assert len(runner.trainer.data.X_train) == 20
    runner.handle(3, AddPoint((0.0, 0.0), 5))  # moons has classes 0 and 1
    got = _drain(reports)
    assert not any(isinstance(r, DataEdited) for r in got[-2:])
    assert "Data unchanged: class 5 is not in this data: use 0 to 1" in _notices(got)


def test_configure_starts_a_new_run_or_says_why_not():
    runner, reports = _runner()
    _drain(reports)
    values = {**FAST.to_dict(), "noise": 0.3, "hidden": [3, 2]}
    runner.handle(1, Configure(values, "Settings applied"))
    got = _drain(reports)
    view = next(r for r in got if isinstance(r, DatasetView))
    assert view.architecture == "2-3-2-1" and view.config["noise"] == 0.3
    assert any("Settings applied: the run was reset" in t for t in _notices(got))
    runner.handle(2, Configure({**values, "batch_size": 500}))
    got = _drain(reports)
    assert not any(isinstance(r, DatasetView) for r in got)
    assert any("not applied" in t and "batch size 500" in t for t in _notices(got))
    assert runner.config.noise == 0.3


def test_model_reports_carry_gradient_health():
    runner, reports = _runner()
    runner.handle(1, Step())
    (model,) = [r for r in _drain(reports) if isinstance(r, ModelView)]
    assert isinstance(model.health, HealthReport) and model.health.step == 1
    assert len(model.health.layer_norms) == 2


def test_export_history_writes_a_csv(tmp_path):
    runner, reports = _runner()
    runner.handle(1, Step())
    runner.handle(2, Step())
    path = tmp_path / "loss.csv"
    runner.handle(3, ExportHistory(str(path)))
    rows = list(csv.DictReader(path.open()))
    assert [r["step"] for r in rows] == ["1", "2"]
    assert float(rows[1]["loss"]) == runner.trainer.history[1].loss
    assert "Wrote the loss history (2 steps)" in _notices(_drain(reports))[-1]
    runner.handle(4, ExportHistory(str(tmp_path / "missing" / "x.csv")))
    assert "Could not export" in _notices(_drain(reports))[-1]


def test_history_csv_leaves_missing_test_values_empty():
    trainer = Trainer(TrainConfig(samples=20, hidden=(2,), test_fraction=0.25, eval_every=2))
    trainer.step()
    trainer.step()
    lines = history_csv(trainer).splitlines()
    assert lines[0] == "step,loss,accuracy,lr,test_loss,test_accuracy,seconds"
    assert lines[1].split(",")[4] == "" and lines[2].split(",")[4] != ""


def test_a_replay_refuses_to_train(tmp_path):
    trainer = Trainer(FAST)
    trainer.step()
    path = tmp_path / "run.json"
    checkpoint.save(trainer, path)
    runner, reports = _runner(load=str(path), replay=True)
    _drain(reports)
    for command in (Step(), Resume(), Reset(), NextDataset()):
        runner.handle(1, command)
    runner.handle(2, ScaleLr(2.0))
    runner.handle(3, AddPoint((0.0, 0.0), 0))
    assert runner.step_count == 1 and runner.state == "paused"
    assert runner.trainer.base_lr == 0.1 and len(runner.trainer.data.X_train) == 20
    assert all("A replay shows a saved run" in t for t in _notices(_drain(reports)))
