"""The filter view, driven in a small test App: kernels, grads and feature maps as shading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from textual.app import App

from tui.tensor_views import ConvFilters, FeatureMaps, FilterLayer
from tui.widgets.filters import FilterView

CSS = str(Path(__file__).parents[1] / "tui" / "app.tcss")


class Filters(App):
    CSS_PATH = CSS

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[int] = []

    def compose(self):
        yield FilterView()

    def on_filter_view_image_step(self, event: FilterView.ImageStep) -> None:
        self.steps.append(event.delta)


def shown(app: Filters, which: str) -> list[str]:
    return str(app.query_one(f"#{which}-text").render()).splitlines()


async def test_filters_show_weights_and_grads_strongest_where_the_largest_is():
    w = np.full((2, 1, 3, 3), 0.1)
    w[1, 0, 2, 0] = 1.0  # the largest weight: filter 1, row 2, column 0
    w[0, 0, 0, 1] = -1.0  # the most negative: filter 0, row 0, column 1
    g = np.zeros((2, 1, 3, 3))
    g[0, 0, 1, 1] = 0.5
    filters = ConvFilters(3, (FilterLayer("C0", w, g), FilterLayer("C1", w * 2, None)))
    app = Filters()
    async with app.run_test(size=(80, 40)) as pilot:
        app.query_one(FilterView).show_filters(filters)
        await pilot.pause()
        lines = shown(app, "filters")
        assert lines[0].startswith("C0: 2 filters of 1x3x3, step 3")
        assert "grads |max| 0.5" in lines[1]
        f0 = lines[3:6]  # filter 0: weights block, " | ", grads block
        assert f0[0][:6] == "··≡≡··" and f0[0].count("≡") == 2
        assert f0[1].split("|")[1].strip() == "##"  # the one grad, strongest, in the middle
        f1 = lines[7:10]
        assert f1[2][:2] == "##" and "#" not in f1[0] + f1[1]
        c1 = lines.index(next(line for line in lines if line.startswith("C1")))
        assert "grads: none yet" in lines[c1 + 1] and "|" not in lines[c1 + 3]
        app.query_one(FilterView).focus()
        await pilot.press("right", "left")
        assert app.steps == [1, -1]


async def test_feature_maps_of_the_image():
    image = np.zeros((4, 4))
    image[1, 2] = 1.0
    m0 = np.zeros((2, 4, 4))
    m0[1, 3, 3] = 2.0
    m0[0, 0, 0] = 1.0
    maps = FeatureMaps(8, "test", 5, image, 3, 7, (("C0", m0),))
    app = Filters()
    async with app.run_test(size=(80, 30)) as pilot:
        app.query_one(FilterView).show_maps(maps)
        await pilot.pause()
        lines = shown(app, "maps")
        assert lines[0].startswith("test image 5: true 3, predicted 7 (WRONG), step 8")
        assert lines[2][:8] == "    @@  "  # image row 1: the bright pixel at column 2
        assert lines[5].startswith("C0 feature maps: 2 of 4x4, |max| 2")
        assert lines[6][:8] == "**      "  # map 0: 1.0, half the scale, a middle shade
        assert lines[9][9:17] == "      ##"  # map 1's max, bottom right, the strongest
