"""Render time per pane while the app trains: what a repaint costs the UI thread.

Runs the app headless (`App.run_test`, 120x40) on the default config (or the app's options
--run-args) for --seconds of training, and times every call of each pane's `render_lines` (where
Textual asks a widget for its lines: a plotext figure is built there, a DataTable's rows, a
Tree's lines), of the app's report handlers, per report class, of each frame (the dirty panes'
renders and the screen update) and of each cyclic garbage collection (by generation: a full one
stops the UI thread). Prints, for each, the number of calls, their median, p95 and max, and the
UI time they took in all: wall-clock time, and the UI thread's CPU time (`time.thread_time`),
which other processes on a shared machine and the app's own threads (the loss figure's builder)
barely change, so it is the steadier figure. A key press that arrives during a render waits for
it, so these are the repaints that hold keys back (benchmarks/app_latency.py measures the keys
themselves, in tmux). The app freezes what is alive once started, as `run_app` does.

    python benchmarks/pane_render.py [--seconds 20]
    python benchmarks/pane_render.py --run-args "--engine tensor --dataset digits --conv 8,16"
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import shlex
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui.training import one_blas_thread  # noqa: E402

# Before numpy loads (the tensor panes import it): the training process re-imports this script
# as it starts, and would otherwise run the tensor engine with a BLAS thread a core (4x slower
# on 2 cores, benchmarks/README.md) instead of the app's one.
one_blas_thread()

from textual.screen import Screen  # noqa: E402

from tui.app import MicrogradApp  # noqa: E402
from tui.cli import build_parser, config_from_args  # noqa: E402
from tui.widgets.dataset import BoundaryView  # noqa: E402
from tui.widgets.digits import ConfusionMatrix, DigitsView  # noqa: E402
from tui.widgets.graph import GraphTree  # noqa: E402
from tui.widgets.health import GradientHealth  # noqa: E402
from tui.widgets.loss import LossPlot  # noqa: E402
from tui.widgets.params import ParamTable  # noqa: E402
from tui.widgets.status import StatusLine  # noqa: E402
from tui.widgets.tensor_params import TensorParamTable  # noqa: E402

PANES = {
    "Dataset": BoundaryView,
    "Loss": LossPlot,
    "Parameters": ParamTable,
    "Graph": GraphTree,
    "Gradients": GradientHealth,
    "status": StatusLine,
    # a run on the tensor engine (--run-args "--engine tensor ..."): its own panes
    "Parameters (tensor)": TensorParamTable,
    "Dataset: digits page": DigitsView,
    "Dataset: confusion": ConfusionMatrix,
}

Times = list[tuple[float, float]]  # (wall-clock seconds, UI thread CPU seconds) per call


def timed(times: Times, original):
    def render_lines(self, crop):
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            return original(self, crop)
        finally:
            times.append((time.perf_counter() - start, time.thread_time() - cpu))

    return render_lines


def timed_handlers(times: dict[str, Times], original):
    """`MicrogradApp.report_handlers`, each handler timed under "handle <report class>"."""

    def report_handlers(self):
        def wrap(name, handler):
            def handle(report):
                start, cpu = time.perf_counter(), time.thread_time()
                try:
                    return handler(report)
                finally:
                    took = (time.perf_counter() - start, time.thread_time() - cpu)
                    times.setdefault(name, []).append(took)

            return handle

        return {k: wrap(f"handle {k.__name__}", h) for k, h in original(self).items()}

    return report_handlers


def timed_frames(times: Times, original):
    """`Screen._on_timer_update`: one frame (a layout if one is due, the dirty widgets' renders,
    the screen update written out)."""

    def on_timer_update(self):
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            return original(self)
        finally:
            times.append((time.perf_counter() - start, time.thread_time() - cpu))

    return on_timer_update


def timed_collections(times: dict[str, Times]):
    """A `gc.callbacks` entry timing each cyclic garbage collection, by generation."""
    started: dict[int, tuple[float, float]] = {}

    def callback(phase: str, info: dict) -> None:
        generation = info["generation"]
        if phase == "start":
            started[generation] = (time.perf_counter(), time.thread_time())
        elif generation in started:
            start, cpu = started.pop(generation)
            took = (time.perf_counter() - start, time.thread_time() - cpu)
            times.setdefault(f"gc generation {generation}", []).append(took)

    return callback


async def measure(seconds: float, run_args: str = "") -> dict[str, Times]:
    times: dict[str, Times] = {name: [] for name in PANES}
    originals = {cls: cls.__dict__.get("render_lines") for cls in PANES.values()}
    for name, cls in PANES.items():
        cls.render_lines = timed(times[name], cls.render_lines)
    handlers = MicrogradApp.report_handlers
    MicrogradApp.report_handlers = timed_handlers(times, handlers)
    frame = Screen._on_timer_update
    Screen._on_timer_update = timed_frames(times.setdefault("frame", []), frame)
    collections = timed_collections(times)
    gc.callbacks.append(collections)
    try:
        args = build_parser().parse_args(["--steps", "1000000", *shlex.split(run_args)])
        app = MicrogradApp(config_from_args(args))
        app.freeze_gc = True  # as `run_app` starts it
        # plain sleeps: `pilot.pause` waits for the screen to be idle, which slowed training
        async with app.run_test(size=(120, 40)):
            await asyncio.sleep(seconds)
            for t in times.values():
                t.clear()  # the first seconds warm up; measure the steady state
            first = app.mirror.step
            await asyncio.sleep(seconds)
            steps = app.mirror.step
    finally:
        for cls, original in originals.items():
            if original is None:  # inherited: the class had none of its own
                del cls.render_lines
            else:
                cls.render_lines = original
        MicrogradApp.report_handlers = handlers
        Screen._on_timer_update = frame
        gc.callbacks.remove(collections)
    print(f"{seconds:g} s of training measured, steps {first} to {steps}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds measured (20)")
    parser.add_argument(
        "--run-args", default="", help="the app's options (as on its command line) for the run"
    )
    args = parser.parse_args()
    times = asyncio.run(measure(args.seconds, args.run_args))
    print(f"{'':<26}{'':>8}{'wall-clock ms':^27}{'':>8}{'UI thread CPU ms':^27}")
    head = f"{'median':>9}{'p95':>9}{'max':>9}"
    print(f"{'pane':<26}{'renders':>8}{head}{'total s':>8}{head}{'total s':>8}")
    for name, t in times.items():
        if not t:
            print(f"{name:<26}{0:>8}")
            continue
        line = f"{name:<26}{len(t):>8}"
        for column in (0, 1):
            ms = sorted(1000 * x[column] for x in t)
            p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
            line += f"{statistics.median(ms):>9.2f}{p95:>9.2f}{ms[-1]:>9.2f}{sum(ms) / 1000:>8.2f}"
        print(line)


if __name__ == "__main__":
    main()
