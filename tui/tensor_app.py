"""The app's side of a tensor run: which panes show it, and where its reports go.

`TensorPanes` is owned by the App (a plain object, not a mixin). At each new run (`DatasetView`)
it says whether the run is on tensors and switches the panes: the Parameters pane shows one row
per array (`TensorParamTable`, enter opens the array as heatmaps), the Graph pane one node per
array op (`TensorTreeSnapshot`) with the tensor detail, and for image data the Dataset pane the
page of images and the confusion matrix. The Loss pane's title carries train and test accuracy.
The array, filter and engines screens ask for their reports through it, and so do the backprop
walk on the tensor graph (`TensorWalkReport`) and the neuron view of a Linear layer's unit.

Its widgets are mounted at the first tensor run, and their modules (numpy) imported then: a run
on the scalar engine starts as fast as before.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from textual.css.query import NoMatches

from tui.protocol import (
    ArrayReport,
    AskArray,
    AskFilters,
    AskNodeArrays,
    AskPage,
    AskTensorWalk,
    CheckGradient,
    CompareEngines,
    DatasetView,
    EnginesReport,
    FiltersReport,
    TensorModel,
    TensorWalkReport,
)

if TYPE_CHECKING:
    from tui.app import MicrogradApp


# Line filters after which colour cannot carry a heatmap: Textual's NoColor (NO_COLOR) and
# Monochrome, and the app's AsciiFilter (no UTF-8: half blocks would all become `#`).
PLAIN_FILTERS = {"NoColor", "Monochrome", "AsciiFilter"}


def plain_terminal(app: Any) -> bool:
    """Whether heatmaps and images should be drawn as shading characters: the terminal has no
    colour or only 16 (a palette too coarse for a colour scale), or no UTF-8."""
    if app.console.color_system in (None, "standard", "windows"):
        return True
    return any(type(f).__name__ in PLAIN_FILTERS for f in app.get_line_filters())


def linear_layer(label: str) -> int | None:
    """The layer number of a Linear layer's node (`L1`) or parameter (`L1.W`, `L1.b`)."""
    match = re.match(r"^L(\d+)(?:\.[Wb])?$", label)
    return int(match[1]) if match else None


