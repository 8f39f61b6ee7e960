"""What the app shows of a run on the tensor engine, built from a `Trainer` as plain data.

Pure functions, no Textual: the training process calls them and sends what they return (frozen
dataclasses of numbers, strings and small host numpy arrays, all picklable) to the app, whose
widgets render it. Each builder reads the trainer and changes nothing in it.

- `param_rows`: one row per parameter array: name, shape, the norms of its value, its gradient
  and its last update; `param_arrays`: one parameter's values and gradient as 2-D arrays, for a
  heatmap.
- `predictions` (one forward pass over a split) feeds `confusion` (true class x predicted class
  counts) and `accuracies` (train and test); `digits_page` is a page of images with their
  predicted and true labels; `tensor_model_view` puts them together, throttled.
- `conv_filters`: each Conv2d layer's kernels and their gradients; `feature_maps`: what each
  Conv2d layer makes of one image.
- `compare_engines`: the same first step on both engines (same config and seed): the size of
  each graph (nodes, links), milliseconds per step and the loss (equal: both run the same math).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from micrograd.device import to_host
from micrograd.engine import topological_order
from micrograd.tensor_nn import Conv2d, predict_classes
from micrograd.train import (
    MAX_STEP_WORK,
    TrainConfig,
    Trainer,
    image_shape_of,
    load_data,
    step_work,
)

PAGE_SIZE = 24  # images in a page of the digits view
SPLITS = ("test", "train")


def as_matrix(a: np.ndarray) -> np.ndarray:
    """An array as the 2-D grid a heatmap draws: a vector is one row, a matrix itself, and a
    higher one (a conv kernel (cout, cin, k, k)) one row per leading index (a filter a row)."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a.reshape(1, -1)
    return a.reshape(a.shape[0], -1)


def _norm(a: Any) -> float:
    h = np.asarray(to_host(a), dtype=np.float64)
    return float(np.sqrt(np.vdot(h, h)))


def _tensor_run(trainer: Trainer) -> Any:
    run = trainer.tensor_run
    if run is None:
        raise ValueError("these views are for a run on the tensor engine (engine tensor)")
    return run


# -- parameters --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamRow:
    """One parameter array: its name (`L0.W`), shape and the norms of value, grad and update."""

    name: str
    shape: tuple[int, ...]
    value_norm: float
    grad_norm: float | None  # None: no gradient yet
    update_norm: float | None  # None: no step yet


@dataclass(frozen=True)
class ParamArrays:
    """One parameter's values and gradient as heatmap grids (see `as_matrix`) after `step`."""

    step: int
    name: str
    shape: tuple[int, ...]
    values: np.ndarray
    grads: np.ndarray | None


def copy_params(trainer: Trainer) -> list[np.ndarray]:
    """Every parameter's values as host copies (what `param_rows` measures updates against:
    the optimizer updates the arrays in place)."""
    return [np.array(to_host(p.data), dtype=np.float64) for p in _tensor_run(trainer).params]


def param_rows(trainer: Trainer, before: Sequence[np.ndarray] = ()) -> tuple[ParamRow, ...]:
    """A row per parameter array; the update is the values now minus `before` (from
    `copy_params` before the last step), absent when `before` is empty."""
    rows = []
    for i, p in enumerate(_tensor_run(trainer).params):
        now = np.asarray(to_host(p.data), dtype=np.float64)
        update = _norm(now - before[i]) if i < len(before) else None
        grad = None if p.grad is None else _norm(p.grad)
        rows.append(ParamRow(p.label, p.shape, _norm(now), grad, update))
    return tuple(rows)


def node_array_name(index: int, op: str, label: str) -> str:
    """How the app names a graph node's arrays: `node 12: linear L0`."""
    return f"node {index}: {op or 'leaf'} {label}".rstrip()


def node_arrays(step: int, node: Any, index: int) -> ParamArrays:
    """A graph node's data and gradient (a Tensor of the shown step) as heatmap grids."""
    grads = None if node.grad is None else as_matrix(to_host(node.grad))
    name = node_array_name(index, node._op, node.label)
    return ParamArrays(step, name, node.shape, as_matrix(to_host(node.data)), grads)


