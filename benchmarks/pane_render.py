"""Render time per pane while the app trains: what a repaint costs the UI thread.

Runs the app headless (`App.run_test`, 120x40) on the default config for --seconds of training,
and times every call of each pane's `render_lines` (where Textual asks a widget for its lines:
a plotext figure is built there, a DataTable's rows, a Tree's lines). Prints, per pane, the
number of renders, their median, p95 and max, and the UI time they took in all. A key press
that arrives during a render waits for it, so these are the repaints that hold keys back
(benchmarks/app_latency.py measures the keys themselves, in tmux).

    python benchmarks/pane_render.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from micrograd.train import TrainConfig  # noqa: E402
from tui.app import MicrogradApp  # noqa: E402
from tui.widgets.dataset import BoundaryView  # noqa: E402
from tui.widgets.graph import GraphTree  # noqa: E402
from tui.widgets.health import GradientHealth  # noqa: E402
from tui.widgets.loss import LossPlot  # noqa: E402
from tui.widgets.params import ParamTable  # noqa: E402
from tui.widgets.status import StatusLine  # noqa: E402

PANES = {
    "Dataset": BoundaryView,
    "Loss": LossPlot,
    "Parameters": ParamTable,
    "Graph": GraphTree,
    "Gradients": GradientHealth,
    "status": StatusLine,
}


def timed(times: list[float], original):
    def render_lines(self, crop):
        start = time.perf_counter()
        try:
            return original(self, crop)
        finally:
            times.append(time.perf_counter() - start)

    return render_lines


async def measure(seconds: float) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in PANES}
    originals = {cls: cls.render_lines for cls in PANES.values()}
    for name, cls in PANES.items():
        cls.render_lines = timed(times[name], originals[cls])
    try:
        app = MicrogradApp(TrainConfig(steps=1_000_000))
        async with app.run_test(size=(120, 40)) as pilot:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                await pilot.pause(0.1)
            for t in times.values():
                t.clear()  # the first seconds warm up; measure the steady state
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                await pilot.pause(0.1)
            steps = app.mirror.step if hasattr(app, "mirror") else app.last_report.step
    finally:
        for cls, original in originals.items():
            cls.render_lines = original
    print(f"{seconds:g} s of training measured, at step {steps}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds measured (20)")
    args = parser.parse_args()
    times = asyncio.run(measure(args.seconds))
    print(f"{'pane':<12}{'renders':>9}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}{'total s':>9}")
    for name, t in times.items():
        if not t:
            print(f"{name:<12}{0:>9}")
            continue
        ms = sorted(1000 * x for x in t)
        p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
        print(
            f"{name:<12}{len(ms):>9}{statistics.median(ms):>11.2f}{p95:>9.2f}{ms[-1]:>9.2f}"
            f"{sum(t):>9.2f}"
        )


if __name__ == "__main__":
    main()
