"""The message log (`m`): the session's notices (the last MESSAGES_KEPT), oldest first, to
scroll back through; new notices join it while it is open (issue 12)."""

from __future__ import annotations

from collections import deque
from collections.abc import Collection
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.notifications import Notification
from textual.widgets import Static

from tui.screens.modal import Modal
from tui.widgets.messages import one_line
from tui.widgets.scroll import ScrollBox


def stamped(note: Notification) -> Text:
    """The notice's line in the log: its time, then the notice as text."""
    return Text(datetime.fromtimestamp(note.raised_at).strftime("%H:%M:%S "), "dim") + one_line(
        note
    )


# Notices kept for the log. A person reads a few dozen; a key storm or a long session gave tens
# of thousands, each kept and each redrawn into the open log's text on every new one.
MESSAGES_KEPT = 1000


class MessageLog(Modal[None]):
    """Every notice so far, oldest first, scrolled to the newest; escape, q or m closes it."""

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
        Binding("m", "close", "Close", show=False),
    ]

    def __init__(self, notes: Collection[Notification], seen: int | None = None) -> None:
        super().__init__()
        self.notes = deque(notes, maxlen=MESSAGES_KEPT)  # its own: new ones join while open
        self.seen = len(notes) if seen is None else seen  # notices given, the dropped included

    def compose(self) -> ComposeResult:
        with ScrollBox(id="message-log") as box:
            box.border_title = self._title()
            yield Static(self._lines(), id="message-lines")
        yield from self.foot()

    def _title(self) -> str:
        if self.seen > len(self.notes):
            return f"Messages: the last {len(self.notes):,} of {self.seen:,} (escape closes)"
        return f"Messages: {len(self.notes)} (escape closes)"

    def _lines(self) -> Text:
        return Text("\n").join(stamped(n) for n in self.notes) or Text("No messages yet", "dim")

    def on_mount(self) -> None:
        if self.closed:
            return
        self.query_one("#message-log").scroll_end(animate=False)

    def add(self, note: Notification) -> None:
        """A notice given while the log is open joins it at the end. A reader at the end (the
        newest) follows it there; one who scrolled back stays on what they are reading."""
        self.notes.append(note)  # the oldest goes beyond MESSAGES_KEPT
        self.seen += 1
        boxes = self.query("#message-log")
        if not boxes:  # not composed yet (it composes with self.notes) or already closed
            return
        box = boxes.first()
        at_end = box.scroll_y >= box.max_scroll_y
        box.border_title = self._title()
        self.query_one("#message-lines", Static).update(self._lines())
        if at_end:
            box.call_after_refresh(box.scroll_end, animate=False)

    def action_close(self) -> None:
        self.dismiss()