def layer_grad_norms(trainer: Trainer) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """(names, norms): the gradient norm of each layer with parameters, conv (`C0`: its K and b
    together) and dense (`L0`: its W and b), input side first, as the scalar engine's gradient
    strip shows its layers; 0 before any gradient."""
    totals: dict[str, float] = {}
    for p in _tensor_run(trainer).params:
        layer = p.label.split(".")[0]
        g = 0.0 if p.grad is None else _norm(p.grad)
        totals[layer] = totals.get(layer, 0.0) + g * g
    return tuple(totals), tuple(math.sqrt(v) for v in totals.values())


def param_arrays(trainer: Trainer, name: str) -> ParamArrays:
    """The parameter called `name` as two grids; KeyError if there is none."""
    for p in _tensor_run(trainer).params:
        if p.label == name:
            grads = None if p.grad is None else as_matrix(to_host(p.grad))
            return ParamArrays(trainer.step_count, name, p.shape, as_matrix(to_host(p.data)), grads)
    raise KeyError(name)


# -- predictions, the digits page, the confusion matrix ----------------------------------------


@dataclass(frozen=True)
class Predictions:
    """The model's class for every sample of one split, and the true classes."""

    step: int
    split: str  # "test" or "train"
    predicted: np.ndarray
    true: np.ndarray
    n_classes: int

    @property
    def accuracy(self) -> float | None:
        return float((self.predicted == self.true).mean()) if len(self.true) else None


def _split(trainer: Trainer, split: str) -> tuple[list[list[float]], list[int]]:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    d = trainer.data
    return (d.X_test, d.y_test) if split == "test" else (d.X_train, d.y_train)


def shown_split(trainer: Trainer) -> str:
    """The split the views show: the test samples if there are any, else the training ones."""
    return "test" if trainer.data.X_test else "train"


def predictions(trainer: Trainer, split: str = "test") -> Predictions:
    """One forward pass over the split, no graph kept."""
    run = _tensor_run(trainer)
    X, y = _split(trainer, split)
    if X:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            predicted = predict_classes(run.loss_name, run.outputs(X))
    else:
        predicted = np.zeros(0, dtype=np.int64)
    true = np.asarray(y, dtype=np.int64)
    return Predictions(trainer.step_count, split, np.asarray(predicted), true, trainer.n_classes)


def accuracies(trainer: Trainer) -> tuple[float | None, float | None]:
    """(train accuracy, test accuracy) of the model now; None for an empty split."""
    return predictions(trainer, "train").accuracy, predictions(trainer, "test").accuracy


@dataclass(frozen=True)
class Confusion:
    """counts[t][p]: how many samples of true class t the model calls p."""

    step: int
    split: str
    counts: tuple[tuple[int, ...], ...]

    @property
    def total(self) -> int:
        return sum(map(sum, self.counts))

    @property
    def correct(self) -> int:
        return sum(row[i] for i, row in enumerate(self.counts))


def confusion(preds: Predictions) -> Confusion:
    n = max(preds.n_classes, int(preds.predicted.max(initial=-1)) + 1)
    counts = np.zeros((n, n), dtype=np.int64)
    np.add.at(counts, (preds.true, preds.predicted), 1)
    return Confusion(preds.step, preds.split, tuple(tuple(int(v) for v in r) for r in counts))


@dataclass(frozen=True)
class DigitsPage:
    """A page of images from one split: pixels (H, W) in [0, 1], predicted and true classes."""

    step: int
    split: str
    start: int
    total: int  # images in the split
    indices: tuple[int, ...]
    images: tuple[np.ndarray, ...]
    predicted: tuple[int, ...]
    true: tuple[int, ...]

    @property
    def wrong(self) -> tuple[int, ...]:
        """Positions on this page whose prediction is wrong."""
        return tuple(i for i, (p, t) in enumerate(zip(self.predicted, self.true)) if p != t)


