"""The training process on the tensor engine: its reports, and the commands only it answers.

A tensor run's parameters are arrays, so its model report is a `TensorModel` (parameter arrays'
norms, accuracies, the confusion matrix, a page of images; built by `tui.tensor_views`) beside a
`ModelView` holding only the decision boundary (two inputs) or the per-sample predictions. Its
graph is a `micrograd.tensor.TensorGraphSnapshot`, one node per array op, kept alive with the
parameters as that step's forward and backward pass saw them (`TensorShown`): the gradient
check of one element, the backprop walk's steps and a node's arrays are read from that moment.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import numpy as np

from micrograd.health import HealthReport
from micrograd.tensor import snapshot as tensor_snapshot
from micrograd.tensor import topological_order
from micrograd.tensor_grad import backward_steps, check_element
from micrograd.train import Trainer, image_shape_of
from tui import tensor_views
from tui.protocol import (
    ArrayReport,
    AskArray,
    AskFilters,
    AskNeuron,
    AskNodeArrays,
    AskPage,
    AskTensorWalk,
    CompareEngines,
    EnginesReport,
    FiltersReport,
    GradCheckView,
    ModelView,
    NeuronView,
    Notice,
    TensorModel,
    TensorWalkReport,
)
from tui.training.shown_graph import put_back
from tui.training.views import bounds_of, grid_points

NEURON_TABLE_ROWS = 500  # samples in the neuron view's table (more than two inputs)

if TYPE_CHECKING:
    from tui.training.loop import TrainingLoop

CONFUSION_EVERY = 2.0  # seconds between confusion matrices while running


def is_tensor(trainer: Trainer) -> bool:
    return trainer.tensor_run is not None


class TensorShown:
    """The graph of step `step` of a tensor run, as the app is shown it: its live root, and the
    parameters' values and gradients as that step's forward and backward pass had them (the
    optimizer has updated the arrays in place since, and later steps replace the gradients).
    The snapshot is taken with those put back, and so are the check, the walk and the arrays."""

    def __init__(
        self,
        step: int,
        root: Any,
        params: Sequence[Any] = (),
        forward_values: Sequence[np.ndarray] = (),
    ) -> None:
        self.step = step
        self.root = root  # kept: its nodes' arrays are shown on request (`arrays`)
        # (parameter, data in the forward pass, gradient from the backward pass)
        self._leaves = [
            (p, p.data if i >= len(forward_values) else _like(p.data, forward_values[i]), p.grad)
            for i, p in enumerate(params)
        ]
        with self.as_it_was():
            self.snapshot = tensor_snapshot(root)

    def as_it_was(self) -> AbstractContextManager[None]:
        """Put the parameters' data and gradients of this step back, for the block only."""
        return put_back(self._leaves)

    def _node(self, index: int) -> Any:
        order = topological_order(self.root)
        return order[index] if 0 <= index < len(order) else None

    def arrays(self, index: int) -> Any:
        """Node `index`'s data and grad (`tensor_views.ParamArrays`); None if there is none.
        A parameter's data are the values this step's forward pass used."""
        node = self._node(index)
        if node is None:
            return None
        with self.as_it_was():
            return tensor_views.node_arrays(self.step, node, index)

    def check(
        self,
        index: int | None = None,
        name: str | None = None,
        element: tuple[int, ...] | None = None,
    ) -> GradCheckView:
        """One element of node `index` (or of the parameter `name`): its gradient from this
        step's backward pass against a central difference of this step's loss in float64;
        by default the element of largest |grad|."""
        nan = math.nan
        order = topological_order(self.root)
        if name is not None:
            found = [i for i, node in enumerate(order) if node.label == name and not node._prev]
            index = found[0] if found else None
            if index is None:
                why = f"{name} is not part of the graph of this step"
                return GradCheckView(self.step, -1, name, nan, nan, nan, False, why)
        node = self._node(-1 if index is None else index)
        if node is None:
            return GradCheckView(self.step, -1, str(index), nan, nan, nan, False,
                                 f"no node {index} in this graph")  # fmt: skip
        label = node.label or f"node {index} ({node._op or 'leaf'})"
        try:
            with self.as_it_was():
                r = check_element(self.root, node, element)
        except ValueError as exc:
            return GradCheckView(self.step, index, label, nan, nan, nan, False, str(exc))
        which = "the cursor's" if element is not None else "the largest |grad|"
        at = ", ".join(map(str, r.element))
        note = f"element [{at}] ({which}) of {'x'.join(map(str, node.shape))}"
        if not r.element:
            note = "a scalar: its one element"
        if r.kink is not None:
            note += (
                f"; a kink: the slope is {r.kink[0]:.4g} to the right, {r.kink[1]:.4g} to the "
                "left (a ReLU at 0 or a tie in a max), and backprop takes one side"
            )
        shown = f"{label}[{at}]" if r.element else label
        return GradCheckView(self.step, index, shown, r.analytic, r.numeric,
                             r.relative_error, r.ok, None, r.element, note)  # fmt: skip

    def walk(self) -> TensorWalkReport:
        """The backward pass of this graph, one node with a gradient at a time."""
        with self.as_it_was():
            steps = tuple(backward_steps(self.root))
        return TensorWalkReport(self.step, steps)


