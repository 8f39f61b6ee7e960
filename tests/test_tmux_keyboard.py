"""The keyboard alone at 80x24 in a real terminal (tmux; issue 12 items 3 to 5). See
tests/test_tmux.py."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None and not os.environ.get("CI"), reason="needs tmux"
)

sys.path.insert(0, os.path.dirname(__file__))
from test_tmux import Terminal, status_line  # noqa: E402

ARGS = "--samples 40 --hidden 8 --lr 0.1 --steps 100000 --seed 7 --paused"


def line_of(text: str, label: str) -> str:
    """The field's value line, up to the field's right edge (`▎`), without padding."""
    line = next((row for row in text.splitlines() if label in row), "")
    return line.split(label, 1)[-1].split("▎")[0].rstrip()


def type_into(term: Terminal, label: str, value: str) -> str:
    """Clear the focused field, which is `label`'s, and type `value` there."""
    term.keys("C-u")
    term.wait_for(lambda s: line_of(s, label).endswith("▊"), f"{label} cleared")
    term.keys(value)
    return term.wait_for(lambda s: line_of(s, label).endswith(value), f"{value} in {label}")


def test_settings_by_keyboard_at_80x24(term: Terminal) -> None:
    """Before: tab did nothing, enter in the first focused field applied the form, and the
    last six fields could not be brought into view."""
    term.start(80, 24, ARGS)
    term.wait_for(lambda s: "paused" in status_line(s) and "q Quit" in s, "a paused run")
    term.keys("o")
    # the form ready for keys: its footer names them. Without this wait the tabs below left the
    # form short of seed in 3 of about 70 runs (session 5; the cause was not found)
    term.wait_for(lambda s: "ctrl+s applies" in s and "dataset" in s and "Next field" in s,
                  "the settings form and its keys")  # fmt: skip
    for _ in range(10):  # from the first field to the last (seed), by tab and enter
        term.keys("Tab")
    text = term.wait_for(lambda s: "seed" in s, "the last field scrolled into view")
    assert "ctrl+s applies" in text
    term.keys("BTab", "BTab", "BTab")  # back to lr
    type_into(term, "learning rate", "0.05")
    term.keys("Enter")  # enter moves on to the next field: nothing applied
    text = type_into(term, "L2 alpha", "1")  # so this goes to the next field, alpha
    assert "ctrl+s applies" in text and "0.05" in line_of(text, "learning rate")
    term.keys("C-s")
    term.wait_for(lambda s: "lr 0.05" in status_line(s), "the new run with lr 0.05")

    term.keys("q")
    term.wait_for(lambda s: "EXITED 0" in s, "the app to exit with status 0", timeout=30)


def test_notices_on_the_message_bar_at_80x24(term: Terminal) -> None:
    """Before: a toast covered the panes' lower right; now the line above the footer says it
    and the log (m) keeps it."""
    term.start(80, 24, ARGS)
    term.wait_for(lambda s: "paused" in status_line(s) and "q Quit" in s, "a paused run")
    term.keys("l")
    text = term.wait_for(lambda s: "Loss: log scale" in s and "q Quit" in s, "the notice")
    rows = text.splitlines()
    at = next(i for i, row in enumerate(rows) if "Loss: log scale" in row)
    assert "space Run" in rows[at + 1]  # the line above the footer
    assert rows[at - 1].startswith("╰") and rows[at - 1].endswith("╯")  # the panes end above
    term.keys("m")
    term.wait_for(lambda s: "Messages:" in s and "Loss: log scale" in s, "the message log")
    term.keys("Escape")
    term.wait_for(lambda s: "Messages:" not in s, "the log closed")
    term.keys("q")
    term.wait_for(lambda s: "EXITED 0" in s, "the app to exit with status 0", timeout=30)


def test_every_footer_key_is_on_screen_at_80x24(term: Terminal) -> None:
    """Before: the footer was cut after "b Backprop c"."""
    term.start(80, 24, ARGS)
    text = term.wait_for(
        lambda s: "paused" in status_line(s) and "q Quit" in s, "a paused run and its footer"
    )
    footer = " ".join(text.splitlines()[-2:])
    for shown in ("space Run", "c Check grad", "v Neuron", "o Settings", "? Help", "q Quit"):
        assert shown in footer, text
    term.keys("q")
    term.wait_for(lambda s: "EXITED 0" in s, "the app to exit with status 0", timeout=30)


def test_node_detail_without_zoom_at_80x24(term: Terminal) -> None:
    """Before: at 80x24 the node detail showed only in a zoomed Graph pane (now it shows while
    the Graph has the focus; its first lines only: the chain-rule sum below them needs z)."""
    term.start(80, 24, ARGS)
    term.wait_for(lambda s: "paused" in status_line(s) and "q Quit" in s, "a paused run")
    term.keys("n")
    term.wait_for(lambda s: "step 1 " in status_line(s) and "nodes" in s, "step 1's graph")
    term.keys("b", "b")  # the walk focuses the graph: its detail shows, not zoomed
    text = term.wait_for(lambda s: "backprop 2/" in s and "b next" in s, "the walk's detail")
    assert "Dataset" in text and "Parameters" in text  # not zoomed
    term.keys("q")
    term.wait_for(lambda s: "EXITED 0" in s, "the app to exit with status 0", timeout=30)
