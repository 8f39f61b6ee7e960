"""The app's mirror of the run in the training process: plain Python, no Textual, so that unit
tests drive it without an app.

What the keys ask is sent at once (`send`, which numbers each command) and the run state is
updated optimistically (space shows "paused" before the training process has paused); every
`Progress` says the serial of the last command applied, so a report sent before the key press
cannot undo the key's state. The learning rate is the one the training process last reported:
the `Trainer` owns it, and the app only asks for changes; until the answer comes, the status
line shows what was asked (`lr 0.5 (×2 asked)`), so the key is answered at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from micrograd.train import StepReport, TrainConfig
from tui.protocol import (
    Command,
    DatasetView,
    Pause,
    Progress,
    Reset,
    ResetLr,
    Resume,
    ScaleLr,
    SetSpeed,
    SetZeroGrad,
    Step,
    StepPhase,
)

NOISE_LEVELS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)
SPEEDS = (1.0, 2.0, 5.0, 10.0, 30.0, 0.0)  # steps per second while running, slow to fast; 0: full


def next_noise(noise: float) -> float:
    """The next of NOISE_LEVELS above `noise`, round to the first after the last."""
    return next((n for n in NOISE_LEVELS if n > noise + 1e-12), NOISE_LEVELS[0])


@dataclass(frozen=True)
class RunShown:
    """What the status line shows: one value, so it repaints only when something changed."""

    step: int = 0
    loss: float | None = None
    accuracy: float | None = None
    test_loss: float | None = None
    lr: float | None = None
    lr_asked: str = ""  # a change asked for and not applied yet: "×2", "initial"
    rate: float = 0.0
    speed: float = 0.0  # the pace asked for (steps per second); 0: full speed
    phase: str = ""  # the phase of a step just done by `.` ("" after a whole step)
    phase_loss: float | None = None  # the loss of the step under way, after its loss phase
    zero_grad: bool = True  # False: the steps skip zero_grad (the lecture's accumulation bug)
    state: str = "starting"
    what: str = ""


class RunMirror:
    """The run as the app knows it: state, lr, the last step, the settings, the serials."""

    def __init__(
        self, send: Callable[[Command], int], config: TrainConfig, paused: bool = False
    ) -> None:
        self.send = send  # queues a command; returns its serial
        self.config = config  # the run's settings as the training process last said
        self.state = "paused" if paused else "running"  # as the keys left it
        self.reported_state = "starting"  # as the training process last said
        self.lr: float | None = config.lr  # as the training process last said (its rate)
        self.last_report: StepReport | None = None
        self.test_loss: float | None = None
        self.rate = 0.0
        self.dataset_name = config.dataset
        self.what = ""  # the data and the model, e.g. "moons 2-16-16-1"
        self.stopped = False  # the training process died: `r` restarts it
        self.lr_asked = ""  # the lr change asked for, until the training process applies it
        self.speed = 0.0  # the pace asked for, one of SPEEDS; 0: full speed
        self.phase = ""  # as the training process last said
        self.phase_loss: float | None = None  # the step under way's loss, once computed
        self.zero_grad = True  # each step zeroes the gradients before backward (G: not)
        self._state_serial = 0  # of the last run/pause command sent
        self._lr_serial = 0  # of the last lr command sent
        self._zero_grad_serial = 0  # of the last SetZeroGrad sent

    # -- keys ---------------------------------------------------------------------------------
    def toggle_run(self) -> None:
        self.state = "paused" if self.state == "running" else "running"
        self._state_serial = self.send(Pause() if self.state == "paused" else Resume())

    def step_once(self) -> None:
        if self.state == "running":
            self.send(Pause())
        self.state = "paused"
        self._state_serial = self.send(Step())

    def scale_lr(self, factor: float) -> None:
        self.lr_asked = f"×{factor:g}"
        self._lr_serial = self.send(ScaleLr(factor))

    def reset_lr(self) -> None:
        self.lr_asked = "initial"
        self._lr_serial = self.send(ResetLr())

    def step_phase(self) -> None:
        if self.state == "running":
            self.send(Pause())
        self.state = "paused"
        self._state_serial = self.send(StepPhase())

    def toggle_zero_grad(self) -> None:
        """Skip zero_grad in every step from now on (or zero the gradients again)."""
        self.zero_grad = not self.zero_grad
        self._zero_grad_serial = self.send(SetZeroGrad(self.zero_grad))

    def change_speed(self, faster: bool) -> None:
        """The next pace of SPEEDS, faster or slower (full speed and 1 step/s are the ends)."""
        i = SPEEDS.index(self.speed) if self.speed in SPEEDS else len(SPEEDS) - 1
        i = min(i + 1, len(SPEEDS) - 1) if faster else max(i - 1, 0)
        self.speed = SPEEDS[i]
        self.send(SetSpeed(self.speed))

    def reset(self) -> None:
        """New weights; the steps zero the gradients again (a new run always does)."""
        self.zero_grad = True
        self._zero_grad_serial = self.send(Reset())

    def restarted(self, send: Callable[[Command], int]) -> None:
        """A new training process (after the old one died), running; it numbers anew."""
        self.send = send
        self._state_serial = self._lr_serial = self._zero_grad_serial = 0
        self.zero_grad = True
        self.lr_asked = ""
        self.stopped = False
        if self.speed:  # the new process keeps the pace the keys chose
            self.send(SetSpeed(self.speed))
        self.state = "running"
        self.reported_state = "starting"
        self.rate = 0.0

    # -- reports ------------------------------------------------------------------------------
    def progress(self, p: Progress) -> None:
        self.reported_state = p.state
        if p.serial >= self._state_serial:  # else a run/pause command is on its way
            self.state = p.state
        self.lr = p.lr
        if p.serial >= self._lr_serial:  # the lr asked for is applied (or refused)
            self.lr_asked = ""
        self.rate = p.steps_per_second
        self.phase = p.phase
        self.phase_loss = p.phase_loss
        if p.serial >= self._zero_grad_serial:  # else a G is on its way
            self.zero_grad = p.zero_grad
        if p.reports:
            self.last_report = p.reports[-1]
            tests = [r.test_loss for r in p.reports if r.test_loss is not None]
            if tests:
                self.test_loss = tests[-1]

    def new_run(self, d: DatasetView) -> None:
        """A new run (start, reset, new data, new settings): its data, model and rate."""
        self.dataset_name = d.name
        self.what = f"{d.name} {d.architecture}"
        self.lr = d.lr
        self.last_report = None
        self.test_loss = None
        if d.config is not None:
            try:
                self.config = TrainConfig.from_dict(d.config)
            except (TypeError, ValueError):
                pass

    def died(self) -> None:
        self.stopped = True
        self.state = "stopped"
        self.rate = 0.0

    # -- what it shows ------------------------------------------------------------------------
    @property
    def step(self) -> int:
        return self.last_report.step if self.last_report else 0

    @property
    def run_config(self) -> TrainConfig:
        """The run's settings with the learning rate it runs at now."""
        try:
            return replace(self.config, lr=self.lr)
        except (ValueError, TypeError):
            return self.config

    def shown(self, what_prefix: str = "") -> RunShown:
        r = self.last_report
        return RunShown(
            step=self.step,
            loss=r.loss if r else None,
            accuracy=r.accuracy if r else None,
            test_loss=self.test_loss,
            lr=self.lr,
            lr_asked=self.lr_asked,
            rate=self.rate,
            speed=self.speed,
            phase=self.phase,
            phase_loss=self.phase_loss,
            zero_grad=self.zero_grad,
            state="diverging" if r and r.diverging and self.state == "running" else self.state,
            what=what_prefix + self.what,
        )

    def regenerated(self, what: str) -> tuple[TrainConfig, str] | None:
        """The run's settings with the data drawn anew ("noise": the next noise level, "seed":
        the next seed) and the notice's reason; None for a CSV, whose data is not drawn."""
        config = self.run_config
        if config.csv is not None:
            return None
        if what == "noise":
            config = replace(config, noise=next_noise(config.noise))
            return config, f"Data regenerated with noise {config.noise:g}"
        config = replace(config, seed=config.seed + 1)
        return config, f"Data regenerated with seed {config.seed}"

    def save_name(self) -> str:
        """The checkpoint's file name for the shown step."""
        return f"microgradtui-{Path(self.dataset_name).stem}-step{self.step}.json"
