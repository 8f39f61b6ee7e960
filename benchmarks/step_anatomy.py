"""Where one step of Karpathy's moons demo goes in our engine, phase by phase.

The step of `moons_step.py` (100 moons samples, `MLP(2, [16, 16, 1])`, hinge loss + 1e-4 L2
through the builtin `sum`, `backward()`, SGD), cut into the phases the engine's cost is made of:

- forward: building the graph (inputs, the model, the loss);
- order: `topological_order(loss)`, the walk `backward()` starts with;
- propagation: the rest of `backward()` (resetting intermediate grads, then
  `child.grad += local * grad` over every operand link), timed as backward minus order;
- update: the SGD step over the parameters;
- free: dropping the graph (reference counting alone; the engine makes no cycles).

Phases are timed with the cyclic GC off, so each is the engine's own cost; the median over the
steps of each fresh process, then the median over the processes. A second pass per process runs
the same steps with the default GC and times every collection with `gc.callbacks`: what the
default collector adds to a step, per generation.

    python benchmarks/step_anatomy.py --repeats 3 [--profile]

`--profile` also prints cProfile's top functions for 20 steps (cProfile's own overhead inflates
small calls; the phase times above are the figures to quote).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from micrograd.data import make_moons  # noqa: E402
from micrograd.engine import Value, topological_order  # noqa: E402
from micrograd.nn import MLP  # noqa: E402

PHASES = ("forward", "order", "propagation", "update", "free")


class DemoStep:
    """Karpathy's demo step, split so each phase can be timed."""

    def __init__(self) -> None:
        import random

        X, labels = make_moons(100, 0.1, seed=1337)
        self.X, self.y = X, [2 * t - 1 for t in labels]
        random.seed(1337)
        self.model = MLP(2, [16, 16, 1])
        self.k = 0

    def forward(self) -> Value:
        inputs = [list(map(Value, row)) for row in self.X]
        scores = list(map(self.model, inputs))
        losses = [(1 + -yi * si).relu() for yi, si in zip(self.y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        return data_loss + 1e-4 * sum(p * p for p in self.model.parameters())

    def update(self) -> None:
        lr = max(1.0 - 0.9 * self.k / 100, 0.1)
        for p in self.model.parameters():
            p.data -= lr * p.grad
        self.k += 1

    def timed(self) -> dict[str, float]:
        """One step, GC off, seconds per phase."""
        clock = time.perf_counter
        t0 = clock()
        loss = self.forward()
        t1 = clock()
        topological_order(loss)
        t2 = clock()
        self.model.zero_grad()
        loss.backward()
        t3 = clock()
        self.update()
        t4 = clock()
        del loss
        t5 = clock()
        # backward() walks the order itself: propagation = backward - one more walk
        return {
            "forward": t1 - t0,
            "order": t2 - t1,
            "propagation": (t3 - t2) - (t2 - t1),
            "update": t4 - t3,
            "free": t5 - t4,
        }

    def plain(self) -> None:
        loss = self.forward()
        self.model.zero_grad()
        loss.backward()
        self.update()


def child(steps: int) -> dict:
    """Phase times (GC off), then collector cost (default GC), in this process."""
    step = DemoStep()
    for _ in range(5):  # warm-up
        step.plain()
    gc.collect()
    phases: dict[str, list[float]] = {name: [] for name in PHASES}
    for _ in range(steps):
        gc.disable()
        for name, seconds in step.timed().items():
            phases[name].append(seconds)
        gc.enable()
        gc.collect()
    # the same steps with the default collector, every collection timed
    started: list[float] = [0.0]
    per_gen = {g: [0, 0.0] for g in range(3)}

    def watch(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            per_gen[info["generation"]][0] += 1
            per_gen[info["generation"]][1] += time.perf_counter() - started[0]

    gc.callbacks.append(watch)
    t0 = time.perf_counter()
    for _ in range(steps):
        step.plain()
    default_seconds = time.perf_counter() - t0
    gc.callbacks.remove(watch)
    return {
        "phases_ms": {k: statistics.median(v) * 1e3 for k, v in phases.items()},
        "gc_off_step_ms": sum(statistics.median(v) for v in phases.values()) * 1e3,
        "default_step_ms": default_seconds / steps * 1e3,
        "gc": {g: (n / steps, s / steps * 1e3) for g, (n, s) in per_gen.items()},
    }


def profile(steps: int) -> None:
    step = DemoStep()
    step.plain()
    gc.disable()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        step.plain()
    profiler.disable()
    gc.enable()
    print(f"\ncProfile, {steps} steps, GC off, top 12 by own time:")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(12)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=40, help="timed steps per process")
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile table")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.steps < 1 or args.repeats < 1:
        parser.error("--steps and --repeats must be at least 1")
    if args.child:
        print(json.dumps(child(args.steps)))
        return 0
    runs = []
    for _ in range(args.repeats):
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--steps", str(args.steps)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))

    def med(values) -> float:
        return statistics.median(values)

    print(f"demo step, our engine: medians of {args.repeats} processes x {args.steps} steps")
    print("phase (GC off)      ms   share")
    total = med(r["gc_off_step_ms"] for r in runs)
    for name in PHASES:
        ms = med(r["phases_ms"][name] for r in runs)
        print(f"  {name:13} {ms:7.2f}  {ms / total:5.0%}")
    print(f"  {'step':13} {total:7.2f}  ({1000 / total:.1f} steps/s)")
    default = med(r["default_step_ms"] for r in runs)
    print(f"\ndefault GC: {default:.2f} ms a step ({1000 / default:.1f} steps/s), of which:")
    for g in ("0", "1", "2"):
        n = med(r["gc"][g][0] for r in runs)
        ms = med(r["gc"][g][1] for r in runs)
        print(f"  gen {g}: {n:5.2f} collections a step, {ms:.2f} ms a step")
    if args.profile:
        profile(20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
