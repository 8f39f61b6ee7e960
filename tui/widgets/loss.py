"""The Loss pane: train (and test) loss over steps, with the learning-rate changes marked.

The history is kept with bounded memory: up to `KEEP` points, and past that the older half is
thinned to every other point (recent steps in full, older ones sparser), so a run left going
overnight holds as much as one of a few thousand steps. What is plotted is downsampled to about
twice the pane's width (bucket means), and the plot is rebuilt at most twice a second.

plotext keeps state between builds (a log axis transforms the stored values in place), so the
figure is made anew from the raw history on every draw, a resize included; never re-built from
what plotext already holds. On the log scale a loss of 0 (or below) has no place: it is drawn on
the axis floor (a tenth of the smallest positive loss shown) and the subtitle says how many were.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot

REDRAW_EVERY = 0.5  # seconds
KEEP = 8192  # points of each curve held; several times the widest pane's plotted points
MAX_LR_MARKS = 200


def thin(xs: list, ys: list) -> None:
    """In place: every other point of the older half, the newer half whole."""
    half = len(xs) // 2
    xs[:] = xs[1:half:2] + xs[half:]
    ys[:] = ys[1:half:2] + ys[half:]


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


class LossPlot(PlotextPlot, can_focus=True):
    """Loss against step; `log` switches the y axis to a log scale."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.test_steps: list[int] = []
        self.test_losses: list[float] = []
        self.lr_marks: list[tuple[int, float]] = []
        self.log_scale = False
        self._dirty = True

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(REDRAW_EVERY, self._redraw_if_dirty)
        self._redraw()

    def clear_history(self) -> None:
        self.steps.clear()
        self.losses.clear()
        self.test_steps.clear()
        self.test_losses.clear()
        self.lr_marks.clear()
        self._dirty = True

    def add_points(self, points: Iterable[tuple[int, float, float | None]]) -> None:
        """(step, train loss, test loss or None) triples."""
        for step, loss, test_loss in points:
            self.steps.append(step)
            self.losses.append(loss)
            if test_loss is not None:
                self.test_steps.append(step)
                self.test_losses.append(test_loss)
            self._dirty = True
        if len(self.steps) > KEEP:
            thin(self.steps, self.losses)
        if len(self.test_steps) > KEEP:
            thin(self.test_steps, self.test_losses)

    def mark_lr(self, step: int, lr: float) -> None:
        self.lr_marks.append((step, lr))
        del self.lr_marks[:-MAX_LR_MARKS]
        self._dirty = True

    def toggle_log(self) -> bool:
        self.log_scale = not self.log_scale
        self._redraw()
        return self.log_scale

    def on_resize(self) -> None:
        self._dirty = True

    def _redraw_if_dirty(self) -> None:
        if self._dirty:
            self._redraw()

    def _redraw(self) -> None:
        """Mark the figure for a rebuild (done in `render`) and say what it shows."""
        self._dirty = False
        scale = "log" if self.log_scale else "linear"
        marks = f", {len(self.lr_marks)} lr change(s) marked" if self.lr_marks else ""
        floored = ""
        if self.log_scale:
            floor = log_floor(self.losses, self.test_losses)
            n = sum(1 for y in (*self.losses, *self.test_losses) if y < floor)
            if n:
                floored = f", {n} loss(es) <= 0 drawn at {floor:.2g}"
        self.border_subtitle = f"{scale} (l){floored}{marks}"
        self.refresh()

    def _build_figure(self) -> None:
        """The whole figure, anew from the raw history."""
        plt = self.plt
        plt.clear_figure()
        n = max(2 * self.size.width, 20)
        plt.xlabel("step")
        x, y = _finite(*downsample(self.steps, self.losses, n))
        tx, ty = _finite(*downsample(self.test_steps, self.test_losses, n))
        if self.log_scale and (y or ty):  # plotext cannot draw an empty log axis
            plt.yscale("log")
            floor = log_floor(self.losses, self.test_losses)
            y, ty = on_floor(y, floor)[0], on_floor(ty, floor)[0]
        if x:
            plt.plot(x, y, marker="braille", color="cyan", label="train")
        if tx:
            plt.plot(tx, ty, marker="braille", color="orange", label="test")
        for step, _lr in self.lr_marks:
            if not self.steps or step <= self.steps[-1]:
                plt.vline(step, "magenta")

    def render(self) -> RenderResult:
        self._build_figure()
        try:
            return super().render()
        except (ArithmeticError, ValueError, TypeError, IndexError):  # plotext at an odd size
            return Text("(the loss plot does not fit here)", style="dim")
