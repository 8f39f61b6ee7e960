"""What the app asks the training process about: the shown step's graph, and one neuron.

`ShownGraph` is the graph whose snapshot the app shows, kept alive in the training process: its
live root, and every parameter's value and gradient as they were in that step's forward and
backward pass (the optimizer has moved the parameters since, and later steps overwrite their
gradients). The snapshot is taken with those values in place, so the tree shows one consistent
moment, leaves included; a gradient check puts them back for the time of the check, so it runs on
exactly the graph the learner sees, however far training has moved on.

This module imports no UI code: the training process imports it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from typing import Any

from micrograd.engine import Value, topological_order
from micrograd.gradcheck import check_node
from micrograd.graph import GraphSnapshot, snapshot, split_dots_origins
from micrograd.nn import MLP
from micrograd.train import Trainer
from tui.protocol import GradCheckView, NeuronView

NEURON_TABLE_ROWS = 500  # samples in the neuron view's table (data with more than two inputs)


@contextmanager
def tagged(samples: Sequence[tuple[Value, str]]) -> Iterator[None]:
    """Each sample's output node labelled with its sample too (`L2.N0 sample 3: ...`), for the
    block only: the graph's per-sample branches say which sample they are."""
    old = [(v, v.label) for v, _ in samples]
    for v, tag in samples:
        v.label = f"{v.label} {tag}" if v.label else tag
    try:
        yield
    finally:
        for v, label in old:
            v.label = label


def label_branches(snap: GraphSnapshot) -> GraphSnapshot:
    """`snap` with the loss's per-sample terms (a sum's inputs that lead to one sample's output
    within a few nodes, e.g. the lecture's `(yout - ygt)**2`) labelled with that sample, so the
    tree's top lines say which sample each branch is."""
    tag_of = {i: x[x.index("sample ") :] for i, x in enumerate(snap.labels) if "sample " in x}
    if not tag_of or snap.root < 0:
        return snap
    labels = list(snap.labels)
    tops = [(c, 0) for c in snap.children[snap.root]]
    while tops:
        top, depth = tops.pop()
        found: set[str] = set()
        frontier = [top]
        for _ in range(6):  # a loss term's few ops down to its sample's output
            nxt = []
            for n in frontier:
                if n in tag_of:
                    found.add(tag_of[n])
                else:
                    nxt.extend(snap.children[n])
            frontier = nxt
        if len(found) == 1 and not labels[top]:
            labels[top] = found.pop()
        elif len(found) > 1 and depth < 2:  # a sum or a mean of the terms: look inside
            tops.extend((c, depth + 1) for c in snap.children[top])
    return replace(snap, labels=tuple(labels))


def sample_tags(trainer: Trainer) -> list[tuple[Value, str]]:
    """(output node, `sample 3: x=(2, 3, -1) y=+1`) for each sample of the last graph; the
    label as the loss uses it (+1/-1 for a two-class loss other than bce), as the table shows."""
    X, y = trainer.data.X_train, trainer.data.y_train
    signed = trainer.n_classes == 2 and trainer.loss_name != "bce"
    tags = []
    for i, out in trainer.last_samples:
        x = ", ".join(f"{v:.3g}" for v in X[i])
        label = ("+1" if y[i] else "-1") if signed else str(y[i])
        for v in out if isinstance(out, list) else [out]:
            if isinstance(v, Value):
                tags.append((v, f"sample {i}: x=({x}) y={label}"))
    return tags


@contextmanager
def put_back(leaves: Sequence[tuple[Any, Any, Any]]) -> Iterator[None]:
    """For the block only, each (parameter, data, grad) of `leaves` has that data and grad
    (a Value's floats or a Tensor's arrays); what they held before comes back after."""
    now = [(p.data, p.grad) for p, _, _ in leaves]
    for p, data, grad in leaves:
        p.data, p.grad = data, grad
    try:
        yield
    finally:
        for (p, _, _), (data, grad) in zip(leaves, now):
            p.data, p.grad = data, grad


