"""Modal views of a tensor run: a parameter array as heatmaps, the conv filters, and the same
step on both engines.

Each screen asks the training process for what it shows through a callback (the app turns it
into a command) and shows the report when the app hands it over (`show_*`); while training runs
the array and filter screens ask again every second. `escape` closes each one. In the array
screen `c` checks the gradient of the element under the cursor (of the shown step's graph),
and the verdict shows under the heatmaps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from tui.screens.modal import Modal
from tui.widgets.engines import EnginesView
from tui.widgets.filters import FilterView
from tui.widgets.heatmap import ArrayPairView, Heatmap, element_index

REFRESH_EVERY = 1.0  # seconds between refreshes while training runs


class _Refreshing(Modal[None]):
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, request: Callable[[], None]) -> None:
        super().__init__()
        self._request = request

    def on_mount(self) -> None:
        if self.closed:
            return
        self._request()
        self.set_interval(REFRESH_EVERY, self._refresh_if_running)

    def _refresh_if_running(self) -> None:
        if getattr(self.app, "state", "") == "running":
            self._request()

    def action_close(self) -> None:
        self.dismiss()


class ArrayScreen(_Refreshing):
    """One parameter array: its values and gradient as heatmaps, one cursor for both; `c`
    checks the element under the cursor (`check` asks for it, `show_check` shows it)."""

    BINDINGS = [
        *_Refreshing.BINDINGS,
        Binding("c", "check", "Check this element"),
    ]

    def __init__(
        self,
        name: str,
        request: Callable[[str], None],
        shades: bool = False,
        check: Callable[[tuple[int, ...]], bool] | None = None,
    ) -> None:
        super().__init__(lambda: request(name))
        self.array_name = name
        self.shades = shades
        self.last: Any = None
        self._check = check  # asks for a check of one element; False if it cannot
        self.checking: tuple[int, ...] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="array-box", classes="tensor-modal"):
            yield ArrayPairView(shades=self.shades)
            yield Static("c: check the gradient of the element under the cursor",
                         id="array-check", markup=False)  # fmt: skip
        yield from self.foot()

    def action_check(self) -> None:
        pair = self.query_one(ArrayPairView)
        heatmap = self.query_one("#pair-values", Heatmap)
        if self._check is None or self.last is None or not heatmap.values.size:
            return
        element = element_index(pair.array_shape, *heatmap.cursor)
        if self._check(element):
            self.checking = element
            at = ", ".join(map(str, element))
            self.query_one("#array-check", Static).update(
                f"checking {self.array_name}[{at}] by finite differences …"
            )

    def show_check(self, c: Any) -> None:
        """A `GradCheckView` of an element of this array."""
        from tui.widgets.graph_pane import check_text

        if self.checking is None or tuple(c.element) != self.checking or not self.ready:
            return
        text = check_text(c)
        self.query_one("#array-check", Static).update(text)

    def on_mount(self) -> None:
        super().on_mount()
        if self.closed:
            return
        box = self.query_one("#array-box")
        shown = "data" if self.array_name.startswith("node ") else "weights"  # a graph node's
        box.border_title = f"{self.array_name}: {shown} | grads (escape closes)"
        self.query_one(Heatmap).focus()

    def show_arrays(self, arrays: Any) -> None:
        """A `tensor_views.ParamArrays` for this array."""
        if arrays.name != self.array_name or not self.ready:
            return
        self.last = arrays
        self.query_one(ArrayPairView).show_arrays(
            arrays.name, arrays.shape, arrays.values, arrays.grads, arrays.step
        )


class FiltersScreen(_Refreshing):
    """Each Conv2d layer's filters and the feature maps of the chosen image."""

    def __init__(self, request: Callable[[int], None], index: int = 0) -> None:
        super().__init__(lambda: request(self.index))
        self.index = index
        self._ask = request

    def compose(self) -> ComposeResult:
        with Vertical(id="filters-box", classes="tensor-modal"):
            yield FilterView()
        yield from self.foot()

    def on_mount(self) -> None:
        super().on_mount()
        if self.closed:
            return
        self.query_one(
            "#filters-box"
        ).border_title = "Conv filters (left/right: another image; escape closes)"
        self.query_one(FilterView).focus()

    def show_filters(self, filters: Any, maps: Any) -> None:
        if not self.ready:
            return
        view = self.query_one(FilterView)
        view.show_filters(filters)
        view.show_maps(maps)
        if maps is not None:
            self.index = maps.index

    def on_filter_view_image_step(self, event: FilterView.ImageStep) -> None:
        event.stop()
        self.index = max(0, self.index + event.delta)
        self._ask(self.index)


class EnginesScreen(Modal[None]):
    """The current config's first step on both engines, side by side."""

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="engines-box", classes="tensor-modal"):
            yield EnginesView()
            yield Static("", id="engines-note", markup=False)
        yield from self.foot()

    def on_mount(self) -> None:
        if self.closed:
            return
        self.query_one("#engines-box").border_title = "Same step, two engines (escape closes)"

    def show_comparison(self, cmp: Any) -> None:
        if not self.ready:
            return
        self.query_one(EnginesView).show_comparison(cmp)

    def action_close(self) -> None:
        self.dismiss()
