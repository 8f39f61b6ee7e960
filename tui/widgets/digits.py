"""Image data in the Dataset pane: a page of images with their labels, and a confusion matrix.

`DigitsView` draws a page of small grey images (the 8x8 digits, or a CSV's images) in half
blocks, two pixel rows per line, each with the model's class under it; a wrong one reads
`X3 not 5` in red (the `X` and the words carry it without colour). In shades mode (`C`, or
`shades=True` for a terminal without colour or UTF-8) each pixel is one character of
`SHADES`. Arrows move a cursor over the images and post `ImageChosen` (for the filter view's
feature maps); page keys post `PageRequested`. `ConfusionMatrix` counts true class (rows)
against predicted class (columns): the diagonal (right) bold green, mistakes red, zeros `.`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.containers import Horizontal
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widgets import Static

from tui.keys import bindings
from tui.widgets.heatmap import PLAIN, UPPER_HALF, StripsView

SHADES = " .:-=+*#%@"  # dark to bright, one character per pixel in shades mode
GREYS = 12  # grey levels in half-block mode
GAP = 2  # columns between images
WRONG_STYLE = Style(color="#ff5f5f", bold=True)
RIGHT_STYLE = Style(color="#87d787")
SELECTED = Style(reverse=True, bold=True)


@lru_cache(maxsize=256)
def _grey(level: int) -> str:
    v = round(255 * level / (GREYS - 1))
    return f"#{v:02x}{v:02x}{v:02x}"


def grey_level(v: float) -> int:
    return max(0, min(GREYS - 1, int(round(float(v) * (GREYS - 1))))) if v == v else 0


@lru_cache(maxsize=1024)
def _pixel_pair(top: int, bottom: int) -> Style:
    return Style(color=_grey(top), bgcolor=None if bottom < 0 else _grey(bottom))


def shade(v: float) -> str:
    return SHADES[max(0, min(len(SHADES) - 1, int(float(v) * len(SHADES))))] if v == v else "!"


def label_text(predicted: int, true: int) -> str:
    """What is written under an image: the predicted class, or `X<p> not <t>` when wrong."""
    return f"{predicted}" if predicted == true else f"X{predicted} not {true}"


def same_drawing(a: Any, b: Any) -> bool:
    """Whether two pages (`DigitsPage`, or None) draw the same: the same images of the same
    split, with the same predicted and true labels (the step they were made at aside)."""
    if a is None or b is None:
        return a is b
    return (
        (a.split, a.start, a.total, a.indices, a.predicted, a.true)
        == (b.split, b.start, b.total, b.indices, b.predicted, b.true)
        and len(a.images) == len(b.images)
        and all(np.array_equal(x, y) for x, y in zip(a.images, b.images))
    )


class DigitsView(StripsView):
    """A page of images (a `tensor_views.DigitsPage`) as a grid of tiles with labels."""

    BINDINGS = [
        Binding("left", "move(-1)", "Prev image", show=False),
        Binding("right", "move(1)", "Next image", show=False),
        Binding("up", "move_row(-1)", show=False),
        Binding("down", "move_row(1)", show=False),
        *bindings("digits"),  # PgUp PgDn
        *bindings("heatmap"),  # C: shades, as in the heatmaps
    ]

    class ImageChosen(Message):
        """The cursor is on image `index` of `split`."""

        def __init__(self, split: str, index: int) -> None:
            super().__init__()
            self.split = split
            self.index = index

    class PageRequested(Message):
        """The learner asked for the page of images starting at `start`."""

        def __init__(self, split: str, start: int) -> None:
            super().__init__()
            self.split = split
            self.start = start

    def __init__(self, shades: bool = False, page_size: int = 24, **kwargs) -> None:
        super().__init__(**kwargs)
        self.page: Any = None
        self.shades = shades
        self.page_size = page_size  # images a page (the last may hold fewer)
        self.selected = 0  # position on the page

    # -- data -----------------------------------------------------------------------------------
    def set_page(self, page: Any) -> None:
        """A page (`DigitsPage`); the cursor keeps its position, clamped. Redrawn only if it
        draws differently from the page shown: while training runs a page comes twice a
        second, and most of them only repeat the predictions already shown."""
        same = same_drawing(self.page, page)
        self.page = page
        n = len(page.indices) if page is not None else 0
        selected = max(0, min(self.selected, n - 1))
        if not same or selected != self.selected:
            self.selected = selected
            self.invalidate()

    @property
    def selected_index(self) -> int | None:
        """The split index of the image under the cursor."""
        if self.page is None or not self.page.indices:
            return None
        return self.page.indices[self.selected]

    # -- keys -----------------------------------------------------------------------------------
    def _per_row(self) -> int:
        w = self._tile_width()
        return max(1, (self.size.width + GAP) // (w + GAP)) if w else 1

    def action_move(self, delta: int) -> None:
        if self.page is None or not self.page.indices:
            return
        n = len(self.page.indices)
        target = self.selected + delta
        if target < 0 or target >= n:  # past the page's edge: the neighbouring page
            self.action_page(-1 if target < 0 else 1)
            return
        self.selected = target
        self.invalidate()
        self._scroll_to_selected()
        self.post_message(self.ImageChosen(self.page.split, self.page.indices[target]))

    def action_move_row(self, delta: int) -> None:
        if self.page is None or not self.page.indices:
            return
        n, per = len(self.page.indices), self._per_row()
        target = self.selected + delta * per
        if 0 <= target < n:
            self.action_move(target - self.selected)

    def action_page(self, delta: int) -> None:
        """Ask for the previous (-1) or next (1) page; the cursor goes to its last or first
        image when it arrives."""
        page = self.page
        if page is None or not page.indices:
            return
        start = page.start + delta * self.page_size
        if 0 <= start < page.total and start != page.start:
            self.selected = 0 if delta > 0 else self.page_size - 1
            self.post_message(self.PageRequested(page.split, start))

    def action_toggle_shades(self) -> None:
        self.shades = not self.shades
        self.invalidate()

    def _scroll_to_selected(self) -> None:
        per = self._per_row()
        row = self.selected // per
        height = self._tile_height() + 1
        self.scroll_to_region(Region(0, 1 + row * height, 1, height), animate=False, immediate=True)

    # -- drawing --------------------------------------------------------------------------------
    def _image_size(self) -> tuple[int, int]:
        if self.page is None or not self.page.images:
            return 0, 0
        h, w = np.shape(self.page.images[0])
        return int(h), int(w)

    def _tile_width(self) -> int:
        _, w = self._image_size()
        return max(w, 8) if w else 0

    def _tile_height(self) -> int:
        h, _ = self._image_size()
        return h if self.shades else (h + 1) // 2

    def header(self) -> Text:
        page = self.page
        if page is None:
            return Text("no images yet", "dim")
        n = len(page.indices)
        text = Text(no_wrap=True)
        text.append(f"{page.split} {page.start + 1}-{page.start + n}/{page.total} ")
        wrong = sum(p != t for p, t in zip(page.predicted, page.true))
        text.append(f"{wrong} wrong (X)", WRONG_STYLE if wrong else RIGHT_STYLE)
        return text

    def build_strips(self, width: int) -> list[Strip]:
        out = []
        if self.is_attached:
            header = self.header().render(self.app.console)
            out.append(Strip([Segment(t, st or PLAIN) for t, st, _ in header]))
        page = self.page
        if page is None or not page.images:
            return out
        tile, per = self._tile_width(), self._per_row()
        h, w = self._image_size()
        for first in range(0, len(page.images), per):
            chunk = range(first, min(first + per, len(page.images)))
            for line in range(self._tile_height()):
                segments: list[Segment] = []
                for k in chunk:
                    segments += self._pixels(np.asarray(page.images[k]), line, h, w)
                    segments.append(Segment(" " * (tile - w + GAP), PLAIN))
                out.append(Strip(segments).simplify())
            segments = []
            for k in chunk:
                text = label_text(page.predicted[k], page.true[k])[:tile].ljust(tile)
                style = RIGHT_STYLE if page.predicted[k] == page.true[k] else WRONG_STYLE
                if k == self.selected:
                    style = style + SELECTED
                segments += [Segment(text, style), Segment(" " * GAP, PLAIN)]
            out.append(Strip(segments).simplify())
        return out

    def _pixels(self, image: np.ndarray, line: int, h: int, w: int) -> list[Segment]:
        if self.shades:
            return [Segment("".join(shade(v) for v in image[line]), PLAIN)]
        top = 2 * line
        segments = []
        for c in range(w):
            bottom = grey_level(image[top + 1, c]) if top + 1 < h else -1
            segments.append(Segment(UPPER_HALF, _pixel_pair(grey_level(image[top, c]), bottom)))
        return segments


class ConfusionMatrix(Static):
    """True class (rows) against predicted class (columns), counts of the shown split."""

    def __init__(self, **kwargs) -> None:
        super().__init__("no predictions yet", markup=False, **kwargs)
        self.counts: tuple[tuple[int, ...], ...] = ()
        self._text_size: tuple[int, int] = (0, 0)  # (lines, widest line) of the text shown

    def show_confusion(self, confusion: Any, classes: Sequence[str] = ()) -> None:
        """A `tensor_views.Confusion`; `classes`: a CSV's names for the class numbers. The
        screen's layout is redone only when the text's size changed (the matrix's size is its
        own: width and height auto)."""
        self.counts = confusion.counts
        text = confusion_text(confusion, classes)
        lines = text.plain.split("\n")
        size = (len(lines), max(cell_len(line) for line in lines))
        self.update(text, layout=size != self._text_size)
        self._text_size = size


def confusion_text(confusion: Any, classes: Sequence[str] = ()) -> Text:
    """Rows: the true class; columns: the predicted one. The diagonal (right) in bold green,
    other counts (mistakes) in red, zeros as `.`; the last line the share right."""
    counts = confusion.counts
    n = len(counts)
    width = len(str(max((max(r) for r in counts), default=0))) + 1
    text = Text(no_wrap=True)
    text.append("t\\p" + "".join(f"{c:>{width}}" for c in range(n)) + "\n", "bold")
    for t, row in enumerate(counts):
        text.append(f"{t:>3}", "bold")
        for p, v in enumerate(row):
            if t == p:
                text.append(f"{v:>{width}}", "bold green")
            elif v:
                text.append(f"{v:>{width}}", "bold red")
            else:
                text.append(".".rjust(width), "dim")
        if classes and t < len(classes):
            text.append(f" {classes[t]}", "dim")
        text.append("\n")
    total, correct = confusion.total, confusion.correct
    if total:
        text.append(f"{correct}/{total} right ({100 * correct / total:.1f}%)")
        text.append(f"\n{confusion.split} images, step {confusion.step}", "dim")
    return text


class DigitsPane(Horizontal):
    """The Dataset pane for image data: the page of images beside the confusion matrix."""

    def __init__(self, shades: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.shades = shades

    def compose(self):
        yield DigitsView(shades=self.shades, id="digits-page")
        yield ConfusionMatrix(id="confusion")

    def show_page(self, page: Any) -> None:
        self.query_one(DigitsView).set_page(page)

    def show_confusion(self, confusion: Any, classes: Sequence[str] = ()) -> None:
        self.query_one(ConfusionMatrix).show_confusion(confusion, classes)
