"""Pure functions that build each report from a `Trainer`: the dataset, the model (parameters
and decision boundary), one neuron; and the boundary grid's geometry. No state, no queues."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from micrograd import health
from micrograd.losses import predict_class
from micrograd.train import Trainer
from tui.protocol import AskNeuron, DatasetView, ModelView, NeuronView, Notice
from tui.training.shown_graph import neuron_view

GRID_MARGIN = 0.15  # fraction of the data's range added around it in the boundary plot

Bounds = tuple[float, float, float, float]


def bounds_of(X: Sequence[Sequence[float]]) -> Bounds:
    """The data's bounding box in its first two inputs, widened by GRID_MARGIN on each side."""
    xs = [x[0] for x in X] or [0.0]
    ys = [x[1] for x in X] or [0.0]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    dx = (x1 - x0) or 1.0
    dy = (y1 - y0) or 1.0
    return (
        x0 - GRID_MARGIN * dx,
        x1 + GRID_MARGIN * dx,
        y0 - GRID_MARGIN * dy,
        y1 + GRID_MARGIN * dy,
    )


def grid_points(bounds: Bounds, cols: int, rows: int) -> list[list[float]]:
    """Cell centres, row by row from the top (largest y) down, left to right."""
    x0, x1, y0, y1 = bounds
    return [
        [x0 + (x1 - x0) * (c + 0.5) / cols, y1 - (y1 - y0) * (r + 0.5) / rows]
        for r in range(rows)
        for c in range(cols)
    ]


class BoundaryGrid:
    """The decision boundary's grid: its size in cells, and its cell centres, kept while the
    bounds and the size stay the same."""

    def __init__(self, cols: int = 40, rows: int = 12) -> None:
        self.size = (cols, rows)
        self._centres: tuple[tuple, list[list[float]]] = ((), [])

    def resize(self, cols: int, rows: int) -> bool:
        """Set the size (at least 2x2); True if it changed."""
        size = (max(2, int(cols)), max(2, int(rows)))
        changed = size != self.size
        self.size = size
        return changed

    def centres(self, bounds: Bounds) -> list[list[float]]:
        cols, rows = self.size
        if self._centres[0] != (bounds, cols, rows):
            self._centres = ((bounds, cols, rows), grid_points(bounds, cols, rows))
        return self._centres[1]


def dataset_view(trainer: Trainer) -> DatasetView:
    """What is being learned, from the trainer's data, model and settings."""
    t, data, config = trainer, trainer.data, trainer.config
    architecture = t.architecture  # the name the headless run prints too
    if t.tensor_run is not None:  # the engine first: the status line at 80 columns shows it
        architecture = f"tensor {architecture}"
    return DatasetView(
        name=config.dataset if config.csv is None else str(config.csv),
        X_train=[list(map(float, x)) for x in data.X_train],
        y_train=list(data.y_train),
        X_test=[list(map(float, x)) for x in data.X_test],
        y_test=list(data.y_test),
        n_classes=t.n_classes,
        input_dim=t.input_dim,
        lr=t.lr,
        param_names=tuple(name for name, _ in t.model.named_parameters()),
        architecture=architecture,
        classes=tuple(data.classes),
        config=config.to_dict(),
    )


def model_view(
    trainer: Trainer,
    params: Sequence[tuple[str, Any]],
    forward_values: Sequence[float],
    grid: BoundaryGrid,
) -> ModelView:
    """Every parameter with its last update (its value now against the one the last step's
    forward pass saw, `forward_values`), and the decision boundary on `grid`."""
    t, data = trainer, trainer.data
    updates = [p.data - b for (_, p), b in zip(params, forward_values)]
    rows_of_params = tuple(
        (name, p.data, p.grad, du) for (name, p), du in zip(params, updates or [0.0] * len(params))
    )
    cells: tuple[tuple[float, ...], ...] = ()
    bounds = (0.0, 1.0, 0.0, 1.0)
    samples: tuple[float, ...] = ()
    outputs: tuple[float, ...] = ()
    if t.input_dim == 2:
        cols, rows = grid.size
        bounds = bounds_of([*data.X_train, *data.X_test])
        flat = [_as_float(v) for v in t.predict_grid(grid.centres(bounds))]
        cells = tuple(tuple(flat[r * cols : (r + 1) * cols]) for r in range(rows))
    else:
        raw = t.model.predict_batch([list(x) for x in data.X_train])  # one forward pass
        samples = tuple(float(predict_class(t.loss_name, v)) for v in raw)
        outputs = tuple(float(max(v)) if isinstance(v, list) else float(v) for v in raw)
    report = health.check(t.model, data.X_train, t.step_count)
    return ModelView(t.step_count, rows_of_params, cells, bounds, samples, outputs, report)


def neuron_report(trainer: Trainer, ask: AskNeuron) -> NeuronView | Notice:
    """The neuron the app asked for, or a notice that the model has no such neuron."""
    t = trainer
    X, y = t.data.X_train, t.data.y_train
    grid: list[list[float]] = []
    bounds = (0.0, 1.0, 0.0, 1.0)
    if t.input_dim == 2:
        bounds = bounds_of([*X, *t.data.X_test])
        grid = grid_points(bounds, ask.cols, ask.rows)
    try:
        return neuron_view(
            t.model, t.step_count, ask.layer, ask.neuron, X, y, grid, bounds, ask.cols
        )
    except IndexError:
        return Notice(f"This model has no neuron L{ask.layer}.N{ask.neuron}", "warning")


def _as_float(v: Any) -> float:
    if isinstance(v, (list, tuple)):  # class scores: show the most likely class
        return float(max(range(len(v)), key=v.__getitem__))
    return float(v)
