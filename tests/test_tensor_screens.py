"""The tensor run's table and modal screens, fed real reports from a trainer in a test App."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from textual.app import App
from textual.cache import LRUCache

from micrograd.tensor import snapshot as tensor_snapshot
from micrograd.train import TrainConfig, Trainer
from tui import tensor_views as tv
from tui.formatting import fmt_number
from tui.screens.tensor import ArrayScreen, EnginesScreen, FiltersScreen
from tui.widgets.digits import SHADES
from tui.widgets.filters import FilterView, filters_text, maps_text
from tui.widgets.graph import GraphTree
from tui.widgets.heatmap import ArrayPairView, Heatmap
from tui.widgets.params import CACHE_SIZES
from tui.widgets.tensor_detail import TensorTreeSnapshot
from tui.widgets.tensor_params import TensorParamTable

CSS = str(Path(__file__).parents[1] / "tui" / "app.tcss")
CONV = TrainConfig(
    engine="tensor", dataset="digits", samples=200, test_fraction=0.2, conv=(3,), hidden=(8,),
    optimizer="adam", lr=0.01, batch_size=32, seed=4,
)  # fmt: skip


@pytest.fixture(scope="module")
def trainer() -> Trainer:
    t = Trainer(CONV)
    for _ in range(5):
        t.step()
    return t


class Host(App):
    """Stands in for the app: answers the screens' requests from a trainer in-process."""

    CSS_PATH = CSS

    def __init__(self, trainer: Trainer) -> None:
        super().__init__()
        self.trainer = trainer
        self.asked: list[tuple] = []
        self.chosen: list[str] = []

    def compose(self):
        yield TensorParamTable()

    def on_tensor_param_table_array_chosen(self, event: TensorParamTable.ArrayChosen) -> None:
        self.chosen.append(event.name)
        self.push_screen(ArrayScreen(event.name, self.ask_array))

    def ask_array(self, name: str) -> None:
        self.asked.append(("array", name))
        self.call_later(lambda: self.screen.show_arrays(tv.param_arrays(self.trainer, name)))

    def ask_filters(self, index: int) -> None:
        self.asked.append(("filters", index))
        t = self.trainer
        self.call_later(
            lambda: self.screen.show_filters(tv.conv_filters(t), tv.feature_maps(t, index))
        )


async def test_param_table_rows_and_enter_opens_the_heatmap(trainer):
    app = Host(trainer)
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(TensorParamTable)
        rows = tv.param_rows(trainer)
        table.set_rows(rows)
        await pilot.pause()
        assert [str(table.get_cell_at((i, 0))) for i in range(len(rows))] == [
            "C0.K", "C0.b", "L0.W", "L0.b", "L1.W", "L1.b",
        ]  # fmt: skip
        assert str(table.get_cell_at((2, 1))) == "48x8"
        assert str(table.get_cell_at((2, 3))) == fmt_number(rows[2].grad_norm)
        table.set_rows([replace(rows[0], value_norm=123.0), *rows[1:]])
        assert str(table.get_cell_at((0, 2))) == "123"
        table.focus()
        await pilot.press("down", "down", "enter")
        assert app.chosen == ["L0.W"] and isinstance(app.screen, ArrayScreen)
        await pilot.pause()
        pair = app.screen.query_one(ArrayPairView)
        left, right = pair.query(Heatmap)
        assert left.shape == (48, 8)
        W = trainer.params[2]
        np.testing.assert_array_equal(left.values, W.data)
        np.testing.assert_array_equal(right.values, W.grad)
        r, c = np.unravel_index(np.argmax(W.data), W.shape)
        await pilot.press(*(["down"] * int(r)), *(["right"] * int(c)))
        assert pair.cursor_text().startswith(f"L0.W[{r}, {c}] = {fmt_number(W.data[r, c])}")
        await pilot.press("escape")
        assert not isinstance(app.screen, ArrayScreen)


async def test_filter_screen_shows_the_layers_and_steps_through_images(trainer):
    app = Host(trainer)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(FiltersScreen(app.ask_filters, index=2))
        await pilot.pause()
        await pilot.pause()
        view = app.screen.query_one(FilterView)
        text = str(view.query_one("#filters-text").render())
        assert text.startswith("C0: 3 filters of 1x3x3, step 5")
        maps = str(view.query_one("#maps-text").render())
        assert maps.startswith(f"test image 2: true {trainer.data.y_test[2]}")
        await pilot.press("right")
        await pilot.pause()
        assert app.asked[-1] == ("filters", 3)
        assert str(view.query_one("#maps-text").render()).startswith("test image 3")
        await pilot.press("escape")
        assert not isinstance(app.screen, FiltersScreen)


async def test_engines_screen_shows_both_graphs_sizes():
    cmp = tv.compare_engines(TrainConfig(samples=60, hidden=(8,), seed=1), steps=1)
    app = App()
    app.CSS_PATH = CSS
    async with app.run_test(size=(80, 24)) as pilot:
        screen = EnginesScreen()
        app.push_screen(screen)
        await pilot.pause()
        screen.show_comparison(cmp)
        await pilot.pause()
        shown = app.export_screenshot().replace("&#160;", " ")
        assert f"{cmp.scalar.nodes:,}" in shown and f"{cmp.tensor.nodes:,}" in shown
        assert "Both losses agree" in shown
        await pilot.press("escape")
        assert app.screen is not screen


