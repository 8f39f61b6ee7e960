"""A small neural-network library on `Value`, with Karpathy's micrograd API.

`Neuron(nin, nonlin=True)`, `Layer(nin, nout, **kw)` and `MLP(nin, nouts)` behave as in his
micrograd (ReLU hidden layers, a linear output, weights uniform(-1, 1) drawn from `random` in the
same order), so his demo runs unchanged and `random.seed(1337)` gives the same network. Beyond
that: a per-layer activation, parameter names for display (`L0.N3.w1`, `L0.N3.b`), a seeded
`rng`, and `predict`, a float-only forward that builds no graph.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import mul

from micrograd.engine import Operand, Value, dot_node, read_dot_inputs
from micrograd.operators import ACTIVATION_FUNCTIONS

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")

# The graph op of each activation (None: the dot node is the output).
_ACTIVATE = {"relu": Value.relu, "tanh": Value.tanh, "sigmoid": Value.sigmoid, "linear": None}


class Module:
    """Anything with parameters."""

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0

    def parameters(self) -> list[Value]:
        return []

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(name, parameter) pairs, in the order of `parameters()`."""
        return [(p.label, p) for p in self.parameters()]


class Neuron(Module):
    """act(w . x + b); `activation` is one of relu, tanh, sigmoid, linear."""

    def __init__(
        self,
        nin: int,
        nonlin: bool = True,
        activation: str | None = None,
        rng: random.Random | None = None,
        name: str = "N",
    ) -> None:
        if activation is None:
            activation = "relu" if nonlin else "linear"
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {ACTIVATIONS}")
        uniform = (rng or random).uniform
        self.w = [Value(uniform(-1, 1), label=f"{name}.w{i}") for i in range(nin)]
        self.b = Value(0.0, label=f"{name}.b")
        self.activation = activation
        self.nonlin = activation != "linear"
        self.name = name

    def __call__(self, x: Sequence[Operand]) -> Value:
        if type(x) is not list and type(x) is not tuple:
            x = list(x)  # read twice below
        return _neuron_outputs((self,), x, *read_dot_inputs(x), subclasses_call=False)[0]

    def parameters(self) -> list[Value]:
        return self.w + [self.b]

    def __repr__(self) -> str:
        kind = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "linear": "Linear"}
        return f"{kind[self.activation]}Neuron({len(self.w)})"


class Layer(Module):
    """nout neurons that all read the same nin inputs."""

    def __init__(self, nin: int, nout: int, name: str = "L", **kwargs) -> None:
        self.neurons = [Neuron(nin, name=f"{name}.N{i}", **kwargs) for i in range(nout)]

    def __call__(self, x: Sequence[Operand]) -> Value | list[Value]:
        if type(x) is not list and type(x) is not tuple:
            x = list(x)  # read once, by every neuron
        out = _neuron_outputs(self.neurons, x, *read_dot_inputs(x))  # inputs read once for all
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


def _neuron_outputs(
    neurons: Sequence[Neuron],
    x: Sequence[Operand],
    xs: Sequence[Value] | None,
    xd: list[float],
    subclasses_call: bool = True,
) -> list[Value]:
    """act(w . x + b) of each neuron, on inputs `x` that `read_dot_inputs` read as (xs, xd): the
    node `Value.dot(n.w, x, n.b)` makes, without its checks, then the activation's node. With
    `subclasses_call`, a Neuron subclass is called as itself (its own `__call__`). One loop
    for a whole layer: the forward pass's hot path."""
    out: list[Value] = []
    append = out.append
    n_in = len(xd)
    for n in neurons:
        if subclasses_call and type(n) is not Neuron:
            append(n(x))
            continue
        w, b = n.w, n.b
        if len(w) != n_in:
            raise ValueError(f"{n.name}: {len(w)} weights but {n_in} inputs")
        node = dot_node(w, [p.data for p in w], xs, xd, b)
        activate = _ACTIVATE[n.activation]
        if activate is not None:
            node = activate(node)
        node.label = n.name  # the graph view shows which neuron made this node
        append(node)
    return out


class MLP(Module):
    """A multi-layer perceptron: ReLU hidden layers and a linear output, unless told otherwise.

    `activation` is the hidden layers' activation, or a list with one per layer (output
    included); `rng` (a `random.Random`) or `seed` makes the initial weights reproducible.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str | Sequence[str] = "relu",
        output_activation: str = "linear",
        rng: random.Random | None = None,
        seed: int | None = None,
    ) -> None:
        if nin < 1 or not nouts or any(n < 1 for n in nouts):
            raise ValueError(f"MLP needs positive sizes, got nin={nin}, nouts={list(nouts)}")
        if rng is None and seed is not None:
            rng = random.Random(seed)
        if isinstance(activation, str):
            acts = [activation] * (len(nouts) - 1) + [output_activation]
        else:
            acts = list(activation)
            if len(acts) != len(nouts):
                raise ValueError(f"{len(acts)} activations given for {len(nouts)} layers")
        sizes = [nin, *nouts]
        self.layers = [
            Layer(sizes[i], sizes[i + 1], name=f"L{i}", activation=acts[i], rng=rng)
            for i in range(len(nouts))
        ]

    def __call__(self, x: Sequence[Operand]) -> Value | list[Value]:
        for layer in self.layers:
            x = layer(x)  # type: ignore[assignment]
        return x  # type: ignore[return-value]

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def predict(self, x: Sequence[float]) -> float | list[float]:
        """The forward pass on plain floats: no graph, no gradients."""
        return self.predict_batch([x])[0]

    def predict_batch(self, xs: Sequence[Sequence[float]]) -> list[float | list[float]]:
        """`predict` for many inputs, reading the weights once."""
        return [h[0] if len(h) == 1 else h for *_, h in float_forward(self, xs)]

    def predict_neuron(self, xs: Sequence[Sequence[float]], layer: int, neuron: int) -> list[float]:
        """The output (after its activation) of neuron `neuron` of layer `layer` for each input,
        on plain floats: what a graph node labelled `L{layer}.N{neuron}` holds for that input."""
        if not 0 <= layer < len(self.layers):
            raise IndexError(f"layer {layer} is out of range: the MLP has {len(self.layers)}")
        width = len(self.layers[layer].neurons)
        if not 0 <= neuron < width:
            raise IndexError(f"neuron {neuron} is out of range: layer {layer} has {width}")
        return [hs[layer][neuron] for hs in float_forward(self, xs, layers=layer + 1)]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


FloatNeuron = tuple[list[float], float, Callable[[float], float]]  # weights, bias, activation


def float_forward(
    model: MLP, xs: Iterable[Sequence[float]], layers: int | None = None
) -> Iterator[list[list[float]]]:
    """For each input, every layer's outputs (after its activation) on plain floats, with the
    weights as they are now: `[layer][neuron]`, the output layer last. The one float forward
    pass behind `predict`, the neuron view and dead-neuron detection (micrograd.health).
    `layers` stops after that many layers."""
    act = ACTIVATION_FUNCTIONS
    plan: list[list[FloatNeuron]] = [
        [([w.data for w in n.w], n.b.data, act[n.activation]) for n in layer.neurons]
        for layer in model.layers[:layers]
    ]
    for x in xs:
        h = x
        outputs = []
        for neurons in plan:
            h = [f(sum(map(mul, w, h), b)) for w, b, f in neurons]
            outputs.append(h)
        yield outputs
