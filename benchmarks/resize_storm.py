"""How often a key storm with resizes leaves the app frozen, in a real terminal (tmux).

Each run starts the app in its own tmux server at 120x40 with --args (default: the conv model
on digits, the heaviest panes to redraw), sends --rounds x 30 bursts of 25 seeded random keys
(every key of the app but q and ctrl+p, and PgUp/PgDn), resizing the window after each burst to
one of 120x40, 80x24, 60x16, 40x12, 100x30, 0.25 s apart. Then, at 120x40, it checks that the
app still answers: escapes close what the storm left open, `?` opens the help screen and escape
closes it (up to 3 tries, 15 s each). A run is "frozen" when it does not, "exited" when the app
is gone. Prints one line per run (the app's RSS before and after, in MiB) and a summary.

    python benchmarks/resize_storm.py --runs 8
    python benchmarks/resize_storm.py --runs 4 --args "--samples 40 --hidden 8 --steps 100000"

Measured figures are in benchmarks/README.md. Needs tmux.
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from app_latency import children, rss_kib  # noqa: E402  (/proc readers)

CONV = (
    "--engine tensor --dataset digits --samples 1797 --test-fraction 0.2 --conv 8,16 --hidden 64 "
    "--optimizer adam --lr 0.01 --batch-size 128 --steps 1000000"
)
KEYS = (
    "Space n + - ] [ r d z ? l s e b B Escape c v o h N S w p Enter Tab BTab Up Down Left Right "
    "PPage NPage g 1 2 3 x t E A f C m u C-s BSpace"
).split()
SIZES = ((120, 40), (80, 24), (60, 16), (40, 12), (100, 30))


class Tmux:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def __call__(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        return out.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "app")

    def shows(self, text: str, timeout: float, present: bool = True) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (text in self.screen()) == present:
                return True
            time.sleep(0.3)
        return False


def rss_mib(pid: int) -> float:
    return (rss_kib(pid) or 0) / 1024


def one_run(run: int, args: str, rounds: int, seed: int, cwd: str, keep: bool = False) -> str:
    tmux = Tmux(f"mgtui-storm-{os.getpid()}-{run}")
    kept = False
    command = f"{shlex.quote(sys.executable)} -m tui {args}; echo EXITED $?; sleep 600"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TMUX")}
    env["PYTHONPATH"] = str(ROOT)
    subprocess.run(
        ["tmux", "-L", tmux.socket, "-f", os.devnull, "new-session", "-d", "-s", "app"]
        + ["-x", "120", "-y", "40", "-c", cwd, command],
        check=True,
        env=env,
        timeout=10,
    )
    try:
        if not tmux.shows("steps/s", 60):
            return "never started"
        shell = int(tmux("display", "-p", "-t", "app", "#{pane_pid}"))
        pid = children(shell)[0]  # the app, under the pane's shell
        before = rss_mib(pid)
        rng = random.Random(seed + run)
        for _ in range(rounds * 30):
            tmux("send-keys", "-t", "app", *rng.choices(KEYS, k=25))
            width, height = rng.choice(SIZES)
            tmux("resize-window", "-t", "app", "-x", str(width), "-y", str(height))
            time.sleep(0.25)
        tmux("resize-window", "-t", "app", "-x", "120", "-y", "40")
        after = rss_mib(pid)
        if "EXITED" in tmux.screen():
            return f"exited ({tmux.screen().split('EXITED')[1].split()[0]})"
        for _ in range(3):
            for _ in range(4):
                tmux("send-keys", "-t", "app", "Escape")
                time.sleep(0.3)
            tmux("send-keys", "-t", "app", "?")
            if tmux.shows("escape closes", 15):
                tmux("send-keys", "-t", "app", "Escape")
                answered = tmux.shows("escape closes", 15, present=False)
                if answered:
                    return f"answers keys, RSS {before:.0f} -> {after:.0f} MiB"
                break
        if keep:
            kept = True
            return f"frozen, RSS {before:.0f} -> {after:.0f} MiB; kept: tmux -L {tmux.socket}"
        return f"frozen, RSS {before:.0f} -> {after:.0f} MiB"
    finally:
        if not kept:
            tmux("kill-server")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="30 bursts each (default 3)")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--args", default=CONV, help="the app's options (default: conv digits)")
    parser.add_argument(
        "--keep", action="store_true", help="leave a frozen run's tmux server up, and stop there"
    )
    opts = parser.parse_args()
    results = []
    cwd = tempfile.mkdtemp(prefix="mgtui-storm-")  # the storm's `s` and `p` write files here
    for run in range(opts.runs):
        result = one_run(run, opts.args, opts.rounds, opts.seed, cwd, opts.keep)
        results.append(result)
        print(f"run {run + 1}: {result}", flush=True)
        if "kept:" in result:
            print(f"its files: {cwd}")
            break
    else:
        shutil.rmtree(cwd, ignore_errors=True)
    answered = sum(r.startswith("answers") for r in results)
    print(f"answered keys after the storm: {answered} of {len(results)} runs")


if __name__ == "__main__":
    main()
