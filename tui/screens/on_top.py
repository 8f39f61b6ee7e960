"""Screens that close only while they are on top.

`Screen.dismiss` pops whatever screen is on top. Keys sent quickly (escape escape, or enter
enter in the command palette) can reach a screen after it has closed, and its second dismiss
then popped the screen below it, or raised `ScreenStackError` on the main one. Here a screen
that is no longer the active one ignores the request.
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
        return super().dismiss(result)


class Palette(OnTop, CommandPalette):
    """Textual's command palette, closing only while it is on top."""