async def test_rows_given_before_the_table_is_mounted_are_shown(trainer):
    app = App()
    async with app.run_test(size=(80, 24)) as pilot:
        table = TensorParamTable()
        rows = tv.param_rows(trainer)
        app.mount(table)
        table.set_rows(rows)  # before its on_mount added the columns
        await pilot.pause()
        assert table.row_count == len(rows)
        assert str(table.get_cell_at((0, 0))) == "C0.K"


async def test_a_norm_that_grows_longer_is_drawn_whole(trainer):
    """Before: the columns kept the width of the first numbers, and a later norm such as
    1.464e-05 was drawn cut (`1.464e`) in a pane with room to spare."""
    app = App()
    async with app.run_test(size=(80, 24)) as pilot:
        table = TensorParamTable()
        await app.mount(table)
        rows = tv.param_rows(trainer)
        table.set_rows([replace(r, grad_norm=0.5, update_norm=0.25) for r in rows])
        await pilot.pause()
        table.set_rows([replace(r, grad_norm=1.464e-05, update_norm=8.383e-10) for r in rows])
        await pilot.pause()
        shown = app.export_screenshot().replace("&#160;", " ")
        assert "1.464e-05" in shown and "8.383e-10" in shown


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_filters_and_maps_wider_than_the_screen_wrap_instead_of_being_cut(size):
    """Before: at 80 columns a second conv layer's grads (8 input channels: weights | grads is
    115 columns) and the first layer's 8 feature maps (136 columns) ran off the right edge, and
    left/right (the keys that would scroll there) step through images instead."""
    t = Trainer(replace(CONV, conv=(8, 16), hidden=(8,)))
    t.step()
    app = Host(t)
    async with app.run_test(size=size) as pilot:
        app.push_screen(FiltersScreen(app.ask_filters, index=0))
        view = None
        for _ in range(20):
            await pilot.pause()
            view = app.screen.query_one(FilterView)
            if str(view.query_one("#maps-text").render()):
                break
        width = view.scrollable_content_region.width
        lines = [
            line
            for part in ("#filters-text", "#maps-text")
            for line in str(view.query_one(part).render()).splitlines()
        ]
        assert max(map(len, lines)) <= width, (width, max(lines, key=len))

        # every element is still drawn: the shading the same as on a screen wide enough
        def cells(lines: list[str]) -> Counter:
            shading = [line for line in lines if line.strip() and set(line) <= CELL_CHARS]
            return Counter("".join(shading).replace(" ", "").replace("|", ""))

        wide = [
            line
            for text in (filters_text(tv.conv_filters(t)), maps_text(tv.feature_maps(t, 0)))
            for line in text.plain.splitlines()
        ]
        assert max(map(len, wide)) > width  # what was cut before
        assert cells(lines) == cells(wide) and sum(cells(wide).values()) > 1000
        title = str(app.screen.query_one("#filters-box").border_title)
        assert "left/right: another image" in title


CELL_CHARS = set(" |·-=≡+*#") | set(SHADES)


def _cached_entries(table: TensorParamTable) -> int:
    """Entries held by the table's render caches (Textual's LRU caches on the widget)."""
    return sum(len(c) for c in vars(table).values() if isinstance(c, LRUCache))


async def test_the_table_holds_no_more_as_updates_go_on(trainer):
    """Every update is drawn once and never again; the table's caches keep what they drew for
    a screen's worth of rows, not for every update (the app's memory grew for good)."""
    app = Host(trainer)
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(TensorParamTable)
        rows = tv.param_rows(trainer)
        held = []
        for k in range(1, 151):
            table.set_rows([replace(r, value_norm=r.value_norm + k) for r in rows])
            await pilot.pause()
            if k in (60, 150):
                held.append(_cached_entries(table))
        assert str(table.get_cell_at((0, 2))) == fmt_number(rows[0].value_norm + 150)
        assert held[1] <= held[0], held
        # what an update drew is never drawn again (the caches are keyed by the update count):
        # they hold the lines of one screen, not of the last hundred updates
        on_screen = min(table.size.height, len(rows) + 1)  # the header and the rows
        assert len(table._line_cache) <= on_screen, (len(table._line_cache), on_screen)
        drawn = {a: len(getattr(table, a)) for a in CACHE_SIZES}  # the caches keyed by it
        assert sum(drawn.values()) <= on_screen * (len(table.columns) + 3), (drawn, on_screen)


class TreeHost(App):
    CSS_PATH = CSS

    def compose(self):
        yield GraphTree()


async def test_the_graph_tree_holds_no_more_as_graphs_go_on(trainer):
    """While training runs a new graph of the same shape comes every 2 s and is relabelled in
    place; the tree's rendered lines of older graphs are not kept for good."""
    snap = TensorTreeSnapshot(tensor_snapshot(trainer.last_root))
    app = TreeHost()
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(GraphTree)
        tree.set_snapshot(snap, 1)
        tree.root.expand_all()
        await pilot.pause()
        assert len(tree.root.children) > 1
        held = []
        for k in range(2, 252):
            tree.set_snapshot(snap, k)
            await pilot.pause()
            if k in (120, 251):
                held.append(len(tree._line_cache))
        assert tree.step == 251 and str(tree.root.label).startswith("loss")
        assert held[1] <= held[0], held
        # a relabelled tree draws every line anew: the lines of older graphs are not kept
        assert held[1] <= tree.size.height, (held, tree.size.height)
