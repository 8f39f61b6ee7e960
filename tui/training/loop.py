"""The training loop of the training process: one `Trainer`, commands in, reports out.

It steps while running and sends reports throttled at the source: `Progress` (the steps since the
last one) about 10 times a second, a `ModelView` about twice a second, a `GraphView` on request
and when it pauses. Between steps it reads the commands and applies each through the table in
`tui.training.commands`.
"""

from __future__ import annotations

import math
import multiprocessing
import queue
import time
from collections import deque
from typing import Any

from micrograd import checkpoint
from micrograd.train import StepReport, TrainConfig, Trainer
from tui.protocol import Command, GraphView, Notice, Progress, Report
from tui.training.commands import HANDLERS
from tui.training.shown_graph import ShownGraph, sample_tags
from tui.training.views import BoundaryGrid, dataset_view, model_view

PROGRESS_EVERY = 0.1  # seconds between loss batches while running
MODEL_EVERY = 0.5  # seconds between parameter/boundary snapshots while running
COMMAND_EVERY = 0.01  # seconds between looks at the command queue while running


class TrainingLoop:
    """Runs one `Trainer` (replaced by a new run on reset, new data or new settings) and says
    what happens to it; `handle` applies one command."""

    def __init__(
        self,
        config: TrainConfig,
        paused: bool,
        commands: Any,
        reports: Any,
        load: str | None,
        replay: bool = False,
    ) -> None:
        self.replay = replay  # show a saved run; refuse what would change it (`changes_run`)
        self.commands = commands
        self.reports = reports
        self.state = "paused" if paused else "running"
        self.grid = BoundaryGrid()
        self.pending: list[StepReport] = []
        self.step_times: deque[float] = deque(maxlen=50)
        self.last_progress = 0.0
        self.last_model = 0.0
        self.model_dirty = True
        self.shown: Any = None  # the shown graph (ShownGraph, TensorShown), kept alive
        self.page_start = 0  # a tensor run's page of images (AskPage)
        self.confusion_time = 0.0  # when its last confusion matrix was made
        self.forward_params: list[float] = []  # the parameters as the last step's forward saw them
        self.finished_notice = False
        self.diverging = False
        self.split_dots = False  # show each neuron's dot as the lecture's * and + (SplitDots)
        self.stopping = False
        self.phase = ""  # the phase `StepPhase` last did ("" after a whole step)
        self.zero_grad = True  # False: each step skips zero_grad (SetZeroGrad; a new run: True)
        self.speed = 0.0  # steps per second at most while running; 0: full speed (SetSpeed)
        self.next_step_at = 0.0  # when a paced run takes its next step (time.monotonic)
        self.serial = 0  # of the last command applied
        if load is None:
            self.new_trainer(Trainer(config))
        else:  # resume a checkpoint: its config, weights and loss history; `config.lr` is
            # the rate to go on with (the command line passes the checkpoint's own, or --lr)
            trainer = checkpoint.load(load)
            if config.lr != trainer.base_lr:
                trainer.set_lr(config.lr)
            self.new_trainer(trainer)
            self.pending.extend(self.trainer.history)
            self.flush_progress(force=True)

    @property
    def config(self) -> TrainConfig:
        return self.trainer.config

    @property
    def step_count(self) -> int:
        return self.trainer.step_count

    def send(self, report: Report) -> None:
        self.reports.put(report)

    def new_trainer(self, trainer: Trainer) -> None:
        """Train `trainer` from now on (a new run, or new weights): the app hears of it."""
        self.trainer = trainer
        self.params = list(trainer.model.named_parameters())
        self.forward_params = []
        self.phase = ""
        self.zero_grad = True
        self.pending.clear()
        self.step_times.clear()
        self.shown = None
        self.finished_notice = False
        self.diverging = False  # the last step's loss was far above the run's best
        self.model_dirty = True
        if self.state == "diverged":
            self.state = "paused"
        self.send(dataset_view(trainer))
        self.flush_progress(force=True)

    # -- reports -------------------------------------------------------------------------------
    def flush_progress(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and (not self.pending or now - self.last_progress < PROGRESS_EVERY):
            return
        times = self.step_times
        rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
        if self.state != "running":
            rate = 0.0
        self.send(
            Progress(
                tuple(self.pending),
                self.state,
                rate,
                self.trainer.lr,
                self.serial,
                self.phase,
                self.trainer.phase_loss,
                self.zero_grad,
            )  # fmt: skip
        )
        self.pending.clear()
        self.last_progress = now

    def send_model(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and (not self.model_dirty or now - self.last_model < MODEL_EVERY):
            return
        if self.trainer.tensor_run is not None:
            from tui.training.tensor import model_reports  # numpy: for tensor runs only

            for report in model_reports(self, force):
                self.send(report)
        else:
            self.send(model_view(self.trainer, self.params, self.forward_params, self.grid))
        self.model_dirty = False
        self.last_model = now

    def publish_now(self) -> None:
        """Send progress, the model and the graph at once (on pause, a step, divergence)."""
        self.flush_progress(force=True)
        self.send_model(force=True)
        self.send_graph()

    def shown_graph(self) -> Any:
        """The graph of the last step, as the app is (or will be) shown it; None before one."""
        shown = self.shown
        phase = getattr(shown, "phase", "")
        if phase and self.trainer.phase:  # the graph of the step under way (`StepPhase`)
            return shown
        root = self.trainer.last_root
        if root is None:
            return None
        if shown is None or shown.step != self.step_count or phase:  # phase: a step dropped
            if self.trainer.tensor_run is not None:
                from tui.training.tensor import TensorShown  # numpy: for tensor runs only

                params = self.trainer.tensor_run.params
                self.shown = TensorShown(self.step_count, root, params, self.forward_params)
            else:
                self.shown = ShownGraph(
                    self.step_count,
                    root,
                    self.params,
                    self.forward_params,
                    self.split_dots,
                    sample_tags(self.trainer),
                )
        return self.shown

    def send_graph(self) -> None:
        shown = self.shown_graph()
        if shown is not None:
            self.send(GraphView(shown.step, shown.snapshot, getattr(shown, "phase", "")))

    # -- commands ------------------------------------------------------------------------------
    def handle(self, serial: int, command: Command) -> None:
        """Apply `command` (numbered `serial` by the app) through `HANDLERS`."""
        self.serial = serial
        if self.replay and command.changes_run:
            self.send(Notice("A replay shows a saved run: use --load to train on from it"))
            self.flush_progress(force=True)
            return
        HANDLERS[type(command)](self, command)

    # -- the loop --------------------------------------------------------------------------
    def do_step(self) -> None:
        if self.trainer.tensor_run is not None:  # arrays, updated in place: copies
            from tui.tensor_views import copy_params

            self.forward_params = copy_params(self.trainer)
        else:
            self.forward_params = [p.data for _, p in self.params]
        self.phase = ""
        self.after_step(self.trainer.step(self.zero_grad))

    def after_step(self, report: StepReport) -> None:
        """Say what a step did (done whole, or its last phase): its report, divergence."""
        self.pending.append(report)
        self.step_times.append(time.monotonic())
        self.model_dirty = True
        # zero_grad skipped (G): the likely cause, said first (the lecture's bug)
        cause = "" if self.zero_grad else "zero_grad is off (G turns it on): gradients add up. "
        if report.diverging and not self.diverging:  # said once, when it starts
            self.send(Notice(f"{cause}{self.trainer.divergence(report)}: - or [ lowers it, "
                             "r resets", "warning"))  # fmt: skip
        self.diverging = report.diverging
        if report.nonfinite or not math.isfinite(report.loss):
            self.state = "diverged"
            self.publish_now()
            self.send(
                Notice(
                    f"{cause}The loss became {report.loss} at step {report.step}: training "
                    "paused. Lower the learning rate (- or [) or reset (r).",
                    "error",
                )
            )

    def run(self) -> None:
        self.send_model(force=True)
        last_check = time.monotonic()
        next_poll = 0.0
        while not self.stopping:
            block = self.state != "running"
            # a paced run waits for its next step on the command queue: a key is answered at once
            wait = 0.0 if block else self.next_step_at - time.monotonic()
            message = None
            # While running, look for commands at most every COMMAND_EVERY seconds: polling the
            # queue after every step of a tiny model took the GIL so often that the queue's
            # sending thread starved and reports reached the app seconds late.
            if block or wait > 0 or time.monotonic() >= next_poll:
                next_poll = time.monotonic() + COMMAND_EVERY
                try:
                    if block or wait > 0:
                        message = self.commands.get(timeout=0.5 if block else min(wait, 0.5))
                    else:
                        message = self.commands.get_nowait()
                except queue.Empty:
                    pass
            if message is not None:
                self.handle(*message)
                continue  # drain every waiting command before the next step
            if block or wait > 0:
                if orphaned():
                    return
                continue
            started = time.monotonic()
            self.do_step()
            if self.speed > 0:  # each paced step is shown: its loss, table and boundary
                self.next_step_at = started + 1.0 / self.speed
                self.flush_progress(force=True)
                self.send_model(force=True)
            if self.state == "running" and self.step_count == self.config.steps:
                if not self.finished_notice:
                    self.finished_notice = True
                    self.state = "paused"
                    self.send(Notice(f"Done: {self.config.steps} steps. Space trains on."))
                    self.publish_now()
            self.flush_progress()
            self.send_model()
            now = time.monotonic()
            if now - last_check > 1.0:  # the app was killed: do not train on alone
                last_check = now
                if orphaned():
                    return


def orphaned() -> bool:
    """The process that started this one has died."""
    parent = multiprocessing.parent_process()
    return parent is not None and not parent.is_alive()
