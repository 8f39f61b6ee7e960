"""The Loss pane: train (and test) loss over steps, with the learning-rate changes marked.

The history is kept with bounded memory and spans the whole run: each curve keeps every
`stride`-th point that came (the first included) and the latest; past `KEEP` points every other
one goes and the stride doubles, so a run left going overnight holds as much as one of a few
thousand steps, evenly spread from its first step to its last. (Thinning only the older half,
again and again, dropped the old steps altogether: after 100,000 steps the curve began at step
72,000.) The points are plain numbers in arrays of KEEP + 1 slots made at the start (16 bytes a
point), not the float and int objects each report brings: in lists those held about 70 bytes a
point and, living as long as the run among the reports' short-lived objects, kept the
allocator's pools from being reused, and lists or arrays that grew with the run left holes in
its heap (the UI's memory grew over the first 10,000 steps, benchmarks/README.md; `Curve`).
What is plotted is downsampled to about twice the pane's width (bucket
means), and the plot is rebuilt at most twice a second (once a second while keys are pressed).

A built figure is kept with what it was built from (the data's version, the size, the scale, the
theme) and drawn again as it is until one of them changes: a repaint for any other reason (focus,
a notice, the pane next door) costs no rebuild. New data is built in a thread (plotext is pure
Python, so the UI thread still gets the interpreter every few milliseconds and a key press is
not held back for the whole build), down to the lines of cells the screen is made of (Line API:
the UI thread only hands them over), and shown when ready; a new size or scale is built at once,
since the user is waiting for exactly that. Each builder has a plotext figure of its own.

plotext keeps state between builds (a log axis transforms the stored values in place), so the
figure is made anew from the raw history on every draw, a resize included; never re-built from
what plotext already holds. On the log scale a loss of 0 (or below) has no place: it is drawn on
the axis floor (a tenth of the smallest positive loss shown) and the subtitle says how many were.

Each learning-rate change is a magenta line at its step, labelled with the new value (`lr 0.2`)
where the canvas has blank room beside it (`label_marks`: never over the curves, the legend or
another label); the subtitle names the latest change.
"""

from __future__ import annotations

import math
import time
from array import array
from collections.abc import Iterable, Sequence

from plotext._utility import get_matrix_data
from rich.text import Text
from textual import work
from textual.message import Message
from textual.strip import Strip
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot

from tui.formatting import fmt_number
from tui.widgets.lines import to_strips

REDRAW_EVERY = 0.5  # seconds
BUSY_REDRAW_EVERY = 1.0  # seconds, while keys are being pressed (`keys_busy` on the app)
KEEP = 8192  # points of each curve held; several times the widest pane's plotted points
MAX_LR_MARKS = 200


class Curve:
    """One curve's (step, value) points, at most KEEP + 1 of them over the whole run: every
    `stride`-th point that came (the first included) and, when it is not one of those, the
    latest. They live in two arrays of KEEP + 1 slots made at the start, `n` of them used:
    arrays that grew with the run (and the copies of them each redraw hands to the builder
    thread, a little longer every time) left the allocator's heap full of holes too small for
    the next ones, and the UI's memory grew by about 1.5 MiB until the history was full
    (benchmarks/README.md, the UI's memory on the conv run)."""

    def __init__(self) -> None:
        self.xs = array("q", [0]) * (KEEP + 1)
        self.ys = array("d", [0.0]) * (KEEP + 1)
        self.n = 0  # slots used
        self.stride = 1
        self.came = 0  # points added since the last clear
        self.tail = False  # the last point held is the latest, off the stride

    def clear(self) -> None:
        self.n, self.stride, self.came, self.tail = 0, 1, 0, False

    def points(self) -> tuple[array, array]:
        """Copies of the points held."""
        return self.xs[: self.n], self.ys[: self.n]

    def snapshot(self) -> tuple[memoryview, memoryview]:
        """The points held, as views of copies of the whole arrays (a block of one size
        every time, which the allocator reuses), for a thread to read while more come."""
        return memoryview(self.xs[:])[: self.n], memoryview(self.ys[:])[: self.n]

    def add(self, x: int, y: float) -> None:
        if self.tail:  # a newer latest point replaces it
            self.n -= 1
        self.tail = self.came % self.stride != 0
        self.came += 1
        self.xs[self.n] = x
        self.ys[self.n] = y
        self.n += 1
        if self.n - self.tail > KEEP:
            self._thin()

    def _thin(self) -> None:
        """Every other point on the stride (the first kept) and the stride doubled."""
        on = self.n - self.tail  # the points on the stride
        tail = (self.xs[self.n - 1], self.ys[self.n - 1]) if self.tail else None
        kept = (on + 1) // 2
        self.xs[:kept] = self.xs[:on:2]  # same lengths: the arrays keep their size
        self.ys[:kept] = self.ys[:on:2]
        self.n = kept
        self.stride *= 2
        if tail is not None:
            self.xs[self.n], self.ys[self.n] = tail
            self.n += 1


