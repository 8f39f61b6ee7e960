"""The scratch pad (`--expr`): the lecture's expression, its backward pass by key, the quiz."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from micrograd.expr import parse
from tui.cli import main
from tui.screens.scratch import LECTURE, ScratchApp, ScratchScreen, ScratchTree

SMALL = (80, 24)


def tree_lines(screen: ScratchScreen) -> list[str]:
    tree = screen.query_one(ScratchTree)
    return [tree.get_node_at_line(i).label.plain for i in range(tree.last_line + 1)]


def shown(screen: ScratchScreen, widget_id: str) -> str:
    return str(screen.query_one(f"#{widget_id}", Static).render())


async def open_pad(pilot) -> ScratchScreen:
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, ScratchScreen)
    return screen


async def test_the_lectures_graph_shows_forward_values_then_the_pass_node_by_node():
    app = ScratchApp(LECTURE)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_pad(pilot)
        lines = tree_lines(screen)
        assert lines[0] == "L = -8  grad 0  (d * f)"
        assert "e = -6  grad 0  (a * b)" in lines
        assert {"a = 2  grad 0", "b = -3  grad 0", "c = 10  grad 0", "f = -2  grad 0"} <= set(
            lines
        )  # every leaf, named, before the pass: the forward values only
        await pilot.press("b")
        assert tree_lines(screen)[0] == "L = -8  grad 1 ◀  (d * f)"
        await pilot.press("b")  # d: its grad is complete; e and c have running sums now
        lines = tree_lines(screen)
        assert "d = 4  grad -2 ◀  (e + c)" in lines
        assert "f = -2  grad 4 so far" in lines  # L sent it 4; f's own turn is still to come
        assert "e = -6  grad -2 so far  (a * b)" in lines and "a = 2  grad 0" in lines
        for _ in range(5):
            await pilot.press("b")
        expected = parse(LECTURE)
        expected.root.backward()
        lines = tree_lines(screen)
        for name, node in expected.names.items():
            line = next(line for line in lines if line.startswith(f"{name} "))
            assert f"grad {node.grad:g}" in line and "so far" not in line
        await pilot.press("b")
        assert "the backward pass is done" in shown(screen, "scratch-detail").lower()


async def test_a_wrong_quiz_answer_is_explained_with_the_chain_rule_terms():
    app = ScratchApp(LECTURE)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_pad(pilot)
        await pilot.press("t", "b", "b")  # the output is not asked; d is
        assert "d = 4  grad ? ◀  (e + c)" in tree_lines(screen)
        assert all("so far" not in line for line in tree_lines(screen))  # no answers given away
        answer = screen.query_one("#scratch-answer", Input)
        quiz_row = screen.query_one("#scratch-quiz")
        assert screen.focused is answer and quiz_row.styles.display == "block"
        await pilot.press("5", "enter")
        detail = shown(screen, "scratch-detail")
        assert "Not quite: you typed 5; grad d is -2" in detail
        assert "L.grad 1 × dL/dd -2 = -2" in detail  # the reader's grad times the local
        assert "d/da = b, d/db = a; d is a" in detail  # the rule the local came from
        assert "0 of 1 right" in shown(screen, "scratch-info")
        await pilot.press("b")  # e is asked next; a right answer, as arithmetic
        assert screen.focused is answer
        await pilot.press("minus", "2", "asterisk", "1", "enter")
        assert "Right: grad e = -2" in shown(screen, "scratch-detail")
        assert "1 of 2 right" in shown(screen, "scratch-info")
        await pilot.press("b", "escape")  # escape on a question shows its answer
        assert "no answer" in shown(screen, "scratch-detail")
        assert quiz_row.styles.display == "none"


async def test_a_bad_expression_is_one_line_naming_its_column_shown_as_text():
    app = ScratchApp(LECTURE)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_pad(pilot)
        await pilot.press("slash")
        field = screen.query_one("#scratch-text", Input)
        assert screen.focused is field
        field.value = 'a=2; b=[a, "[red]x[/]"]'  # markup-like: must not be parsed as markup
        await pilot.press("enter")
        info = shown(screen, "scratch-info")
        assert info == "✗ column 8: a list is not allowed here"
        assert tree_lines(screen)[0].endswith("(d * f)")  # the old graph stays
        field.value = "x=0.5; y=x**x; out=y.tanh()"
        await pilot.press("enter")
        assert tree_lines(screen)[0].endswith("(tanh(y))")
        assert screen.focused is screen.query_one(ScratchTree)
        await pilot.press("escape")  # the tree: escape closes the pad
        await pilot.pause()
    assert app.return_code == 0


def test_expr_option_refuses_bad_text_in_one_line(capsys):
    assert main(["--expr", "a=2; b=a +* 3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--expr: column" in err and "Traceback" not in err


def test_expr_option_headless_prints_values_and_grads(capsys):
    assert main(["--expr", LECTURE, "--headless"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["a", "data", "2", "grad", "6"]
    assert out[-1].split() == ["L", "data", "-8", "grad", "1"]


@pytest.mark.parametrize("other", [["--load", "x.json"], ["--csv", "x.csv"]])
def test_expr_option_names_an_option_it_cannot_take(other, capsys, tmp_path):
    path = tmp_path / other[1]
    path.write_text("{}")
    assert main(["--expr", LECTURE, other[0], str(path)]) == 2
    assert f"leave out {other[0]}" in capsys.readouterr().err
