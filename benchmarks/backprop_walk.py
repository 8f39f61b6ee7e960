"""What a backprop walk costs the UI thread: starting it (`b`: the walk's start sums over the
whole graph, the tree's lines redrawn) and each press after (the next node, the lines whose sums
moved, the path opened to the node), on the default demo's graph (moons, 16,16: 7,144 nodes).

Runs the app headless (`App.run_test`, 120x40), takes one step, then calls the pane's
`backprop_next` (what `b` runs) --presses times; each repeat in a fresh process. Prints, per
repeat and as medians over repeats: the start, the median and p95 of a press, the median of the
last 100 presses (the tree has loaded thousands of lines by then), how many tree lines are
loaded at the end; then `i` (a walk under one node) on five samples' branches: how many ops such a
walk has, and the median time it takes to start.

    python benchmarks/backprop_walk.py [--presses 3000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


async def one_run(presses: int) -> dict[str, float]:
    from micrograd.train import TrainConfig
    from tui.app import MicrogradApp
    from tui.widgets.graph import GraphTree

    app = MicrogradApp(TrainConfig(seed=1), paused=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        tree = app.query_one(GraphTree)
        deadline = time.monotonic() + 60
        while tree.snapshot is None and time.monotonic() < deadline:
            await pilot.pause(0.05)
        await pilot.pause(2.0)  # the step's reports all in: no new graph stops the walk
        t0 = time.perf_counter()
        app.graph.backprop_next()
        start = time.perf_counter() - t0
        times = []
        for _ in range(presses):
            t0 = time.perf_counter()
            app.graph.backprop_next()
            times.append(time.perf_counter() - t0)
        app.graph.backprop_stop()
        snap = tree.snapshot
        unders = []  # `i` on five samples' branches (code that has it)
        under_ops = 0
        for k in range(0, 50 if hasattr(app.graph, "backprop_under") else 0, 10):
            tag = f"sample {k}:"
            tree.reveal(snap.labels.index(next(x for x in snap.labels if x.startswith(tag))))
            t0 = time.perf_counter()
            app.graph.backprop_under()
            unders.append(time.perf_counter() - t0)
            under_ops = app.graph.walk.total
            app.graph.backprop_stop()
        loaded, stack = 0, [tree.root]
        while stack:
            node = stack.pop()
            loaded += 1
            stack.extend(node.children)
        times.sort()
        return {
            "nodes": len(tree.snapshot),
            "start_ms": start * 1e3,
            "press_median_ms": statistics.median(times) * 1e3,
            "press_p95_ms": times[int(0.95 * (len(times) - 1))] * 1e3,
            "last100_median_ms": statistics.median(times[-100:]) * 1e3,
            "loaded_lines": loaded,
            "under_ops": under_ops,
            "under_start_median_ms": statistics.median(unders or [0.0]) * 1e3,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(asyncio.run(one_run(args.presses))))
        return
    runs = []
    for k in range(args.repeats):
        out = subprocess.run(
            [sys.executable, __file__, "--one", "--presses", str(args.presses)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"repeat {k + 1}: {runs[-1]}")
    print("medians over repeats:")
    for key in runs[0]:
        print(f"  {key}: {statistics.median(r[key] for r in runs):.2f}")


if __name__ == "__main__":
    main()