def downsample(xs: Sequence[float], ys: Sequence[float], n: int) -> tuple[list, list]:
    """At most `n` points: the mean of each of `n` equal buckets (the last point kept as is)."""
    if len(xs) <= n or n < 2:
        return list(xs), list(ys)
    out_x: list[float] = []
    out_y: list[float] = []
    size = len(xs) / (n - 1)
    for b in range(n - 1):
        lo, hi = int(b * size), max(int((b + 1) * size), int(b * size) + 1)
        out_x.append(sum(xs[lo:hi]) / (hi - lo))
        out_y.append(sum(ys[lo:hi]) / (hi - lo))
    out_x.append(xs[-1])
    out_y.append(ys[-1])
    return out_x, out_y


def _finite(xs: Iterable[float], ys: Iterable[float]) -> tuple[list, list]:
    keep = [(x, y) for x, y in zip(xs, ys) if math.isfinite(y)]
    return [x for x, _ in keep], [y for _, y in keep]


def log_floor(*curves: Sequence[float]) -> float:
    """Where the log axis draws a loss of 0 or below: a tenth of the smallest positive loss."""
    positive = [y for ys in curves for y in ys if y > 0]
    return min(positive) / 10 if positive else 1e-12


def on_floor(ys: Sequence[float], floor: float) -> tuple[list, int]:
    """`ys` with every value below `floor` raised to it, and how many were."""
    return [max(y, floor) for y in ys], sum(1 for y in ys if y < floor)


# steps, losses, test steps, test losses, lr marks
Curves = tuple[Sequence[int], Sequence[float], Sequence[int], Sequence[float], list]


