"""The training process on the tensor engine: its reports, and the commands only it answers.

A tensor run's parameters are arrays, so its model report is a `TensorModel` (parameter arrays'
norms, accuracies, the confusion matrix, a page of images; built by `tui.tensor_views`) beside a
`ModelView` holding only the decision boundary (two inputs) or the per-sample predictions. Its
graph is a `micrograd.tensor.TensorGraphSnapshot`, one node per array op. The gradient check,
the backprop walk and the neuron view work on the scalar engine's nodes only, so far: asked on a
tensor run, they answer with a notice.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from micrograd.health import HealthReport
from micrograd.tensor import snapshot as tensor_snapshot
from micrograd.tensor import topological_order
from micrograd.train import Trainer, image_shape_of
from tui import tensor_views
from tui.protocol import (
    ArrayReport,
    AskArray,
    AskFilters,
    AskNodeArrays,
    AskPage,
    CompareEngines,
    EnginesReport,
    FiltersReport,
    GradCheckView,
    ModelView,
    Notice,
    TensorModel,
)
from tui.training.views import bounds_of

if TYPE_CHECKING:
    from tui.training.loop import TrainingLoop

CONFUSION_EVERY = 2.0  # seconds between confusion matrices while running
SCALAR_ONLY = "works on the scalar engine's nodes only, so far"


def is_tensor(trainer: Trainer) -> bool:
    return trainer.tensor_run is not None


class TensorShown:
    """The graph of step `step` of a tensor run, as the app is shown it."""

    def __init__(self, step: int, root: Any) -> None:
        self.step = step
        self.root = root  # kept: its nodes' arrays are shown on request (`arrays`)
        self.snapshot = tensor_snapshot(root)

    def arrays(self, index: int) -> Any:
        """Node `index`'s data and grad (`tensor_views.ParamArrays`); None if there is none.
        A parameter's data are its values now (the optimizer has updated them since)."""
        order = topological_order(self.root)
        if not 0 <= index < len(order):
            return None
        return tensor_views.node_arrays(self.step, order[index], index)

    def check(self, index: int | None = None, name: str | None = None) -> GradCheckView:
        nan = math.nan
        why = f"the gradient check {SCALAR_ONLY} (micrograd.gradcheck checks a Value)"
        return GradCheckView(self.step, -1 if index is None else index, str(name or index),
                             nan, nan, nan, False, why)  # fmt: skip


def model_reports(run: TrainingLoop, force: bool = False) -> tuple[ModelView, TensorModel]:
    """The tensor model's two reports: the boundary or per-sample predictions, and the rest
    (its confusion matrix, a forward pass over the shown split, at most every CONFUSION_EVERY
    seconds while running)."""
    t, grid = run.trainer, run.grid
    cells: tuple[tuple[float, ...], ...] = ()
    bounds = (0.0, 1.0, 0.0, 1.0)
    samples: tuple[float, ...] = ()
    if t.input_dim == 2:
        cols, rows = grid.size
        bounds = bounds_of([*t.data.X_train, *t.data.X_test])
        flat = [float(v) for v in t.predict_grid(grid.centres(bounds))]
        cells = tuple(tuple(flat[r * cols : (r + 1) * cols]) for r in range(rows))
    elif not image_shape_of(t.config, t.data):
        samples = tuple(float(v) for v in t.predict_grid(t.data.X_train))
    now = time.monotonic()
    fresh = force or run.state != "running" or now - run.confusion_time >= CONFUSION_EVERY
    if fresh:
        run.confusion_time = now
    view = tensor_views.tensor_model_view(t, run.forward_params, run.page_start, fresh)
    health = HealthReport(t.step_count, tensor_views.dense_grad_norms(t))  # the dense layers
    return ModelView(t.step_count, (), cells, bounds, samples, (), health), TensorModel(view)


def ask_array(run: TrainingLoop, c: AskArray) -> None:
    if not is_tensor(run.trainer):
        run.send(Notice("Parameter arrays are the tensor engine's (--engine tensor)", "warning"))
        return
    try:
        run.send(ArrayReport(tensor_views.param_arrays(run.trainer, c.name)))
    except KeyError:
        run.send(Notice(f"This model has no parameter array {c.name}", "warning"))


def ask_filters(run: TrainingLoop, c: AskFilters) -> None:
    t = run.trainer
    if not is_tensor(t) or not tensor_views.conv_layers(t):
        run.send(Notice("The filter view is for a conv model: --engine tensor --conv 8,16",
                        "warning"))  # fmt: skip
        return
    split = tensor_views.shown_split(t)
    run.send(
        FiltersReport(tensor_views.conv_filters(t), tensor_views.feature_maps(t, c.index, split))
    )


def ask_page(run: TrainingLoop, c: AskPage) -> None:
    run.page_start = max(0, int(c.start))
    if is_tensor(run.trainer):
        run.send_model(force=True)


def ask_node_arrays(run: TrainingLoop, c: AskNodeArrays) -> None:
    shown = run.shown
    arrays = None
    if isinstance(shown, TensorShown) and shown.step == c.step:
        arrays = shown.arrays(c.index)
    if arrays is None:
        run.send(Notice(f"The graph of step {c.step} is gone (reset?): take a step", "warning"))
    else:
        run.send(ArrayReport(arrays))


def compare_engines(run: TrainingLoop, c: CompareEngines) -> None:
    try:
        comparison = tensor_views.compare_engines(run.config)
    except ValueError as exc:
        run.send(Notice(f"Could not compare the engines: {exc}", "warning"))
        return
    run.send(EnginesReport(comparison))
