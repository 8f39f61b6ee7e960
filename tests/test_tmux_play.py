"""Issue 7's playground in a real terminal (tmux): the Gradients strip, editing the data with the
cursor, the settings form, the CSV and SVG exports, and a replay. See tests/test_tmux.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from micrograd import checkpoint
from micrograd.train import TrainConfig, Trainer

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None and not os.environ.get("CI"), reason="needs tmux"
)

sys.path.insert(0, os.path.dirname(__file__))
from test_tmux import Terminal, status_line  # noqa: E402

ARGS = "--samples 40 --hidden 8 --lr 0.1 --steps 100000 --seed 7 --paused"


def type_keys(term: Terminal, *keys: str) -> None:
    """One key at a time, as a person types: keys sent in one write (tmux send-keys with
    several keys) were dropped after a BSpace or an app key such as b or w."""
    for key in keys:
        term.keys(key)
        time.sleep(0.1)


def test_gradients_data_edits_settings_and_exports(term: Terminal, tmp_path) -> None:
    term.start(120, 40, ARGS)
    term.wait_for(lambda s: "paused" in status_line(s) and "40 train" in s, "the paused app")
    type_keys(term, "n", "n", "n")
    text = term.wait_for(
        lambda s: "step 3 " in status_line(s) and "│ L1 " in s, "the Gradients strip after 3 steps"
    )
    assert "Gradients" in text and "│ L0 " in text

    type_keys(term, "BTab", "BTab", "Right", "1")  # from the parameter table to the dataset
    term.wait_for(lambda s: "41 train" in s, "a point added at the cursor")
    term.keys("x")
    term.wait_for(lambda s: "40 train" in s, "the nearest point removed")

    term.keys("o")
    term.wait_for(lambda s: "Settings" in s and "hidden sizes" in s, "the settings form")
    type_keys(term, "Tab", "End", "BSpace", "BSpace", "a", "b", "c", "C-s")  # samples "abc"
    term.wait_for(lambda s: "samples must be a whole number" in s, "the error under its field")
    type_keys(term, "BSpace", "BSpace", "BSpace", "6", "0", "C-s")
    term.wait_for(
        lambda s: "60 train" in s and "Settings applied" in s and "step 0 " in status_line(s),
        "a new run with 60 samples, and a notice",
    )

    term.keys("n")  # the files are named after the step shown when w and p are pressed
    term.wait_for(lambda s: "step 1 " in status_line(s), "step 1")
    type_keys(term, "w", "p")
    term.wait_for(
        lambda s: (
            (tmp_path / "microgradtui-loss-step1.csv").exists()
            and (tmp_path / "microgradtui-screen-step1.svg").exists()
        ),
        "the loss CSV and the SVG screenshot in the start folder",
    )
    assert (tmp_path / "microgradtui-loss-step1.csv").read_text().startswith("step,loss,")
    term.keys("q")
    term.wait_for(lambda s: "EXITED 0" in s, "the app to exit", timeout=5)


def test_replay_at_80x24(term: Terminal, tmp_path) -> None:
    trainer = Trainer(TrainConfig(samples=40, hidden=(8,), lr=0.1, seed=7))
    for _ in range(12):
        trainer.step()
    checkpoint.save(trainer, tmp_path / "run.json")
    term.start(80, 24, "--replay run.json")
    text = term.wait_for(
        lambda s: "step 12 " in status_line(s) and "replay of" in s, "the replayed run"
    )
    assert "paused" in status_line(text)
    term.keys("space")
    term.wait_for(lambda s: "A replay shows a saved run" in s, "the read-only notice")
    assert "step 12 " in status_line(term.screen())
    term.keys("q")
    term.wait_for(lambda s: "EXITED 0" in s, "the app to exit", timeout=5)


def test_serve_without_a_terminal_needs_no_tty_but_refuses_bad_options() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tui", "--serve", "--headless"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 2 and out.stderr.count("\n") == 1