def _percent(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def shows_images(config: dict) -> bool:
    """A tensor run whose samples are images: the Dataset pane shows the digits page."""
    digits = config.get("dataset") == "digits" and not config.get("csv")
    return config.get("engine") == "tensor" and bool(config.get("image_shape") or digits)


class TensorPanes:
    """What the App does differently for a run on the tensor engine."""

    def __init__(self, app: MicrogradApp, shades: bool = False) -> None:
        self.app = app
        self.shades = shades  # draw heatmaps and images as characters (no colour or UTF-8)
        self.active = False  # the run is on the tensor engine
        self.images = False  # its samples are images (the digits page)
        self.conv = False  # it has conv layers (the filter view)
        self.classes: tuple[str, ...] = ()
        self.image_index = 0  # of the shown split, for the feature maps
        self.mounted = False

    def _mount(self) -> None:
        """The tensor panes' widgets, beside the scalar ones (CSS shows one or the other)."""
        from tui.widgets.digits import DigitsPane
        from tui.widgets.tensor_detail import TensorNodeDetail
        from tui.widgets.tensor_params import TensorParamTable

        app = self.app
        self.shades = self.shades or plain_terminal(app)
        table = TensorParamTable(id="tparams")
        table.border_title = "Parameters"
        table.border_subtitle = "tensor engine · enter: heatmaps"
        app.query_one("#panes").mount(table, after="#params")
        app.query_one("#graph").mount(TensorNodeDetail(shades=self.shades, id="tdetail-pane"))
        app.query_one("#dataset").mount(DigitsPane(shades=self.shades, id="digits"))
        self.mounted = True
        if app.freeze_gc:  # numpy and the tensor panes, as the rest at start
            from tui.app import freeze_started

            app.call_after_refresh(freeze_started)

    # -- a new run -------------------------------------------------------------------------------
    def new_run(self, d: DatasetView) -> None:
        config = d.config or {}
        self.active = config.get("engine") == "tensor"
        self.conv = self.active and bool(config.get("conv"))
        self.images = shows_images(config)
        self.classes = tuple(d.classes)
        self.image_index = 0
        app = self.app
        if self.active and not self.mounted:
            self._mount()
        app.query_one("#panes").set_class(self.active, "-tensor")
        # the Parameters pane is the shown table: `.pane` (zoom, focus styles) on that one only
        app.query_one("#params").set_class(not self.active, "pane")
        if self.mounted:
            app.query_one("#tparams").set_class(self.active, "pane")
        app.query_one("#dataset").set_class(self.images, "-images")
        app.query_one("#loss").border_title = "Loss"
        if self.mounted:
            app.query_one("#tparams").set_rows(())
        if self.active and (app.focused is None or app.focused.id == "params"):
            app.call_after_refresh(app.query_one("#tparams").focus)

    # -- reports ---------------------------------------------------------------------------------
    def on_model(self, r: TensorModel) -> None:
        v = r.view
        app = self.app
        try:
            running = app.mirror.state == "running"
            app.query_one("#tparams").offer(v.params, running, busy=app.keys_busy())
        except NoMatches:  # not mounted yet, or the app is leaving
            return
        title = f"Loss · acc train {_percent(v.train_accuracy)} test {_percent(v.test_accuracy)}"
        loss = app.query_one("#loss")
        if loss.border_title != title:  # setting it repaints the pane, even if the same
            loss.border_title = title
        if self.images and v.page is not None:
            pane = app.query_one("#digits")
            try:
                pane.show_page(v.page)
                if v.confusion is not None:  # else the last one stays
                    pane.show_confusion(v.confusion, self.classes)
            except NoMatches:  # its children not composed yet: the next report shows them
                pass

    def on_array(self, r: ArrayReport) -> None:
        from tui.screens.tensor import ArrayScreen

        screen = self.app.screen
        if isinstance(screen, ArrayScreen):
            screen.show_arrays(r.arrays)

    def on_filters(self, r: FiltersReport) -> None:
        from tui.screens.tensor import FiltersScreen

        screen = self.app.screen
        if isinstance(screen, FiltersScreen):
            screen.show_filters(r.filters, r.maps)

    def on_engines(self, r: EnginesReport) -> None:
        from tui.screens.tensor import EnginesScreen

        screen = self.app.screen
        if isinstance(screen, EnginesScreen):
            screen.show_comparison(r.comparison)
        s, t = r.comparison.scalar, r.comparison.tensor
        if s.nodes and t.nodes and s.ms_per_step and t.ms_per_step:  # "Measuring …" is done
            measured = (f"{s.nodes / t.nodes:,.0f}x fewer nodes, "
                        f"{s.ms_per_step / t.ms_per_step:,.0f}x faster on tensors")  # fmt: skip
        else:
            measured = f"the tensor engine only (scalar engine: {s.note or 'not measured'})"
        self.app.notify(f"Measured: {measured}", timeout=3)

    def on_walk(self, r: TensorWalkReport) -> None:
        from tui.tensor_walk import TensorWalk

        self.app.graph.start_walk(TensorWalk(None, r.step, r.steps))

    def handlers(self) -> dict[type, Any]:
        return {
            TensorWalkReport: self.on_walk,
            TensorModel: self.on_model,
            ArrayReport: self.on_array,
            FiltersReport: self.on_filters,
            EnginesReport: self.on_engines,
        }

    # -- the graph ---------------------------------------------------------------------------------
    def tree_snapshot(self, snapshot: Any) -> Any:
        """What the tree browses: a tensor graph wrapped as the tree reads a snapshot."""
        if not hasattr(snapshot, "nodes"):
            return snapshot
        from tui.widgets.tensor_detail import TensorTreeSnapshot

        return TensorTreeSnapshot(snapshot)

    # -- screens and requests --------------------------------------------------------------------
    def open_array(self, name: str) -> None:
        from tui.screens.tensor import ArrayScreen

        checker = self._checker(name=name)  # c: an element of the parameter in the graph
        self.app.push_screen(ArrayScreen(name, self._ask_array, self.shades, checker))

    def open_node_arrays(self) -> None:
        """The data and grad of the graph node under the tree's cursor, as heatmaps."""
        from tui.screens.tensor import ArrayScreen
        from tui.tensor_views import node_array_name
        from tui.widgets.graph import GraphTree

        app = self.app
        if not self.active:
            app.notify("Node arrays are the tensor engine's: E switches engine", timeout=4)
            return
        tree = app.query_one(GraphTree)
        node = tree.cursor_node
        snap = tree.snapshot
        if snap is None or node is None or not node.data or node.data[0] != "node":
            app.notify("Select a node in the graph first, then press A", timeout=4)
            return
        index, step = node.data[1], tree.step
        name = node_array_name(index, snap.ops[index], snap.labels[index])
        ask = lambda _name: app.session.send(AskNodeArrays(step, index))  # noqa: E731
        app.push_screen(ArrayScreen(name, ask, self.shades, self._checker(index, step=step)))

    def _checker(
        self, index: int | None = None, name: str | None = None, step: int | None = None
    ) -> Any:
        """How an array screen asks for a check of one element: of node `index` of the graph of
        step `step`, or of the parameter `name` in the shown graph."""

        def check(element: tuple[int, ...]) -> bool:
            app = self.app
            tree = app.graph.tree
            shown = tree.step if step is None else step
            if tree.snapshot is None or shown < 0:
                app.notify("No graph to check yet: take a step first (n)", timeout=3)
                return False
            app.session.send(CheckGradient(shown, index, name, element))
            return True

        return check

    def on_check(self, c: Any) -> None:
        """A gradient check arrived: the array screen on top shows it if it asked for it."""
        from tui.screens.tensor import ArrayScreen

        screen = self.app.screen
        if isinstance(screen, ArrayScreen):
            screen.show_check(c)

    def _ask_array(self, name: str) -> None:
        self.app.session.send(AskArray(name))

    def open_filters(self) -> None:
        if not self.conv:
            self.app.notify(
                "The filter view is for a conv model: --engine tensor --conv 8,16", timeout=4
            )
            return
        from tui.screens.tensor import FiltersScreen

        self.app.push_screen(FiltersScreen(self._ask_filters, self.image_index))

    def _ask_filters(self, index: int) -> None:
        self.image_index = index
        self.app.session.send(AskFilters(index))

    def open_engines(self) -> None:
        from tui.screens.tensor import EnginesScreen

        self.app.push_screen(EnginesScreen())
        self.app.session.send(CompareEngines())
        self.app.notify("Measuring the first steps on both engines …", timeout=3)

    def ask_page(self, start: int) -> None:
        self.app.session.send(AskPage(start))

    def choose_image(self, index: int) -> None:
        self.image_index = index

    def switch_engine(self) -> None:
        """A new run of the same settings and seed on the other engine. To the scalar engine:
        on the CPU in float64, and only a run it can take at an interactive pace (no conv
        layers; `check_pace`, as the settings form)."""
        from micrograd.settings import ConfigError
        from micrograd.train import check_pace, load_data

        app = self.app
        config = app.mirror.run_config
        if config.engine == "tensor" and config.conv:
            app.notify("The scalar engine has no conv layers: this run stays on tensors",
                       severity="warning", timeout=6)  # fmt: skip
            return
        try:
            if config.engine == "tensor":
                config = replace(config, engine="scalar", device="cpu", dtype="float64")
                check_pace(config, load_data(config))
            else:
                config = replace(config, engine="tensor")
        except (ConfigError, ValueError) as exc:
            app.notify(f"Engine unchanged: {exc}", severity="warning", timeout=8)
            return
        app.start_run(config, f"Engine {config.engine}, seed {config.seed}")

    def ask_walk(self, step: int) -> None:
        """The backward pass of the tensor graph of step `step`, for the backprop walk."""
        self.app.session.send(AskTensorWalk(step))
        self.app.notify(f"Asking for step {step}'s backward pass …", timeout=2)

    def open_neuron(self) -> None:
        """The neuron view of a unit of the Linear layer under the graph's cursor (its linear
        node `L1`, or the activation over it) or of the focused parameter row (`L1.W`)."""
        from tui.screens.neuron import NeuronScreen

        app = self.app
        layer = None
        focused = app.focused
        if focused is not None and focused.id == "tparams":
            layer = linear_layer(focused.selected_name() or "")
        index = app.graph.cursor_index() if layer is None else None
        if index is not None:
            snap = app.graph.tree.snapshot
            layer = linear_layer(snap.labels[index])
            for c in snap.children[index] if layer is None else ():
                if snap.ops[c] == "linear":  # the activation of a linear node
                    layer = linear_layer(snap.labels[c])
        if layer is None:
            app.notify("Select a Linear layer first: a graph node labelled L0 (linear, or "
                       "its activation) or a parameter row L0.W", timeout=4)  # fmt: skip
            return
        app.push_screen(NeuronScreen(layer, 0, app.request_neuron))

    def scalar_only(self, what: str) -> bool:
        """On a tensor run, say that `what` works on the scalar engine's nodes; True if so."""
        if self.active:
            self.app.notify(
                f"The {what} works on the scalar engine's nodes only, so far", timeout=4
            )
        return self.active
