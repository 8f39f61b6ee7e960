"""The microgradtui app: composes the panes, owns the keys, and routes the training reports.

Training runs in a child process (`tui.session`); one thread worker blocks on its report queue
and posts each report as a `Reported` message; the handler hands each pane its slice. If the
training process dies, the status reads `stopped`, a notice says so, and `r` starts a new one
from the same configuration (or checkpoint).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing.resource_tracker
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from textual import events, work
from textual.app import App, ComposeResult
from textual.await_complete import AwaitComplete
from textual.binding import Binding
from textual.command import (
    CommandListItem,
    DiscoveryHit,
    Hit,
    Hits,
    Provider,
    SimpleProvider,
)
from textual.containers import Grid, Vertical
from textual.css.query import NoMatches
from textual.filter import LineFilter
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.theme import ThemeProvider
from textual.widget import AwaitMount
from textual.widgets import Footer, Static

from micrograd.train import StepReport, TrainConfig
from tui.inspect_actions import InspectActions
from tui.mailbox import Mailbox
from tui.play_actions import PlayActions
from tui.screens.help import HelpScreen
from tui.screens.on_top import Palette
from tui.session import (
    DatasetView,
    GraphView,
    LrChanged,
    ModelView,
    Notice,
    Progress,
    Session,
    Stopped,
)
from tui.terminal import follow_terminal
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

# (name in the command palette, action, help)
ACTIONS = (
    ("Run / pause", "toggle_run", "Start or pause training"),
    ("One step", "step_once", "Pause and take exactly one step"),
    ("Double the learning rate", "scale_lr(2.0)", "lr x 2, from the next step"),
    ("Halve the learning rate", "scale_lr(0.5)", "lr / 2, from the next step"),
    ("Raise the learning rate 10%", "scale_lr(1.1)", "lr x 1.1, from the next step"),
    ("Lower the learning rate 10%", "scale_lr(0.9)", "lr x 0.9, from the next step"),
    ("Reset", "reset", "New weights, same config; restarts a stopped training process"),
    ("Next dataset", "next_dataset", "Train on the next dataset"),
    ("Log scale", "toggle_log", "Loss plot: log / linear y axis"),
    ("Zoom pane", "zoom", "Show the focused pane alone, or all panes again"),
    ("Save checkpoint", "save", "Write the run to a JSON file in the current folder"),
    ("Export graph as DOT", "export_dot", "Write the shown graph as Graphviz DOT"),
    ("Backprop: next node", "backprop_next", "Walk the backward pass of the shown graph"),
    ("Backprop: stop", "backprop_stop", "End the backprop walk"),
    ("Gradient check", "gradcheck", "Finite-difference check of the selected node or parameter"),
    ("Neuron view", "neuron", "The selected neuron's output over the input plane, its weights"),
    ("Settings", "settings", "Data, model and training settings: a new run"),
    ("Regenerate data: next noise level", "regenerate('noise')", "Same dataset, more noise"),
    ("Regenerate data: next seed", "regenerate('seed')", "Same dataset, another draw"),
    ("Gradients strip", "toggle_health", "Show or hide each layer's gradient norm over time"),
    ("Export loss history as CSV", "export_loss", "Write the loss history to the current folder"),
    ("Save screenshot (SVG)", "screenshot_svg", "Write the screen as SVG to the current folder"),
    ("Help", "help", "Every key"),
    ("Quit", "quit", "Stop training and leave"),
)


class ReportsWaiting(Message):
    """Reports from the training process wait in `mailbox` (coalesced: `tui.mailbox`)."""

    def __init__(self, mailbox: Mailbox) -> None:
        super().__init__()
        self.mailbox = mailbox


class ActionsProvider(Provider):
    """The command palette offers every action the keys do."""

    async def discover(self) -> Hits:
        for name, action, helptext in ACTIONS:
            yield DiscoveryHit(name, partial(self.app.run_action, action), help=helptext)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, action, helptext in ACTIONS:
            score = matcher.match(name)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(name),
                    partial(self.app.run_action, action),
                    help=helptext,
                )


def _key(key: str, action: str, description: str, display: str | None = None, **kw) -> Binding:
    return Binding(key, action, description, key_display=display, priority=True, **kw)


class MicrogradApp(InspectActions, PlayActions, App[int]):
    """Four panes (Dataset, Loss, Parameters, Graph), a status line and the footer."""

    CSS_PATH = str(Path(__file__).with_name("app.tcss").resolve())
    TITLE = "microgradtui"
    COMMANDS = App.COMMANDS | {ActionsProvider}
    BINDINGS = [
        _key("space", "toggle_run", "Run", "space"),
        _key("n", "step_once", "Step"),
        _key("plus", "scale_lr(2.0)", "lr×2", "+"),
        _key("minus", "scale_lr(0.5)", "lr÷2", "-"),
        _key("r", "reset", "Reset"),
        _key("d", "next_dataset", "Data"),
        _key("z", "zoom", "Zoom"),
        _key("question_mark", "help", "Help", "?"),
        _key("q", "quit", "Quit"),
        _key("right_square_bracket", "scale_lr(1.1)", "lr+10%", "]", show=False),
        _key("left_square_bracket", "scale_lr(0.9)", "lr-10%", "[", show=False),
        _key("l", "toggle_log", "Log scale", show=False),
        _key("s", "save", "Save", show=False),
        _key("e", "export_dot", "Export DOT", show=False),
        _key("b", "backprop_next", "Backprop"),
        _key("B", "backprop_stop", "Stop backprop", show=False),
        Binding("escape", "backprop_stop", "Stop backprop", show=False),
        _key("c", "gradcheck", "Check grad"),
        _key("v", "neuron", "Neuron"),
        _key("o", "settings", "Settings"),
        _key("h", "toggle_health", "Gradients", show=False),
        _key("N", "regenerate('noise')", "Noise", show=False),
        _key("S", "regenerate('seed')", "New seed", show=False),
        _key("w", "export_loss", "Loss CSV", show=False),
        _key("p", "screenshot_svg", "Screenshot", show=False),
    ]

    def __init__(
        self,
        config: TrainConfig,
        paused: bool = False,
        load: str | None = None,
        replay: str | None = None,
    ) -> None:
        super().__init__()
        self.terminal_filters = follow_terminal(self.console)  # TERM and the locale
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
        self.mailbox = Mailbox()  # reports waiting for the UI, one per session
        self.training_stopped = False  # the training process died: `r` restarts it
        self.handle_signals = False  # run_app: SIGTERM/SIGHUP end the app cleanly

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

    def get_line_filters(self) -> Sequence[LineFilter]:
        return [*super().get_line_filters(), *self.terminal_filters]

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
            need = f"{TOO_SMALL[0]}x{TOO_SMALL[1]}"
            if width >= 50 and height >= 8:
                notice.update(
                    f"Terminal too small ({width}x{height}): make it at least {need}. "
                    "Training goes on; the keys still work."
                )
            else:  # two short lines, for as little as 20x5 (status and footer take two rows)
                notice.update(f"Terminal too small\n{width}x{height}, need {need}")
            notice.set_class(width < 50 or height < 8, "-cramped")

    # -- the report pump -------------------------------------------------------------------
    @work(thread=True, exclusive=True, name="reports")
    def pump_reports(self) -> None:
        """Block on the report queue and put each report in the mailbox, telling the UI
        (thread-safe) when something new waits; the mailbox coalesces what the UI has not
        taken yet, so reports never pile up faster than the UI takes them."""
        from textual.worker import get_current_worker

        worker = get_current_worker()
        session, mailbox = self.session, self.mailbox
        while self._pumping and not worker.is_cancelled:
            report = session.get(timeout=0.1)
            if report is None and self._pumping and session.process and not session.alive:
                code = session.process.exitcode
                how = f"killed by signal {-code}" if code and code < 0 else f"exit status {code}"
                report = Stopped(f"the training process ended ({how})")
            if report is not None:
                if mailbox.put(report):
                    self.post_message(ReportsWaiting(mailbox))
                if isinstance(report, Stopped):
                    return

    def on_reports_waiting(self, message: ReportsWaiting) -> None:
        if not self.is_running or not self._pumping or message.mailbox is not self.mailbox:
            return
        for report in message.mailbox.take():
            handler = getattr(self, f"_on_{type(report).__name__.lower()}", None)
            if handler is not None:
                handler(report)

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
            with contextlib.suppress(NoMatches):  # the timer may fire while the app shuts down
                self.query_one(ParamTable).set_values(self._table_due)
            self._table_due = None

    def _on_graphview(self, g: GraphView) -> None:
        self.graph_step = g.step
        self.query_one(GraphTree).set_snapshot(g.snapshot, g.step)
        self.query_one("#graph").border_subtitle = f"step {g.step}, {len(g.snapshot)} nodes"
        self.walk_graph_arrived(g.snapshot)

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
        self.session.send("set_grid", message.cols, message.rows)

    def on_graph_tree_node_chosen(self, message: GraphTree.NodeChosen) -> None:
        with contextlib.suppress(NoMatches):  # it may arrive while the app shuts down
            self.show_detail(message.snapshot, message.index)

    def _request_graph(self) -> None:
        if self.state == "running" and self.query_one("#graph").display and self.walk is None:
            self.session.send("send_graph")

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
        self._state_serial = self.session.send("pause" if self.state == "paused" else "resume")
        self.query_one(StatusLine).show(state=self.state)

    def action_step_once(self) -> None:
        if self._if_stopped():
            return
        if self.state == "running":
            self.session.send("pause")
        self.state = "paused"
        self._state_serial = self.session.send("step")
        self.query_one(StatusLine).show(state=self.state)

    def action_scale_lr(self, factor: float) -> None:
        self.lr = self.lr * factor
        self._lr_serial = self.session.send("scale_lr", factor)
        self.query_one(StatusLine).show(lr=self.lr)

    def action_reset(self) -> None:
        if self.training_stopped:
            self.restart_session()
        else:
            self.session.send("reset")

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
        self.mailbox = Mailbox()
        self.pump_reports()
        self.notify("Restarted the training process")

    def action_next_dataset(self) -> None:
        self.session.send("next_dataset")

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
        self.session.send("save", str(path))

    def action_export_dot(self) -> None:
        path = self.save_folder / f"microgradtui-graph-step{max(self.graph_step, 0)}.dot"
        self.session.send("export_dot", str(path))

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """A notice, shown as text: notices quote paths, CSV labels and values the user typed,
        which `[` would otherwise turn into markup (or a MarkupError)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_command_palette(self) -> None:
        """Textual's palette, in a version that a late second enter cannot close twice (and
        without Textual's fixed id, which a palette just closed may still hold: DuplicateIds)."""
        if self.use_command_palette and not Palette.is_open(self):
            self.push_screen(Palette())

    def search_themes(self) -> None:
        """The palette's "Theme" list, in the same guarded palette."""
        self.push_screen(Palette(providers=[ThemeProvider], placeholder="Search for themes…"))

    def search_commands(
        self, commands: Sequence[CommandListItem], placeholder: str = "Search for commands…"
    ) -> AwaitMount:
        """A list of commands, in the same guarded palette."""
        provider = SimpleProvider(self.screen, commands)
        return self.push_screen(Palette(providers=[provider], placeholder=placeholder))

    def action_show_help_panel(self) -> None:
        """Textual's keys panel (the palette's "Keys"): not on a screen already taken down (a
        palette command that ran as the app quit raised MountError, seen in a tmux storm)."""
        if self.screen.is_attached:
            super().action_show_help_panel()

    def pop_screen(self) -> AwaitComplete:
        """Never the main screen: a late close of a closed modal pops nothing."""
        if len(self.screen_stack) <= 1:
            return AwaitComplete.nothing()
        return super().pop_screen()

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
