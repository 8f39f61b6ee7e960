"""What an open modal costs while training runs, in a real terminal (tmux).

Starts the app at 120x40 with --args (default: the conv model on digits), lets it train for
--warmup seconds, then for each view in --views (a key that opens it; `none`: the main screen
alone) closes what is open, opens the view and measures for --seconds: the UI process's CPU (%
of one core), the training process's CPU, and the steps/s the status line shows. One line per
view; on 2 cores the UI and training compete, so a costly modal slows training.

    python benchmarks/modal_cost.py                        # none, f (filters), ? (help), none
    python benchmarks/modal_cost.py --views "none,?" --args "--samples 100 --steps 1000000"

Figures are in benchmarks/README.md. Needs tmux.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from app_latency import children, cpu_seconds  # noqa: E402  (/proc readers)

CONV = (
    "--engine tensor --dataset digits --samples 1797 --test-fraction 0.2 --conv 8,16 --hidden 64 "
    "--optimizer adam --lr 0.01 --batch-size 128 --steps 1000000"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--args", default=CONV, help="the app's options (default: conv digits)")
    parser.add_argument("--views", default="none,f,?,none", help="keys that open each view")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=15.0)
    opts = parser.parse_args()
    socket = f"mgtui-modal-{os.getpid()}"

    def tmux(*args: str) -> str:
        out = subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True)
        return out.stdout

    def shown_step() -> int:
        match = re.search(r"step (\d+)", tmux("capture-pane", "-p", "-t", "app"))
        return int(match[1]) if match else -1

    env = {k: v for k, v in os.environ.items() if not k.startswith("TMUX")}
    env["PYTHONPATH"] = str(ROOT)
    with tempfile.TemporaryDirectory() as cwd:
        command = f"{sys.executable} -m tui {opts.args}; sleep 600"
        subprocess.run(
            ["tmux", "-L", socket, "-f", os.devnull, "new-session", "-d", "-s", "app"]
            + ["-x", "120", "-y", "40", "-c", cwd, command],
            check=True,
            env=env,
        )
        try:
            time.sleep(opts.warmup)
            ui_pid = children(int(tmux("display", "-p", "-t", "app", "#{pane_pid}")))[0]
            training = children(ui_pid)

            def cpu(pids: list[int]) -> float:
                return sum(cpu_seconds(pid) or 0.0 for pid in pids)

            for view in opts.views.split(","):
                tmux("send-keys", "-t", "app", "Escape")
                time.sleep(1.0)
                if view != "none":
                    tmux("send-keys", "-t", "app", view)
                time.sleep(3.0)
                ui0, tr0, step0 = cpu([ui_pid]), cpu(training), shown_step()
                start = time.monotonic()
                time.sleep(opts.seconds)
                spent = time.monotonic() - start
                ui_cpu = 100 * (cpu([ui_pid]) - ui0) / spent
                tr_cpu = 100 * (cpu(training) - tr0) / spent
                rate = (shown_step() - step0) / spent
                print(
                    f"{view:>5}: UI {ui_cpu:.0f}% CPU, training {tr_cpu:.0f}%, {rate:.0f} steps/s",
                    flush=True,
                )
        finally:
            tmux("kill-server")


if __name__ == "__main__":
    main()