class LossPlot(PlotextPlot, can_focus=True):
    """Loss against step; `log` switches the y axis to a log scale."""

    class Built(Message):
        """A figure built in a thread for `key` (see `_key`)."""

        def __init__(self, key: tuple, figure: list[Strip] | None) -> None:
            super().__init__()
            self.key = key
            self.figure = figure

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._train = Curve()
        self._test = Curve()
        self.lr_marks: list[tuple[int, float]] = []
        self.log_scale = False
        self._dirty = True  # the figure shown is older than the data
        self._version = 0  # of the data: one more at every change
        self._asked = -1  # the version the figure shown (or being built) draws
        self._shown: tuple[tuple, list[Strip]] | None = None  # (key, lines) on screen
        self._building: tuple | None = None  # the key a thread is building
        self._last_redraw = 0.0
        self._thread_plot = Plot()  # the thread's own plotext figure

    @property
    def steps(self) -> array:
        """The steps of the train losses held (a copy)."""
        return self._train.points()[0]

    @property
    def losses(self) -> array:
        return self._train.points()[1]

    @property
    def test_steps(self) -> array:
        return self._test.points()[0]

    @property
    def test_losses(self) -> array:
        return self._test.points()[1]

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(REDRAW_EVERY, self._redraw_if_dirty)
        self._redraw()

    def clear_history(self) -> None:
        self._train.clear()
        self._test.clear()
        self.lr_marks.clear()
        self._changed()

    def _changed(self) -> None:
        self._version += 1
        self._dirty = True

    def add_points(self, points: Iterable[tuple[int, float, float | None]]) -> None:
        """(step, train loss, test loss or None) triples."""
        for step, loss, test_loss in points:
            step, loss = int(step), float(loss)  # first: a bad value leaves the curves as they were
            test = None if test_loss is None else float(test_loss)
            self._train.add(step, loss)
            if test is not None:
                self._test.add(step, test)
            self._changed()

    def mark_lr(self, step: int, lr: float) -> None:
        self.lr_marks.append((step, lr))
        del self.lr_marks[:-MAX_LR_MARKS]
        self._changed()

    def toggle_log(self) -> bool:
        self.log_scale = not self.log_scale
        self._redraw()
        return self.log_scale

    def on_resize(self) -> None:
        self.refresh()  # a new size: `render` builds the figure for it

    def _redraw_if_dirty(self) -> None:
        busy = getattr(self.app, "keys_busy", lambda: False)()
        every = BUSY_REDRAW_EVERY if busy else REDRAW_EVERY
        if self._building is not None or self._asked == self._version:
            return
        if time.monotonic() - self._last_redraw < every - 0.05:
            return
        if self._shown is None:
            self._redraw()
            return
        self._redraw(now=False)  # new data: built off the UI thread, shown when done
        key = self._building = self._key()
        self._build_in_thread(key, [self._curves()])

    def _redraw(self, now: bool = True) -> None:
        """Ask for a figure of the data as it is now (drawn at once, or when the thread has
        built it), and say what it shows."""
        self._asked = self._version
        self._last_redraw = time.monotonic()
        scale = "log" if self.log_scale else "linear"
        marks = ""
        if self.lr_marks:  # the latest change (the plot labels those it has room for)
            step, lr = self.lr_marks[-1]
            marks = f", lr {fmt_number(lr)} since step {step}"
        floored = ""
        if self.log_scale:
            losses, test_losses = self._train.snapshot()[1], self._test.snapshot()[1]
            floor = log_floor(losses, test_losses)
            n = sum(1 for y in (*losses, *test_losses) if y < floor)
            if n:
                floored = f", {n} loss(es) <= 0 drawn at {floor:.2g}"
        subtitle = f"{scale} (l){floored}{marks}"
        if subtitle != self.border_subtitle:  # setting it repaints the pane, even if the same
            self.border_subtitle = subtitle
        if now:
            self.refresh()

    def _key(self) -> tuple:
        """What the figure is built from, but for the data itself: its version."""
        theme = self._get_plotext_theme_name(self.app.theme)
        return (self._asked, self.size.width, self.size.height, self.log_scale, theme)

    def _curves(self) -> Curves:
        return (*self._train.snapshot(), *self._test.snapshot(), list(self.lr_marks))

    def render_line(self, y: int) -> Strip:
        lines = self._lines()
        return lines[y] if 0 <= y < len(lines) else Strip.blank(self.size.width)

    def _lines(self) -> list[Strip]:
        key = self._key()
        shown = self._shown
        if shown is not None and shown[0] == key:
            return shown[1]
        if shown is not None and shown[0][1:] == key[1:] and self._building == key:
            return shown[1]  # only the data is newer: the thread's figure comes soon
        figure = build_figure(self.plt, key, self._curves())  # a new size or scale: now
        self._show(key, figure)
        return figure

    def _show(self, key: tuple, figure: list[Strip]) -> None:
        self._shown = (key, figure)
        if key[0] == self._version:
            self._dirty = False

    @work(thread=True, group="loss-figure")
    def _build_in_thread(self, key: tuple, box: list[Curves]) -> None:
        """Build the figure for `key` from the curves in `box`, which it empties: a finished
        worker stays in a reference cycle until the cyclic collector's next full pass (10 to
        20 s later) and holds its arguments, four copies of the history a build: about 3 MiB
        waiting at every pass on the issue-15 conv run, which the allocator then kept."""
        figure = None
        try:
            figure = build_figure(self._thread_plot, key, box.pop())
        finally:  # always said, so that the next build can start
            self.post_message(self.Built(key, figure))

    def on_loss_plot_built(self, message: Built) -> None:
        message.stop()
        self._building = None
        shown = self._shown
        if message.figure is None or message.key[1:] != self._key()[1:]:
            return  # it failed, or the size or scale changed meanwhile (built anew already)
        if shown is None or message.key[0] >= shown[0][0]:
            self._show(message.key, message.figure)
            self.refresh()


