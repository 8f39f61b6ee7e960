"""Rich Text as the lines of cells a Line-API widget hands to Textual.

A widget whose `render()` returns a Text is drawn by Textual as content, and content gives every
span a style that carries its position (`meta={'offset': (x, y)}`, for text selection). Text
that moves (a sparkline that grows, a number that gets longer) then draws styles never seen
before at every update, and Rich's and Textual's style caches keep each one until they are full
(1,024 to 16,384 entries; benchmarks/README.md, the UI's memory on the conv run). Strips made
here carry the Text's own styles only.
"""

from __future__ import annotations

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.strip import Strip


def to_strips(text: Text, width: int, style: Style | None = None) -> list[Strip]:
    """`text`'s lines as strips `width` cells wide (cropped or padded), over `style` if given
    (the widget's own colours, `Widget.rich_style`: else the terminal's default ones show)."""
    console = Console(width=max(width, 1), force_terminal=True, color_system="truecolor")
    out = []
    for line in text.split("\n", allow_blank=True):
        strip = Strip(list(line.render(console, end="")))
        if style is not None:
            strip = strip.apply_style(style)
        out.append(strip.crop_extend(0, width, style))
    return out