class ShownGraph:
    """The graph of step `step` as the app shows it: live root, parameters as they were."""

    def __init__(
        self,
        step: int,
        root: Value,
        params: Sequence[tuple[str, Value]],
        forward_values: Sequence[float],
        split: bool = False,
        samples: Sequence[tuple[Value, str]] = (),
    ) -> None:
        self.step = step
        self.root = root
        self.params = {name: p for name, p in params}
        # (parameter, value in the forward pass, gradient from the backward pass)
        self._leaves = [(p, x, p.grad) for (_, p), x in zip(params, forward_values)]
        with self.as_it_was(), tagged(samples):
            self.snapshot: GraphSnapshot = label_branches(snapshot(root))
        # split: each dot shown as the lecture's * and + nodes; origins maps a shown index to
        # the graph's own (-1 for a node the split made, which no Value stands for)
        self.origins: tuple[int, ...] | None = None
        if split:
            self.snapshot, self.origins = split_dots_origins(self.snapshot)

    def as_it_was(self) -> AbstractContextManager[None]:
        """Put the parameters' values and gradients of this step back, for the block only."""
        return put_back(self._leaves)

    def check(self, index: int | None = None, name: str | None = None) -> GradCheckView:
        """Check node `index`, or the parameter called `name`, by a central difference."""
        order = topological_order(self.root)
        shown = index
        if index is not None and self.origins is not None and name is None:
            if not 0 <= index < len(self.origins):
                return self._failed(-1, str(index), f"no node {index} in this graph")
            index = self.origins[index]
            if index < 0:
                label = self.snapshot.name(shown)
                return self._failed(shown, label, "a * or + of a split neuron: check its inputs, "
                                    "or show neurons fused (u) and check the dot")  # fmt: skip
        if name is not None:
            p = self.params.get(name)
            where = {node: i for i, node in enumerate(order)}
            if p is None or p not in where:
                return self._failed(-1, name, f"{name} is not part of the graph of this step")
            index = where[p]
        if index is None or not 0 <= index < len(order):
            return self._failed(-1, str(name or index), f"no node {index} in this graph")
        node = order[index]
        if self.origins is not None:  # the index the app shows the node at
            shown = self.origins.index(index) if index in self.origins else -1
        else:
            shown = index
        label = name or self.snapshot.name(shown)
        try:
            with self.as_it_was():
                result = check_node(self.root, node)
        except ValueError as exc:
            return self._failed(shown, label, str(exc))
        return GradCheckView(
            self.step,
            shown,
            label,
            result.analytic,
            result.numeric,
            result.relative_error,
            result.ok,
        )

    def _failed(self, index: int, name: str, why: str) -> GradCheckView:
        nan = math.nan
        return GradCheckView(self.step, index, name, nan, nan, nan, False, why)


def neuron_view(
    model: MLP,
    step: int,
    layer: int,
    neuron: int,
    X: Sequence[Sequence[float]],
    y: Sequence[int],
    grid: Sequence[Sequence[float]] = (),
    bounds: tuple[float, float, float, float] = (0.0, 1.0, 0.0, 1.0),
    cols: int = 0,
) -> NeuronView:
    """The neuron's output on `grid` (cell centres, row by row, `cols` a row) when the data has
    two inputs, else on each training sample; and its weights with their gradients."""
    n = model.layers[layer].neurons[neuron]  # IndexError: no such neuron
    weights = tuple((p.label, p.data, p.grad) for p in n.parameters())
    common = dict(
        step=step,
        name=n.name,
        layer=layer,
        neuron=neuron,
        layers=len(model.layers),
        activation=n.activation,
        weights=weights,
    )
    if len(X[0]) == 2 and grid and cols:
        flat = model.predict_neuron(grid, layer, neuron)
        rows = tuple(tuple(flat[r : r + cols]) for r in range(0, len(flat), cols))
        points = tuple((float(x[0]), float(x[1]), int(t)) for x, t in zip(X, y))
        return NeuronView(**common, grid=rows, bounds=bounds, points=points)
    X, y = X[:NEURON_TABLE_ROWS], y[:NEURON_TABLE_ROWS]
    outputs = model.predict_neuron(X, layer, neuron)
    samples = tuple((tuple(map(float, x)), int(t), o) for x, t, o in zip(X, y, outputs))
    return NeuronView(**common, samples=samples)
