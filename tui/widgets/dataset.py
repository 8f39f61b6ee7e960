"""The Dataset pane: points by class over the live decision boundary, or a table of samples.

Two inputs: every cell of the pane is one grid point of the boundary (its predicted class as a
background colour and a shading character, so it reads without colour too) and the samples are
drawn on top, filled glyphs for training points and hollow ones for test points. When focused,
a cursor (`+`) moves with the arrows; `1` `2` `3` ask to add a point of class 0, 1, 2 there and
`x` to remove the nearest point (the app sends the edit to the training process). More inputs: a
table of samples with their target and the live prediction.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable

from tui.formatting import fmt_number
from tui.keys import bindings

TRAIN_GLYPHS = "●▲■◆★"
TEST_GLYPHS = "○△□◇☆"
REGION_CHARS = " ·:',"
POINT_COLOURS = ("#ff8787", "#87afff", "#87d787", "#ffd787", "#d787ff")
REGION_STRONG = ("#5f0000", "#00005f", "#005f00", "#5f5f00", "#5f005f")
REGION_WEAK = ("#301010", "#101030", "#103010", "#303010", "#301030")
# With 16 colours (TERM=xterm) the colours above collapse onto a few, and a class-0 point came
# out bright red on a red region. There: regions in the standard colours (the uncertain ones
# uncoloured, their shading character in the class colour), points in white or black, whichever
# contrasts with their region (their class is in the marker's shape), bright class colours
# where the region is uncoloured.
REGION_16 = ("red", "blue", "green", "yellow", "magenta")
POINT_ON_16 = ("bright_white", "bright_white", "black", "black", "bright_white")
POINT_16 = ("bright_red", "bright_blue", "bright_green", "bright_yellow", "bright_magenta")
FEW_COLOURS = ("standard", "windows")  # Textual console colour systems with 16 colours
MAX_TABLE_ROWS = 500
CURSOR_STYLE = Style(color="#ffffff", bgcolor="#af00af", bold=True)


def cell_class(value: float) -> tuple[int, bool]:
    """A grid prediction as (class, confident): an int is a class; a float in (0, 1) is
    the probability of class 1, confident when it is below 0.2 or above 0.8."""
    if value == int(value) and not 0.0 < value < 1.0:
        return int(value), True
    return int(value > 0.5), abs(value - 0.5) > 0.3


class SampleChosen(Message):
    """The learner chose sample `index` of the training data (`test`: of the test data) in the
    Dataset pane, to see its branch in the graph; `index` None: there is no point to choose."""

    def __init__(self, index: int | None, test: bool = False) -> None:
        super().__init__()
        self.index = index
        self.test = test


class BoundaryView(Widget, can_focus=True):
    """The decision boundary and the samples, one grid point per character cell."""

    BINDINGS = [
        Binding("up", "move(0, -1)", "Up", show=False),
        Binding("down", "move(0, 1)", "Down", show=False),
        Binding("left", "move(-1, 0)", "Left", show=False),
        Binding("right", "move(1, 0)", "Right", show=False),
        Binding("enter", "choose_sample", "Sample's branch", show=False),  # the `enter` row
        *bindings("dataset"),  # 1 2 3 x
    ]

    class PointEdit(Message):
        """The learner asked to add a point of class `label` at (x, y), or (label None) to
        remove the point nearest to it."""

        def __init__(self, x: float, y: float, label: int | None) -> None:
            super().__init__()
            self.x = x
            self.y = y
            self.label = label

    class GridResized(Message):
        """The view's size in cells changed: the boundary grid should match it."""

        def __init__(self, cols: int, rows: int) -> None:
            super().__init__()
            self.cols = cols
            self.rows = rows

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.grid: tuple[tuple[float, ...], ...] = ()
        self.bounds = (0.0, 1.0, 0.0, 1.0)
        self.train: tuple[Sequence[Sequence[float]], Sequence[int]] = ((), ())
        self.test: tuple[Sequence[Sequence[float]], Sequence[int]] = ((), ())
        self._rows: list[Strip] = []
        self._rows_size = None
        self.cursor: tuple[int, int] | None = None  # (column, row); None: the centre

    def on_resize(self) -> None:
        self.post_message(self.GridResized(self.size.width, self.size.height))
        if self.cursor is not None:
            self.cursor = self._clamped(*self.cursor)

    def _clamped(self, c: int, r: int) -> tuple[int, int]:
        return max(0, min(c, self.size.width - 1)), max(0, min(r, self.size.height - 1))

    def cursor_cell(self) -> tuple[int, int]:
        """The cursor's cell; the centre until it is moved (the size is known only then)."""
        if self.cursor is None:
            return self._clamped(self.size.width // 2, self.size.height // 2)
        return self.cursor

    def on_focus(self) -> None:
        self._rows_size = None  # the cursor shows only while focused
        self.refresh()

    def on_blur(self) -> None:
        self._rows_size = None
        self.refresh()

    def action_move(self, dc: int, dr: int) -> None:
        c, r = self.cursor_cell()
        self.cursor = self._clamped(c + dc, r + dr)
        self._rows_size = None
        self.refresh()

    def cursor_point(self) -> tuple[float, float]:
        """The data coordinates at the centre of the cursor's cell."""
        c, r = self.cursor_cell()
        cols, rows = max(1, self.size.width), max(1, self.size.height)
        x0, x1, y0, y1 = self.bounds
        return x0 + (x1 - x0) * (c + 0.5) / cols, y1 - (y1 - y0) * (r + 0.5) / rows

    def action_choose_sample(self) -> None:
        """Choose the point nearest the cursor (a training point where one shares its cell),
        move the cursor onto it, and say which (`SampleChosen`)."""
        cols, rows = self.size.width, self.size.height
        c, r = self.cursor_cell()
        best: tuple[int, bool, int, tuple[int, int]] | None = None
        for test, (X, _) in ((False, self.train), (True, self.test)):
            for i, x in enumerate(X):
                cell = self._cell_of(x[0], x[1], cols, rows)
                if cell is None:
                    continue
                # a character cell is about twice as tall as it is wide
                d = (cell[0] - c) ** 2 + (2 * (cell[1] - r)) ** 2
                if best is None or d < best[0]:
                    best = (d, test, i, cell)
        if best is None:
            self.post_message(SampleChosen(None))
            return
        _, test, index, self.cursor = best
        self._rows_size = None
        self.refresh()
        self.post_message(SampleChosen(index, test))

    def action_add_point(self, label: int) -> None:
        self.post_message(self.PointEdit(*self.cursor_point(), label))

    def action_remove_point(self) -> None:
        self.post_message(self.PointEdit(*self.cursor_point(), None))

    def set_data(self, X_train, y_train, X_test, y_test) -> None:
        self.train = (X_train, y_train)
        self.test = (X_test, y_test)
        self._rows_size = None  # rebuild the rows on the next render
        self.refresh()

    def set_boundary(self, grid: tuple[tuple[float, ...], ...], bounds) -> None:
        self.grid = grid
        self.bounds = bounds
        self._rows_size = None
        self.refresh()

    def _cell_of(self, x: float, y: float, cols: int, rows: int) -> tuple[int, int] | None:
        x0, x1, y0, y1 = self.bounds
        if not (x1 > x0 and y1 > y0):
            return None
        c = int((x - x0) / (x1 - x0) * cols)
        r = int((y1 - y) / (y1 - y0) * rows)
        if 0 <= c < cols and 0 <= r < rows:
            return c, r
        return None

    def render_line(self, y: int) -> Strip:
        """One row of cells (Line API: no Text or Content per frame, rows cached until new data)."""
        cols = self.size.width
        if self._rows_size != self.size:
            self._rows = self._build_rows()
            self._rows_size = self.size
        if 0 <= y < len(self._rows):
            return self._rows[y]
        return Strip.blank(cols)

    def _build_rows(self) -> list[Strip]:
        cols, rows = self.size.width, self.size.height
        if cols <= 0 or rows <= 0:
            return []
        points: dict[tuple[int, int], tuple[str, int]] = {}
        for (X, y), glyphs in ((self.test, TEST_GLYPHS), (self.train, TRAIN_GLYPHS)):
            for x, label in zip(X, y):
                cell = self._cell_of(x[0], x[1], cols, rows)
                if cell is not None:
                    points[cell] = (glyphs[label % len(glyphs)], label)
        grid = self.grid
        gr = len(grid)
        gc = len(grid[0]) if gr else 0
        cursor = self.cursor_cell() if self.has_focus else None
        few = self.app.console.color_system in FEW_COLOURS
        region_style, point_style = (
            (_region_16, _point_16) if few else (_region_style, _point_style)
        )
        out: list[Strip] = []
        for r in range(rows):
            row = grid[r * gr // rows] if gr else ()
            segments: list[Segment] = []
            run_text, run_style = "", None
            for c in range(cols):
                klass, confident = cell_class(row[c * gc // cols]) if gc else (-1, False)
                k = klass % len(REGION_STRONG) if klass >= 0 else -1
                point = points.get((c, r))
                if (c, r) == cursor:
                    char, style = (point[0] if point is not None else "+"), CURSOR_STYLE
                elif point is not None:
                    char, style = (
                        point[0],
                        point_style(point[1] % len(POINT_COLOURS), k, confident),
                    )
                else:
                    char = REGION_CHARS[k] if k >= 0 else " "
                    style = region_style(k, confident)
                if style is run_style:
                    run_text += char
                else:
                    if run_text:
                        segments.append(Segment(run_text, run_style))
                    run_text, run_style = char, style
            if run_text:
                segments.append(Segment(run_text, run_style))
            out.append(Strip(segments, cols))
        return out


@lru_cache(maxsize=256)
def _region_style(k: int, confident: bool) -> Style:
    if k < 0:
        return Style()
    return Style(color="#808080", bgcolor=(REGION_STRONG if confident else REGION_WEAK)[k])


@lru_cache(maxsize=256)
def _point_style(label: int, k: int, confident: bool) -> Style:
    bg = None if k < 0 else (REGION_STRONG if confident else REGION_WEAK)[k]
    return Style(color=POINT_COLOURS[label], bgcolor=bg, bold=True)


@lru_cache(maxsize=256)
def _region_16(k: int, confident: bool) -> Style:
    if k < 0:
        return Style()
    if confident:
        return Style(color=POINT_ON_16[k], bgcolor=REGION_16[k])
    return Style(color=REGION_16[k])


@lru_cache(maxsize=256)
def _point_16(label: int, k: int, confident: bool) -> Style:
    if k < 0 or not confident:
        return Style(color=POINT_16[label], bold=True)
    return Style(color=POINT_ON_16[k], bgcolor=REGION_16[k], bold=True)


class SamplesTable(DataTable):
    """Samples with more than two inputs: inputs, target and the live prediction."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._shown: list[tuple[str, str]] = []

    def set_data(
        self, X: Sequence[Sequence[float]], y: Sequence[int], signed: bool = False
    ) -> None:
        """`signed`: show a two-class target as the loss uses it, +1 or -1 (t = 2*label - 1)."""
        self.clear(columns=True)
        self._shown = []
        if not X:
            return
        for i in range(len(X[0])):
            self.add_column(f"x{i + 1}", key=f"x{i}")
        self.add_column("target ±1" if signed else "target", key="target")
        self.add_column("prediction", key="prediction")
        self.add_column("output", key="output")
        for i, (x, label) in enumerate(zip(X[:MAX_TABLE_ROWS], y)):
            target = ("+1" if label else "-1") if signed else str(label)
            self.add_row(*(fmt_number(v) for v in x), target, "-", "-", key=str(i))
            self._shown.append(("-", "-"))

    def set_predictions(self, predictions: Sequence[float], outputs: Sequence[float]) -> None:
        """Update only the prediction and output cells that changed."""
        outputs = outputs or [float("nan")] * len(predictions)
        for i, (value, out) in enumerate(zip(predictions[: len(self._shown)], outputs)):
            shown = (fmt_number(value), fmt_number(out))
            old = self._shown[i]
            if shown != old:
                self._shown[i] = shown
                if shown[0] != old[0]:
                    self.update_cell(str(i), "prediction", shown[0])
                if shown[1] != old[1]:
                    self.update_cell(str(i), "output", shown[1])


class DatasetPane(Vertical):
    """Holds the boundary view (two inputs) or the samples table (more inputs); enter on a
    point or a row chooses that sample (`SampleChosen`)."""

    _shown: tuple[str, tuple[str, ...]] = ("", ())  # the data's name and class names

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(SampleChosen(int(event.row_key.value)))

    def compose(self):
        yield BoundaryView(id="boundary")
        yield SamplesTable(id="samples")

    def show_dataset(
        self,
        name: str,
        input_dim: int,
        X_train,
        y_train,
        X_test,
        y_test,
        classes=(),
        signed=False,
        images=False,
    ) -> None:
        """`classes`: the label each class number stands for (a CSV's), shown as `0=cat`;
        `signed`: the table shows two-class targets as +1/-1; `images`: another widget shows
        the samples (the digits page), so the hidden table is left empty."""
        wide = input_dim != 2
        self.set_class(wide, "-table")
        self._shown = (name, tuple(classes))
        self._subtitle(len(X_train), len(X_test))
        if wide:
            self.query_one(SamplesTable).set_data(() if images else X_train, y_train, signed)
        else:
            self.query_one(BoundaryView).set_data(X_train, y_train, X_test, y_test)

    def _subtitle(self, n_train: int, n_test: int) -> None:
        name, classes = self._shown
        subtitle = f"{name}: {n_train} train, {n_test} test"
        if classes:
            subtitle += "; " + " ".join(f"{i}={c}" for i, c in enumerate(classes))
        self.border_subtitle = Text(subtitle)  # a path or CSV label may hold `[`: not markup

    def show_points(self, X_train, y_train, X_test, y_test) -> None:
        """The same run's data after an edit (points added or removed)."""
        self._subtitle(len(X_train), len(X_test))
        if not self.has_class("-table"):
            self.query_one(BoundaryView).set_data(X_train, y_train, X_test, y_test)

    def show_model(self, grid, bounds, sample_predictions, sample_outputs=()) -> None:
        if self.has_class("-table"):
            self.query_one(SamplesTable).set_predictions(sample_predictions, sample_outputs)
        else:
            self.query_one(BoundaryView).set_boundary(grid, bounds)
