"""The Loss pane: train (and test) loss over steps, with the learning-rate changes marked.

The history is kept with bounded memory: up to `KEEP` points, and past that the older half is
thinned to every other point (recent steps in full, older ones sparser), so a run left going
overnight holds as much as one of a few thousand steps. What is plotted is downsampled to about
twice the pane's width (bucket means), and the plot is rebuilt at most twice a second.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

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


def _finite(xs: Iterable[float], ys: Iterable[float], log: bool) -> tuple[list, list]:
    keep = [(x, y) for x, y in zip(xs, ys) if math.isfinite(y) and (y > 0 or not log)]
    return [x for x, _ in keep], [y for _, y in keep]


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
        self._dirty = False
        plt = self.plt
        plt.clear_figure()
        n = max(2 * self.size.width, 20)
        plt.xlabel("step")
        if self.log_scale:
            plt.yscale("log")
        x, y = _finite(*downsample(self.steps, self.losses, n), self.log_scale)
        if x:
            plt.plot(x, y, marker="braille", color="cyan", label="train")
        tx, ty = _finite(*downsample(self.test_steps, self.test_losses, n), self.log_scale)
        if tx:
            plt.plot(tx, ty, marker="braille", color="orange", label="test")
        for step, _lr in self.lr_marks:
            if not self.steps or step <= self.steps[-1]:
                plt.vline(step, "magenta")
        scale = "log" if self.log_scale else "linear"
        marks = f", {len(self.lr_marks)} lr change(s) marked" if self.lr_marks else ""
        self.border_subtitle = f"{scale} (l){marks}"
        self.refresh()
