"""Notices in a place that covers nothing: the message bar (one line above the footer, the
latest notice, highlighted for a moment when it arrives; each modal screen has one too) and the
message log (`m`, `tui.screens.message_log`), which scrolls back through every notice.

A toast over the panes hid what it talked about (the Gradients strip, the Graph's detail, the
backprop walk's lines, at 80x24 half the Graph pane: issue 12 item 4). `GuardedApp.notify`
sends every notice here.
"""

from __future__ import annotations

from rich.text import Text
from textual.notifications import Notification
from textual.widgets import Static

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
