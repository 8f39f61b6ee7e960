"""The network library: Karpathy's API and demo, names, activations, the float-only forward."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from micrograd.data import make_moons
from micrograd.engine import Value
from micrograd.nn import MLP, Layer, Module, Neuron


def test_karpathy_demo_reaches_95_percent_training_accuracy() -> None:
    # micrograd's demo.ipynb, written against his API (with our moons in place of sklearn's).
    random.seed(1337)
    X, labels = make_moons(100, noise=0.1, seed=1337)
    y = [2 * c - 1 for c in labels]
    model = MLP(2, [16, 16, 1])
    assert len(model.parameters()) == 337

    def loss():
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        alpha = 1e-4
        reg_loss = alpha * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    first_loss, _ = loss()
    for k in range(100):
        total_loss, acc = loss()
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
    total_loss, acc = loss()
    assert acc >= 0.95
    assert total_loss.data < first_loss.data / 5


def test_karpathy_reprs_and_structure() -> None:
    random.seed(0)
    model = MLP(2, [3, 1])
    assert repr(model) == (
        "MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2), ReLUNeuron(2)], "
        "Layer of [LinearNeuron(3)]]"
    )
    assert isinstance(model, Module)
    assert isinstance(Layer(2, 3), Module)
    assert Neuron(2, nonlin=False).nonlin is False
    # A one-neuron layer returns a Value, a wider one a list.
    assert isinstance(model([1.0, 2.0]), Value)
    assert len(model.layers[0]([1.0, 2.0])) == 3


def test_same_seed_same_weights_as_drawn_from_random_in_karpathys_order() -> None:
    random.seed(1337)
    model = MLP(2, [4, 1])
    random.seed(1337)
    expected = []
    for nin, nout in [(2, 4), (4, 1)]:
        for _ in range(nout):
            expected += [random.uniform(-1, 1) for _ in range(nin)] + [0.0]
    assert [p.data for p in model.parameters()] == expected


def test_rng_and_seed_make_weights_reproducible_without_touching_random() -> None:
    random.seed(5)
    before = random.random()
    random.seed(5)
    a = MLP(2, [8, 1], seed=42)
    b = MLP(2, [8, 1], rng=random.Random(42))
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
    assert random.random() == before  # the global generator was not used


def test_each_neuron_labels_its_output_node() -> None:
    model = MLP(2, [3, 1], seed=0)
    out = model([1.0, 2.0])
    assert out.label == "L1.N0"
    assert [child.label for child in out._prev if child._op == "relu"] == [
        "L0.N0",
        "L0.N1",
        "L0.N2",
    ]


def test_parameter_names() -> None:
    model = MLP(2, [4, 5, 1], seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert names[:3] == ["L0.N0.w0", "L0.N0.w1", "L0.N0.b"]
    assert "L1.N3.w2" in names
    assert names[-1] == "L2.N0.b"
    assert len(names) == len(set(names)) == len(model.parameters())


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_activations_and_predict_agree_with_the_graph(activation: str) -> None:
    model = MLP(3, [5, 4, 2], activation=activation, seed=3)
    for x in ([0.5, -1.0, 2.0], [0.0, 0.0, 0.0], [-3.0, 1.0, 0.25]):
        graph_out = [v.data for v in model(x)]
        assert model.predict(x) == pytest.approx(graph_out, rel=1e-12, abs=1e-12)


def test_tanh_mlp_like_the_lecture() -> None:
    model = MLP(3, [4, 4, 1], activation="tanh", output_activation="tanh", seed=1)
    assert repr(model.layers[-1]) == "Layer of [TanhNeuron(4)]"
    out = model([2.0, 3.0, -1.0])
    assert -1.0 < out.data < 1.0


def test_zero_grad_clears_every_parameter() -> None:
    model = MLP(2, [4, 1], seed=0)
    model([1.0, 2.0]).backward()
    assert any(p.grad for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_bad_sizes_and_activations_are_refused() -> None:
    with pytest.raises(ValueError, match="activation"):
        MLP(2, [4, 1], activation="swish")
    with pytest.raises(ValueError, match="positive sizes"):
        MLP(2, [0, 1])


# The array side of micrograd (the tensor engine, its layers and its training path) imports
# numpy; every other module, the scalar engine and the Trainer included, is standard library only.
ARRAY_MODULES = ("tensor", "tensor_nn", "tensor_train", "tensor_grad")


def test_import_micrograd_loads_no_third_party_module() -> None:
    code = (
        "import sys, pkgutil\n"
        "before = set(sys.modules)\n"
        "import micrograd\n"
        "for info in pkgutil.iter_modules(micrograd.__path__):\n"
        f"    if info.name not in {ARRAY_MODULES!r}:\n"
        "        __import__('micrograd.' + info.name)\n"
        "std = set(sys.stdlib_module_names)\n"
        "new = set(sys.modules) - before\n"
        "print(','.join(sorted(n for n in new if n.split('.')[0] not in std | {'micrograd'})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_engine_and_nn_do_not_import_numpy_even_beside_the_tensor_engine() -> None:
    code = (
        "import sys\n"
        "import micrograd.engine, micrograd.nn, micrograd.train, micrograd.losses\n"
        "print('numpy' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_the_array_modules_import_numpy_and_nothing_else_third_party() -> None:
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import micrograd\n"
        f"for name in {ARRAY_MODULES!r}:\n"
        "    try:\n"
        "        __import__('micrograd.' + name)\n"
        "    except ModuleNotFoundError as exc:\n"
        "        assert exc.name == 'micrograd.' + name, exc\n"
        "std = set(sys.stdlib_module_names) | {'micrograd', 'numpy'}\n"
        "new = set(sys.modules) - before\n"
        "print(','.join(sorted(n for n in new if n.split('.')[0] not in std)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_micrograd_source_never_imports_the_app_or_its_libraries() -> None:
    import ast
    from pathlib import Path

    import micrograd

    for path in Path(micrograd.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in {"textual", "plotext", "textual_plotext", "tui"}, (
                    path.name,
                    name,
                )


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_predict_neuron_equals_the_graph_nodes_of_that_neuron(activation: str) -> None:
    from micrograd.graph import snapshot

    model = MLP(3, [4, 3, 2], activation=activation, seed=5)
    xs = [[0.3, -1.2, 0.7], [1.5, 0.1, -0.4]]
    for x in xs:
        snap = snapshot(Value.sum(model(x)))
        for layer, width in enumerate((4, 3, 2)):
            for neuron in range(width):
                label = f"L{layer}.N{neuron}"
                (got,) = model.predict_neuron([x], layer, neuron)
                assert got == snap.data[snap.labels.index(label)], label
    last = model.predict_neuron(xs, 2, 1)
    assert last == [out[1] for out in model.predict_batch(xs)]
    with pytest.raises(IndexError):
        model.predict_neuron(xs, 3, 0)
    with pytest.raises(IndexError):
        model.predict_neuron(xs, 1, 3)


def _graph_of(out: Value) -> list[tuple]:
    """Every node's op, label, value, operand ids and locals, in topological order."""
    from micrograd.engine import topological_order

    order = topological_order(out)
    index = {id(n): i for i, n in enumerate(order)}
    return [(n._op, n.label, n.data, [index[id(c)] for c in n._prev], n._local) for n in order]


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_a_neuron_builds_the_same_nodes_as_value_dot_then_its_activation(activation: str) -> None:
    neuron = Neuron(3, activation=activation, rng=random.Random(5), name="N7")
    xs = [Value(0.5), Value(-2.0), Value(1.5)]
    expected = Value.dot(neuron.w, xs, neuron.b)
    if activation != "linear":
        expected = getattr(expected, activation)()
    expected.label = "N7"
    for given in (xs, tuple(xs), iter(xs), (x for x in xs)):
        out = neuron(given)
        assert _graph_of(out) == _graph_of(expected)
        assert Layer(3, 2, activation=activation)(list(xs))[0]._prev  # layers take Values too


