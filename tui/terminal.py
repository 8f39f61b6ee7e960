"""What the terminal says it can do, and how the app follows it.

- Characters: where the locale (LC_ALL, else LC_CTYPE, else LANG) names no UTF-8 encoding
  (`LANG=C`, `POSIX`, `en_US.ISO-8859-1`), everything drawn goes through `AsciiFilter`: box
  drawing becomes `+ - |`, the class markers `● ▲ ■` become `O A #`, the loss plot's braille
  dots `*`, and any other non-ASCII character `?`, one cell for one cell. With no locale set at
  all the terminal is taken to be UTF-8 (as every current one is).
- Colours: Textual sends 24-bit colour when it cannot tell what the terminal takes (`TERM=dumb`
  or `unknown`); there the app sends no colour at all (the panes read without it: shading
  characters and marker shapes) and, for anything left, 16-colour codes. `NO_COLOR` and
  `COLORTERM` are Textual's own to honour. With 16 colours (`TERM=xterm`) the Dataset pane uses
  a palette chosen for contrast (`tui.widgets.dataset`).
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Mapping

from rich.color import ColorSystem
from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter, NoColor

# Characters the app draws, each to one ASCII character of the same width.
ASCII_CHARS = {
    "●": "O", "▲": "A", "■": "#", "◆": "X", "★": "*",  # training points, by class
    "○": "o", "△": "^", "□": "=", "◇": "x", "☆": "%",  # test points
    "·": ".", "…": "~", "→": ">", "←": "<", "↑": "^", "↓": "v",
    "×": "x", "÷": "/", "≡": "=", "−": "-", "∂": "d", "Σ": "S", "√": "V",
}  # fmt: skip


# What Python itself puts in LC_CTYPE when it starts in the C locale (PEP 538 coercion):
# there the user's own setting is LANG.
PYTHON_COERCED = ("C.UTF-8", "C.utf8", "UTF-8")


def _utf8(value: str) -> bool:
    return "utf-8" in value.lower() or "utf8" in value.lower()


def utf8_locale(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the locale's character set is UTF-8: LC_ALL, else LC_CTYPE, else LANG (true when
    no locale is set at all)."""
    lc_all, ctype, lang = (environ.get(name, "") for name in ("LC_ALL", "LC_CTYPE", "LANG"))
    if lc_all:
        return _utf8(lc_all)
    if ctype and not (ctype in PYTHON_COERCED and lang):
        return _utf8(ctype)
    return _utf8(lang) if lang else True


def dumb_terminal(color_system: str | None) -> bool:
    """Textual's console found no colour system (TERM=dumb or unknown)."""
    return color_system is None


def to_ascii(char: str) -> str:
    """One ASCII character for `char`."""
    if char.isascii():
        return char
    if char in ASCII_CHARS:
        return ASCII_CHARS[char]
    code = ord(char)
    if 0x2800 <= code <= 0x28FF:  # braille (the loss plot's dots)
        return " " if code == 0x2800 else "*"
    if 0x2580 <= code <= 0x259F:  # block elements (scroll bars, bars)
        return "#"
    name = unicodedata.name(char, "")
    horizontal, vertical = "HORIZONTAL" in name, "VERTICAL" in name
    if name.startswith("BOX DRAWINGS"):
        if horizontal and not vertical and " AND " not in name:
            return "-"
        if vertical and not horizontal and " AND " not in name:
            return "|"
        return "+"
    return "?"


class AsciiFilter(LineFilter):
    """Every non-ASCII character drawn becomes one ASCII character (see `to_ascii`)."""

    def __init__(self, enabled: bool = True) -> None:
        super().__init__(enabled)
        self._table: dict[int, str] = {}

    def _ascii(self, text: str) -> str:
        table = self._table
        for char in set(text):
            if not char.isascii() and ord(char) not in table:
                table[ord(char)] = to_ascii(char)
        return text.translate(table)

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [
            seg if seg.control or seg.text.isascii() else Segment(self._ascii(seg.text), seg.style)
            for seg in segments
        ]


def follow_terminal(console, environ: Mapping[str, str] = os.environ) -> list[LineFilter]:
    """The line filters the app adds for this terminal; on a dumb one, sets 16-colour output."""
    filters: list[LineFilter] = []
    if dumb_terminal(console.color_system):
        console._color_system = ColorSystem.STANDARD  # Textual would send 24-bit colour
        filters.append(NoColor())
    if not utf8_locale(environ):
        filters.append(AsciiFilter())
    return filters
