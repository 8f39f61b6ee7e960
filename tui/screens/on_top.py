"""Screens that close only while they are on top.

`Screen.dismiss` pops whatever screen is on top. Keys sent quickly (escape escape, or enter
enter in the command palette) can reach a screen after it has closed, and its second dismiss
then popped the screen below it, or raised `ScreenStackError` on the main one. Here a screen
that is no longer the active one ignores the request, and one that has not finished mounting
(escape sent with the key that opened it) closes once it has.
"""

from __future__ import annotations

from typing import Any

from textual.await_complete import AwaitComplete
from textual.command import CommandPalette


class OnTop:
    """Mixed in before a Screen class: `dismiss` does nothing unless this screen is on top."""

    def dismiss(self: Any, result: Any = None) -> AwaitComplete:
        if not self.is_active:
            return AwaitComplete.nothing()
        if not self.is_mounted:  # closed by a key sent with the one that opened it: once its
            self.call_later(self.dismiss, result)  # on_mount has run (it queries its widgets)
            return AwaitComplete.nothing()
        return super().dismiss(result)


class Palette(OnTop, CommandPalette):
    """Textual's command palette, closing only while it is on top.

    Its search runs in a worker that could start or finish after the palette had closed (a
    key storm: letters, then escape or enter), and then found its list gone (NoMatches, an
    exit with status 1, seen in tmux): searches start only while the palette is on top, and
    closing it cancels them.
    """

    def dismiss(self, result: Any = None) -> AwaitComplete:
        if self.is_active:
            self._cancel_gather_commands()
        return super().dismiss(result)

    @property
    def _open(self) -> bool:
        return self.is_attached and self.is_active

    def _gather_commands(self, search_value: str) -> None:
        if self._open:
            super()._gather_commands(search_value)

    # Textual's own handlers that look up the palette's widgets, run once it has closed by keys
    # still on their way (each seen in a tmux key storm): nothing to do on a closed palette.
    def _refresh_command_list(self, *args: Any, **kwargs: Any) -> None:
        if self._open:
            super()._refresh_command_list(*args, **kwargs)

    def _action_command_list(self, action: str) -> None:
        if self._open:  # PgUp/PgDn before the list is laid out: see tui/guarded_app.py
            super()._action_command_list(action)

    def _action_cursor_down(self) -> None:
        if self._open:
            super()._action_cursor_down()

    def _watch__list_visible(self) -> None:
        if self._open:
            super()._watch__list_visible()

    async def _watch__show_busy(self) -> None:
        if self._open:
            await super()._watch__show_busy()
