"""The microgradtui app: composes the panes, owns the keys, and routes the training reports.

Training runs in a child process (`tui.session`); one thread worker blocks on its report queue
and posts each report as a `Reported` message; the handler hands each pane its slice. If the
training process dies, the status reads `stopped`, a notice says so, and `r` starts a new one
from the same configuration (or checkpoint).
"""

from __future__ import annotations

import asyncio
import multiprocessing.resource_tracker
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from textual import events, work
from textual.app import App, ComposeResult
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.widgets import Footer, Static

from micrograd.train import StepReport, TrainConfig
from tui.inspect_actions import InspectActions
from tui.keys import bindings, palette_entries
from tui.play_actions import PlayActions
from tui.protocol import (
    DataEdited,
    DatasetView,
    ExportDot,
    GradCheckView,
    GraphView,
    LrChanged,
    ModelView,
    NeuronView,
    NextDataset,
    Notice,
    Pause,
    Progress,
    Report,
    Reset,
    ResetLr,
    Resume,
    Save,
    ScaleLr,
    SendGraph,
    SetGrid,
    Step,
    Stopped,
)
from tui.screens.help import HelpScreen
from tui.session import Session
from tui.tensor_app import TensorPanes
from tui.widgets.dataset import BoundaryView, DatasetPane
from tui.widgets.graph import GraphTree
from tui.widgets.health import GradientHealth
from tui.widgets.loss import LossPlot
from tui.widgets.node_detail import NodeDetail
from tui.widgets.params import ParamTable
from tui.widgets.status import StatusLine

GRAPH_EVERY = 2.0  # seconds between graph refreshes while running
TABLE_EVERY = 0.9  # seconds between parameter-table updates while running
# While running, the table takes its values this long after the boundary and gradient strip
# that came in the same report: each then redraws in a frame of its own, so a key press never
# waits behind all three at once (key-to-screen p95, benchmarks/app_latency.py).
TABLE_LAG = 0.25
NARROW = (100, 32)  # below this width or height: the compact layout
TOO_SMALL = (60, 16)  # below this: a notice instead of the panes (keys still work)
LEAVE_GRACE = 5.0  # seconds the app has to exit after a signal or a lost server, else it is ended


class Reported(Message):
    """A report arrived from the training process."""

    def __init__(self, report: Report) -> None:
        super().__init__()
        self.report = report


class ActionsProvider(Provider):
    """The command palette offers every action the keys do."""

    async def discover(self) -> Hits:
        for k in palette_entries():
            yield DiscoveryHit(k.name, partial(self.app.run_action, k.action), help=k.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for k in palette_entries():
            score = matcher.match(k.name)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(k.name),
                    partial(self.app.run_action, k.action),
                    help=k.help,
                )


