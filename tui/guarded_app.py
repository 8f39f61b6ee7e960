"""The App's defences, apart from what microgradtui does: notices shown as text, a command
palette and a screen stack that fast keys cannot break, and drawing that follows the terminal.

Each was a crash or a wrong picture users met (issues 12 and 13; tests/test_crash.py): a user
string read as markup, a palette closed twice by `enter enter`, the main screen popped by a late
escape, PgUp/PgDn in a list not laid out, colours or characters the terminal cannot show,
notices that covered the panes.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from types import FunctionType
from typing import TypeVar

import rich.cells
import textual.dom
from rich.style import Style
from textual._styles_cache import StylesCache
from textual.app import App
from textual.await_complete import AwaitComplete
from textual.cache import LRUCache
from textual.color import Color
from textual.command import CommandListItem, SimpleProvider
from textual.dom import DOMNode
from textual.filter import LineFilter
from textual.notifications import Notification, SeverityLevel
from textual.strip import Strip
from textual.theme import ThemeProvider
from textual.widget import AwaitMount
from textual.widgets import OptionList

from tui.screens.message_log import MESSAGES_KEPT, MessageLog
from tui.screens.on_top import Palette
from tui.terminal import follow_terminal
from tui.widgets.messages import MessageBar

ReturnType = TypeVar("ReturnType")

_move_page = OptionList._move_page


def _move_page_when_laid_out(self: OptionList, direction: int) -> None:
    """PgUp/PgDn in an OptionList (the command palette, a settings choice list) whose lines are
    not laid out, because it has no width yet (just opened, or a terminal of 20x5 or being
    resized), raised KeyError in Textual 8.2 (`_index_to_line` is empty there; the same bug is
    reported against Textual's Select overlay elsewhere): there the key does nothing, as a page
    key does in an empty list. Found by a tmux key storm with resizes (exit status 1)."""
    try:
        _move_page(self, direction)  # reads the layout before it changes the highlight
    except (KeyError, IndexError):
        pass


OptionList._move_page = _move_page_when_laid_out  # every OptionList of the app, Textual's too

_crop_extend = Strip.crop_extend


def _crop_extend_without_a_cycle(self: Strip, start: int, end: int, style: Style | None) -> Strip:
    """Textual 8.2 caches the result of `crop_extend` in the strip itself, and when nothing is
    to crop or extend the result is the strip: a reference cycle, so every rendered line that
    went through it (a Line-API widget's lines, each frame) lived on until a full collection,
    every 10-20 s, and the allocator kept the peak (the UI's RSS grew over the first ~4,000
    steps of the issue-15 conv run). Here that case returns the strip uncached: it is freed when
    its last user lets go."""
    if start <= 0 and end == self.cell_length:
        return self  # nothing to crop or extend: what Textual returns, not cached
    return _crop_extend(self, start, end, style)


Strip.crop_extend = _crop_extend_without_a_cycle

_divide = Strip.divide


def _divide_without_a_cycle(self: Strip, cuts: Iterable[int]) -> list[Strip]:
    """The same for `divide`: the compositor divides each rendered line at its cuts, and a line
    with one cut, at its end, is divided into [the line itself], which Textual cached in the
    line (634 strips in such cycles in 5 s of the conv run, after the patch above)."""
    cuts = [cut for cut in cuts if cut <= self.cell_length]
    if cuts == [self.cell_length]:
        return [self]  # what Textual returns, not cached
    return _divide(self, cuts)


Strip.divide = _divide_without_a_cycle

_lru_clear = LRUCache.clear
_lru_discard = LRUCache.discard


def _clear_without_a_cycle(self: LRUCache) -> None:
    """Textual's LRUCache keeps its entries in a ring of [previous, next, key, value] links, and
    `clear` drops the dict and the head but leaves the ring: a cycle holding every cached value
    until a full collection. DataTable and Tree caches emptied after each update (the Parameters
    table's RowRenderables and cell Texts, the Graph's lines) were most of the UI's cyclic
    garbage on the issue-15 conv run (about 2,000 objects in 5 s). Here the links are emptied
    first, so the values are freed at once."""
    for link in self._cache.values():
        link.clear()
    _lru_clear(self)


def _discard_without_a_cycle(self: LRUCache, key: object) -> None:
    """The same for a discarded entry: its link, out of the ring, still pointed into it (to
    itself when it was the only one)."""
    link = self._cache.get(key)
    _lru_discard(self, key)
    if link is not None:
        link.clear()


LRUCache.clear = _clear_without_a_cycle
LRUCache.discard = _discard_without_a_cycle

_inner_outer = StylesCache.get_inner_outer.__wrapped__  # type: ignore[attr-defined]


@lru_cache(1024)
def _inner_outer_by_colours(base_background: Color, background: Color) -> tuple[Style, Style]:
    return _inner_outer(None, base_background, background)  # it reads only the colours


def _get_inner_outer(self: StylesCache, base_background: Color, background: Color) -> tuple:
    """Textual caches `StylesCache.get_inner_outer` (two styles made from two colours) with an
    lru_cache on the method, keyed by the StylesCache too: each widget's cache, with every
    line it had rendered, stayed alive after the widget was gone, up to 1,024 of them (a
    modal's widgets at each opening; 59 -> 238 MiB over a careless session of opening every
    modal). Here the key is the colours alone."""
    return _inner_outer_by_colours(base_background, background)


StylesCache.get_inner_outer = _get_inner_outer  # type: ignore[method-assign]

_watch = textual.dom._watch


def _watch_without_the_closed(
    node: DOMNode, obj: object, attribute_name: str, callback: Callable, *, init: bool = True
) -> None:
    """Textual keeps each watcher of a reactive (`watch`, and `data_bind` of a composed child)
    in a list on the watched object, and drops those of closed widgets only when the attribute
    changes. Footer binds each of its keys to its `compact`, which never changes here, and it
    composes its keys anew at each change of bindings (a modal opened or closed, a focus
    move): every key ever composed stayed alive with what it had rendered, 1.6 MiB and
    12,000 objects per settings form opened and closed, without bound. Here the closed go
    whenever a watcher is added."""
    watchers = getattr(obj, "__watchers", {}).get(attribute_name)
    if watchers:
        watchers[:] = [(r, c) for r, c in watchers if not getattr(r, "_closing", False)]
    _watch(node, obj, attribute_name, callback, init=init)


textual.dom._watch = _watch_without_the_closed  # what DOMNode.watch calls

_cached_cell_len = rich.cells.cached_cell_len
# what the cache calls on a miss (None: rich changed, and the cache is left as it is)
_cell_len_uncached = getattr(_cached_cell_len, "__wrapped__", None)


def _cell_len_without_a_cache(text: str, *unicode_version: str) -> int:
    """Rich measures every string it draws through a cache of 4,096 entries keyed by the string,
    and most of what this app draws changes with each update (values, gradients, norms, the
    status line): the cache filled with strings never drawn again, 1-1.6 MiB over the first
    ~20,000 steps of the issue-15 conv run, most of the UI's memory growth once the cycles
    above were gone. Printable ASCII is one cell a character, counted at once (as fast as a
    cache hit); the rest is measured as rich measures it on a miss, without keeping it."""
    if text.isascii() and text.isprintable():
        return len(text)
    return _cell_len_uncached(text, *unicode_version)


def _replace_cell_len_cache() -> None:
    """Put the function above wherever rich and Textual hold the cached one: rich's own name
    (which rich 15's cell_len calls), rich 14's cell_len default argument, and the names it was
    imported under (Segment.divide's module; textual._cells, whose `cell_len` the compositor,
    Content and wrapping import). A module loaded later imports the replaced name."""
    for name, module in list(sys.modules.items()):
        if module is None or name.partition(".")[0] not in ("rich", "textual"):
            continue
        for attribute, value in list(vars(module).items()):
            if value is _cached_cell_len:
                setattr(module, attribute, _cell_len_without_a_cache)
            elif isinstance(value, FunctionType) and value.__defaults__:
                if any(default is _cached_cell_len for default in value.__defaults__):
                    value.__defaults__ = tuple(
                        _cell_len_without_a_cache if d is _cached_cell_len else d
                        for d in value.__defaults__
                    )


if _cell_len_uncached is not None:
    _replace_cell_len_cache()


class GuardedApp(App[ReturnType]):
    """A Textual App with the defences above; it keeps no state but the terminal's filters and
    the notices it showed."""

    def __init__(self) -> None:
        super().__init__()
        self.terminal_filters = follow_terminal(self.console)  # TERM and the locale
        # the notices, oldest first (the message log): the last MESSAGES_KEPT of them
        self.messages: deque[Notification] = deque(maxlen=MESSAGES_KEPT)
        self.messages_seen = 0  # notices given so far, the dropped included

    def get_line_filters(self) -> Sequence[LineFilter]:
        return [*super().get_line_filters(), *self.terminal_filters]

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """A notice, shown as text (notices quote paths, CSV labels and values the user typed,
        which `[` would otherwise turn into markup, or a MarkupError), in the message log and
        on the message bar of every screen (a modal has its own) and in an open message log:
        never a toast over the panes (issue 12 item 4)."""
        if timeout is None:
            timeout = self.NOTIFICATION_TIMEOUT
        note = Notification(message, title, severity, timeout, markup=False)
        self.messages.append(note)  # a long session, a key storm: the oldest go
        self.messages_seen += 1
        shown = False
        for screen in self.screen_stack:  # the main screen's bar, and each modal's own
            for bar in screen.query(MessageBar):
                bar.show(note)
                shown = True
            if isinstance(screen, MessageLog):  # an open log takes it in at once
                screen.add(note)
        if not shown:  # an app without a message bar (or before it is composed): a toast
            super().notify(message, title=title, severity=severity, timeout=timeout)

    def action_messages(self) -> None:
        """The message log: every notice so far, to scroll back through."""
        if not isinstance(self.screen, MessageLog):
            self.push_screen(MessageLog(self.messages, self.messages_seen))

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
