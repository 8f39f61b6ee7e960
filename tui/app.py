"""The microgradtui app: composes the panes, turns keys into commands, routes each report.

Training runs in a child process (`tui.training`), reached through a `Session`; one thread
worker blocks on its report queue and puts each report in a `Mailbox` (which coalesces what the
UI has not taken yet), telling the UI when something waits; the UI looks up each report's class
in `report_handlers` and hands it to the pane that shows it. The
run as the app knows it (state, lr, last step, settings) is a plain `RunMirror`; the status line
shows it. The keys are the table in `tui.keys`. If the training process dies, the status reads
`stopped`, a notice says so, and `r` starts a new one from the same configuration (or
checkpoint).
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing.resource_tracker
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.await_complete import AwaitComplete
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Grid
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from micrograd.fileio import WriteError, write_new
from micrograd.train import StepReport, TrainConfig
from tui.formatting import taken_note
from tui.guarded_app import GuardedApp
from tui.hangup import leave_on_hangup
from tui.keys import bindings, palette_entries
from tui.mailbox import Mailbox
from tui.protocol import (
    AddPoint,
    ArrayReport,
    AskNeuron,
    CheckGradient,
    Configure,
    DataEdited,
    DatasetView,
    EnginesReport,
    ExportDot,
    ExportHistory,
    FiltersReport,
    GradCheckView,
    GraphView,
    LrChanged,
    ModelView,
    NeuronView,
    NextDataset,
    Notice,
    Progress,
    RemovePoint,
    Report,
    Save,
    SendGraph,
    SetGrid,
    SplitDots,
    Stopped,
)
from tui.run_state import RunMirror
from tui.screens.help import HelpScreen
from tui.screens.neuron import NEURON, NeuronScreen
from tui.screens.scratch import LECTURE, ScratchScreen
from tui.screens.settings import SettingsScreen
from tui.session import Session
from tui.tensor_app import TensorPanes, shows_images
from tui.widgets.dataset import BoundaryView, DatasetPane, SampleChosen
from tui.widgets.graph_pane import GraphPane
from tui.widgets.health import GradientHealth
from tui.widgets.key_footer import KeyFooter
from tui.widgets.loss import LossPlot
from tui.widgets.messages import MessageBar
from tui.widgets.params import ParamTable
from tui.widgets.status import StatusLine

GRAPH_EVERY = 2.0  # seconds between graph refreshes while running
NARROW = (100, 32)  # below this width or height: the compact layout
TOO_SMALL = (60, 16)  # below this: a notice instead of the panes (keys still work)
# Textual's focus moves: what tab and shift+tab do on every screen, the forms' included
SCREEN_ACTIONS = frozenset({"focus_next", "focus_previous"})
KEYS_BUSY = 1.0  # seconds after a key press during which the panes redraw less often
COVERED_EVERY = 0.5  # seconds between the panes' updates while a modal covers them
# what a modal shows, or what must not wait (taken at once, even under a modal)
TAKEN_AT_ONCE = (NeuronView, GradCheckView, Notice, Stopped, LrChanged, DatasetView)
TAKEN_AT_ONCE += (ArrayReport, FiltersReport, EnginesReport)  # the tensor views'


class ReportsWaiting(Message):
    """Reports from the training process wait in `mailbox` (coalesced: `tui.mailbox`)."""

    def __init__(self, mailbox: Mailbox) -> None:
        super().__init__()
        self.mailbox = mailbox


class ActionsProvider(Provider):
    """The command palette offers every action the keys do (`tui.keys`)."""

    async def discover(self) -> Hits:
        for k in palette_entries():
            yield DiscoveryHit(k.name, partial(self.app.run_action, k.action), help=k.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for k in palette_entries():
            score = matcher.match(k.name)
            if score > 0:
                run = partial(self.app.run_action, k.action)
                yield Hit(score, matcher.highlight(k.name), run, help=k.help)


class MicrogradApp(GuardedApp[int]):
    """Four panes (Dataset, Loss, Parameters, Graph), a status line and the footer."""

    CSS_PATH = str(Path(__file__).with_name("app.tcss").resolve())
    TITLE = "microgradtui"
    COMMANDS = App.COMMANDS | {ActionsProvider}
    BINDINGS = bindings("app")

    def __init__(
        self,
        config: TrainConfig,
        paused: bool = False,
        load: str | None = None,
        replay: str | None = None,
        expr: str | None = None,
        lecture: bool = False,
    ) -> None:
        super().__init__()
        # Start the resource tracker before Textual replaces stderr (else spawn fails).
        multiprocessing.resource_tracker.ensure_running()
        self.config = config
        self.replay = replay  # a replay shows the checkpoint `load`, read-only
        self.session = Session(config, paused or bool(replay), replay or load, bool(replay))
        self.mirror = RunMirror(self.session.send, config, paused)
        # `s`, `e`, `w`, `p` write here: the folder the app was started in, whatever happens
        self.save_folder = Path.cwd()
        self._pumping = True
        self.mailbox = Mailbox()  # reports waiting for the UI, one per session
        self._replay_told = False
        self._last_key = -KEYS_BUSY  # when the last key arrived (time.monotonic)
        self._reports_taken = 0.0  # when the UI last took reports (time.monotonic)
        self._reports_later = False  # a timer will take them (a modal is open: COVERED_EVERY)
        self.handle_signals = False  # run_app: SIGTERM/SIGHUP end the app cleanly
        self.freeze_gc = False  # run_app: what is alive once started is frozen (freeze_started)
        self.scratch_text = expr  # the scratch pad's expression (--expr opens it at once)
        self.split_dots = lecture  # the graph shows neurons as the lecture's * and + (u)
        self.tensor = TensorPanes(self)  # what a run on the tensor engine shows

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        yield Static("", id="too-small")
        with Grid(id="panes"):
            yield DatasetPane(id="dataset", classes="pane")
            yield LossPlot(id="loss", classes="pane")
            yield ParamTable(id="params", classes="pane")
            yield GraphPane(id="graph", classes="pane")
            yield GradientHealth(id="health")
        yield MessageBar("", id="message-bar")
        yield KeyFooter()

    def on_mount(self) -> None:
        for pane, title in (
            (DatasetPane, "Dataset"),
            (LossPlot, "Loss"),
            (ParamTable, "Parameters"),
            (GraphPane, "Graph"),
            (GradientHealth, "Gradients"),
        ):
            self.query_one(pane).border_title = title
        self.query_one(ParamTable).show_subtitle()
        self.show_run()
        self.session.start()
        if self.split_dots:
            self.session.send(SplitDots(True))
        self.pump_reports()
        self.set_interval(GRAPH_EVERY, self._request_graph)
        self.query_one(ParamTable).focus()
        if self.scratch_text is not None:
            self.action_scratch()
        if self.handle_signals:
            leave_on_hangup(self.leave, self.is_web)
        if self.freeze_gc:
            self.call_after_refresh(freeze_started)

    # -- what the tests and the status line read ------------------------------------------------
    @property
    def graph(self) -> GraphPane:
        return self.query_one(GraphPane)

    @property
    def last_report(self) -> StepReport | None:
        return self.mirror.last_report

    @property
    def reported_state(self) -> str:
        return self.mirror.reported_state

    @property
    def run_config(self) -> TrainConfig:
        return self.mirror.run_config

    @property
    def graph_step(self) -> int:
        return self.graph.graph_step

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            self._last_key = time.monotonic()
        await super().on_event(event)

    def keys_busy(self) -> bool:
        """A key arrived within KEYS_BUSY seconds: the panes that cost most to redraw (the loss
        plot, the parameters table) redraw less often, so fewer repaints hold a key back."""
        return time.monotonic() - self._last_key < KEYS_BUSY

    def show_run(self) -> None:
        """The status line shows the mirror (it repaints only if what it shows changed)."""
        prefix = f"replay of {Path(self.replay).name}: " if self.replay else ""
        self.query_one(StatusLine).run = self.mirror.shown(prefix)

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

    # -- reports --------------------------------------------------------------------------------
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
        if self._covered_wait(message.mailbox):
            return
        handlers = self.report_handlers()
        for report in message.mailbox.take():
            handlers[type(report)](report)

    def _covered_wait(self, mailbox: Mailbox) -> bool:
        """Under a modal the panes take reports at most every COVERED_EVERY seconds (the
        mailbox holds and coalesces them meanwhile); what the modal itself shows comes at once.
        Each change of the panes under a modal redrew the whole dimmed screen behind it: with
        any modal open on the conv digits run the UI took 31-36% of a core instead of 8-9%,
        and training ran 15-25% slower on 2 cores (measured in tmux, session 5)."""
        if not self.screen.is_modal or mailbox.holds(TAKEN_AT_ONCE):
            self._reports_taken = time.monotonic()
            return False
        wait = self._reports_taken + COVERED_EVERY - time.monotonic()
        if wait <= 0:
            self._reports_taken = time.monotonic()
            return False
        if not self._reports_later:  # one timer at a time; it asks again
            self._reports_later = True
            self.set_timer(wait, partial(self._take_reports_later, mailbox))
        return True

    def _take_reports_later(self, mailbox: Mailbox) -> None:
        self._reports_later = False
        if len(mailbox):
            self.post_message(ReportsWaiting(mailbox))

    def pop_screen(self) -> AwaitComplete:
        """A modal closed: the panes take what waits at once, not at the next timer."""
        done = super().pop_screen()
        self._reports_taken = -COVERED_EVERY
        self.call_later(self._take_reports_later, self.mailbox)
        return done

    def report_handlers(self) -> dict[type[Report], Callable[[Any], None]]:
        """Where each report goes (a test checks that every report class has a place)."""
        return {
            Progress: self._on_progress,
            DatasetView: self._on_dataset_view,
            ModelView: self._on_model_view,
            GraphView: self._on_graph_view,
            LrChanged: self._on_lr_changed,
            Notice: self._on_notice,
            Stopped: self._on_stopped,
            DataEdited: self._on_data_edited,
            GradCheckView: self._on_grad_check_view,
            NeuronView: self._on_neuron_view,
            **self.tensor.handlers(),
        }

    def _on_progress(self, p: Progress) -> None:
        self.mirror.progress(p)
        self.query_one(ParamTable).show_phase(self.mirror.phase, self.mirror.zero_grad)
        if p.reports:
            self.query_one(LossPlot).add_points((r.step, r.loss, r.test_loss) for r in p.reports)
        self.show_run()

    def _on_dataset_view(self, d: DatasetView) -> None:
        self.mirror.new_run(d)
        # two classes trained against targets +1/-1 (hinge, mse, sse: all but bce): the table
        # shows the targets the loss uses, as the lecture writes ys = [1.0, -1.0, -1.0, 1.0]
        signed = d.n_classes == 2 and d.config.get("loss") != "bce"
        # a tensor run of images shows the digits page: its samples table stays empty (filled,
        # the hidden table built a Text per cell, 67 columns x 1,000 rows: the UI's memory grew
        # by about 7 MiB over the first 10,000 steps as they were built)
        self.query_one(DatasetPane).show_dataset(
            d.name, d.input_dim, d.X_train, d.y_train, d.X_test, d.y_test, d.classes, signed,
            images=shows_images(d.config or {}),
        )  # fmt: skip
        if d.classes:
            named = ", ".join(f"{i}={c}" for i, c in enumerate(d.classes))
            self.notify(f"Classes: {named}", timeout=6)
        self.query_one(LossPlot).clear_history()
        self.query_one(ParamTable).set_names(d.param_names)
        self.graph.clear()
        self.query_one(GradientHealth).clear()
        self.tensor.new_run(d)
        self.show_run()
        if self.replay is not None and not self._replay_told:
            self._replay_told = True
            name = Path(self.replay).name
            self.notify(
                f"Replay of {name}: its loss history and final weights, read-only. "
                f"microgradtui --load {name} trains on from there.",
                timeout=10,
            )

    def _on_model_view(self, m: ModelView) -> None:
        self.query_one(DatasetPane).show_model(
            m.grid, m.bounds, m.sample_predictions, m.sample_outputs
        )
        running = self.mirror.state == "running"
        self.query_one(ParamTable).offer(m.params, running, busy=self.keys_busy())
        for text, severity in self.query_one(GradientHealth).add(m.health):
            self.notify(text, severity=severity, timeout=8)

    def _on_graph_view(self, g: GraphView) -> None:
        self.graph.show_graph(self.tensor.tree_snapshot(g.snapshot), g.step, g.phase)

    def _on_lr_changed(self, c: LrChanged) -> None:
        self.query_one(LossPlot).mark_lr(c.step, c.lr)

    def _on_notice(self, n: Notice) -> None:
        self.notify(n.text, severity=n.severity, timeout=8 if n.severity == "error" else 4)

    def _on_stopped(self, s: Stopped) -> None:
        if s.error:
            self.mirror.died()
            self.show_run()
            self.notify(
                f"Training stopped: {s.error.strip().splitlines()[-1]}. "
                "Press r to restart it from the same configuration.",
                severity="error",
                timeout=30,
            )

    def _on_data_edited(self, e: DataEdited) -> None:
        self.query_one(DatasetPane).show_points(e.X_train, e.y_train, e.X_test, e.y_test)

    def _on_grad_check_view(self, c: GradCheckView) -> None:
        self.graph.show_check(c)
        if c.element:  # one element of a tensor node: the array screen may have asked
            self.tensor.on_check(c)

    def _on_neuron_view(self, view: NeuronView) -> None:
        screen = self.screen
        if isinstance(screen, NeuronScreen) and screen.name_shown == view.name:
            screen.show_view(view)

    # -- what the panes ask for -----------------------------------------------------------------
    def on_boundary_view_grid_resized(self, message: BoundaryView.GridResized) -> None:
        self.session.send(SetGrid(message.cols, message.rows))

    def on_boundary_view_point_edit(self, message: BoundaryView.PointEdit) -> None:
        point = (message.x, message.y)
        if message.label is None:
            self.session.send(RemovePoint(point))
        else:
            self.session.send(AddPoint(point, message.label))

    def on_sample_chosen(self, message: SampleChosen) -> None:
        """A sample chosen in the Dataset pane: its branch in the Graph, or why not."""
        if message.index is None:
            self.notify("No point to choose: the data has none in view", timeout=3)
        elif message.test:
            self.notify(f"Test point {message.index} (hollow): the graph is a training step's, "
                        "test points are not in it", timeout=4)  # fmt: skip
        elif not self.tensor.scalar_only("graph's branch of a sample"):
            with contextlib.suppress(NoMatches):  # it may arrive while the app shuts down
                self.graph.show_sample(message.index)

    def on_graph_pane_check_requested(self, message: GraphPane.CheckRequested) -> None:
        self.session.send(CheckGradient(message.step, message.index, message.name))

    def on_graph_pane_walk_requested(self, message: GraphPane.WalkRequested) -> None:
        self.tensor.ask_walk(message.step)

    def _request_graph(self) -> None:
        graph = self.graph
        if self.mirror.state == "running" and graph.display and graph.walk is None:
            self.session.send(SendGraph())

    # -- keys (the table in tui.keys) -----------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The keys of the table belong to the main screen: over help, a form or the palette they
        pass through; Textual's own moves (tab, shift+tab between a form's fields) work there."""
        return action in SCREEN_ACTIONS or not self.screen.is_modal

    def _refused_while_stopped(self) -> bool:
        """True (and a notice) if the training process has died: only `r` helps then."""
        if self.mirror.stopped:
            self.notify("The training process has stopped: press r to restart it", timeout=4)
        return self.mirror.stopped

    def action_toggle_run(self) -> None:
        if not self._refused_while_stopped():
            self.mirror.toggle_run()
            self.show_run()

    def action_step_once(self) -> None:
        if not self._refused_while_stopped():
            self.mirror.step_once()
            self.show_run()

    def action_scale_lr(self, factor: float) -> None:
        self.mirror.scale_lr(factor)
        self.show_run()

    def action_step_phase(self) -> None:
        if not self._refused_while_stopped():
            self.mirror.step_phase()
            self.show_run()

    def action_toggle_zero_grad(self) -> None:
        if self.tensor.active:  # the tensor engine's steps always zero the grads
            self.notify("G (skip zero_grad) works on the scalar engine only: "
                        "E switches engine", timeout=4)  # fmt: skip
            return
        self.mirror.toggle_zero_grad()
        self.show_run()

    def action_change_speed(self, faster: bool) -> None:
        self.mirror.change_speed(faster)
        self.show_run()

    def action_reset_lr(self) -> None:
        self.mirror.reset_lr()
        self.show_run()

    def action_reset(self) -> None:
        if self.mirror.stopped:
            self.restart_session()
        else:
            self.mirror.reset()
            self.show_run()

    def restart_session(self) -> None:
        """A new training process from the same configuration (or checkpoint), running."""
        old = self.session
        self._pumping = False
        old.stop()
        self.session = Session(old.config, bool(old.replay), old.load, old.replay)
        self.mirror.restarted(self.session.send)
        self.show_run()
        self.session.start()
        self._pumping = True
        self.mailbox = Mailbox()
        self.pump_reports()
        self.notify("Restarted the training process")

    def action_next_dataset(self) -> None:
        self.session.send(NextDataset())

    def action_toggle_log(self) -> None:
        log = self.query_one(LossPlot).toggle_log()
        self.notify(f"Loss: {'log' if log else 'linear'} scale", timeout=2)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's palette commands but "Maximize": `z` (the palette's "Zoom pane") zooms a
        pane and keeps the status line and the messages, where Textual's maximize hid both
        (a tmux key storm picked it from the palette and the status line was gone)."""
        for command in super().get_system_commands(screen):
            if command.title != "Maximize":
                yield command

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

    def action_toggle_health(self) -> None:
        strip = self.query_one(GradientHealth)
        visible = strip.display  # hidden by default in a small terminal (app.tcss)
        strip.set_class(visible, "-hidden").set_class(not visible, "-shown")

    # a tensor run's own (tui.tensor_app), and its panes' messages
    def action_filters(self) -> None:
        self.tensor.open_filters()

    def action_compare_engines(self) -> None:
        self.tensor.open_engines()

    def action_switch_engine(self) -> None:
        self.tensor.switch_engine()

    def action_node_arrays(self) -> None:
        self.tensor.open_node_arrays()

    def on_tensor_param_table_array_chosen(self, message: Any) -> None:
        self.tensor.open_array(message.name)

    def on_digits_view_page_requested(self, message: Any) -> None:
        self.tensor.ask_page(message.start)

    def on_digits_view_image_chosen(self, message: Any) -> None:
        self.tensor.choose_image(message.index)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_toggle_split(self) -> None:
        """The graph's neurons as the lecture's * and + nodes, or as one fused dot."""
        if self.tensor.scalar_only("lecture's * and + view of a neuron"):
            return
        self.split_dots = not self.split_dots
        self.session.send(SplitDots(self.split_dots))
        shown = "as the lecture's * and + nodes" if self.split_dots else "as one dot node each"
        self.notify(f"Graph: neurons {shown} (same numbers)", timeout=3)

    def action_scratch(self) -> None:
        """The scratch pad on the last expression typed there (the lecture's, at first)."""
        self.push_screen(ScratchScreen(self.scratch_text or LECTURE), self._scratch_done)

    def _scratch_done(self, text: str | None) -> None:
        self.scratch_text = text or self.scratch_text

    # the graph pane's keys
    def action_backprop_next(self) -> None:
        self.graph.backprop_next()

    def action_backprop_under(self) -> None:
        if not self.tensor.scalar_only("backprop walk"):
            self.graph.backprop_under()

    def action_backprop_stop(self) -> None:
        self.graph.backprop_stop()

    def _selection(self) -> tuple[str, Any]:
        """("param", name) or ("node", index): the focused table's row, else the graph's
        cursor, else the table's; ("", None) when there is neither."""
        table = self.query_one(ParamTable)
        if isinstance(self.focused, ParamTable) and table.row_count:
            return "param", table.selected_name()
        index = self.graph.cursor_index()
        if index is not None:
            return "node", index
        if table.row_count:
            return "param", table.selected_name()
        return "", None

    def action_gradcheck(self) -> None:
        kind, what = self._selection()
        self.graph.request_check(name=what if kind == "param" else None)

    def action_neuron(self) -> None:
        if self.tensor.active:  # a unit of a Linear layer (tui.tensor_app)
            self.tensor.open_neuron()
            return
        kind, what = self._selection()
        name = str(what) if kind == "param" else self.graph.label(what) if kind == "node" else ""
        match = NEURON.match(name)
        if match is None:
            self.notify(
                "Select a neuron first: a parameter row L0.N3.* or a graph node labelled L0.N3",
                timeout=4,
            )
            return
        self.push_screen(NeuronScreen(int(match[1]), int(match[2]), self.request_neuron))

    def request_neuron(self, layer: int, neuron: int, cols: int, rows: int) -> None:
        self.session.send(AskNeuron(layer, neuron, cols, rows))

    # new runs
    def action_regenerate(self, what: str) -> None:
        new = self.mirror.regenerated(what)
        if new is None:
            self.notify("Noise and seed make generated data: this run reads a CSV", timeout=4)
        else:
            self.start_run(*new)

    def action_settings(self) -> None:
        self.push_screen(SettingsScreen(self.mirror.run_config), self._settings_done)

    def _settings_done(self, config: TrainConfig | None) -> None:
        if config is not None:
            self.start_run(config, "Settings applied")

    def start_run(self, config: TrainConfig, why: str) -> None:
        """A new run with `config` in the training process (which says if it cannot)."""
        self.session.send(Configure(config.to_dict(), why))
        if self.replay is None:  # a restart after a crash starts from these settings
            self.session.config = config
            self.session.load = None

    # files, each in the folder the app was started in, under a new name
    def action_save(self) -> None:
        self.session.send(Save(str(self.save_folder / self.mirror.save_name())))

    def action_export_dot(self) -> None:
        path = self.save_folder / f"microgradtui-graph-step{max(self.graph_step, 0)}.dot"
        self.session.send(ExportDot(str(path)))

    def action_export_loss(self) -> None:
        name = f"microgradtui-loss-step{self.mirror.step}.csv"
        self.session.send(ExportHistory(str(self.save_folder / name)))

    def action_screenshot_svg(self) -> None:
        name = f"microgradtui-screen-step{self.mirror.step}.svg"
        if self.is_web:  # in a browser: Textual offers it as a download
            self.deliver_screenshot(name)
            return
        path = self.save_folder / name
        try:  # a new file: never over one already there (another run's, or an earlier `p`)
            written = write_new(path, self.export_screenshot())
        except WriteError as exc:
            self.notify(f"Could not save the screenshot: {exc}", severity="error", timeout=8)
            return
        self.notify(  # the file's name first: at 80 columns the bar cuts a long folder's end
            f"Saved the screen as {written.name}{taken_note(path, written)} in {written.parent}",
            timeout=4,
        )

    # leaving
    async def action_quit(self) -> None:
        self.stop_session()
        self.exit(0)

    def stop_session(self) -> None:
        """Stop the pump and the training process (within about a second)."""
        self._pumping = False
        self.session.stop()

    def on_unmount(self) -> None:
        self.stop_session()


def freeze_started() -> None:
    """Keep what is alive now (modules, classes, the panes: some 200,000 objects) out of the
    cyclic garbage collector's full passes, which otherwise scan it all again every few seconds
    on the UI thread: 80 ms each, every 10 s, while training the conv model on tensors; 25 ms
    frozen (benchmarks/README.md). Only in the app's own process (`run_app`): frozen objects
    are never collected, and tests start many apps in one process."""
    gc.collect()
    gc.freeze()


def run_app(
    config: TrainConfig,
    paused: bool = False,
    load: str | None = None,
    replay: str | None = None,
    expr: str | None = None,
    lecture: bool = False,
) -> int:
    """Run the app in this terminal (resuming the checkpoint `load`, or showing the checkpoint
    `replay` read-only, if given; opening the scratch pad on `expr`, if given)."""
    multiprocessing.resource_tracker.ensure_running()
    app = MicrogradApp(config, paused=paused, load=load, replay=replay, expr=expr, lecture=lecture)
    app.handle_signals = True
    app.freeze_gc = True
    try:
        app.run()
    finally:
        app.stop_session()
    return app.return_code or 0
