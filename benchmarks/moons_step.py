"""Steps per second, nodes per step and peak RSS of Karpathy's moons demo step, side by side.

The step is the one in Karpathy's micrograd `demo.ipynb`, written against his API so the same
code runs on both engines: 100 moons samples (`micrograd.data.make_moons(100, 0.1, seed=1337)`,
labels mapped to +-1), `random.seed(1337)`, `MLP(2, [16, 16, 1])`, hinge loss plus 1e-4 L2
summed with the builtin `sum`, `backward()`, SGD with lr = 1.0 - 0.9*k/100 (floored at 0.1 past
step 100).

Each (engine, GC mode, repeat) runs in its own subprocess, so peak RSS is that engine's alone.
Our engine's child imports this repository's `micrograd`; Karpathy's child (`micrograd==0.1.0`
installed in another virtual environment, given by --karpathy-python or $KARPATHY_PYTHON) runs
isolated (`python -I`, cwd outside the repository), so it imports his. The data crosses to
the children as JSON. GC modes: "default" leaves the cyclic collector alone; "GC off" disables
it during each step and collects between steps, outside the timed region.

    python benchmarks/moons_step.py --repeats 3 --karpathy-python ~/kvenv/bin/python

Prints medians over the repeats, the ratios ours/his measured in the same invocation, and the
loss of both engines after the same number of steps from the same initial weights.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOSS_TOLERANCE = 1e-9
# For scale only: measured while planning the project on the same step, not by this script.
PLANNING_REFERENCE = {"vectorised numpy": 7000.0, "PyTorch CPU": 1300.0}


# -- the child: everything below until `main` runs in the subprocess --------------------------


def child() -> None:
    """Run the demo step `steps` times and print one JSON line of measurements."""
    cfg = json.loads(sys.stdin.read())
    if cfg.get("sys_path"):
        sys.path.insert(0, cfg["sys_path"])
    import gc
    import random
    import resource
    import time

    import micrograd
    from micrograd.engine import Value
    from micrograd.nn import MLP

    X, y, steps, gc_off = cfg["X"], cfg["y"], cfg["steps"], cfg["gc_off"]
    random.seed(cfg["seed"])
    model = MLP(2, [16, 16, 1])
    alpha = 1e-4

    def loss():
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = alpha * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    def step(k):
        total_loss, acc = loss()
        model.zero_grad()
        total_loss.backward()
        learning_rate = max(1.0 - 0.9 * k / 100, 0.1)
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        return total_loss.data, acc

    losses = []
    gc.collect()
    if gc_off:
        seconds = 0.0
        for k in range(steps):
            gc.disable()
            t0 = time.perf_counter()
            value, acc = step(k)
            seconds += time.perf_counter() - t0
            gc.enable()
            gc.collect()  # the previous step's garbage, outside the timed region
            losses.append(value)
    else:
        t0 = time.perf_counter()
        for k in range(steps):
            value, acc = step(k)
            losses.append(value)
        seconds = time.perf_counter() - t0

    total_loss, acc = loss()  # the loss after `steps` updates, untimed
    losses.append(total_loss.data)
    nodes, stack = set(), [total_loss]
    while stack:
        node = stack.pop()
        if id(node) not in nodes:
            nodes.add(id(node))
            stack.extend(node._prev)
    out = {
        "steps": steps,
        "seconds": seconds,
        "losses": losses,
        "accuracy": acc,
        "nodes": len(nodes),
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "micrograd": os.path.dirname(os.path.abspath(micrograd.__file__)),
        "python": sys.version.split()[0],
    }
    print(json.dumps(out))


# -- the parent ---------------------------------------------------------------------------------


def run_child(python: str, cfg: dict, ours: bool) -> dict:
    """One measurement in a fresh interpreter, isolated from the environment and this repo."""
    cfg = dict(cfg, sys_path=str(REPO) if ours else None)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    with tempfile.TemporaryDirectory() as cwd:
        proc = subprocess.run(
            [python, "-I", str(Path(__file__).resolve()), "--child"],
            input=json.dumps(cfg),
            capture_output=True,
            text=True,
            cwd=cwd,
            env=env,
            check=False,
        )
    if proc.returncode != 0:
        sys.exit(f"moons_step: the child ({python}) failed:\n{proc.stderr.strip()}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    inside = Path(result["micrograd"]).resolve().is_relative_to(REPO)
    if inside != ours:
        which = "this repository's" if ours else "Karpathy's"
        sys.exit(f"moons_step: expected {which} micrograd, got {result['micrograd']}")
    return result


def summarize(runs: list[dict], steps: int) -> dict:
    """Medians over the runs of one (engine, GC mode); the losses of the first run."""
    rates = [r["steps"] / r["seconds"] for r in runs]
    return {
        "steps": steps,
        "steps_per_s": statistics.median(rates),
        "rates": rates,
        "nodes": runs[0]["nodes"],
        "peak_rss_mib": statistics.median(r["peak_rss_kib"] for r in runs) / 1024,
        "losses": runs[0]["losses"],
        "accuracy": runs[0]["accuracy"],
        "micrograd": runs[0]["micrograd"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=50, help="steps per run of our engine")
    parser.add_argument("--repeats", type=int, default=3, help="runs per engine and GC mode")
    parser.add_argument(
        "--karpathy-python",
        default=os.environ.get("KARPATHY_PYTHON"),
        help="python of a venv with micrograd==0.1.0 (default: $KARPATHY_PYTHON)",
    )
    parser.add_argument(
        "--karpathy-steps", type=int, default=20, help="steps per run of his engine, GC off"
    )
    parser.add_argument(
        "--karpathy-gc-steps",
        type=int,
        default=5,
        help="steps per run of his engine with the default GC (about 1.5 s each)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write all figures to PATH as JSON")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child()
        return 0
    for name in ("steps", "repeats", "karpathy_steps", "karpathy_gc_steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")

    sys.path.insert(0, str(REPO))
    from micrograd.data import make_moons

    X, labels = make_moons(100, 0.1, seed=1337)
    cfg = {"X": X, "y": [2 * t - 1 for t in labels], "seed": 1337}

    plan = [("ours", sys.executable, True, "default GC", False, args.steps)]
    plan.append(("ours", sys.executable, True, "GC off", True, args.steps))
    if args.karpathy_python:
        kp = args.karpathy_python
        plan.append(("karpathy", kp, False, "default GC", False, args.karpathy_gc_steps))
        plan.append(("karpathy", kp, False, "GC off", True, args.karpathy_steps))
    # Rounds interleave the engines and modes, so a change in the machine's load during the
    # invocation falls on all of them alike rather than on whichever ran last.
    runs: dict[tuple[str, str], list[dict]] = {(e, m): [] for e, _, _, m, _, _ in plan}
    for round_ in range(1, args.repeats + 1):
        print(f"round {round_} of {args.repeats} ...", file=sys.stderr)
        for engine, python, ours, mode, gc_off, steps in plan:
            child_cfg = dict(cfg, steps=steps, gc_off=gc_off)
            runs[engine, mode].append(run_child(python, child_cfg, ours))
    results = {
        key: summarize(runs[key], plan_steps)
        for key, plan_steps in (((e, m), st) for e, _, _, m, _, st in plan)
    }

    print(f"moons demo step, medians of {args.repeats} runs, python {sys.version.split()[0]}")
    print(
        f"{'engine':9} {'mode':11} {'steps':>5} {'steps/s':>9} {'ms/step':>8} "
        f"{'nodes/step':>10} {'peak RSS':>10}  runs (steps/s)"
    )
    for (engine, mode), r in results.items():
        runs = ", ".join(f"{x:.2f}" for x in r["rates"])
        print(
            f"{engine:9} {mode:11} {r['steps']:5d} {r['steps_per_s']:9.2f} "
            f"{1000 / r['steps_per_s']:8.1f} {r['nodes']:10,d} {r['peak_rss_mib']:7.1f} MiB"
            f"  {runs}"
        )
    ours_default = results["ours", "default GC"]["steps_per_s"]
    summary: dict = {"results": {f"{e}/{m}": r for (e, m), r in results.items()}}
    if args.karpathy_python:
        print("\nratios ours / his (same invocation):")
        for mode in ("default GC", "GC off"):
            ratio = results["ours", mode]["steps_per_s"] / results["karpathy", mode]["steps_per_s"]
            summary[f"speed_ratio/{mode}"] = ratio
            print(f"  steps/s, {mode:10}: {ratio:7.1f}x")
        for mode in ("default GC", "GC off"):
            rss = results["ours", mode]["peak_rss_mib"], results["karpathy", mode]["peak_rss_mib"]
            ratio = rss[0] / rss[1]
            summary[f"rss_ratio/{mode}"] = ratio
            print(f"  peak RSS, {mode:10}: {ratio:7.2f}")
        mine = results["ours", "GC off"]["losses"]
        his = results["karpathy", "GC off"]["losses"]
        k = min(len(mine), len(his)) - 1
        worst = max(abs(a - b) for a, b in zip(mine[: k + 1], his[: k + 1]))
        verdict = "agree" if worst <= LOSS_TOLERANCE else "DISAGREE"
        summary["loss_max_abs_diff"] = worst
        print(
            f"\nloss after {k} steps from the same initial weights: ours {mine[k]!r}, "
            f"his {his[k]!r}\n  max |ours - his| over steps 0..{k}: {worst:.3g} "
            f"({verdict}, tolerance {LOSS_TOLERANCE:g})"
        )
    else:
        print("\nKarpathy's engine not run: give --karpathy-python PATH or set KARPATHY_PYTHON")
        worst = 0.0
    print("\nfor scale (planning figures for this step, not measured here):")
    for name, rate in PLANNING_REFERENCE.items():
        print(f"  {name:17} ~{rate:,.0f} steps/s: ours (default GC) is {ours_default / rate:.3f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=1) + "\n")
    return 0 if worst <= LOSS_TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
