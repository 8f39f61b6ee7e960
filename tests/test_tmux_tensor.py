"""The app on the tensor engine in a real terminal (tmux), at 120x40 and 80x24: the digits page
and the confusion matrix, the tensor graph's detail, a parameter array's heatmaps, the filter
view and the engines comparison. See tests/test_tmux.py."""

from __future__ import annotations

import os
import re
import shutil
import sys

import pytest

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None and not os.environ.get("CI"), reason="needs tmux"
)

sys.path.insert(0, os.path.dirname(__file__))
from test_tmux import Terminal, status_line  # noqa: E402
from test_tmux_play import type_keys  # noqa: E402

ARGS = (
    "--engine tensor --dataset digits --samples 300 --test-fraction 0.2 --conv 4 --hidden 16 "
    "--optimizer adam --lr 0.01 --batch-size 32 --steps 100000 --seed 5 --paused"
)


def close(term: Terminal, title: str) -> None:
    """Escape, then wait for the modal to go: a key sent right after escape would reach the app
    as one alt+key (the terminal's escape sequence)."""
    term.keys("escape")
    term.wait_for(lambda s: title not in s, f"{title} closed")


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_tensor_run_in_a_terminal(term: Terminal, size: tuple[int, int]) -> None:
    width, height = size
    term.start(width, height, ARGS)
    term.wait_for(lambda s: "paused" in status_line(s), "a paused status", timeout=20)
    type_keys(term, "n", "n")
    text = term.wait_for(lambda s: "step 2 " in status_line(s), "step 2", timeout=20)
    assert "digits tensor" in status_line(text)  # the engine, at 80 columns too
    if width >= 100:
        assert "tensor conv 4 on 1x8x8, 64-16-10" in status_line(text)
    assert all(len(row) <= width for row in text.splitlines())
    text = term.wait_for(lambda s: "C0.K" in s and "4x1x3x3" in s, "the parameter arrays")
    text = term.wait_for(lambda s: "test 1-24/60 " in s, "the digits page")
    if width >= 100:
        text = term.wait_for(lambda s: "right (" in s, "the confusion matrix")
        assert re.search(r"\d+/60 right \(", text)
    assert "acc train" in text
    # enter on the parameter table (focused at start): the heatmaps, and the element in words
    type_keys(term, "enter")
    text = term.wait_for(lambda s: "C0.K[0, 0, 0, 0] = " in s, "the array's cursor line")
    assert "weights | grads" in text and "values (|max|" in text
    close(term, "weights | grads")
    type_keys(term, "f")
    text = term.wait_for(lambda s: "C0: 4 filters of 1x3x3" in s, "the filter view")
    type_keys(term, "end")  # the maps are under the filters
    text = term.wait_for(lambda s: "feature maps" in s, "the feature maps")
    close(term, "Conv filters")
    type_keys(term, "t")
    text = term.wait_for(lambda s: "no conv layers" in s, "the engines", timeout=30)
    assert "nodes a step" in text
    type_keys(term, "escape")
    term.wait_for(lambda s: "nodes a step" not in s, "the engines closed")
    type_keys(term, "q")
    term.wait_for(lambda s: "EXITED 0" in s, "a clean exit")


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_tensor_walk_and_check_in_a_terminal(term: Terminal, size: tuple[int, int]) -> None:
    """b walks the tensor graph's backward pass (the detail on screen), c checks one element
    of the node under the cursor against a central difference."""
    width, height = size
    term.start(width, height, ARGS)
    term.wait_for(lambda s: "paused" in status_line(s), "a paused status", timeout=20)
    type_keys(term, "n", "n")
    term.wait_for(lambda s: "step 2 " in status_line(s) and "step 2, " in s, "step 2's graph",
                  timeout=20)  # fmt: skip
    type_keys(term, "b")
    term.wait_for(lambda s: "backprop 1/" in s, "the walk's first node")
    type_keys(term, "z")  # the Graph pane alone: the detail at its largest
    for k in range(2, 7):
        type_keys(term, "b")
        term.wait_for(lambda s, k=k: f"backprop {k}/" in s, f"the walk's node {k}")
    text = term.wait_for(lambda s: "L1 = linear" in s, "the walk on a linear node")
    assert "dL/dX = G W^T" in text and "sends to each operand" in text
    assert all(len(row) <= width for row in text.splitlines())
    type_keys(term, "B")  # stop: the cursor stays on the linear node
    term.wait_for(lambda s: "backprop 6/" not in s, "the walk stopped")
    type_keys(term, "c")
    term.wait_for(lambda s: "Gradient check of L1[" in s, "the check's notice")
    type_keys(term, "m")  # the message log: the notice whole, at 80 columns too
    text = term.wait_for(lambda s: "Messages:" in s and "agree" in s, "the verdict in the log")
    assert "numeric" in text and "DISAGREE" not in text
    close(term, "Messages:")
    type_keys(term, "q")
    term.wait_for(lambda s: "EXITED 0" in s, "a clean exit")
