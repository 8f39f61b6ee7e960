"""Every screen at 80x24 in a real terminal (tmux), by keyboard alone (issue 12): the node
detail scrolled to the chain rule, `p` over a modal, each modal's own keys, every key of the
table found in the footer or the help, the message log taking notices while open, the lr
labels on the loss curve. See tests/test_tmux.py."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None and not os.environ.get("CI"), reason="needs tmux"
)

sys.path.insert(0, os.path.dirname(__file__))
from test_tmux import Terminal, status_line  # noqa: E402

from tui.keys import help_lines  # noqa: E402

ARGS = "--samples 40 --hidden 8 --lr 0.1 --steps 100000 --seed 7 --paused"


def start_paused(term: Terminal) -> None:
    term.start(80, 24, ARGS)
    term.wait_for(lambda s: "paused" in status_line(s) and "q Quit" in s, "a paused run")


def quit_app(term: Terminal) -> None:
    term.keys("q")
    term.wait_for(lambda s: "EXITED 0" in s, "the app to exit with status 0", timeout=30)


def steps(term: Terminal, n: int, upto: int) -> None:
    for _ in range(n):
        term.keys("n")
    term.wait_for(lambda s: f"step {upto} " in status_line(s), f"step {upto}")


def settled(term: Terminal) -> str:
    """The screen once it stays the same for 0.3 s (a scroll animates)."""
    last = term.screen()
    while True:
        time.sleep(0.3)
        now = term.screen()
        if now == last:
            return now
        last = now


def test_the_chain_rule_sum_by_keys_alone_at_80x24(term: Terminal) -> None:
    """Before: the detail's chain-rule sum lay below its first lines; only z showed it."""
    start_paused(term)
    steps(term, 1, 1)
    term.keys("Tab")  # from the Parameters pane to the Graph's tree
    term.wait_for(lambda s: "detail (tab: scroll)" in s, "the Graph focused, its detail shown")
    term.keys("Down", "Enter")
    term.wait_for(lambda s: "grad 1" in s and "data loss" in s, "a node below the loss")
    term.keys("Tab")
    term.wait_for(lambda s: "PgDn Scroll" in s, "the detail focused: its keys in the footer")
    term.keys("PageDown", "PageDown", "PageDown")
    text = term.wait_for(lambda s: "(grad shown:" in s, "the chain-rule sum on screen")
    assert "Dataset" in text and "Parameters" in text  # not zoomed
    quit_app(term)


def test_p_over_modals_and_their_own_keys_at_80x24(term: Terminal) -> None:
    """Before: over help or settings `p` did nothing, and no key of the modal was on screen."""
    start_paused(term)
    folder = Path(term.cwd)
    term.keys("?")
    text = term.wait_for(lambda s: "escape closes" in s and "esc Close" in s, "help, its keys")
    assert "p Screenshot" in text.splitlines()[-1] and "Scroll" in text.splitlines()[-1]
    term.keys("p")
    text = term.wait_for(lambda s: "Saved the screen as" in s, "the notice, on the help's line")
    assert "microgradtui-screen-step0.svg" in text  # its name on screen, however long the folder
    (first,) = folder.glob("*.svg")
    assert "keys" in first.read_text().replace("&#160;", " ")
    term.keys("Escape")
    term.wait_for(lambda s: "escape closes" not in s, "help closed")
    term.keys("o")  # the form opens on its first field, a choice: p is no letter there
    text = term.wait_for(lambda s: "esc Cancel" in s and "p Screenshot" in s, "settings' keys")
    assert "tab Next field" in text and "^s Apply" in text
    term.keys("p")
    term.wait_for(lambda s: len(list(folder.glob("*.svg"))) == 2, "a second file")
    second = next(p for p in folder.glob("*.svg") if p != first)
    assert "Settings" in second.read_text()  # a new name: the first one is untouched
    term.keys("Escape")
    term.wait_for(lambda s: "esc Cancel" not in s, "settings closed")
    term.keys("m")  # the log takes the notice of a screenshot made while it is open
    term.wait_for(lambda s: "Messages: 2" in s and "esc Close" in s, "the log, its keys")
    term.keys("p")
    term.wait_for(lambda s: "Messages: 3" in s, "the new notice in the open log")
    assert len(list(folder.glob("*.svg"))) == 3
    term.keys("Escape")
    term.wait_for(lambda s: "Messages:" not in s, "the log closed")
    quit_app(term)


def test_every_key_is_in_the_footer_or_the_help_at_80x24(term: Terminal) -> None:
    """The help scrolls by keys to its last line at 80x24, and says every key of the table."""
    start_paused(term)
    seen = term.screen()
    term.keys("?")
    page = term.wait_for(lambda s: "escape closes" in s and "esc Close" in s, "the help")
    seen += page
    while "quit: stop training" not in seen:
        term.keys("PageDown")
        term.wait_for(lambda s, old=page: s != old, "the help scrolled one page down")
        page = settled(term)
        seen += page
    flat = " ".join(seen.split())
    for keys, what in help_lines():
        start = " ".join(what.split()[:3])  # its first words: on the key's own line
        assert f"{keys.split()[0]} " in flat and start in flat, (keys, what)
    term.keys("Escape")
    term.wait_for(lambda s: "escape closes" not in s, "the help closed")
    quit_app(term)


def test_lr_marks_are_labelled_at_80x24(term: Terminal) -> None:
    """Before: a faint line and no value."""
    start_paused(term)
    steps(term, 10, 10)
    term.keys("+")
    steps(term, 10, 20)
    text = term.wait_for(lambda s: "│lr 0.2" in s, "the mark's label on the curve")
    assert "lr 0.2 since step" in text
    quit_app(term)
