"""Time to watch in a real terminal (tmux), at 120x40 and 80x24: the speed keys pace the run and
the status line follows; `.` steps through the phases of a step, each named on screen, the graph
showing the step under way (data without grads after forward); `G` skips zero_grad in whole
steps, the gradients adding up over two steps. See tests/test_tmux.py."""

from __future__ import annotations

import os
import re
import shutil
import sys
import time

import pytest

from micrograd.train import PHASES, Trainer
from tui.cli import build_parser, config_from_args
from tui.formatting import fmt_number

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None and not os.environ.get("CI"), reason="needs tmux"
)

sys.path.insert(0, os.path.dirname(__file__))
from test_tmux import ARGS, Terminal, status_line  # noqa: E402
from test_tmux_play import type_keys  # noqa: E402

SIZES = [(120, 40), (80, 24)]


def rate(text: str) -> float:
    """The steps per second the status line shows."""
    found = re.search(r"([\d.]+) steps/s", status_line(text))
    return float(found[1]) if found else -1.0


def shown_step(text: str) -> int:
    found = re.search(r"step (\d+) ", status_line(text))
    return int(found[1]) if found else -1


def quit_app(term: Terminal) -> None:
    term.keys("q")
    term.wait_for(lambda s: "EXITED 0" in s, "the app to exit with status 0", timeout=30)


@pytest.mark.parametrize("size", SIZES)
def test_the_speed_keys_pace_the_run_and_the_status_follows(term: Terminal, size) -> None:
    term.start(*size, ARGS + " --paused")
    term.wait_for(lambda s: "paused" in status_line(s), "the paused app", timeout=30)
    type_keys(term, "<", "<", "<", "<")  # full speed -> 30 -> 10 -> 5 -> 2
    term.wait_for(lambda s: "(pace 2/s)" in status_line(s), "the pace in the status line")
    term.keys("space")
    text = term.wait_for(
        lambda s: "running" in status_line(s) and 1.0 <= rate(s) <= 3.0,
        "about 2 steps/s shown while running at pace 2/s",
        timeout=30,
    )
    first = shown_step(text)
    term.wait_for(lambda s: shown_step(s) >= first + 2, "the paced run to go on")
    type_keys(term, ">", ">", ">", ">")
    term.wait_for(
        lambda s: "pace" not in status_line(s) and rate(s) > 10, "full speed again", timeout=30
    )
    quit_app(term)


def graph_zoomed(term: Terminal) -> str:
    """Tab to the Graph pane and zoom it: its lines whole, even at 80 columns."""
    for _ in range(4):
        if "forward pass of" in term.screen() and "Parameters" not in term.screen():
            break
        term.keys("Tab")
        time.sleep(0.2)
        term.keys("z")
        time.sleep(0.3)
        screen = term.screen()
        if "Parameters" not in screen and "forward pass of" in screen:
            break
        term.keys("z")  # not the Graph: back, and on to the next pane
        time.sleep(0.3)
    return term.wait_for(
        lambda s: "Parameters" not in s and "forward pass of" in s, "the Graph zoomed"
    )


@pytest.mark.parametrize("size", SIZES)
def test_the_phase_stepper_names_each_phase_and_the_graph_follows(term: Terminal, size) -> None:
    term.start(*size, "--lecture --paused")
    term.wait_for(lambda s: "paused" in status_line(s), "the paused app", timeout=30)
    term.keys("n")
    term.wait_for(lambda s: "step 1 " in status_line(s), "step 1")
    for name in PHASES:
        term.keys(".")
        text = term.wait_for(lambda s, n=name: f"after {n}" in status_line(s), f"after {name}")
        for other in PHASES:
            assert other == name or f"after {other}" not in status_line(text)
        if name == "forward":
            assert status_line(text).startswith(" step 2 after forward  loss -  acc -%")
            text = term.wait_for(lambda s: "forward pass of 4 samples" in s, "the forward graph")
            assert "step 2 after forward (no grads" in text  # the Graph's subtitle
            text = graph_zoomed(term)
            samples = [line for line in text.splitlines() if "▶" in line and " sample " in line]
            assert len(samples) == 4 and all("grad -" in line for line in samples), text
            term.keys("z")
            term.wait_for(lambda s: "Parameters" in s, "the panes back")
        if name == "backward":
            term.keys("z")  # the Graph keeps the focus
            text = term.wait_for(
                lambda s: "Parameters" not in s and "loss = sum" in s, "the loss's graph zoomed"
            )
            root = next(line for line in text.splitlines() if "loss = sum" in line)
            assert "grad 1 " in root and "grad -" not in text
            samples = [line for line in text.splitlines() if "▶" in line and " sample " in line]
            assert len(samples) == 4 and all(re.search(r"grad -?\d", x) for x in samples), text
            term.keys("z")
            term.wait_for(lambda s: "Parameters" in s, "the panes back")
        if name == "update":
            assert shown_step(text) == 2
    quit_app(term)


def grad_shown(text: str, name: str) -> str:
    """The grad column of parameter `name` in the Parameters table on screen."""
    line = next(line for line in text.splitlines() if f"│ {name} " in line)
    cells = line.split("│")[1].split()
    return cells[2]


@pytest.mark.parametrize("size", SIZES)
def test_skipping_zero_grad_adds_up_the_gradients_of_two_steps(term: Terminal, size) -> None:
    config = config_from_args(build_parser().parse_args(["--lecture"]))
    buggy, fresh = Trainer(config), Trainer(config)
    for t in (buggy, fresh):
        t.step()
    for _ in range(2):
        buggy.step(zero_grad=False)
        fresh.step()
    want = fmt_number(dict(buggy.model.named_parameters())["L0.N0.w0"].grad)
    assert want != fmt_number(dict(fresh.model.named_parameters())["L0.N0.w0"].grad)
    term.start(*size, "--lecture --paused")
    term.wait_for(lambda s: "paused" in status_line(s), "the paused app", timeout=30)
    term.keys("n")
    term.wait_for(lambda s: "step 1 " in status_line(s), "step 1")
    term.keys("G")
    term.wait_for(lambda s: "zero_grad off" in status_line(s), "zero_grad off in the status")
    type_keys(term, "n", "n")
    text = term.wait_for(
        lambda s: "step 3 " in status_line(s) and grad_shown(s, "L0.N0.w0") == want,
        f"L0.N0.w0's grad {want}: two steps' gradients added up",
    )
    assert "zero_grad off" in status_line(text)
    term.keys("r")
    term.wait_for(
        lambda s: "step 0 " in status_line(s) and "zero_grad off" not in status_line(s),
        "a reset run that zeroes the gradients again",
    )
    quit_app(term)
