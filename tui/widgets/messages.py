"""Notices in a place that covers nothing: the message bar (one line above the footer, the
latest notice, highlighted for a moment when it arrives) and the message log (`m`), which
scrolls back through every notice of the session.

A toast over the panes hid what it talked about (the Gradients strip, the Graph's detail, the
backprop walk's lines, at 80x24 half the Graph pane: issue 12 item 4). `GuardedApp.notify`
sends every notice here.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.notifications import Notification
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.screens.on_top import OnTop

STYLES = {"information": "", "warning": "bold yellow", "error": "bold red"}
MARKS = {"information": "·", "warning": "!", "error": "✖"}
FRESH = 2.0  # seconds the bar stays highlighted after a new notice: the brief flash


def one_line(note: Notification) -> Text:
    """The notice as text (never markup: notices quote paths and values the user typed)."""
    text = Text(f"{MARKS.get(note.severity, '·')} ", STYLES.get(note.severity, ""))
    if note.title:
        text.append(f"{note.title}: ", "bold")
    text.append(" ".join(note.message.split()), STYLES.get(note.severity, ""))
    return text


class MessageBar(Static):
    """The latest notice on one line (cut at the edge; `m` shows it whole in the log)."""

    def show(self, note: Notification) -> None:
        self.update(one_line(note))
        self.add_class("-fresh")
        self.set_timer(FRESH, lambda: self.remove_class("-fresh"))

    @property
    def text(self) -> str:
        return str(self.render())


class MessageLog(OnTop, ModalScreen[None]):
    """Every notice so far, oldest first, scrolled to the newest; escape, q or m closes it."""

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
        Binding("m", "close", "Close", show=False),
    ]

    def __init__(self, notes: list[Notification]) -> None:
        super().__init__()
        self.notes = list(notes)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="message-log") as box:
            box.border_title = f"Messages: {len(self.notes)} (escape closes)"
            lines = Text("\n").join(
                Text(datetime.fromtimestamp(n.raised_at).strftime("%H:%M:%S "), "dim") + one_line(n)
                for n in self.notes
            )
            yield Static(lines or Text("No messages yet", "dim"), id="message-lines")

    def on_mount(self) -> None:
        self.query_one("#message-log").scroll_end(animate=False)

    def action_close(self) -> None:
        self.dismiss()