class MicrogradApp(InspectActions, PlayActions, App[int]):
    """Four panes (Dataset, Loss, Parameters, Graph), a status line and the footer."""

    CSS_PATH = [str(Path(__file__).with_name(n).resolve()) for n in ("app.tcss", "tensor.tcss")]
    TITLE = "microgradtui"
    COMMANDS = App.COMMANDS | {ActionsProvider}
    BINDINGS = bindings("app")

    def __init__(
        self,
        config: TrainConfig,
        paused: bool = False,
        load: str | None = None,
        replay: str | None = None,
    ) -> None:
        super().__init__()
        # Start the resource tracker before Textual replaces stderr (else spawn fails).
        multiprocessing.resource_tracker.ensure_running()
        self.config = config
        self.replay = replay  # a replay shows the checkpoint `load`, read-only
        self.session = Session(config, paused or bool(replay), replay or load, bool(replay))
        # `s` and `e` write here: the folder the app was started in, whatever happens to it later
        self.save_folder = Path.cwd()
        self.state = "paused" if paused else "running"  # as the keys left it
        self.reported_state = "starting"  # as the training process last said
        self.lr = config.lr
        self.last_report: StepReport | None = None
        self.dataset_name = config.dataset
        self.graph_step = -1
        self._lr_serial = 0  # serials of the last lr and run/pause commands sent
        self._state_serial = 0
        self._table_time = 0.0
        self._table_due: tuple | None = None  # parameters waiting for the table (TABLE_LAG)
        self._pumping = True
        self.training_stopped = False  # the training process died: `r` restarts it
        self.handle_signals = False  # run_app: SIGTERM/SIGHUP end the app cleanly
        self.tensor = TensorPanes(self)  # what a run on the tensor engine shows

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        yield Static("", id="too-small")
        with Grid(id="panes"):
            yield DatasetPane(id="dataset", classes="pane")
            yield LossPlot(id="loss", classes="pane")
            yield ParamTable(id="params", classes="pane")
            with Vertical(id="graph", classes="pane"):
                yield GraphTree(id="tree")
                yield NodeDetail(id="detail-pane")
            yield GradientHealth(id="health")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        for pane_id, title in (
            ("dataset", "Dataset"),
            ("loss", "Loss"),
            ("params", "Parameters"),
            ("graph", "Graph"),
            ("health", "Gradients"),
        ):
            self.query_one(f"#{pane_id}").border_title = title
        self.query_one(ParamTable).border_subtitle = "g: sort by |grad|"
        self.query_one(StatusLine).show(state=self.state, lr=self.lr)
        self.session.start()
        self.pump_reports()
        self.set_interval(GRAPH_EVERY, self._request_graph)
        self.query_one(ParamTable).focus()
        if self.handle_signals:
            self._leave_on_hangup()

    # -- leaving when told to, or when the terminal or the server goes away -----------------------
    def _leave_on_hangup(self) -> None:
        """SIGTERM and SIGHUP (a closed terminal or SSH session) stop training and leave through
        the normal exit, which restores the terminal (main screen, no mouse tracking, cursor
        shown). In a browser, the end of the server's pipe does the same.

        The signal handler only writes the signal to a pipe; a thread reading it asks the UI
        thread to leave, and ends the process LEAVE_GRACE seconds later if it is still there:
        after a real hang-up every write to the terminal fails, Textual's writer thread dies on
        the first one, and the UI thread can block for good on its full queue."""
        loop = asyncio.get_running_loop()
        told, tell = os.pipe()
        threading.Thread(
            target=self._leave_when, args=(loop, _signal_from(told)), name="signals", daemon=True
        ).start()
        for signum in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
            if signum is not None and signal.getsignal(signum) is not signal.SIG_IGN:
                signal.signal(signum, lambda signum, frame: os.write(tell, bytes([signum])))
        if self.is_web:
            threading.Thread(
                target=self._leave_when, args=(loop, _server_gone), name="server", daemon=True
            ).start()

    def _leave_when(self, loop: asyncio.AbstractEventLoop, wait: Callable[[], int]) -> None:
        """(A thread.) Once `wait()` returns an exit status, leave; end the process if the UI
        thread has not managed to within LEAVE_GRACE seconds."""
        status = wait()
        loop.call_soon_threadsafe(self.leave, status)
        time.sleep(LEAVE_GRACE)
        os._exit(status)  # the training process ends with this one (die_with_parent)

    def leave(self, status: int) -> None:
        """Stop the training process and exit with `status` (128 + the signal)."""
        self.stop_session()
        self.exit(return_code=status)

    def on_resize(self, event: events.Resize) -> None:
        width, height = event.size  # the new size (self.size may still be the old one)
        narrow = width < NARROW[0] or height < NARROW[1]
        tiny = width < TOO_SMALL[0] or height < TOO_SMALL[1]
        self.query_one("#panes").set_class(narrow, "-narrow").set_class(tiny, "-tiny")
        notice = self.query_one("#too-small", Static).set_class(tiny, "-tiny")
        if tiny:
            notice.update(
                f"Terminal too small ({width}x{height}): make it at least "
                f"{TOO_SMALL[0]}x{TOO_SMALL[1]}. Training goes on; the keys still work."
            )

    # -- the report pump -------------------------------------------------------------------
    @work(thread=True, exclusive=True, name="reports")
    def pump_reports(self) -> None:
        """Block on the report queue and post each report to the UI (thread-safe)."""
        from textual.worker import get_current_worker

        worker = get_current_worker()
        session = self.session
        while self._pumping and not worker.is_cancelled:
            report = session.get(timeout=0.1)
            if report is not None:
                self.post_message(Reported(report))
                if isinstance(report, Stopped):
                    return
            elif self._pumping and session.process is not None and not session.alive:
                code = session.process.exitcode
                how = f"killed by signal {-code}" if code and code < 0 else f"exit status {code}"
                self.post_message(Reported(Stopped(f"the training process ended ({how})")))
                return

    def on_reported(self, message: Reported) -> None:
        if not self.is_running or not self._pumping:
            return
        report = message.report
        self.report_handlers()[type(report)](report)

    def report_handlers(self) -> dict[type[Report], Callable[[Any], None]]:
        """Where each report goes (a test checks that every report class has a place)."""
        return {
            Progress: self._on_progress,
            DatasetView: self._on_datasetview,
            ModelView: self._on_modelview,
            GraphView: self._on_graphview,
            LrChanged: self._on_lrchanged,
            Notice: self._on_notice,
            Stopped: self._on_stopped,
            DataEdited: self._on_dataedited,
            GradCheckView: self._on_gradcheckview,
            NeuronView: self._on_neuronview,
            **self.tensor.handlers(),
        }

    def _on_progress(self, p: Progress) -> None:
        self.reported_state = p.state
        if p.serial >= self._state_serial:  # else a run/pause command is on its way
            self.state = p.state
        if p.serial >= self._lr_serial:  # else an lr command is on its way: keep ours
            self.lr = p.lr
        status = self.query_one(StatusLine)
        fields: dict = {"state": self.state, "rate": p.steps_per_second, "lr": self.lr}
        if p.reports:
            last = p.reports[-1]
            self.last_report = last
            tests = [r.test_loss for r in p.reports if r.test_loss is not None]
            fields.update(step=last.step, loss=last.loss, accuracy=last.accuracy)
            if tests:
                fields["test_loss"] = tests[-1]
            self.query_one(LossPlot).add_points((r.step, r.loss, r.test_loss) for r in p.reports)
        status.show(**fields)

    def _on_datasetview(self, d: DatasetView) -> None:
        self.dataset_name = d.name
        self.lr = d.lr
        self.last_report = None
        self.query_one(DatasetPane).show_dataset(
            d.name, d.input_dim, d.X_train, d.y_train, d.X_test, d.y_test, d.classes
        )
        if d.classes:
            named = ", ".join(f"{i}={c}" for i, c in enumerate(d.classes))
            self.notify(f"Classes: {named}", timeout=6)
        self.query_one(LossPlot).clear_history()
        self.query_one(ParamTable).set_names(d.param_names)
        self._table_due = None  # values of the previous model
        self.query_one(GraphTree).clear_snapshot()
        self.walk = None
        self.query_one(NodeDetail).clear()
        self.query_one("#graph").border_subtitle = ""
        self.graph_step = -1
        self.query_one(StatusLine).show(
            what=f"{d.name} {d.architecture}", step=0, loss=None, accuracy=None, test_loss=None
        )
        self.tensor.new_run(d)
        self.play_dataset_view(d)

    def _on_modelview(self, m: ModelView) -> None:
        self.query_one(DatasetPane).show_model(
            m.grid, m.bounds, m.sample_predictions, m.sample_outputs
        )
        now = time.monotonic()
        if self.state != "running":
            self._table_time = now
            self._table_due = None
            self.query_one(ParamTable).set_values(m.params)
        elif now - self._table_time >= TABLE_EVERY:
            self._table_time = now
            self._table_due = m.params
            self.set_timer(TABLE_LAG, self._fill_table)
        self.play_model_view(m)

    def _fill_table(self) -> None:
        if self._table_due is not None:
            self.query_one(ParamTable).set_values(self._table_due)
            self._table_due = None

    def _on_graphview(self, g: GraphView) -> None:
        self.graph_step = g.step
        snapshot = self.tensor.tree_snapshot(g.snapshot)
        self.query_one(GraphTree).set_snapshot(snapshot, g.step)
        self.query_one("#graph").border_subtitle = f"step {g.step}, {len(snapshot)} nodes"
        self.walk_graph_arrived(snapshot)

    def _on_lrchanged(self, c: LrChanged) -> None:
        self.query_one(LossPlot).mark_lr(c.step, c.lr)

    def _on_notice(self, n: Notice) -> None:
        self.notify(n.text, severity=n.severity, timeout=8 if n.severity == "error" else 4)

    def _on_stopped(self, s: Stopped) -> None:
        if s.error:
            self.training_stopped = True
            self.state = "stopped"
            self.query_one(StatusLine).show(state="stopped", rate=0.0)
            self.notify(
                f"Training stopped: {s.error.strip().splitlines()[-1]}. "
                "Press r to restart it from the same configuration.",
                severity="error",
                timeout=30,
            )

    # -- widget messages ---------------------------------------------------------------------
    def on_boundary_view_grid_resized(self, message: BoundaryView.GridResized) -> None:
        self.session.send(SetGrid(message.cols, message.rows))

    def on_graph_tree_node_chosen(self, message: GraphTree.NodeChosen) -> None:
        if not self.tensor.show_detail(message.snapshot, message.index):
            self.show_detail(message.snapshot, message.index)

    # the tensor panes' messages (their widgets are mounted by TensorPanes on a tensor run)
    def on_tensor_param_table_array_chosen(self, message: Any) -> None:
        self.tensor.open_array(message.name)

    def on_digits_view_page_requested(self, message: Any) -> None:
        self.tensor.ask_page(message.start)

    def on_digits_view_image_chosen(self, message: Any) -> None:
        self.tensor.choose_image(message.index)

    def _request_graph(self) -> None:
        if self.state == "running" and self.query_one("#graph").display and self.walk is None:
            self.session.send(SendGraph())

    # -- actions -----------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The keys belong to the main screen: over help or the palette they pass through."""
        return not self.screen.is_modal

    def _if_stopped(self) -> bool:
        if self.training_stopped:
            self.notify("The training process has stopped: press r to restart it", timeout=4)
        return self.training_stopped

    def action_toggle_run(self) -> None:
        if self._if_stopped():
            return
        self.state = "paused" if self.state == "running" else "running"
        self._state_serial = self.session.send(Pause() if self.state == "paused" else Resume())
        self.query_one(StatusLine).show(state=self.state)

    def action_step_once(self) -> None:
        if self._if_stopped():
            return
        if self.state == "running":
            self.session.send(Pause())
        self.state = "paused"
        self._state_serial = self.session.send(Step())
        self.query_one(StatusLine).show(state=self.state)

    def action_scale_lr(self, factor: float) -> None:
        self.lr = self.lr * factor
        self._lr_serial = self.session.send(ScaleLr(factor))
        self.query_one(StatusLine).show(lr=self.lr)

    def action_reset_lr(self) -> None:
        self._lr_serial = self.session.send(ResetLr())

    def action_reset(self) -> None:
        if self.training_stopped:
            self.restart_session()
        else:
            self.session.send(Reset())

    def restart_session(self) -> None:
        """A new training process from the same configuration (or checkpoint), running."""
        old = self.session
        self._pumping = False
        old.stop()
        self.session = Session(old.config, bool(old.replay), old.load, old.replay)
        self._state_serial = self._lr_serial = 0  # the new process numbers commands anew
        self.training_stopped = False
        self.state = "running"
        self.reported_state = "starting"
        self.query_one(StatusLine).show(state="running", rate=0.0)
        self.session.start()
        self._pumping = True
        self.pump_reports()
        self.notify("Restarted the training process")

    def action_next_dataset(self) -> None:
        self.session.send(NextDataset())

    def action_toggle_log(self) -> None:
        log = self.query_one(LossPlot).toggle_log()
        self.notify(f"Loss: {'log' if log else 'linear'} scale", timeout=2)

    def action_zoom(self) -> None:
        panes = self.query_one("#panes")
        for pane in panes.query(".pane"):
            pane.remove_class("-zoom-target")
        if panes.has_class("-zoomed"):
            panes.remove_class("-zoomed")
            return
        focused = self.focused
        target = next(
            (n for n in (focused.ancestors_with_self if focused else ()) if n.has_class("pane")),
            None,
        )
        if target is not None:
            target.add_class("-zoom-target")
            panes.add_class("-zoomed")

    def action_save(self) -> None:
        step = self.last_report.step if self.last_report else 0
        path = self.save_folder / f"microgradtui-{Path(self.dataset_name).stem}-step{step}.json"
        self.session.send(Save(str(path)))

    def action_export_dot(self) -> None:
        path = self.save_folder / f"microgradtui-graph-step{max(self.graph_step, 0)}.dot"
        self.session.send(ExportDot(str(path)))

    def action_filters(self) -> None:
        self.tensor.open_filters()

    def action_compare_engines(self) -> None:
        self.tensor.open_engines()

    def action_switch_engine(self) -> None:
        self.tensor.switch_engine()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        self.stop_session()
        self.exit(0)

    def stop_session(self) -> None:
        """Stop the pump and the training process (within about a second)."""
        self._pumping = False
        self.session.stop()

    def on_unmount(self) -> None:
        self.stop_session()


def _signal_from(pipe: int) -> Callable[[], int]:
    """Wait for a signal number written to `pipe`; 128 + it, the exit status a shell shows."""
    return lambda: 128 + os.read(pipe, 1)[0]


def _server_gone() -> int:
    """Wait until the pipe to the server (textual-serve) breaks: a server killed outright would
    otherwise leave the app and its training process running for good. 128 + SIGPIPE."""
    poller = select.poll()
    poller.register(sys.__stdout__.fileno(), 0)  # errors and hang-ups are always reported
    while not any(
        event & (select.POLLERR | select.POLLHUP | select.POLLNVAL) for _, event in poller.poll()
    ):
        pass
    return 128 + getattr(signal, "SIGPIPE", 13)


def run_app(
    config: TrainConfig, paused: bool = False, load: str | None = None, replay: str | None = None
) -> int:
    """Run the app in this terminal (resuming the checkpoint `load`, or showing the checkpoint
    `replay` read-only, if given)."""
    multiprocessing.resource_tracker.ensure_running()
    app = MicrogradApp(config, paused=paused, load=load, replay=replay)
    app.handle_signals = True
    try:
        app.run()
    finally:
        app.stop_session()
    return app.return_code or 0