def _like(current: Any, values: np.ndarray) -> Any:
    """`values` (a host copy) as an array like `current`: its device and dtype."""
    from micrograd.tensor import xp_of

    return xp_of(current).asarray(values, dtype=current.dtype)


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
    names, norms = tensor_views.layer_grad_norms(t)  # conv and dense layers
    health = HealthReport(t.step_count, norms, layer_names=names)
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


def ask_tensor_walk(run: TrainingLoop, c: AskTensorWalk) -> None:
    shown = run.shown
    if not isinstance(shown, TensorShown) or shown.step != c.step:
        run.send(Notice(f"The graph of step {c.step} is gone (reset?): take a step", "warning"))
        return
    run.send(shown.walk())


def ask_neuron(run: TrainingLoop, c: AskNeuron) -> None:
    """Unit `c.neuron` of Linear layer `L{c.layer}`: column j of W and b[j], its output over
    the input plane (two inputs) or on each training sample, and one sample of the shown step
    worked through (inputs, weights, pre-activation, activation, gradient)."""
    from micrograd.device import to_host
    from micrograd.tensor_nn import Linear

    t = run.trainer
    model = t.tensor_run.model
    layers = [layer for layer in getattr(model, "layers", []) if isinstance(layer, Linear)]
    named = {layer.name: layer for layer in layers}
    layer = named.get(f"L{c.layer}")
    if layer is None or not 0 <= c.neuron < layer.W.shape[1]:
        run.send(Notice(f"This model has no neuron L{c.layer}.N{c.neuron}", "warning"))
        return
    j = c.neuron
    W, b = to_host(layer.W.data), to_host(layer.b.data)
    gW = None if layer.W.grad is None else to_host(layer.W.grad)
    gb = None if layer.b.grad is None else to_host(layer.b.grad)
    weights = tuple(
        (f"{layer.name}.W[{i}, {j}]", float(W[i, j]), 0.0 if gW is None else float(gW[i, j]))
        for i in range(W.shape[0])
    ) + ((f"{layer.name}.b[{j}]", float(b[j]), 0.0 if gb is None else float(gb[j])),)
    X, y = t.data.X_train, t.data.y_train

    def unit(points: Any) -> list[float]:
        x = t.tensor_run.inputs(points)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for each in model.layers:
                x = each(x)
                if each is layer:
                    break
        return [float(v) for v in to_host(x.data)[:, j]]

    common = dict(step=t.step_count, name=f"L{c.layer}.N{j}", layer=c.layer, neuron=j,
                  layers=len(layers), activation=layer.activation, weights=weights,
                  units=int(W.shape[1]), note=_unit_sample(run, layer.name, j))  # fmt: skip
    if t.input_dim == 2:
        bounds = bounds_of([*X, *t.data.X_test])
        flat = unit(grid_points(bounds, c.cols, c.rows))
        rows = tuple(tuple(flat[r : r + c.cols]) for r in range(0, len(flat), c.cols))
        points = tuple((float(x[0]), float(x[1]), int(k)) for x, k in zip(X, y))
        run.send(NeuronView(**common, grid=rows, bounds=bounds, points=points))
        return
    X, y = X[:NEURON_TABLE_ROWS], y[:NEURON_TABLE_ROWS]
    samples = tuple((tuple(map(float, x)), int(k), o) for x, k, o in zip(X, y, unit(X)))
    run.send(NeuronView(**common, samples=samples))


def _unit_sample(run: TrainingLoop, name: str, j: int, shown_inputs: int = 4) -> str:
    """Sample 0 of the shown step's batch through unit j of layer `name`, from the shown graph
    (parameters as its forward pass had them): x . w + b = pre, act(pre) = out, dL/dpre."""
    from micrograd.device import to_host

    shown = run.shown
    if not isinstance(shown, TensorShown):
        return ""
    order = topological_order(shown.root)
    node = next((n for n in order if n._op == "linear" and n.label == name), None)
    if node is None:
        return ""
    with shown.as_it_was():
        x = to_host(node._prev[0].data)[0]
        w = to_host(node._prev[1].data)[:, j]
        bias = float(to_host(node._prev[2].data)[j]) if len(node._prev) > 2 else 0.0
        pre = float(to_host(node.data)[0, j])
        g = None if node.grad is None else float(to_host(node.grad)[0, j])
    after = next((n for n in order if node in n._prev and n._op in ("relu", "tanh", "sigmoid")),
                 None)  # fmt: skip
    out = pre if after is None else float(to_host(after.data)[0, j])
    act = "linear" if after is None else after._op
    terms = " + ".join(f"{x[i]:.3g}·{w[i]:.3g}" for i in range(min(shown_inputs, len(x))))
    more = f" + … ({len(x) - shown_inputs} more)" if len(x) > shown_inputs else ""
    text = (
        f"sample 0 of step {shown.step}'s batch: pre = x·w + b = {terms}{more} + {bias:.3g} "
        f"= {pre:.4g};  out = {act}(pre) = {out:.4g}"
    )
    if g is not None:
        text += f";  dL/dpre = {g:.4g}, so dL/dw_i gets x_i × {g:.4g} from it"
    return text


def compare_engines(run: TrainingLoop, c: CompareEngines) -> None:
    try:
        comparison = tensor_views.compare_engines(run.config)
    except ValueError as exc:
        run.send(Notice(f"Could not compare the engines: {exc}", "warning"))
        return
    run.send(EnginesReport(comparison))
