"""Issue 7's playground in the app, driven with Pilot: gradient health, editing the data, the
settings form, regenerating, exporting the loss CSV and a screenshot, and replays."""

from __future__ import annotations

import csv

from apphelp import FAST, SIZE, notices, status, step, wait_for
from textual.widgets import Input

from micrograd import checkpoint
from micrograd.train import TrainConfig, Trainer
from tui.app import MicrogradApp
from tui.screens.settings import SettingsScreen, check_form
from tui.widgets.dataset import BoundaryView, DatasetPane
from tui.widgets.health import GradientHealth
from tui.widgets.loss import LossPlot


async def test_gradient_norms_per_layer_and_a_dead_neuron_told_once():
    # seed 1: L1.N0's weights are all negative and its inputs are ReLU outputs (>= 0): dead
    app = MicrogradApp(TrainConfig(samples=40, hidden=(4, 4), lr=0.1, steps=100_000, seed=1))
    async with app.run_test(size=SIZE) as pilot:
        strip = app.query_one(GradientHealth)
        await wait_for(pilot, lambda: step(app) >= 5 and strip.norms and len(strip.norms[0]) >= 2)
        assert strip.display and strip.region.height >= 5 and strip.border_title == "Gradients"
        shown = str(strip.render())
        assert [line.split()[0] for line in shown.splitlines()] == ["L0", "L1", "L2"]
        assert "dead" in shown.splitlines()[1]  # L1.N0, and maybe more as training goes

        def told() -> list[str]:
            return [n for n in notices(app) if "L1.N0" in n and "dead" in n]

        await wait_for(pilot, told)
        assert "ReLU output 0 on all 40 samples" in told()[0]
        await wait_for(pilot, lambda: len(strip.norms[0]) >= 4)  # more reports: not said again
        assert len(told()) == 1


async def test_h_shows_the_strip_in_a_small_terminal():
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        strip = app.query_one(GradientHealth)
        assert not strip.display  # small terminal: hidden until asked for
        await pilot.press("h")
        assert strip.display
        await pilot.press("h")
        assert not strip.display


async def test_cursor_adds_and_removes_points_and_training_uses_them():
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(DatasetPane)
        await wait_for(pilot, lambda: "40 train" in str(pane.border_subtitle))
        view = app.query_one(BoundaryView)
        view.focus()
        await pilot.pause()
        start = view.cursor_cell()
        assert start == (view.size.width // 2, view.size.height // 2)  # the centre at first
        await pilot.press("right", "right", "up")
        assert view.cursor == (start[0] + 2, start[1] - 1)
        cell = view.render_line(view.cursor[1]).text[view.cursor[0]]
        assert cell in "+●▲■○△□"  # the cursor shows (over a point, the point's glyph)
        await pilot.press("2")
        await wait_for(pilot, lambda: "41 train" in str(pane.border_subtitle))
        assert any(n.startswith("Added a class 1 point at") for n in notices(app))
        await pilot.press("n")
        await wait_for(pilot, lambda: step(app) == 1)  # trains on 41 samples
        await pilot.press("x", "x")
        await wait_for(pilot, lambda: "39 train" in str(pane.border_subtitle))
        await pilot.press("3")  # moons has two classes
        await wait_for(pilot, lambda: any("class 2 is not in this data" in n for n in notices(app)))


async def test_settings_form_shows_errors_then_applies_a_new_run():
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "2-4-1" in status(app))
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        form = app.screen
        form.query_one("#set-hidden", Input).value = "3,3"
        form.query_one("#set-batch_size", Input).value = "999"
        form.query_one("#set-lr", Input).value = "fast"
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, SettingsScreen)  # not applied
        errors = {k: str(form.query_one(f"#err-{k}").render()) for k in ("lr", "batch_size")}
        assert "the learning rate must be a finite number > 0, got 'fast'" in errors["lr"]
        form.query_one("#set-lr", Input).value = "0.05"
        await pilot.press("ctrl+s")
        assert "larger than the 40 training samples" in str(
            form.query_one("#err-batch_size").render()
        )
        form.query_one("#set-batch_size", Input).value = "8"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, SettingsScreen))
        await wait_for(pilot, lambda: "2-3-3-1" in status(app))
        await wait_for(
            pilot, lambda: any("Settings applied: the run was reset" in n for n in notices(app))
        )
        assert app.run_config.batch_size == 8 and "lr 0.05" in status(app)
        await pilot.press("o", "escape")  # cancel: nothing changes
        assert not isinstance(app.screen, SettingsScreen)


def test_check_form_uses_the_library_checks():
    base = TrainConfig()
    config, errors = check_form({"noise": "-1", "samples": "0"}, base)
    assert config is None
    assert errors["noise"].startswith("noise must be a finite number >= 0")
    assert errors["samples"].startswith("samples must be a whole number >= 1")
    config, errors = check_form({"dataset": "spiral3", "loss": "hinge"}, base)
    assert config is None and "two classes" in errors["loss"]
    config, errors = check_form({"hidden": "8, 8", "activation": "tanh"}, base)
    assert errors == {} and config.hidden == (8, 8) and config.activation == "tanh"


async def test_regenerate_with_noise_and_seed(tmp_path):
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.run_config.noise == 0.1)
        await pilot.press("N")
        await wait_for(pilot, lambda: app.run_config.noise == 0.2)
        await pilot.press("S")
        await wait_for(pilot, lambda: app.run_config.seed == 8)
        assert any("Data regenerated with seed 8" in n for n in notices(app))


async def test_export_loss_csv_and_screenshot(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n", "n")
        await wait_for(pilot, lambda: step(app) == 3)
        await pilot.press("w", "p")
        await wait_for(pilot, lambda: (tmp_path / "microgradtui-loss-step3.csv").exists())
        rows = list(csv.DictReader((tmp_path / "microgradtui-loss-step3.csv").open()))
        assert [r["step"] for r in rows] == ["1", "2", "3"]
        svg = (tmp_path / "microgradtui-screen-step3.svg").read_text()
        assert svg.startswith("<svg") and "Dataset" in svg


async def test_replay_shows_the_saved_run_read_only(tmp_path):
    trainer = Trainer(FAST)
    for _ in range(5):
        trainer.step()
    path = tmp_path / "run.json"
    checkpoint.save(trainer, path)
    app = MicrogradApp(FAST, replay=str(path))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: step(app) == 5)
        assert len(app.query_one(LossPlot).steps) == 5
        assert "replay of run.json" in status(app) and "paused" in status(app)
        await pilot.press("space")
        await wait_for(pilot, lambda: any("A replay shows a saved run" in n for n in notices(app)))
        await wait_for(pilot, lambda: "paused" in status(app))
        await pilot.pause(0.3)
        assert step(app) == 5
