"""What every modal screen has at its foot: a message line and a footer of its own keys.

At 80x24 a modal covered the app's footer and message bar: its keys were nowhere on screen, and
a notice given while it was open (a screenshot saved, a check made) could not be seen (issue 12).
Each modal ends its `compose` with `yield from self.foot()`: the line of the latest notice
(`GuardedApp.notify` writes it on every screen's bar) and a `KeyFooter` of the modal's own
bindings. `p` saves the screen as the user sees it, the modal included (the app's own `p` is
one of the main screen's keys; over a modal it passes through to this one), except in a text
field, where `p` is a letter (Textual leaves printable keys to the field).
"""

from __future__ import annotations

from typing import Any, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen

from tui.screens.on_top import OnTop
from tui.widgets.key_footer import KeyFooter
from tui.widgets.messages import MessageBar

ResultType = TypeVar("ResultType")

SCREENSHOT = "screenshot_svg"  # the app's action that saves the screen (tui.app)


class Modal(OnTop, ModalScreen[ResultType]):
    """A modal screen with a message line and its own footer (`foot`), and `p` for a screenshot."""

    BINDINGS = [Binding("p", "screenshot", "Screenshot")]

    @property
    def closed(self) -> bool:
        """Popped already: a late close (of the screen under it, say) can reach the app just
        after this one was pushed and pop it before its on_mount ran; its widgets are gone
        then (a query raised NoMatches: exit status 1 in a tmux key storm)."""
        return self not in self.app.screen_stack

    @property
    def ready(self) -> bool:
        """Mounted and still open: its widgets can be queried. A reply to an earlier view's
        request can arrive before a new one has mounted (it asks again in on_mount)."""
        return self.is_mounted and not self.closed

    def foot(self) -> ComposeResult:
        with Vertical(classes="modal-foot"):
            yield MessageBar("")
            yield KeyFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "screenshot":  # only in an app that saves screenshots (not --expr alone)
            return hasattr(self.app, f"action_{SCREENSHOT}")
        return True

    def action_screenshot(self) -> None:
        save: Any = getattr(self.app, f"action_{SCREENSHOT}", None)
        if save is not None:
            save()