def image_of(sample: Sequence[float], shape: Sequence[int]) -> np.ndarray:
    """A flat sample as an (H, W) picture in [0, 1]: the channels averaged, scaled by the
    largest pixel (a CSV's 0-255 as well as the digits' 0-1)."""
    c, h, w = shape
    a = np.asarray(sample, dtype=np.float64).reshape(c, h, w).mean(axis=0)
    low, high = float(a.min()), float(a.max())
    if high > 1.0 or low < 0.0:
        a = (a - low) / ((high - low) or 1.0)
    return np.clip(a, 0.0, 1.0)


def predictions_of(trainer: Trainer, split: str, indices: Sequence[int]) -> np.ndarray:
    """The model's class for the samples `indices` of `split` (one forward pass, no graph)."""
    run = _tensor_run(trainer)
    X, _ = _split(trainer, split)
    if not len(indices):
        return np.zeros(0, dtype=np.int64)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return np.asarray(predict_classes(run.loss_name, run.outputs([X[i] for i in indices])))


def digits_page(
    trainer: Trainer,
    split: str = "test",
    start: int = 0,
    size: int = PAGE_SIZE,
    preds: Predictions | None = None,
) -> DigitsPage | None:
    """The page of `size` images of `split` from `start` (clamped to the split), predicted by
    the model now (or read from `preds`); None if the data are not images (no image shape)."""
    shape = image_shape_of(trainer.config, trainer.data)
    X, y = _split(trainer, split)
    if shape is None or not X:
        return None
    total = len(X)
    start = max(0, min(start, (total - 1) // size * size))
    idx = tuple(range(start, min(total, start + size)))
    predicted = (
        preds.predicted[list(idx)] if preds is not None else predictions_of(trainer, split, idx)
    )
    return DigitsPage(
        trainer.step_count,
        split,
        start,
        total,
        idx,
        tuple(image_of(X[i], shape) for i in idx),
        tuple(int(p) for p in predicted),
        tuple(int(y[i]) for i in idx),
    )


# -- convolutions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilterLayer:
    """One Conv2d layer's kernels (cout, cin, k, k) and their gradients (None: none yet)."""

    name: str
    weights: np.ndarray
    grads: np.ndarray | None


@dataclass(frozen=True)
class ConvFilters:
    step: int
    layers: tuple[FilterLayer, ...]


def conv_layers(trainer: Trainer) -> list[Conv2d]:
    model = _tensor_run(trainer).model
    return [layer for layer in getattr(model, "layers", []) if isinstance(layer, Conv2d)]


def conv_filters(trainer: Trainer) -> ConvFilters:
    layers = []
    for conv in conv_layers(trainer):
        grads = None if conv.K.grad is None else np.array(to_host(conv.K.grad), dtype=np.float64)
        layers.append(FilterLayer(conv.name, np.array(to_host(conv.K.data), np.float64), grads))
    return ConvFilters(trainer.step_count, tuple(layers))


@dataclass(frozen=True)
class FeatureMaps:
    """What each Conv2d layer (after its activation) makes of one image of a split."""

    step: int
    split: str
    index: int
    image: np.ndarray  # (H, W) in [0, 1]
    true: int
    predicted: int
    maps: tuple[tuple[str, np.ndarray], ...]  # (layer name, (cout, h, w))


def feature_maps(trainer: Trainer, index: int, split: str = "test") -> FeatureMaps | None:
    """The feature maps of sample `index` (clamped) of `split`; None without conv layers."""
    run = _tensor_run(trainer)
    X, y = _split(trainer, split)
    shape = image_shape_of(trainer.config, trainer.data)
    if not run.conv or not X or shape is None:
        return None
    index = max(0, min(index, len(X) - 1))
    x = run.inputs([X[index]])
    maps: list[tuple[str, np.ndarray]] = []
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for layer in run.model.layers:
            x = layer(x)
            if isinstance(layer, Conv2d):
                maps.append((layer.name, np.array(to_host(x.data)[0], dtype=np.float64)))
    predicted = int(predict_classes(run.loss_name, x)[0])
    return FeatureMaps(
        trainer.step_count, split, index, image_of(X[index], shape), y[index], predicted,
        tuple(maps),
    )  # fmt: skip


# -- the same step on both engines --------------------------------------------------------------


@dataclass(frozen=True)
class EngineFigures:
    """One engine's first step of a run: its graph's size, time a step, the loss."""

    engine: str
    nodes: int | None = None
    links: int | None = None
    ms_per_step: float | None = None
    loss: float | None = None
    note: str = ""  # why it was not measured


@dataclass(frozen=True)
class EngineComparison:
    scalar: EngineFigures
    tensor: EngineFigures
    batch: int  # samples a step

    @property
    def same_loss(self) -> bool | None:
        a, b = self.scalar.loss, self.tensor.loss
        if a is None or b is None:
            return None
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def graph_size(root: Any) -> tuple[int, int]:
    """(nodes, links) of the graph under `root`, a Value or a Tensor: each operand is a link."""
    order = topological_order(root)
    return len(order), sum(len(node._prev) for node in order)


def _measure(engine: str, config: TrainConfig, data: Any, steps: int) -> EngineFigures:
    trainer = Trainer(config, data)
    first = trainer.step()
    nodes, links = graph_size(trainer.last_root)
    times = [first.seconds]
    for _ in range(steps - 1):
        times.append(trainer.step().seconds)
    return EngineFigures(engine, nodes, links, 1000 * statistics.median(times), first.loss)


def compare_engines(
    config: TrainConfig, steps: int = 3, limit: int = MAX_STEP_WORK
) -> EngineComparison:
    """The run's first `steps` steps on each engine, from fresh weights of the configured seed:
    the tensor side on the CPU in float64 (so the losses agree with the scalar engine's to
    rounding); the scalar side is left out for a conv model or a step over `limit`
    multiply-adds (it would take seconds)."""
    data = load_data(config)
    tensor_config = replace(config, engine="tensor", device="cpu", dtype="float64")
    tensor = _measure("tensor", tensor_config, data, steps)
    batch = config.batch_size or len(data.X_train)
    if config.conv:
        scalar = EngineFigures("scalar", note="no conv layers, so it cannot run this model")
    elif step_work(config, data) > limit:
        work = step_work(config, data)
        scalar = EngineFigures(
            "scalar", note=f"not run: {work:,} multiply-adds a step, over {limit:,}"
        )
    else:
        scalar_config = replace(config, engine="scalar", device="cpu", dtype="float64")
        scalar = _measure("scalar", scalar_config, data, steps)
    return EngineComparison(scalar, tensor, batch)


# -- what the training process sends about a tensor model, about twice a second ------------------


@dataclass(frozen=True)
class TensorModelView:
    """The tensor model now: its parameter arrays, train and test accuracy, the confusion matrix
    of the shown split (None: not recomputed this time) and, for image data, a page of its
    images with their predictions."""

    step: int
    params: tuple[ParamRow, ...]
    train_accuracy: float | None
    test_accuracy: float | None
    confusion: Confusion | None
    page: DigitsPage | None


RECENT = 20  # the last steps whose batch accuracies make the train accuracy shown


def recent_accuracies(trainer: Trainer) -> tuple[float | None, float | None]:
    """(train, test) accuracy from the history, at no cost: the mean batch accuracy of the last
    RECENT steps, and the last test evaluation (every `eval_every` steps); None before any."""
    h = trainer.history
    n = len(h)
    recent = h[max(0, n - RECENT) :]
    train = statistics.fmean(r.accuracy for r in recent) if recent else None
    window = h[max(0, n - 2 * trainer.config.eval_every - 1) :]
    test = next((r.test_accuracy for r in reversed(window) if r.test_accuracy is not None), None)
    return train, test


def tensor_model_view(
    trainer: Trainer,
    before: Sequence[np.ndarray] = (),
    page_start: int = 0,
    with_confusion: bool = True,
) -> TensorModelView:
    """The parameters' norms, the accuracies from the history, the page of images (a forward
    pass over its images) and, `with_confusion`, the confusion matrix (one over the split)."""
    split = shown_split(trainer)
    preds = predictions(trainer, split) if with_confusion else None
    train, test = recent_accuracies(trainer)
    return TensorModelView(
        trainer.step_count,
        param_rows(trainer, before),
        train,
        test,
        None if preds is None else confusion(preds),
        digits_page(trainer, split, page_start, preds=preds),
    )
