"""The digits page and the confusion matrix, driven in a small test App."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
from textual.app import App

from tui.tensor_views import Confusion, DigitsPage, Predictions, confusion
from tui.widgets.digits import (
    ConfusionMatrix,
    DigitsPane,
    DigitsView,
    confusion_text,
    label_text,
)
from tui.widgets.heatmap import UPPER_HALF

CSS = str(Path(__file__).parents[1] / "tui" / "app.tcss")


def make_page(start: int = 0, n: int = 12, total: int = 40) -> DigitsPage:
    rng = np.random.default_rng(start)
    images = []
    for k in range(n):
        img = np.zeros((8, 8))
        img[2, 5] = 1.0  # one bright pixel
        img[k % 8, 0] = 0.5
        images.append(img)
    true = tuple(int(v) for v in rng.integers(0, 10, n))
    predicted = list(true)
    predicted[3] = (true[3] + 1) % 10  # one wrong
    return DigitsPage(5, "test", start, total, tuple(range(start, start + n)), tuple(images),
                      tuple(predicted), true)  # fmt: skip


class Pane(App):
    CSS_PATH = CSS

    def __init__(self, shades: bool = False) -> None:
        super().__init__()
        self.shades = shades
        self.chosen: list[tuple[str, int]] = []
        self.pages: list[tuple[str, int]] = []

    def compose(self):
        yield DigitsPane(shades=self.shades)

    def on_digits_view_image_chosen(self, event: DigitsView.ImageChosen) -> None:
        self.chosen.append((event.split, event.index))

    def on_digits_view_page_requested(self, event: DigitsView.PageRequested) -> None:
        self.pages.append((event.split, event.start))


def label_line(lines: list[str]) -> str:
    return next(line for line in lines[1:] if re.search(r"\d", line))


async def test_page_draws_images_and_marks_the_wrong_prediction():
    page = make_page()
    app = Pane()
    async with app.run_test(size=(64, 30)) as pilot:
        view = app.query_one(DigitsView)
        view.set_page(page)
        view.focus()
        await pilot.pause()
        lines = view.lines_text()
        assert lines[0] == "test 1-12/40 1 wrong (X)"
        per = (view.size.width + 2) // 10  # tiles of 8 columns and a gap of 2
        assert per >= 4  # the wrong one (the fourth) is on the first row
        labels = label_line(lines).split()
        expected = [label_text(p, t) for p, t in zip(page.predicted, page.true)][:per]
        assert " ".join(labels) == " ".join(expected)
        assert f"X{page.predicted[3]} not {page.true[3]}" in lines[5]
        # the bright pixel (row 2, col 5): line 1 of the tile, upper half, white foreground
        strip = view.render_line(2)  # header + tile lines 0, 1
        x = 0
        for seg in strip:
            if x == 5:
                assert seg.text[0] == UPPER_HALF and seg.style.color.name == "#ffffff"
                break
            x += len(seg.text)
        else:
            raise AssertionError("no cell 5")
        await pilot.press("right", "right")
        assert view.selected == 2 and app.chosen[-1] == ("test", 2)
        await pilot.press("down")
        assert app.chosen[-1] == ("test", 2 + per)  # one row down
        await pilot.press("pagedown")
        assert app.pages[-1] == ("test", 24)


async def test_shades_mode_one_character_a_pixel():
    app = Pane(shades=True)
    async with app.run_test(size=(64, 40)) as pilot:
        view = app.query_one(DigitsView)
        view.set_page(make_page())
        await pilot.pause()
        lines = view.lines_text()
        assert lines[3][:8] == "     @  "  # row 2 of the first image
        assert lines[1][:8] == "+       "  # row 0: the half-grey pixel of image 0
        assert "X" in lines[9] and UPPER_HALF not in "".join(lines)


async def test_moving_past_the_page_asks_for_the_next():
    app = Pane()
    async with app.run_test(size=(64, 30)) as pilot:
        view = app.query_one(DigitsView)
        view.set_page(make_page(start=24, n=12, total=36))
        view.focus()
        await pilot.press("left")
        assert app.pages == [("test", 0)]
        view.set_page(make_page(start=0, n=24, total=36))
        assert view.selected == 23  # the last of the previous page
        await pilot.press("right")
        assert app.pages[-1] == ("test", 24)


def parse_counts(text: str, n: int) -> list[list[int]]:
    rows = []
    for line in text.splitlines()[1 : 1 + n]:
        cells = line.split()[1:]
        rows.append([0 if c == "." else int(c.strip("[]")) for c in cells])
    return rows


async def test_confusion_matrix_shows_the_computed_counts():
    rng = np.random.default_rng(1)
    true = rng.integers(0, 10, 200)
    predicted = np.where(rng.random(200) < 0.8, true, rng.integers(0, 10, 200))
    conf = confusion(Predictions(9, "test", predicted, true, 10))
    expected = [[0] * 10 for _ in range(10)]
    for t, p in zip(true, predicted):
        expected[t][p] += 1
    app = Pane()
    async with app.run_test(size=(80, 40)) as pilot:
        pane = app.query_one(DigitsPane)
        pane.show_confusion(conf)
        await pilot.pause()
        text = str(app.query_one(ConfusionMatrix).render())
        assert parse_counts(text, 10) == expected
        right = sum(expected[i][i] for i in range(10))
        assert f"{right}/200 right ({right / 2:.1f}%)\ntest images, step 9" in text
        rich = confusion_text(conf)
        for i in range(10):  # the diagonal in bold green, the rest not
            line_start = sum(len(line) + 1 for line in rich.plain.splitlines()[: 1 + i])
            width = 3
            cell = line_start + 3 + i * width
            styles = [str(s.style) for s in rich.spans if s.start <= cell < s.end]
            assert styles == ["bold green"], (i, styles)
        pane.show_confusion(Confusion(0, "test", ((1, 0), (0, 1))), classes=("[red]a", "b"))
        await pilot.pause()
        assert "[red]a" in str(app.query_one(ConfusionMatrix).render())  # a CSV name as text


async def test_a_page_that_draws_the_same_is_not_drawn_again():
    """Twice a second a page comes while training runs; one that only repeats what is shown
    (a later step, the same predictions) keeps the drawing, a changed prediction redraws."""
    app = Pane()
    async with app.run_test(size=(64, 30)) as pilot:
        view = app.query_one(DigitsView)
        builds: list[int] = []
        build = view.build_strips
        view.build_strips = lambda width: (builds.append(width), build(width))[1]
        page = make_page()
        view.set_page(page)
        await pilot.pause()
        assert len(builds) == 1 and "X" in view.lines_text()[0]
        view.set_page(replace(page, step=6, images=tuple(i.copy() for i in page.images)))
        await pilot.pause()
        assert len(builds) == 1 and view.page.step == 6  # the newer page kept, not redrawn
        fixed = replace(page, step=7, predicted=page.true)  # the wrong one now right
        view.set_page(fixed)
        await pilot.pause()
        assert len(builds) == 2 and view.lines_text()[0] == "test 1-12/40 0 wrong (X)"
        assert not any("not" in line for line in view.lines_text())
        brighter = [i.copy() for i in fixed.images]
        brighter[0][0, 0] = 1.0  # another image at the same place (a new run's split)
        view.set_page(replace(fixed, images=tuple(brighter)))
        await pilot.pause()
        assert len(builds) == 3


async def test_the_confusion_matrix_shows_each_new_count():
    """The matrix is redrawn in place (no new layout) while its size stays; each new count
    and step is on screen, and a wider count still fits."""
    app = Pane()
    async with app.run_test(size=(80, 40)) as pilot:
        matrix = app.query_one(ConfusionMatrix)
        for step, counts in (
            (10, ((5, 1), (2, 7))),
            (20, ((6, 0), (1, 8))),
            (30, ((60, 0), (1, 80))),  # wider
        ):
            matrix.show_confusion(Confusion(step, "test", counts))
            await pilot.pause()
            shown = app.export_screenshot().replace("&#160;", " ")
            assert f"test images, step {step}" in shown
            right = counts[0][0] + counts[1][1]
            total = sum(map(sum, counts))
            assert f"{right}/{total} right" in shown
            assert parse_counts(str(matrix.render()), 2) == [list(r) for r in counts]