def build_figure(plt: Plot, key: tuple, curves: Curves) -> list[Strip]:
    """The lines of the whole figure for `key` (see `LossPlot._key`), anew from the raw
    history (`curves`) on the plotext figure `plt`; a sentence where plotext cannot draw at this
    size."""
    _, width, height, log_scale, theme = key
    steps, losses, test_steps, test_losses, lr_marks = curves
    plt.clear_figure()
    plt.plotsize(width, height)
    plt._set_size(width, height)
    plt.theme(theme)
    n = max(2 * width, 20)
    plt.xlabel("step")
    x, y = _finite(*downsample(steps, losses, n))
    tx, ty = _finite(*downsample(test_steps, test_losses, n))
    if log_scale and (y or ty):  # plotext cannot draw an empty log axis
        plt.yscale("log")
        floor = log_floor(losses, test_losses)
        y, ty = on_floor(y, floor)[0], on_floor(ty, floor)[0]
    if x:
        plt.plot(x, y, marker="braille", color="cyan", label="train")
    if tx:
        plt.plot(tx, ty, marker="braille", color="orange", label="test")
    marks = [(step, lr) for step, lr in lr_marks if not steps or step <= steps[-1]]
    for step, _lr in marks:
        plt.vline(step, "magenta")
    xs = [*x, *tx, *(step for step, _ in marks)]
    xlim = (min(xs), max(xs)) if xs else (0.0, 0.0)
    if xlim[0] < xlim[1]:  # the limits plotext would choose, set so the labels know them
        plt.xlim(*xlim)
        ticks = step_ticks(*xlim, width)
        plt.xticks(ticks, [str(t) for t in ticks])
    try:
        text = Text.from_ansi(plt.build())
    except (ArithmeticError, ValueError, TypeError, IndexError):  # plotext at an odd size
        return to_strips(Text("(the loss plot does not fit here)", style="dim"), width)
    if marks and xlim[0] < xlim[1]:
        text = label_marks(text, marks, xlim)
    return to_strips(text, width)


def step_ticks(lo: float, hi: float, width: int) -> list[int]:
    """Whole step numbers for the x axis, evenly spread over [lo, hi]: plotext labels its own
    ticks with decimals (`2.5  77.1`), since a downsampled point's step is a window's mean."""
    count = max(2, min(5, width // 12))
    inside = range(math.ceil(lo), math.floor(hi) + 1)
    if not inside:
        return []
    first, last = inside.start, inside.stop - 1
    ticks = {first, last} | {round(lo + (hi - lo) * k / (count - 1)) for k in range(1, count - 1)}
    return sorted(t for t in ticks if first <= t <= last)


def canvas(lines: list[str]) -> tuple[int, int, int, int] | None:
    """The plot's canvas inside its frame, (top row, bottom row, left col, right col) of the
    cells inside `┌┐` and `└┘`; None if there is no frame."""
    for top, line in enumerate(lines):
        left, right = line.find("┌"), line.find("┐")
        if 0 <= left < right:
            for bottom in range(top + 1, len(lines)):
                if lines[bottom][left : left + 1] == "└":
                    return top + 1, bottom - 1, left + 1, right - 1
            return None
    return None


def label_marks(text: Text, marks: list[tuple[int, float]], xlim: tuple[float, float]) -> Text:
    """The figure with each lr change's new value (`lr 0.2`) written beside its mark, where
    there is room: on blank cells of the canvas only, so a label never covers the curves, the
    legend, another mark or another label (the curve's last point included). The latest
    changes are placed first; one that finds no room goes unlabelled (the subtitle names the
    latest change)."""
    lines = text.split("\n", allow_blank=True)
    plain = [line.plain for line in lines]
    box = canvas(plain)
    if box is None:
        return text
    top, bottom, left, right = box
    columns, rows = right - left + 1, range(top, bottom + 1)
    taken: set[int] = set()
    for step, lr in sorted(marks, reverse=True):  # the latest first; one label a column
        col = left + get_matrix_data([step], list(xlim), columns)[0]
        if col in taken or not left <= col <= right or plain[top - 1][col : col + 1] != "┬":
            continue  # a later change at the same cell, or not where the mark was drawn
        taken.add(col)
        label = f"lr {fmt_number(lr)}"
        places = [(row, start) for start in (col + 1, col - len(label)) for row in rows]
        # right of the mark on any row first (it reads as the mark's), else left of it
        fits = ((r, s) for r, s in places if _room(plain[r], s, label, box, col))
        row, start = next(fits, (0, -1))
        if start >= 0:
            end = start + len(label)
            lines[row] = lines[row][:start] + Text(label, "bold magenta") + lines[row][end:]
            plain[row] = plain[row][:start] + label + plain[row][end:]
    return Text("\n").join(lines)


def _room(line: str, start: int, label: str, box: tuple[int, int, int, int], col: int) -> bool:
    """`label` fits at `start` on blank cells of the canvas `box`, beside its mark at `col`,
    with a blank cell or the frame on its other side (not another mark, not another label)."""
    left, right = box[2], box[3]
    end = start + len(label)
    if start < left or end - 1 > right or len(line) <= right:
        return False
    far = end if start > col else start - 1  # the cell on the side away from the mark
    return line[start:end].strip() == "" and (far < left or far > right or line[far] == " ")
