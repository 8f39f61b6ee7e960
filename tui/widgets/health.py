"""The Gradients strip: each layer's gradient norm over time, and which conditions hold.

One row per layer, `L0 ▁▂▃▅▆▇▇▆ 0.12  2 dead`: a sparkline of the layer's gradient norm (one
character per model report, about two a second, newest on the right) and its latest value (a
tensor run's conv layers too, `C0`, named by its report). All
rows share one log scale, so a layer whose gradients vanish sits visibly lower than the layers
above it, and an exploding one hits the top; a non-finite norm shows as a red `!`.

Textual's `Sparkline` scales each line on its own; here the rows must be comparable, so the
strip draws its own bars, and hands Textual its lines itself (Line API, `tui.widgets.lines`):
drawn as content, the bars' style carried their position, which moves at every report while the
sparklines fill the strip, and the style caches of Rich and Textual filled with them (the UI's
memory grew over the first ~80 reports of a run, benchmarks/README.md). The widget renders what
it is given: `add(report)` returns the new notices for the app to show (each condition once, see
`micrograd.health.Announcer`).
"""

from __future__ import annotations

import math
import time
from collections import deque

from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget

from micrograd.health import Announcer, Condition, HealthReport, summarize
from tui.formatting import fmt_number
from tui.widgets.lines import to_strips

BARS = "▁▂▃▄▅▆▇█"
KEEP = 400  # reports per layer (wider than any strip)
FLOOR = 1e-12  # a norm of 0 is drawn as this
HOLD = 5.0  # seconds: new dead neurons are told together, at most once in this time


class GradientHealth(Widget):
    """Per-layer gradient norms as sparklines on one log scale, with each layer's conditions."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.announcer = Announcer()
        self.norms: list[deque[float]] = []
        self.names: tuple[str, ...] = ()  # the layers' names, when the report gives them
        self.last_step = -1
        self.conditions: dict[str, list[str]] = {}  # layer name -> kinds, e.g. ["2 dead"]
        self._held: list[Condition] = []  # dead neurons not told yet
        self._told = -HOLD  # when dead neurons were last told
        self._version = 0  # of what is shown: one more at every change
        self._lines: tuple[tuple, list[Strip]] | None = None  # (version, width, style), lines

    def clear(self) -> None:
        """A new run: no history, and every condition may be said again."""
        self.norms = []
        self.names = ()
        self.last_step = -1
        self.conditions = {}
        self._held = []
        self._told = -HOLD
        self.announcer.reset()
        self._version += 1
        self.refresh(layout=True)

    def add(self, report: HealthReport | None) -> list[tuple[str, str]]:
        """Take one model report's health; returns the (text, severity) notices to show."""
        if report is None or report.step == self.last_step:
            return []
        names = getattr(report, "layer_names", ())
        if (
            report.step < self.last_step
            or len(report.layer_norms) != len(self.norms)
            or names != self.names
        ):
            self.norms = [deque(maxlen=KEEP) for _ in report.layer_norms]
            self.names = names
            self.refresh(layout=True)  # the number of rows changed
        self.last_step = report.step
        for column, value in zip(self.norms, report.layer_norms):
            column.append(value)
        counts: dict[str, dict[str, int]] = {}
        for c in report.conditions:
            layer = c.where.split(".")[0]
            kinds = counts.setdefault(layer, {})
            kinds[c.kind] = kinds.get(c.kind, 0) + 1
        self.conditions = {
            layer: [f"{n} dead" if kind == "dead" else kind for kind, n in kinds.items()]
            for layer, kinds in counts.items()
        }
        self._version += 1
        self.refresh()
        news = self.announcer.news(report.conditions)
        self._held += [c for c in news if c.kind == "dead"]
        news = [c for c in news if c.kind != "dead"]
        now = time.monotonic()
        if self._held and now - self._told >= HOLD:  # neurons die in bursts: one notice each
            news[:0] = self._held
            self._held = []
            self._told = now
        return summarize(news)

    def get_content_height(self, container, viewport, width: int) -> int:
        return max(1, len(self.norms))

    def render_line(self, y: int) -> Strip:
        width, base = self.size.width, self.rich_style
        key = (self._version, width, base)
        if self._lines is None or self._lines[0] != key:
            self._lines = (key, to_strips(self.render(), width, base))
        lines = self._lines[1]
        return lines[y] if 0 <= y < len(lines) else Strip.blank(width, base)

    def render(self) -> Text:
        """What the strip shows (drawn by `render_line`)."""
        if not self.norms:
            return Text("gradient norms appear after the first step", style="dim")
        width = self.size.width
        labels = list(self.names) or [f"L{i}" for i in range(len(self.norms))]
        tails = []
        for i, column in enumerate(self.norms):
            latest = column[-1] if column else 0.0
            notes = self.conditions.get(labels[i], [])
            tails.append(f" {fmt_number(latest):>9}" + (f"  {', '.join(notes)}" if notes else ""))
        spark_width = max(4, width - 4 - max(len(t) for t in tails))
        shown = [list(column)[-spark_width:] for column in self.norms]
        logs = [math.log10(max(v, FLOOR)) for row in shown for v in row if math.isfinite(v)]
        lo, hi = (min(logs), max(logs)) if logs else (0.0, 1.0)
        span = (hi - lo) or 1.0
        text = Text(no_wrap=True, overflow="crop")
        for i, row in enumerate(shown):
            if i:
                text.append("\n")
            text.append(f"{labels[i]:<4}", "bold")
            text.append(" " * (spark_width - len(row)))
            bars: list[str] = []  # one span per run of bars: a span per cell made this
            for v in row:  # strip the slowest thing on screen to render
                if math.isfinite(v):
                    level = (math.log10(max(v, FLOOR)) - lo) / span
                    bars.append(BARS[min(len(BARS) - 1, int(level * len(BARS)))])
                    continue
                text.append("".join(bars), "cyan")
                text.append("!", "bold red")
                bars = []
            text.append("".join(bars), "cyan")
            tail = tails[i]
            style = "yellow" if self.conditions.get(labels[i]) else ""
            text.append(tail, style)
        return text
