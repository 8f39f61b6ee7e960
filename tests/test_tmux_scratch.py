"""The scratch pad in a real terminal at 80x24: the lecture's quiz, a wrong answer explained."""

from __future__ import annotations

import shlex

from tests.test_tmux import Terminal
from tests.test_tmux import pytestmark as pytestmark  # the same skip: no tmux outside CI
from tui.screens.scratch import LECTURE


def test_scratch_quiz_in_a_real_terminal(term: Terminal) -> None:
    term.start(80, 24, f"--expr {shlex.quote(LECTURE)}")
    term.wait_for(lambda s: "L = -8  grad 0  (d * f)" in s, "the lecture's graph")
    term.keys("t")
    term.wait_for(lambda s: "quiz on" in s, "the quiz turned on")
    term.keys("b")
    term.wait_for(lambda s: "L = -8  grad 1" in s, "the output's grad")
    term.keys("b")
    term.wait_for(lambda s: "What is grad d" in s and "grad d = " in s, "the question")
    term.keys("5", "Enter")
    screen = term.wait_for(lambda s: "Not quite" in s, "the verdict")
    assert "you typed 5; grad d is -2" in screen
    assert "L.grad 1 × dL/dd -2 = -2" in screen
    assert "d = 4  grad -2 ◀  (e + c)" in screen  # revealed in the tree too
    term.keys("Escape")  # the pad closes over the app, which --expr started paused
    term.wait_for(lambda s: "steps/s" in s and "paused" in s, "the app's status line")
    term.keys("q")
    term.wait_for(lambda s: "EXITED 0" in s, "a clean exit")
