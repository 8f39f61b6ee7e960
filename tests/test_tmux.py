"""The app in a real terminal: tmux runs `python -m tui`, keys go in, the screen is read back.

Each test uses its own tmux server (`-L`), so it neither sees nor disturbs the user's sessions.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

# CI installs tmux (.ci/run), so there a missing tmux is a failure, not a skip.
pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None and not os.environ.get("CI"), reason="needs tmux"
)

ARGS = "--samples 40 --hidden 8 --lr 0.1 --steps 100000 --seed 7"


class Terminal:
    """One tmux pane running the app."""

    def __init__(self, socket: str, cwd: str) -> None:
        self.socket = socket
        self.cwd = cwd

    def tmux(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        return out.stdout

    def start(self, width: int, height: int, args: str = ARGS) -> None:
        command = f"{shlex.quote(sys.executable)} -m tui {args}; echo EXITED $?; sleep 600"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TMUX")}
        subprocess.run(
            ["tmux", "-L", self.socket, "-f", os.devnull, "new-session", "-d", "-s", "app"]
            + ["-x", str(width), "-y", str(height), "-c", self.cwd, command],
            check=True,
            env=env,
            timeout=10,
        )

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "app")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "app", *keys)

    def wait_for(self, condition: Callable[[str], bool], what: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if condition(text):
                return text
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}; the screen:\n{text}")
            time.sleep(0.1)


def status_line(text: str) -> str:
    """The status row: it shows "steps/s", or (narrower than the whole line, which then leaves
    out the steps/s figure first) it starts with "step <n>"."""
    lines = text.splitlines()
    found = (line for line in lines if "steps/s" in line or re.match(r" ?step \d+ ", line))
    return next(found, "")


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_screen_keys_and_quit(term: Terminal, size: tuple[int, int]) -> None:
    width, height = size
    term.start(width, height)
    text = term.wait_for(
        lambda s: "running" in status_line(s) and "step " in status_line(s), "a running status"
    )
    line = status_line(text)
    for word in ("step ", "loss ", "acc ", "lr 0.1", "steps/s", "running"):
        assert word in line, line
    for title in ("Dataset", "Loss", "Parameters", "Graph"):
        assert title in text, text
    assert all(len(row) <= width for row in text.splitlines())

    term.keys("+")
    term.wait_for(lambda s: "lr 0.2" in status_line(s), "lr 0.2 after +")
    term.keys("space")
    term.wait_for(lambda s: "paused" in status_line(s), "paused after space")
    term.keys("n")
    term.keys("z")  # the parameter table has the focus at start: zoom it
    zoomed = term.wait_for(lambda s: "Loss" not in s and "Parameters" in s, "a zoomed pane")
    assert "L0.N0.w0" in zoomed
    term.keys("z", "?")
    term.wait_for(lambda s: "keys (escape closes)" in s, "the help screen")
    term.keys("Escape")
    term.wait_for(lambda s: "keys (escape closes)" not in s and "Dataset" in s, "help closed")

    assert training_processes(term.cwd), "the training process is found while it runs"
    term.keys("q")  # how fast it quits is for a benchmark; here only that it does, cleanly
    term.wait_for(lambda s: "EXITED 0" in s, "the app to exit with status 0", timeout=30)
    deadline = time.monotonic() + 30
    while training_processes(term.cwd) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert training_processes(term.cwd) == []


def training_processes(cwd: str) -> list[int]:
    """Pids of spawned multiprocessing children (the training process) running in `cwd`."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if os.readlink(proc / "cwd") != cwd:
                continue
            if b"spawn_main" in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except (OSError, ValueError):
            continue
    return found


def test_divergence_shows_in_the_terminal(term: Terminal) -> None:
    term.start(120, 40, "--samples 40 --hidden 4 --lr 1e6 --loss mse --steps 1000")
    # the state and the notice arrive as two messages: wait (bounded) for both on screen
    term.wait_for(
        lambda s: "diverged" in status_line(s) and "learning rate" in s,
        "the diverged state and a notice that says to lower the learning rate",
    )
    term.keys("q")
    term.wait_for(lambda s: "EXITED 0" in s, "the app to exit", timeout=5)


def test_resizing_down_to_40x12_and_back_in_a_real_terminal(term: Terminal) -> None:
    term.start(300, 80)  # also: it starts at 300x80
    term.wait_for(  # the status line can be drawn before the lower panes' titles
        lambda s: (
            "running" in status_line(s)
            and all(title in s for title in ("Dataset", "Loss", "Parameters", "Graph"))
        ),
        "a running status and the four panes at 300x80",
    )
    for width, height in ((80, 24), (40, 12), (120, 40), (40, 12)):
        term.tmux("resize-window", "-t", "app", "-x", str(width), "-y", str(height))
        if width < 60:
            term.wait_for(lambda s: "Terminal too small" in s, f"the notice at {width}x{height}")
        else:
            term.wait_for(
                lambda s: "Dataset" in s and "Terminal too small" not in s,
                f"the panes at {width}x{height}",
            )
    term.tmux("resize-window", "-t", "app", "-x", "120", "-y", "40")
    before = term.wait_for(lambda s: "Dataset" in s and "running" in status_line(s), "panes back")
    step = int(status_line(before).split()[1])
    term.wait_for(lambda s: int(status_line(s).split()[1]) > step, "training going on")
    term.keys("q")
    term.wait_for(lambda s: "EXITED 0" in s, "the app to exit", timeout=5)


def test_backprop_walk_gradient_check_and_neuron_view(term: Terminal) -> None:
    term.start(120, 40, ARGS + " --paused")
    term.wait_for(lambda s: "paused" in status_line(s), "a paused status")
    term.keys("n")
    term.wait_for(lambda s: "step 1 " in status_line(s) and "nodes" in s, "the graph of step 1")
    term.keys("v")  # nothing chosen in the graph yet: the parameter table's row, L0.N0.w0
    text = term.wait_for(lambda s: "Neuron L0.N0" in s and "out = relu" in s, "the neuron view")
    assert "L0.N0.w1" in text and "grad" in text and "●" in text
    term.keys("Escape")
    term.wait_for(lambda s: "Neuron L0.N0" not in s, "the neuron view closed")
    term.keys("b", "b", "b")
    term.wait_for(lambda s: "backprop 3/" in s and "grad (complete" in s, "the walk's 3rd node")
    term.keys("B")
    term.wait_for(lambda s: "backprop 3/" not in s, "the walk stopped")
    term.keys("c")  # the node the walk left the cursor on
    text = term.wait_for(lambda s: "relative error" in s, "a gradient check notice")
    assert "agree" in text, text
    term.keys("q")
    term.wait_for(lambda s: "EXITED 0" in s, "the app to exit", timeout=5)
