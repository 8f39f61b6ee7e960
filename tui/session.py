"""The training process and its two queues.

The `Trainer` runs in a child process (multiprocessing, spawn): a pure-Python step holds the
GIL, so in the app's own process it would freeze the UI. The child reads commands between steps
and sends plain-data reports, throttled at the source:

- `Progress`: the `StepReport`s since the last one, about 10 times a second while running;
- `ModelView`: every parameter (value, gradient, last update) and the decision boundary on a grid
  sized to the dataset pane, about twice a second;
- `GraphView`: a flat `GraphSnapshot` of the last step's graph, on request and when it pauses;
- `Notice`, `LrChanged`, `DatasetView`: events, when they happen.

This module imports no UI code: the child imports it, and so can a test. On the app's side one
thread worker blocks on `Session.reports` and turns each report into a Textual message.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import multiprocessing
import multiprocessing.connection
import os
import queue
import signal
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from micrograd import checkpoint, fileio, health
from micrograd.data import DATASETS
from micrograd.graph import to_dot
from micrograd.losses import predict_class
from micrograd.train import StepReport, TrainConfig, Trainer
from tui.probes import GradCheckView, NeuronView, ShownGraph, neuron_view
from tui.run_edits import READ_ONLY, DataEdited, data_edited, edit_data, history_csv

PROGRESS_EVERY = 0.1  # seconds between loss batches while running
MODEL_EVERY = 0.5  # seconds between parameter/boundary snapshots while running
COMMAND_EVERY = 0.01  # seconds between looks at the command queue while running
GRID_MARGIN = 0.15  # fraction of the data's range added around it in the boundary plot

# -- commands (app -> training process): tuples (serial, "name", *args), read by handle() -----
# The serial numbers the commands in order; every `Progress` says the last one applied, so the
# app can tell a report sent before a key press from one sent after it.
#   set_lr (lr: float): the base learning rate, from the next step
#   scale_lr (factor: float): base learning rate times factor
#   pause
#   resume
#   step: one step, when paused
#   reset: new weights, same config
#   next_dataset
#   send_graph
#   set_grid (cols: int, rows: int): the boundary grid's size in cells
#   save (path: str)
#   export_dot (path: str)
#   gradcheck (step: int, index: int | None, name: str | None): check the shown graph
#   neuron (layer: int, neuron: int, cols: int, rows: int): a NeuronView
#   add_point (x: list[float], label: int): a training sample, from the next step
#   remove_point (x: list[float]): the sample nearest to x
#   configure (config: dict, why: str): a new run with these settings (TrainConfig.to_dict)
#   export_history (path: str): the loss history as CSV
#   stop


# -- reports (training process -> app): plain, picklable data --------------------------------
@dataclass(frozen=True)
class DatasetView:
    """What is being learned: the samples and their classes (sent on start, reset, new data)."""

    name: str
    X_train: list[list[float]]
    y_train: list[int]
    X_test: list[list[float]]
    y_test: list[int]
    n_classes: int
    input_dim: int
    lr: float
    param_names: tuple[str, ...]
    architecture: str
    classes: tuple[str, ...] = ()  # a CSV's label for each class number, if any
    config: dict | None = None  # the run's settings (TrainConfig.to_dict), for the settings form


@dataclass(frozen=True)
class Progress:
    """The steps done since the last `Progress` and the run state after them."""

    reports: tuple[StepReport, ...]
    state: str  # "running", "paused" or "diverged"
    steps_per_second: float
    lr: float  # the learning rate the next step will use
    serial: int  # the serial of the last command applied


@dataclass(frozen=True)
class ModelView:
    """Every parameter (name, value, gradient, last update) and the decision boundary.

    `grid` holds `rows` lists of `cols` predictions (a class, or a probability of class 1) over
    `bounds` = (x_min, x_max, y_min, y_max); for more than two inputs it is empty and
    `sample_predictions` holds the prediction for each training sample.
    """

    step: int
    params: tuple[tuple[str, float, float, float], ...]
    grid: tuple[tuple[float, ...], ...]
    bounds: tuple[float, float, float, float]
    sample_predictions: tuple[float, ...]
    sample_outputs: tuple[float, ...] = ()  # the network's raw output (the largest, if several)
    health: health.HealthReport | None = None  # per-layer gradient norms, dead neurons, ...


@dataclass(frozen=True)
class GraphView:
    """The graph of step `step` as a flat snapshot (`micrograd.graph.GraphSnapshot`)."""

    step: int
    snapshot: Any


@dataclass(frozen=True)
class LrChanged:
    """The user changed the learning rate; it applies from step `step` on."""

    step: int
    lr: float


@dataclass(frozen=True)
class Notice:
    """One sentence for the user; severity is "information", "warning" or "error"."""

    text: str
    severity: str = "information"


@dataclass(frozen=True)
class Stopped:
    """The training process is about to exit (after `stop`, or after a fatal error)."""

    error: str | None = None


Report = (
    DatasetView
    | Progress
    | ModelView
    | GraphView
    | LrChanged
    | Notice
    | Stopped
    | GradCheckView
    | NeuronView
    | DataEdited
)


# -- the child process -----------------------------------------------------------------------
def _bounds(X: Sequence[Sequence[float]]) -> tuple[float, float, float, float]:
    """The data's bounding box in its first two inputs, widened by GRID_MARGIN on each side."""
    xs = [x[0] for x in X] or [0.0]
    ys = [x[1] for x in X] or [0.0]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    dx = (x1 - x0) or 1.0
    dy = (y1 - y0) or 1.0
    return (
        x0 - GRID_MARGIN * dx,
        x1 + GRID_MARGIN * dx,
        y0 - GRID_MARGIN * dy,
        y1 + GRID_MARGIN * dy,
    )


