"""Memory over a long headless run: RSS every N steps, and what the history costs per step.

    python benchmarks/long_run.py                      # 100,000 steps, --samples 20 --hidden 4
    python benchmarks/long_run.py --steps 20000 --every 2000
    python benchmarks/long_run.py --app --steps 10000 --every 1000   # the app, under Pilot

Trains in this process (as `microgradtui --headless` does) a small configuration, so that
100,000 steps take a few minutes on one core, and prints the resident set size (from
/proc/self/statm) every `--every` steps, then the growth after warm-up (the first 10% of the
steps). It also measures with tracemalloc what one step adds to `Trainer.history` (a compact,
bounded `History`) against a plain list of `StepReport`s, the layout before it.

With `--app` it runs the app itself (Textual's headless Pilot, 120x40, a real training process)
until the training process has taken `--steps` steps, and prints every `--every` steps the RSS
of the app's process and of the training process, the steps/s, and the points the loss plot holds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from micrograd.train import History, StepReport, TrainConfig, Trainer  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE / 1e6


async def app_run(steps: int, every: int, config: TrainConfig) -> None:
    from tui.app import MicrogradApp
    from tui.widgets.loss import LossPlot

    app = MicrogradApp(config)
    async with app.run_test(size=(120, 40)) as pilot:

        def step() -> int:
            return app.last_report.step if app.last_report else 0

        while step() < 1:
            await pilot.pause(0.05)
        child = app.session.process.pid
        print(f"{'step':>8} {'app MB':>8} {'train MB':>8} {'steps/s':>8} {'plotted':>8}")
        start = last = time.perf_counter()
        last_step, mark = step(), every
        while step() < steps:
            await pilot.pause(0.1)
            if step() >= mark:
                now, s = time.perf_counter(), step()
                rate = (s - last_step) / (now - last)
                last, last_step, mark = now, s, mark + every
                points = len(app.query_one(LossPlot).steps)
                print(f"{s:>8} {rss_mb():>8.2f} {rss_mb(child):>8.2f} {rate:>8.0f} {points:>8}")
        elapsed = time.perf_counter() - start
        print(f"{step()} steps in {elapsed:.0f} s in the app ({step() / elapsed:.0f} steps/s)")


def bytes_per_report(n: int = 20_000) -> tuple[float, float]:
    """tracemalloc bytes per report: History (unbounded here) and a list of StepReports."""
    reports = [StepReport(i, 0.5 + i * 1e-9, 0.75, 0.1, 1e-3 * (i % 7)) for i in range(1, n + 1)]
    out = []
    for make in (lambda: History(limit=10 * n), list):
        tracemalloc.start()
        held = make()
        for r in reports:
            # fresh floats, as each real step makes its own (x + 0.0 is a new float object)
            fresh = (r.loss + 0.0, r.accuracy + 0.0, r.lr + 0.0, r.seconds + 0.0)
            held.append(StepReport(r.step, *fresh))
        current, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out.append(current / n)
        del held
    return out[0], out[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--every", type=int, default=5_000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--hidden", default="4")
    parser.add_argument("--app", action="store_true", help="run the app (Pilot), not headless")
    args = parser.parse_args()
    config = TrainConfig(
        samples=args.samples,
        hidden=tuple(int(h) for h in args.hidden.split(",")),
        lr=0.05,
        steps=args.steps,
        seed=1,
    )
    if args.app:
        import asyncio

        asyncio.run(app_run(args.steps, args.every, config))
        return
    compact, plain = bytes_per_report()
    print(f"history: {compact:.0f} bytes/step (History), {plain:.0f} bytes/step (list)")
    trainer = Trainer(config)
    print(
        f"config: moons, {args.samples} samples, MLP 2-{args.hidden}-1, sgd lr 0.05, "
        f"{args.steps} steps, history limit {trainer.history.limit}"
    )
    print(f"{'step':>8} {'RSS MB':>8} {'history':>8} {'steps/s':>8}")
    start = last = time.perf_counter()
    curve = [(0, rss_mb())]
    print(f"{0:>8} {curve[0][1]:>8.2f} {0:>8} {'':>8}")
    for step in range(1, args.steps + 1):
        trainer.step()
        if step % args.every == 0:
            now = time.perf_counter()
            curve.append((step, rss_mb()))
            rate = args.every / (now - last)
            last = now
            print(f"{step:>8} {curve[-1][1]:>8.2f} {len(trainer.history):>8} {rate:>8.0f}")
    elapsed = time.perf_counter() - start
    warm = next((rss for s, rss in curve if s >= args.steps // 10), curve[0][1])
    peak = max(rss for _, rss in curve)
    print(
        f"{args.steps} steps in {elapsed:.0f} s ({args.steps / elapsed:.0f} steps/s); "
        f"RSS after warm-up ({args.steps // 10} steps) {warm:.2f} MB, at the end "
        f"{curve[-1][1]:.2f} MB: growth {curve[-1][1] - warm:+.2f} MB; peak {peak:.2f} MB"
    )


if __name__ == "__main__":
    main()
