"""How the engine's cost grows with graph size: it should be linear.

Reports, each measured in a fresh subprocess (so peak RSS belongs to one measurement):
- Trainer steps/s on moons for hidden widths 8, 16, 32, 64 (two hidden layers, 100 samples),
  and for 100, 1,000 and 10,000 samples (hidden 16,16), with nodes and edges (operand links)
  per step and nanoseconds per edge: if cost is linear in graph size, ns/edge stays flat (a
  neuron is one node whatever its width, so edges, not nodes, measure the work);
- backward() time and peak RSS on chains of 10^4, 10^5 and 10^6 nodes;
- points per second of the float-only `predict_batch` (the decision-boundary path).

Run: python benchmarks/scaling.py [--repeats 3] [--quick] [--json PATH]
Medians of --repeats runs; the machine is shared, so compare within one invocation.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

TRAIN_CHILD = r"""
import json, resource, sys, time
from micrograd.engine import topological_order
from micrograd.train import TrainConfig, Trainer
hidden, samples, steps = json.loads(sys.argv[1])
trainer = Trainer(TrainConfig(hidden=tuple(hidden), samples=samples))
trainer.step()  # warm-up
times = []
for _ in range(steps):
    start = time.perf_counter()
    trainer.step()
    times.append(time.perf_counter() - start)
order = topological_order(trainer.last_root)
edges = sum(len(node._prev) for node in order)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": sorted(times)[len(times) // 2], "nodes": len(order), "edges": edges,
                  "peak_mib": peak}))
"""

CHAIN_CHILD = r"""
import json, resource, sys, time
from micrograd.engine import Value
n = int(sys.argv[1])
x = Value(0.5)
y = x
start = time.perf_counter()
for i in range(n - 1):
    y = y * 1.0000001 if i % 2 else y + 0.001
built = time.perf_counter() - start
start = time.perf_counter()
y.backward()
backward = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"build": built, "backward": backward, "peak_mib": peak}))
"""

PREDICT_CHILD = r"""
import json, random, time
from micrograd.nn import MLP
model = MLP(2, [16, 16, 1], seed=0)
rng = random.Random(0)
points = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(20000)]
start = time.perf_counter()
model.predict_batch(points)
print(json.dumps({"points_per_second": len(points) / (time.perf_counter() - start)}))
"""


def run_child(code: str, *args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(out.stdout)


def median_of(repeats: int, code: str, *args: str) -> dict:
    runs = [run_child(code, *args) for _ in range(repeats)]
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args()
    results: dict = {"load_before": os.getloadavg()[0]}

    print(f"python {sys.version.split()[0]}, {args.repeats} runs each, medians")
    print("\nTrainer steps on moons (hinge, SGD):")
    header = ("hidden", "samples", "steps/s", "nodes/step", "edges/step", "ns/edge", "peak RSS")
    print("{:>8} {:>8} {:>9} {:>11} {:>11} {:>8} {:>9}".format(*header))
    cases = [((w, w), 100, 20) for w in (8, 16, 32, 64)]
    cases += [((16, 16), 1000, 5), ((16, 16), 10000, 2)]
    if args.quick:
        cases = [((8, 8), 100, 5), ((16, 16), 100, 5), ((16, 16), 1000, 2)]
    results["train"] = []
    for hidden, samples, steps in cases:
        r = median_of(args.repeats, TRAIN_CHILD, json.dumps([hidden, samples, steps]))
        ns_per_edge = 1e9 * r["seconds"] / r["edges"]
        results["train"].append({"hidden": hidden, "samples": samples, **r})
        print(
            f"{','.join(map(str, hidden)):>8} {samples:>8} {1 / r['seconds']:>9.2f} "
            f"{r['nodes']:>11,} {r['edges']:>11,} {ns_per_edge:>8.1f} {r['peak_mib']:>6.1f} MiB"
        )

    print("\nbackward() on a chain (alternating + and *):")
    print(f"{'nodes':>10} {'build s':>9} {'backward s':>11} {'us/node':>8} {'peak RSS':>9}")
    results["chain"] = []
    for n in (10**4, 10**5) if args.quick else (10**4, 10**5, 10**6):
        r = median_of(args.repeats, CHAIN_CHILD, str(n))
        results["chain"].append({"nodes": n, **r})
        print(
            f"{n:>10,} {r['build']:>9.3f} {r['backward']:>11.3f} "
            f"{1e6 * r['backward'] / n:>8.3f} {r['peak_mib']:>6.1f} MiB"
        )

    r = median_of(args.repeats, PREDICT_CHILD)
    results["predict"] = r
    print(f"\npredict_batch, MLP 2-16-16-1: {r['points_per_second']:,.0f} points/s")
    results["load_after"] = os.getloadavg()[0]
    print(f"\nload average: {results['load_before']:.2f} before, {results['load_after']:.2f} after")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
