"""Gradient health: per-layer gradient norms and the conditions a learner should be told about.

After a step, every parameter holds its gradient. `check(model, X, step)` reads them and says:

- the L2 norm of each layer's gradients, `sqrt(sum(p.grad**2 for p in layer))`, the numbers a
  learner watches over time (vanishing gradients shrink layer by layer towards the input);
- which ReLU neurons are *dead*: their output is 0 on every sample, so no gradient reaches their
  weights and they cannot learn back (a float forward over the samples, weights as they are now);
- which layers' gradients are *vanishing* (a norm below `vanishing` while the output layer's is
  not: the signal arrives but fades on the way down), *exploding* (a norm above `exploding`), or
  *not finite* (NaN or inf), naming the layer and the neuron most at fault.

`Announcer` turns a stream of reports into news: each condition is said once, when it appears,
and again only after it has gone away for a while and come back. Standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from micrograd.nn import MLP, Layer, float_forward

VANISHING = 1e-6  # a layer's gradient norm below this (while the output layer's is not)
EXPLODING = 1e3  # a layer's gradient norm above this
DEAD_CHECK_SAMPLES = 500  # the dead-neuron check reads at most this many samples
GROUP_AFTER = 1  # more new dead neurons than this at once: one notice for all of them


@dataclass(frozen=True)
class Condition:
    """One unhealthy thing: `kind` is "dead", "vanishing", "exploding" or "nonfinite"; `where`
    names the neuron (`L0.N5`) or layer (`L1`); `text` is one sentence for the learner."""

    kind: str
    where: str
    text: str
    severity: str = "warning"

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.where)


@dataclass(frozen=True)
class HealthReport:
    """The gradient health after step `step`: one norm per layer (`L0`, `L1`, ... the output
    last) and the conditions found. Plain data: it pickles across the process boundary."""

    step: int
    layer_norms: tuple[float, ...]
    conditions: tuple[Condition, ...] = ()
    layer_names: tuple[str, ...] = ()  # each norm's layer (`C0`, `L0`, ...); () for L0, L1, ...


def norm(values: Iterable[float]) -> float:
    """The L2 norm sqrt(sum(v**2)); NaN if any value is NaN, inf if any is infinite."""
    total = 0.0
    for v in values:
        total += v * v
    return math.sqrt(total)


def neuron_grad_norms(layer: Layer) -> list[float]:
    """The gradient norm of each neuron's weights and bias."""
    return [norm(p.grad for p in n.parameters()) for n in layer.neurons]


def layer_grad_norms(model: MLP) -> list[float]:
    """The gradient norm of each layer's parameters, input side first."""
    return [norm(p.grad for p in layer.parameters()) for layer in model.layers]


def dead_neurons(model: MLP, X: Sequence[Sequence[float]]) -> list[str]:
    """Names of the ReLU neurons whose output is 0 on every sample of `X` (float forward)."""
    if not X:
        return []
    alive = [[n.activation != "relu" for n in layer.neurons] for layer in model.layers]
    for outputs in float_forward(model, X):
        for flags, h in zip(alive, outputs):
            for j, v in enumerate(h):
                if v != 0.0:
                    flags[j] = True
    return [
        n.name
        for layer, flags in zip(model.layers, alive)
        for n, is_alive in zip(layer.neurons, flags)
        if not is_alive
    ]


def check(
    model: MLP,
    X: Sequence[Sequence[float]],
    step: int,
    vanishing: float = VANISHING,
    exploding: float = EXPLODING,
) -> HealthReport:
    """The health of `model`'s gradients after step `step`, and its dead neurons on `X` (the
    first DEAD_CHECK_SAMPLES samples). Before the first step there are no gradients: norms only."""
    norms = layer_grad_norms(model)
    if step < 1:
        return HealthReport(step, tuple(norms))
    conditions: list[Condition] = []
    samples = X[:DEAD_CHECK_SAMPLES]
    for name in dead_neurons(model, samples):
        conditions.append(
            Condition("dead", name, f"{name} is dead: ReLU output 0 on all {len(samples)} samples")
        )
    output_norm = norms[-1]
    for i, (layer, layer_norm) in enumerate(zip(model.layers, norms)):
        where = f"L{i}"
        per_neuron = neuron_grad_norms(layer)
        if not math.isfinite(layer_norm):
            bad = next(
                (n.name for n, g in zip(layer.neurons, per_neuron) if not math.isfinite(g)), where
            )
            kind = "NaN" if math.isnan(layer_norm) else "infinite"
            conditions.append(
                Condition(
                    "nonfinite",
                    where,
                    f"{where} has {kind} gradients, first at {bad}: the step was skipped",
                    "error",
                )
            )
        elif layer_norm > exploding:
            worst = max(range(len(per_neuron)), key=per_neuron.__getitem__)
            conditions.append(
                Condition(
                    "exploding",
                    where,
                    f"{where} gradients are exploding: norm {layer_norm:.3g} > {exploding:g}, "
                    f"largest at {layer.neurons[worst].name}; lower the learning rate",
                    "error",
                )
            )
        elif i < len(norms) - 1 and layer_norm < vanishing <= output_norm:
            weakest = min(range(len(per_neuron)), key=per_neuron.__getitem__)
            conditions.append(
                Condition(
                    "vanishing",
                    where,
                    f"{where} gradients are vanishing: norm {layer_norm:.3g} < {vanishing:g} "
                    f"(the output layer's is {output_norm:.3g}), weakest at "
                    f"{layer.neurons[weakest].name}",
                )
            )
    return HealthReport(step, tuple(norms), tuple(conditions))


class Announcer:
    """Says each condition once: `news(conditions)` returns those not already said.

    A condition is forgotten (and said again if it returns) only after `forget_after` reports in
    a row without it, so one that flickers from report to report is not repeated.
    """

    def __init__(self, forget_after: int = 20) -> None:
        self.forget_after = forget_after
        self._absent: dict[tuple[str, str], int] = {}  # said conditions: reports since last seen

    def reset(self) -> None:
        self._absent.clear()

    def news(self, conditions: Iterable[Condition]) -> list[Condition]:
        present = {c.key: c for c in conditions}
        new = [c for key, c in present.items() if key not in self._absent]
        for key in list(self._absent):
            if key in present:
                self._absent[key] = 0
            else:
                self._absent[key] += 1
                if self._absent[key] >= self.forget_after:
                    del self._absent[key]
        for c in new:
            self._absent[c.key] = 0
        return new


def summarize(news: Sequence[Condition]) -> list[tuple[str, str]]:
    """(text, severity) notices for the new conditions: one each, except that more than
    GROUP_AFTER dead neurons at once make a single notice naming them all."""
    dead = [c for c in news if c.kind == "dead"]
    out = [(c.text, c.severity) for c in news if c.kind != "dead"]
    if len(dead) > GROUP_AFTER:
        names = ", ".join(c.where for c in dead)
        reason = dead[0].text.split(": ", 1)[1]
        out.insert(0, (f"{len(dead)} neurons are dead ({names}): {reason}", "warning"))
    else:
        out[:0] = [(c.text, c.severity) for c in dead]
    return out