def grid_points(
    bounds: tuple[float, float, float, float], cols: int, rows: int
) -> list[list[float]]:
    """Cell centres, row by row from the top (largest y) down, left to right."""
    x0, x1, y0, y1 = bounds
    return [
        [x0 + (x1 - x0) * (c + 0.5) / cols, y1 - (y1 - y0) * (r + 0.5) / rows]
        for r in range(rows)
        for c in range(cols)
    ]


class _Runner:
    """The training loop of the child process: one `Trainer`, commands in, reports out."""

    def __init__(
        self,
        config: TrainConfig,
        paused: bool,
        commands: Any,
        reports: Any,
        load: str | None,
        replay: bool = False,
    ) -> None:
        self.config = config
        self.replay = replay  # show a saved run; refuse what would change it (READ_ONLY)
        self.commands = commands
        self.reports = reports
        self.state = "paused" if paused else "running"
        self.grid_size = (40, 12)
        self.pending: list[StepReport] = []
        self.step_times: deque[float] = deque(maxlen=50)
        self.last_progress = 0.0
        self.last_model = 0.0
        self.model_dirty = True
        # the boundary grid's cell centres, kept while (bounds, cols, rows) stay the same
        self.cell_centres: tuple[tuple, list[list[float]]] = ((), [])
        self.last_snapshot: Any = None
        self.last_snapshot_step = -1
        self.shown: ShownGraph | None = None  # the graph of the shown snapshot, kept alive
        self.forward_params: list[float] = []  # the parameters as the last step's forward saw them
        self.finished_notice = False
        self.stopping = False
        self.serial = 0
        if load is None:
            self._new_trainer(config)
        else:  # resume a checkpoint: its config, weights and loss history; `config.lr` is
            # the rate to go on with (the command line passes the checkpoint's own, or --lr)
            self.trainer = checkpoint.load(load)
            if config.lr != self.trainer.base_lr:
                self.trainer.set_lr(config.lr)
            self.config = self.trainer.config
            self._after_reset()
            self.pending.extend(self.trainer.history)
            self.flush_progress(force=True)

    # -- helpers -------------------------------------------------------------------------------
    def send(self, report: Report) -> None:
        self.reports.put(report)

    def _new_trainer(self, config: TrainConfig, lr: float | None = None) -> None:
        self.config = config
        self.trainer = Trainer(config)
        if lr is not None:
            self.trainer.set_lr(lr)
        self._after_reset()

    def _after_reset(self) -> None:
        t = self.trainer
        data = t.data
        self.params = list(t.model.named_parameters())
        self.forward_params = []
        self.pending.clear()
        self.step_times.clear()
        self.last_snapshot = None
        self.last_snapshot_step = -1
        self.shown = None
        self.finished_notice = False
        self.model_dirty = True
        sizes = [t.input_dim, *(len(layer.neurons) for layer in t.model.layers)]
        self.send(
            DatasetView(
                name=self.config.dataset if self.config.csv is None else str(self.config.csv),
                X_train=[list(map(float, x)) for x in data.X_train],
                y_train=list(data.y_train),
                X_test=[list(map(float, x)) for x in data.X_test],
                y_test=list(data.y_test),
                n_classes=t.n_classes,
                input_dim=t.input_dim,
                lr=t.lr,
                param_names=tuple(name for name, _ in self.params),
                architecture="-".join(map(str, sizes)),
                classes=tuple(data.classes),
                config=self.config.to_dict(),
            )
        )
        self.flush_progress(force=True)

    @property
    def step_count(self) -> int:
        return self.trainer.step_count

    # -- reports -------------------------------------------------------------------------------
    def flush_progress(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and (not self.pending or now - self.last_progress < PROGRESS_EVERY):
            return
        times = self.step_times
        rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
        if self.state != "running":
            rate = 0.0
        self.send(Progress(tuple(self.pending), self.state, rate, self.trainer.lr, self.serial))
        self.pending.clear()
        self.last_progress = now

    def send_model(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and (not self.model_dirty or now - self.last_model < MODEL_EVERY):
            return
        t = self.trainer
        data = t.data
        # the last update: the values now against those the last step's forward pass saw
        updates = [p.data - b for (_, p), b in zip(self.params, self.forward_params)]
        params = tuple(
            (name, p.data, p.grad, du)
            for (name, p), du in zip(self.params, updates or [0.0] * len(self.params))
        )
        grid: tuple[tuple[float, ...], ...] = ()
        bounds = (0.0, 1.0, 0.0, 1.0)
        samples: tuple[float, ...] = ()
        outputs: tuple[float, ...] = ()
        if t.input_dim == 2:
            cols, rows = self.grid_size
            bounds = _bounds([*data.X_train, *data.X_test])
            if self.cell_centres[0] != (bounds, cols, rows):
                self.cell_centres = ((bounds, cols, rows), grid_points(bounds, cols, rows))
            flat = [_as_float(v) for v in t.predict_grid(self.cell_centres[1])]
            grid = tuple(tuple(flat[r * cols : (r + 1) * cols]) for r in range(rows))
        else:
            raw = t.model.predict_batch([list(x) for x in data.X_train])  # one forward pass
            samples = tuple(float(predict_class(t.loss_name, v)) for v in raw)
            outputs = tuple(float(max(v)) if isinstance(v, list) else float(v) for v in raw)
        report = health.check(t.model, data.X_train, self.step_count)
        self.send(ModelView(self.step_count, params, grid, bounds, samples, outputs, report))
        self.model_dirty = False
        self.last_model = now

    def publish_now(self) -> None:
        """Send progress, the model and the graph at once (on pause, a step, divergence)."""
        self.flush_progress(force=True)
        self.send_model(force=True)
        self.send_graph()

    def send_graph(self) -> None:
        root = self.trainer.last_root
        if root is None:
            return
        if self.last_snapshot_step != self.step_count:
            self.shown = ShownGraph(self.step_count, root, self.params, self.forward_params)
            self.last_snapshot = self.shown.snapshot
            self.last_snapshot_step = self.step_count
        self.send(GraphView(self.step_count, self.last_snapshot))

    # -- commands ------------------------------------------------------------------------------
    def handle(self, command: tuple) -> None:
        self.serial, name, *args = command
        if self.replay and name in READ_ONLY:
            self.send(Notice("A replay shows a saved run: use --load to train on from it"))
            self.flush_progress(force=True)
        elif name in ("set_lr", "scale_lr"):
            value = float(args[0])
            base = self.trainer.base_lr
            try:
                self.trainer.set_lr(value if name == "set_lr" else base * value)
            except ValueError as exc:
                self.send(Notice(f"Learning rate unchanged: {exc}", "warning"))
            else:
                self.send(LrChanged(self.step_count + 1, self.trainer.lr))
            self.flush_progress(force=True)
        elif name == "pause":
            if self.state == "running":
                self.state = "paused"
                self.publish_now()
        elif name == "resume":
            self.state = "running"
            self.flush_progress(force=True)
        elif name == "step":
            if self.state != "running":
                self.state = "paused"
                self.do_step()
                self.publish_now()
        elif name == "reset":
            lr = self.trainer.base_lr
            seed = self.config.seed + 1 + self.step_count  # new weights, same config
            self.trainer.reset(seed=seed)
            self.trainer.set_lr(lr)
            if self.state == "diverged":
                self.state = "paused"
            self._after_reset()
            self.send_model(force=True)
            self.send(Notice(f"Reset: new weights (seed {seed}), lr {_fmt(lr)}"))
        elif name == "next_dataset":
            names = list(DATASETS)
            current = self.config.dataset
            nxt = names[(names.index(current) + 1) % len(names)] if current in names else names[0]
            lr = self.trainer.base_lr
            try:
                config = replace(self.config, dataset=nxt, csv=None)
                try:
                    self._new_trainer(config, lr=lr)
                except ValueError:  # e.g. a two-class loss for three classes: let it choose
                    self._new_trainer(replace(config, loss="auto"), lr=lr)
            except ValueError as exc:
                self.send(Notice(f"Cannot train on {nxt}: {exc}", "warning"))
                return
            if self.state == "diverged":
                self.state = "paused"
            self.send_model(force=True)
            self.send(Notice(f"Dataset: {nxt}"))
        elif name == "send_graph":
            self.send_graph()
        elif name == "set_grid":
            cols, rows = max(2, int(args[0])), max(2, int(args[1]))
            if (cols, rows) != self.grid_size:
                self.grid_size = (cols, rows)
                self.send_model(force=True)
        elif name == "save":
            self.save(Path(args[0]))
        elif name == "export_dot":
            self.export_dot(Path(args[0]))
        elif name == "gradcheck":
            self.gradcheck(*args)
        elif name == "neuron":
            self.send_neuron(*args)
        elif name in ("add_point", "remove_point"):
            text, severity = edit_data(self.trainer, name, tuple(args))
            if severity == "information":
                self.send(data_edited(self.trainer))
                self.model_dirty = True
                self.send_model(force=True)
            self.send(Notice(text, severity))
        elif name == "configure":
            self.configure(args[0], *args[1:])
        elif name == "export_history":
            self.export_history(Path(args[0]))
        elif name == "stop":
            self.stopping = True

    def save(self, path: Path) -> None:
        """Save under `path`, a name the app chose: never over a file already there."""
        try:
            written = checkpoint.save(self.trainer, path, new_name=True)
        except checkpoint.CheckpointError as exc:  # its message names the file and the reason
            self.send(Notice(f"Could not save: {exc}", "error"))
            return
        self.send(Notice(f"Saved step {self.step_count} to {written}{taken_note(path, written)}"))

    def configure(self, values: dict, why: str = "New settings") -> None:
        """A new run with these settings; a setting that does not fit leaves the run as it was."""
        try:
            self._new_trainer(TrainConfig.from_dict(values))
        except ValueError as exc:  # ConfigError, CSVError, a bad value: one sentence
            self.send(Notice(f"{why} not applied: {exc}", "warning"))
            return
        if self.state == "diverged":
            self.state = "paused"
            self.flush_progress(force=True)
        self.send_model(force=True)
        c = self.config
        self.send(
            Notice(
                f"{why}: the run was reset ({c.dataset if c.csv is None else c.csv}, "
                f"{c.samples} samples, noise {c.noise:g}, seed {c.seed}; hidden "
                f"{','.join(map(str, c.hidden))} {c.activation}, {c.optimizer} lr {c.lr:g})"
            )
        )

    def export_history(self, path: Path) -> None:
        try:
            written = fileio.write_new(path, history_csv(self.trainer))
        except fileio.WriteError as exc:
            self.send(Notice(f"Could not export: {exc}", "error"))
            return
        n = len(self.trainer.history)
        self.send(
            Notice(
                f"Wrote the loss history ({n} step{'s' * (n != 1)}) to {written}"
                f"{taken_note(path, written)}"
            )
        )

    def gradcheck(self, step: int, index: int | None, name: str | None) -> None:
        """Check a node (or parameter) of the shown graph, which is kept even if training has
        moved on; step says which graph the app shows."""
        shown = self.shown
        if shown is None or shown.step != step:
            self.send(Notice(f"The graph of step {step} is gone (reset?): take a step", "warning"))
            return
        self.send(shown.check(index=index, name=name))

    def send_neuron(self, layer: int, neuron: int, cols: int, rows: int) -> None:
        t = self.trainer
        X, y = t.data.X_train, t.data.y_train
        grid: list[list[float]] = []
        bounds = (0.0, 1.0, 0.0, 1.0)
        if t.input_dim == 2:
            bounds = _bounds([*X, *t.data.X_test])
            grid = grid_points(bounds, cols, rows)
        try:
            view = neuron_view(t.model, self.step_count, layer, neuron, X, y, grid, bounds, cols)
        except IndexError:
            self.send(Notice(f"This model has no neuron L{layer}.N{neuron}", "warning"))
            return
        self.send(view)

    def export_dot(self, path: Path) -> None:
        if self.last_snapshot is None:
            self.send_graph()
        if self.last_snapshot is None:
            self.send(Notice("No graph yet: take a step first (n)", "warning"))
            return
        try:
            written = fileio.write_new(path, to_dot(self.last_snapshot))
        except fileio.WriteError as exc:
            self.send(Notice(f"Could not export: {exc}", "error"))
            return
        self.send(
            Notice(
                f"Wrote the graph of step {self.last_snapshot_step} to {written}"
                f"{taken_note(path, written)}"
            )
        )

    # -- the loop --------------------------------------------------------------------------
    def do_step(self) -> None:
        self.forward_params = [p.data for _, p in self.params]
        report = self.trainer.step()
        self.pending.append(report)
        self.step_times.append(time.monotonic())
        self.model_dirty = True
        if report.nonfinite or not math.isfinite(report.loss):
            self.state = "diverged"
            self.publish_now()
            self.send(
                Notice(
                    f"The loss became {report.loss} at step {report.step}: training paused. "
                    "Lower the learning rate (- or [) or reset (r).",
                    "error",
                )
            )

    def run(self) -> None:
        self.send_model(force=True)
        last_check = time.monotonic()
        next_poll = 0.0
        while not self.stopping:
            block = self.state != "running"
            command = None
            # While running, look for commands at most every COMMAND_EVERY seconds: polling the
            # queue after every step of a tiny model took the GIL so often that the queue's
            # sending thread starved and reports reached the app seconds late.
            if block or time.monotonic() >= next_poll:
                next_poll = time.monotonic() + COMMAND_EVERY
                try:
                    command = (
                        self.commands.get(timeout=0.5) if block else self.commands.get_nowait()
                    )
                except queue.Empty:
                    pass
            if command is not None:
                self.handle(command)
                continue  # drain every waiting command before the next step
            if block:
                if _orphaned():
                    return
                continue
            self.do_step()
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
                if _orphaned():
                    return


def taken_note(asked: Path, written: Path) -> str:
    """What a notice adds when a file went under another name than the one asked for."""
    return "" if Path(written) == Path(asked) else f" ({Path(asked).name} was already there)"


def _orphaned() -> bool:
    parent = multiprocessing.parent_process()
    return parent is not None and not parent.is_alive()


def _as_float(v: Any) -> float:
    if isinstance(v, (list, tuple)):  # class scores: show the most likely class
        return float(max(range(len(v)), key=v.__getitem__))
    return float(v)


def _fmt(x: float) -> str:
    return f"{x:.4g}"


PR_SET_PDEATHSIG = 1  # prctl(2) option: a signal for this process when its parent dies


def die_with_parent(kernel_signal: bool) -> None:
    """End this process within moments of the app's death, whatever the loop is doing: a step
    of a huge run takes tens of seconds, and the loop looks for a dead parent only between steps.

    A daemon thread blocks on the pipe whose write end only the parent holds (multiprocessing's
    parent sentinel): its EOF means the parent is gone, and the thread ends the process. On
    Linux the kernel is also asked for SIGKILL at the parent's death (PR_SET_PDEATHSIG), which
    needs no Python thread to get the GIL; `kernel_signal` says the parent started this process
    from its main thread (the signal comes when that thread ends, not the process)."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    if kernel_signal and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if not parent.is_alive() or (parent.pid is not None and os.getppid() != parent.pid):
        os._exit(1)  # it died before the watch began
    threading.Thread(
        target=_exit_at_eof, args=(parent.sentinel,), name="parent-watch", daemon=True
    ).start()


def _exit_at_eof(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(1)


def child_main(
    config: TrainConfig,
    paused: bool,
    commands: Any,
    reports: Any,
    load: str | None = None,
    replay: bool = False,
    kernel_signal: bool = False,
) -> None:
    """Entry point of the training process."""
    die_with_parent(kernel_signal)
    # The terminal belongs to the app: nothing the child prints may reach it.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115
    error = None
    try:
        _Runner(config, paused, commands, reports, load, replay).run()
    except Exception:  # report it to the app instead of dying silently
        error = traceback.format_exc(limit=-3)
    reports.put(Stopped(error))
    if error is None:
        reports.cancel_join_thread()  # the app may have stopped reading: do not wait for it
    reports.close()


# -- the app's side ----------------------------------------------------------------------------
class Session:
    """Starts, commands and stops the training process. Owns both queues."""

    def __init__(
        self,
        config: TrainConfig,
        paused: bool = False,
        load: str | None = None,
        replay: bool = False,
    ) -> None:
        self.config = config
        self.paused = paused
        self.load = load
        self.replay = replay
        ctx = multiprocessing.get_context("spawn")
        self._ctx = ctx
        self.commands = ctx.Queue()
        self.reports = ctx.Queue()
        self.process: multiprocessing.process.BaseProcess | None = None
        self.serial = 0  # of the last command sent

    def start(self) -> None:
        self.process = self._ctx.Process(
            target=child_main,
            args=(self.config, self.paused, self.commands, self.reports, self.load, self.replay)
            + (threading.current_thread() is threading.main_thread(),),
            name="microgradtui-training",
            daemon=True,
        )
        self.process.start()
        self._release_report_writer()

    def _release_report_writer(self) -> None:
        """Close this process's copy of the report pipe's write end (only the child writes).

        Otherwise a training process that dies in the middle of sending a report (killed, or
        terminated by `stop`) leaves half a message in the pipe that no EOF will ever end, and
        the app's report thread blocks in `get` for good (seen as a hang at quit in a test
        run). With the child as the only writer, its death is an EOF and `get` returns.
        multiprocessing.Queue has no public call for this, hence the private attribute.
        """
        writer = getattr(self.reports, "_writer", None)
        if writer is not None:
            writer.close()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.is_alive()

    def send(self, *command: Any) -> int:
        """Queue a command; the training loop reads it before its next step. Returns its serial."""
        self.serial += 1
        with contextlib.suppress(OSError, ValueError):
            self.commands.put((self.serial, *command))
        return self.serial

    def get(self, timeout: float) -> Report | None:
        """The next report, or None after `timeout` seconds."""
        try:
            return self.reports.get(timeout=timeout)
        except (queue.Empty, OSError, ValueError, EOFError):
            return None

    def stop(self, timeout: float = 0.6) -> None:
        """Ask the loop to stop, wait a little, then terminate. Leaves no child behind."""
        process = self.process
        if process is None:
            return
        with contextlib.suppress(OSError, ValueError):
            self.commands.put((self.serial + 1, "stop"))
        deadline = time.monotonic() + timeout
        # The child flushes its report queue before exiting: keep draining it meanwhile.
        while process.is_alive() and time.monotonic() < deadline:
            self.get(timeout=0.02)
        if process.is_alive():
            process.terminate()
            process.join(0.3)
        if process.is_alive():
            process.kill()
            process.join(0.3)
        for q in (self.commands, self.reports):
            q.cancel_join_thread()
            q.close()
        self.process = None
