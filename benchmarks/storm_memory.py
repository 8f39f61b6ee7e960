"""The app's memory under a key storm (issue 13 item 2).

Runs the app headless under Textual's Pilot in this process (so this process's RSS is the app's;
the training process is a child and not counted), on the default config (moons, 100 samples,
MLP 2-16-16-1) with the Graph pane focused, zoomed and its tree opened --expand levels deep.
Then for --seconds it sends bursts of --burst keys drawn from `+ - ] [ n space` (seeded), one
burst every 20 ms, straight to the driver as a terminal would deliver them, and samples VmRSS
every second; then --quiet seconds without keys. Prints the samples and a summary line:
RSS before the storm, the largest during it, at its end, and after the quiet spell, in MiB.

    python benchmarks/storm_memory.py                  # 30 s storm, about 45 s in all
    python benchmarks/storm_memory.py --seconds 10 --quiet 3
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual import events  # noqa: E402

from micrograd.train import TrainConfig  # noqa: E402
from tui.app import MicrogradApp  # noqa: E402
from tui.widgets.graph import GraphTree  # noqa: E402

KEYS = ("plus", "minus", "right_square_bracket", "left_square_bracket", "n", "space")


def rss_mib(pid: int | str = "self") -> float:
    """VmRSS of a process in MiB (0 if it is gone)."""
    try:
        f = open(f"/proc/{pid}/status")  # noqa: SIM115
    except OSError:
        return 0.0
    with f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return kb / 1024


async def wait_until(pilot, condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the app")
        await pilot.pause(0.05)


async def run(args: argparse.Namespace) -> None:
    app = MicrogradApp(TrainConfig(steps=10_000_000))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.graph_step >= 0)
        tree = app.query_one(GraphTree)
        tree.focus()
        await pilot.press("z")
        for _ in range(args.expand):
            await pilot.press("down", "right")
        await pilot.pause(1.0)
        before = rss_mib()
        print(f"before the storm: {before:.0f} MiB, step {app.last_report.step}")
        rng = random.Random(args.seed)
        samples: list[float] = []
        child: list[float] = []
        start = time.monotonic()
        next_sample = start + 1.0
        sent = 0
        while time.monotonic() - start < args.seconds:
            for key in rng.choices(args.keys.split(), k=args.burst):
                event = events.Key(key, None)
                event.set_sender(app)
                app._driver.send_message(event)
            sent += args.burst
            await asyncio.sleep(0.02)  # not pilot.pause: that waits for the screen to catch up
            if time.monotonic() >= next_sample:
                next_sample += 1.0
                samples.append(rss_mib())
                child.append(rss_mib(app.session.process.pid) if app.session.process else 0.0)
                queued = app._message_queue.qsize()
                print(
                    f"  t={time.monotonic() - start:5.1f} s  app {samples[-1]:5.0f} MiB  "
                    f"training process {child[-1]:5.0f} MiB  {sent} keys sent, "
                    f"{queued} messages queued"
                )
        end = rss_mib()
        quiet_start = time.monotonic()
        while time.monotonic() - quiet_start < args.quiet:
            await pilot.pause(0.2)
        after = rss_mib()
        alive = app.is_running and not app.training_stopped
        print(f"notifications held: {len(app._notifications)}")
        print(
            f"storm of {sent} keys in {args.seconds:g} s: before {before:.0f} MiB, "
            f"max {max(samples, default=end):.0f} MiB, end {end:.0f} MiB, "
            f"after {args.quiet:g} s quiet {after:.0f} MiB; training process max "
            f"{max(child, default=0):.0f} MiB; app alive: {alive}"
        )
        app.stop_session()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--quiet", type=float, default=10.0)
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--expand", type=int, default=6, help="tree levels opened")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--keys", default=" ".join(KEYS), help="the keys drawn from")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