def test_layers_and_neurons_take_generators_and_mixed_inputs() -> None:
    model = MLP(3, [4, 2], seed=1)
    x = [0.25, -1.0, 2.0]
    as_values = [Value(v) for v in x]
    mixed = [Value(0.25), -1.0, Value(2.0)]
    want = [v.data for v in model(x)]
    for given in (as_values, tuple(as_values), (v for v in as_values), mixed, iter(x)):
        assert [v.data for v in model(given)] == want
    out = model(mixed)
    (out[0] + out[1]).backward()
    assert mixed[0].grad != 0.0 and mixed[2].grad != 0.0  # gradients reach Value inputs


@pytest.mark.parametrize("x", [[Value(1.0), Value(2.0)], [1.0, 2.0], [Value(1.0)] * 4])
def test_a_wrong_number_of_inputs_is_refused_not_truncated(x: list) -> None:
    neuron = Neuron(3, name="L0.N0")
    with pytest.raises(ValueError, match="3 weights but"):
        neuron(x)
    with pytest.raises(ValueError, match="3 weights but"):
        Layer(3, 2)(x)


def test_a_layer_calls_a_neuron_subclass_through_its_own_call() -> None:
    class Doubling(Neuron):
        def __call__(self, x):
            return super().__call__(x) * 2

    layer = Layer(2, 2, activation="linear")
    layer.neurons[1] = Doubling(2, activation="linear", rng=random.Random(0))
    xs = [Value(1.0), Value(3.0)]
    plain, doubled = layer(xs)
    assert plain._op == "dot"
    assert doubled._op == "*"
    assert doubled.data == pytest.approx(2 * layer.neurons[1](xs)._prev[0].data)


class _NumpyLikeScalar(float):
    """Like numpy's float64: a float whose `.data` is a buffer, not its value."""

    @property
    def data(self) -> memoryview:
        return memoryview(b"\x00" * 8)


def test_numpy_like_scalars_are_numbers_not_values() -> None:
    model = MLP(2, [3, 1], seed=2)
    x = [0.5, -1.5]
    want = model(x).data
    assert model([_NumpyLikeScalar(v) for v in x]).data == want
    assert model((_NumpyLikeScalar(0.5), Value(-1.5))).data == want
    assert Value.dot([Value(2.0)], [_NumpyLikeScalar(3.0)]).data == 6.0


def test_no_module_imports_another_modules_private_names() -> None:
    """What modules share is public: `from micrograd.engine import _sigmoid` hides a dependency."""
    import ast
    from pathlib import Path

    import micrograd

    root = Path(micrograd.__file__).parent.parent
    for path in [*root.glob("micrograd/*.py"), *root.glob("tui/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in {
                "micrograd",
                "tui",
            }:
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, (path.name, node.module, private)
