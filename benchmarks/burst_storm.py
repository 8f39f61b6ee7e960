"""How often the key storm of tests/test_tmux_crash.py (bursts with the palette in each) ends
in a crash, a stuck screen or a quit, over many seeds, in a real terminal (tmux).

Each run is the test's `storm_in_bursts` with one seed: the app at 120x40 with the test's small
moons run, 40 bursts of 17 seeded random keys with ctrl+p enter enter put in each, then one
escape a second until the main screen shows (up to 45 s). Outcomes: "alive" (back on the main
screen), "quit" (status 0: the storm picked the palette's Quit), "crash" (another status),
"stuck" (escape no longer closed what was open). The screen of each run that was not alive or
quit is written to --keep (a folder). The test itself runs one storm (seed 13; another seed
only after a quit); this runs many.

    python benchmarks/burst_storm.py --seeds 100-139 --keep /tmp/storms

Needs tmux. Measured figures are in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from test_tmux import Terminal  # noqa: E402
from test_tmux_crash import storm_in_bursts  # noqa: E402


def seeds(text: str) -> list[int]:
    """`100-139` or `13,14,15`."""
    if "-" in text:
        low, high = text.split("-", 1)
        return list(range(int(low), int(high) + 1))
    return [int(s) for s in text.split(",") if s]


def one_run(seed: int, keep: Path | None) -> str:
    with tempfile.TemporaryDirectory() as cwd:
        term = Terminal(f"burst-storm-{os.getpid()}-{seed}-{time.monotonic_ns()}", cwd)
        try:
            alive = storm_in_bursts(term, seed)
            return "alive" if alive else "quit"
        except (AssertionError, pytest.fail.Exception) as failure:
            outcome = "crash" if "exited with status" in str(failure) else "stuck"
            if keep is not None:
                keep.mkdir(parents=True, exist_ok=True)
                (keep / f"seed-{seed}-{outcome}.txt").write_text(str(failure))
            return outcome
        finally:
            term.tmux("kill-server")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=seeds, default=seeds("100-119"), help="e.g. 100-139")
    parser.add_argument("--keep", type=Path, default=None, help="folder for failing screens")
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        parser.exit(2, "burst_storm: tmux is not installed\n")
    counts: dict[str, int] = {}
    for seed in args.seeds:
        outcome = one_run(seed, args.keep)
        counts[outcome] = counts.get(outcome, 0) + 1
        print(f"seed {seed}: {outcome}", flush=True)
    total = len(args.seeds)
    print("; ".join(f"{k} {v}/{total}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
