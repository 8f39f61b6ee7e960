"""The app's mirror of the run, driven without Textual: optimistic run state, serials, the
learning rate as reported, a new run, a dead training process."""

from __future__ import annotations

from micrograd.train import StepReport, TrainConfig
from tui.protocol import DatasetView, Pause, Progress, ResetLr, Resume, ScaleLr, Step
from tui.run_state import RunMirror

CONFIG = TrainConfig(samples=20, hidden=(4,), lr=0.1, seed=7)


class Sent(list):
    def __call__(self, command) -> int:
        self.append(command)
        return len(self)


def report(step: int, lr: float = 0.1, test_loss: float | None = None) -> StepReport:
    return StepReport(step, 0.5, 0.75, lr, 0.01, test_loss)


def test_space_shows_the_new_state_at_once_and_an_older_report_cannot_undo_it():
    sent = Sent()
    mirror = RunMirror(sent, CONFIG)
    mirror.toggle_run()
    assert sent == [Pause()] and mirror.state == "paused"
    mirror.progress(Progress((report(1),), "running", 90.0, 0.1, serial=0))  # sent before
    assert mirror.state == "paused" and mirror.reported_state == "running"
    mirror.progress(Progress((), "paused", 0.0, 0.1, serial=1))
    assert mirror.state == "paused" and mirror.reported_state == "paused"
    mirror.toggle_run()
    assert sent[-1] == Resume() and mirror.state == "running"


def test_one_step_pauses_first_when_running():
    sent = Sent()
    mirror = RunMirror(sent, CONFIG)
    mirror.step_once()
    assert sent == [Pause(), Step()] and mirror.state == "paused"
    mirror.step_once()
    assert sent[2:] == [Step()]


def test_the_learning_rate_is_the_reported_one_the_app_multiplies_nothing():
    sent = Sent()
    mirror = RunMirror(sent, CONFIG)
    mirror.scale_lr(2.0)
    assert sent == [ScaleLr(2.0)] and mirror.lr == 0.1  # asked, not yet applied
    assert mirror.shown().lr_asked == "×2"  # the key is answered at once
    mirror.progress(Progress((), "running", 0.0, 0.1, serial=0))  # sent before the key
    assert mirror.shown().lr_asked == "×2"
    mirror.progress(Progress((), "running", 0.0, 0.2, serial=1))
    assert mirror.lr == 0.2 and mirror.run_config.lr == 0.2 and mirror.shown().lr_asked == ""
    mirror.reset_lr()
    assert sent[-1] == ResetLr() and mirror.shown().lr_asked == "initial"
    mirror.progress(Progress((), "running", 0.0, 0.1, serial=2))
    assert mirror.shown().lr == 0.1 and not mirror.shown().lr_asked


def test_a_new_run_takes_its_settings_and_forgets_the_old_steps():
    mirror = RunMirror(Sent(), CONFIG)
    mirror.progress(Progress((report(1), report(2, test_loss=0.4)), "running", 50.0, 0.1, 0))
    assert mirror.step == 2 and mirror.shown().test_loss == 0.4
    mirror.progress(Progress((report(3),), "running", 50.0, 0.1, 0))
    assert mirror.shown().test_loss == 0.4  # the last evaluation stays shown
    config = {**CONFIG.to_dict(), "noise": 0.3, "lr": 0.05}
    view = DatasetView("circles", [[0.0, 0.0]], [0], [], [], 2, 2, 0.05, ("L0.N0.w0",), "2-4-1",
                       config=config)  # fmt: skip
    mirror.new_run(view)
    shown = mirror.shown()
    assert (shown.step, shown.loss, shown.test_loss, shown.lr) == (0, None, None, 0.05)
    assert shown.what == "circles 2-4-1" and mirror.run_config.noise == 0.3
    assert mirror.save_name() == "microgradtui-circles-step0.json"


def test_a_dead_training_process_and_its_restart():
    first = Sent()
    mirror = RunMirror(first, CONFIG)
    mirror.toggle_run()
    mirror.died()
    assert mirror.stopped and mirror.shown().state == "stopped"
    second = Sent()
    mirror.restarted(second)
    assert not mirror.stopped and mirror.state == "running"
    mirror.progress(Progress((), "running", 0.0, 0.1, serial=0))  # numbered anew: applies
    mirror.toggle_run()
    assert second == [Pause()] and first == [Pause()]


def test_regenerating_the_data_takes_the_next_noise_level_or_seed():
    mirror = RunMirror(Sent(), CONFIG)  # moons, noise 0.1
    config, why = mirror.regenerated("noise")
    assert config.noise == 0.2 and why == "Data regenerated with noise 0.2"
    config, why = mirror.regenerated("seed")
    assert config.seed == 8 and config.noise == 0.1
    top = RunMirror(Sent(), TrainConfig(noise=0.5))
    assert top.regenerated("noise")[0].noise == 0.0  # round to the first
