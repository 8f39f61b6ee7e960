"""The filter view of a conv model: each Conv2d layer's kernels and grads, and what they make
of one image.

For each Conv2d layer a grid of small heatmaps, one row per filter (output channel) and one
3x3 block per input channel, the weights on the left and their gradients on the right; under
them the selected image and each layer's feature maps (after its activation). Every element is
two characters of the neuron view's shading (`·-=≡` below zero, `·+*#` above, blank at 0) on
its colour, so it reads in 16 colours, without colour, and (through the ASCII filter) without
UTF-8. `left`/`right` post `ImageStep` (the previous or next image). It renders what it is
given (`tensor_views.ConvFilters`, `tensor_views.FeatureMaps`) and never asks the trainer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.containers import ScrollableContainer
from textual.message import Message
from textual.widgets import Static

from tui.formatting import fmt_number
from tui.widgets.digits import shade
from tui.widgets.heatmap import scale_of, shade_of

GAP = " "
IMAGE_HINT = "   left/right: another image"  # also in the filter screen's title
Block = list[list[tuple[str, Style]]]  # rows of (two characters, style)


def heat_block(a: Any, scale: float) -> Block:
    """A 2-D array as rows of shaded two-character cells."""
    return [[shade_of(float(v), scale) for v in row] for row in np.asarray(a)]


def grey_block(image: Any) -> Block:
    """A picture in [0, 1] as two characters a pixel (dark to bright)."""
    return [[(shade(float(v)) * 2, Style()) for v in row] for row in np.asarray(image)]


def side_by_side(blocks: list[Block], text: Text, gap: str = GAP, sep: list[int] = ()) -> None:
    """Append the blocks next to each other, `gap` between them and ` | ` before the indices
    in `sep`; blocks of different heights are padded with blanks."""
    height = max((len(b) for b in blocks), default=0)
    widths = [2 * max((len(r) for r in b), default=0) for b in blocks]
    for line in range(height):
        for k, (block, width) in enumerate(zip(blocks, widths)):
            if k in sep:
                text.append(" |" + gap)
            if line < len(block):
                for chars, style in block[line]:
                    text.append(chars, style)
                text.append(" " * (width - 2 * len(block[line])))
            else:
                text.append(" " * width)
            text.append(gap)
        text.append("\n")


def row_width(blocks: list[Block], gap: str = GAP, seps: int = 0) -> int:
    """Columns side_by_side takes for `blocks` with `seps` separators."""
    widths = sum(2 * max((len(r) for r in b), default=0) for b in blocks)
    return widths + len(gap) * len(blocks) + (2 + len(gap)) * seps


def wrapped(blocks: list[Block], text: Text, width: int | None) -> None:
    """side_by_side in rows of as many blocks as fit in `width` columns (None: one row)."""
    start = 0
    while start < len(blocks):
        end = start + 1
        while (
            end < len(blocks) and width is not None and row_width(blocks[start : end + 1]) <= width
        ):
            end += 1
        if width is None:
            end = len(blocks)
        side_by_side(blocks[start:end], text)
        start = end


def filters_text(filters: Any, width: int | None = None) -> Text:
    """Each layer's filters, weights | grads on one row; where that is wider than `width`
    columns, the weights' blocks and then the grads' (each wrapped to the width)."""
    text = Text(no_wrap=True)
    if not filters.layers:
        text.append("this model has no conv layers", "dim")
        return text
    for layer in filters.layers:
        w = np.asarray(layer.weights)
        cout, cin, kh, kw = w.shape
        g = None if layer.grads is None else np.asarray(layer.grads)
        ws, gs = scale_of(w), (scale_of(g) if g is not None else 0.0)
        text.append(f"{layer.name}", "bold")
        text.append(f": {cout} filters of {cin}x{kh}x{kw}, step {filters.step}\n")
        text.append(f"weights |max| {fmt_number(ws)}", "underline")
        text.append("  |  ")
        grads = "grads: none yet" if g is None else f"grads |max| {fmt_number(gs)}"
        text.append(grads + "\n", "underline")
        for f in range(cout):
            text.append(f"filter {f}", "dim")
            text.append(" (one 3x3 block per input channel)\n" if f == 0 and cin > 1 else "\n")
            blocks = [heat_block(w[f, c], ws) for c in range(cin)]
            if g is None:
                wrapped(blocks, text, width)
                continue
            grad_blocks = [heat_block(g[f, c], gs) for c in range(cin)]
            if width is None or row_width(blocks + grad_blocks, seps=1) <= width:
                side_by_side(blocks + grad_blocks, text, sep=[cin])
            else:  # too wide for weights | grads: the weights, then the grads
                wrapped(blocks, text, width)
                text.append(f"filter {f} grads\n", "dim")
                wrapped(grad_blocks, text, width)
        text.append("\n")
    return text


def maps_text(maps: Any, width: int | None = None) -> Text:
    """The image and each layer's feature maps, in rows that fit `width` columns (None: one)."""
    text = Text(no_wrap=True)
    verdict = "right" if maps.predicted == maps.true else "WRONG"
    text.append(f"{maps.split} image {maps.index}", "bold")
    header = f": true {maps.true}, predicted {maps.predicted} ({verdict}), step {maps.step}"
    text.append(header)
    if width is None or len(text.plain) + len(IMAGE_HINT) <= width:  # else the title's alone
        text.append(IMAGE_HINT, "dim")
    text.append("\n")
    side_by_side([grey_block(maps.image)], text)
    for name, m in maps.maps:
        m = np.asarray(m)
        text.append(f"{name} feature maps: {m.shape[0]} of {m.shape[1]}x{m.shape[2]}", "bold")
        text.append(f", |max| {fmt_number(scale_of(m))}\n")
        scale = scale_of(m)
        wrapped([heat_block(channel, scale) for channel in m], text, width)
    return text


class FilterView(ScrollableContainer, can_focus=True):
    """Each Conv2d layer's filters (weights | grads) and the feature maps of one image."""

    BINDINGS = [
        Binding("left", "image(-1)", "Prev image"),
        Binding("right", "image(1)", "Next image"),
    ]

    class ImageStep(Message):
        """The learner asked for the previous (-1) or next (1) image's feature maps."""

        def __init__(self, delta: int) -> None:
            super().__init__()
            self.delta = delta

    def __init__(self) -> None:
        super().__init__()
        self._filters: Any = None
        self._maps: Any = None
        self._width = 0  # the width the shown text was laid out for

    def compose(self):
        yield Static("no filters yet: they arrive with the next model view", id="filters-text")
        yield Static("", id="maps-text")

    def text_width(self) -> int:
        """Columns for the text: the pane's, less a scrollbar's."""
        return max(20, self.size.width - self.styles.scrollbar_size_vertical)

    def show_filters(self, filters: Any) -> None:
        self._filters = filters
        self._width = self.text_width()
        self.query_one("#filters-text", Static).update(filters_text(filters, self._width))

    def show_maps(self, maps: Any) -> None:
        self._maps = maps
        self._width = self.text_width()
        if maps is None:
            self.query_one("#maps-text", Static).update("")
        else:
            self.query_one("#maps-text", Static).update(maps_text(maps, self._width))

    def on_resize(self) -> None:
        """Lay the text out again for the new width (filters and maps wrap to it)."""
        if self.text_width() == self._width:
            return
        if self._filters is not None:
            self.show_filters(self._filters)
        if self._maps is not None:
            self.show_maps(self._maps)

    def action_image(self, delta: int) -> None:
        self.post_message(self.ImageStep(delta))
