"""Layers, losses and optimizers on Tensors, against the scalar engine's own."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from tensorhelp import BACKENDS, host, xp_of

from micrograd import losses, nn, optim
from micrograd import tensor_nn as tn
from micrograd.data import DIGITS_SHAPE, make_digits, make_moons, train_test_split
from micrograd.device import get_device
from micrograd.engine import Value
from micrograd.tensor import ShapeError, Tensor
from micrograd.tensor_train import TensorRun, conv_shapes


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_mlp_draws_the_scalar_mlps_weights_and_computes_its_outputs(activation) -> None:
    scalar = nn.MLP(3, [5, 4, 2], activation=activation, rng=random.Random(11))
    tensor = tn.MLP(3, [5, 4, 2], activation=activation, rng=random.Random(11))
    for layer, lin in zip(scalar.layers, tensor.layers):
        w = np.array([[p.data for p in n.w] for n in layer.neurons]).T
        np.testing.assert_array_equal(lin.W.data, w)
        np.testing.assert_array_equal(lin.b.data, [n.b.data for n in layer.neurons])
    X = np.random.default_rng(0).normal(size=(6, 3))
    expected = [[v.data for v in scalar(list(x))] for x in X]
    np.testing.assert_allclose(tensor(X).data, expected, rtol=1e-13, atol=1e-15)
    assert [label for label, _ in tensor.named_parameters()][:2] == ["L0.W", "L0.b"]


def test_mlp_with_a_seed_is_the_same_network_as_with_its_rng() -> None:
    a, b = tn.MLP(2, [3, 1], seed=4), tn.MLP(2, [3, 1], rng=random.Random(4))
    np.testing.assert_array_equal(a.layers[0].W.data, b.layers[0].W.data)


SCALAR_LOSSES = {"hinge": 2, "mse": 2, "sse": 2, "bce": 2, "softmax": 4}


@pytest.mark.parametrize("device", BACKENDS)
@pytest.mark.parametrize("name", list(SCALAR_LOSSES))
def test_each_loss_and_its_gradient_equal_the_scalar_loss(device, name) -> None:
    k = SCALAR_LOSSES[name]
    rng = np.random.default_rng(3)
    scores = rng.normal(scale=3.0, size=(7, k if name == "softmax" else 1))
    labels = [int(c) for c in rng.integers(0, k, size=7)]
    values = [[Value(float(s)) for s in row] for row in scores]
    outputs = values if name == "softmax" else [row[0] for row in values]
    expected = losses.LOSSES[name](outputs, labels)
    expected.backward()
    xp = xp_of(device)
    t = Tensor(xp.asarray(scores))
    got = tn.LOSSES[name](t, xp.asarray(labels))
    got.backward()
    assert float(got.data) == pytest.approx(expected.data, rel=1e-13, abs=1e-15)
    np.testing.assert_allclose(
        host(t.grad), [[v.grad for v in row] for row in values], rtol=1e-12, atol=1e-15
    )


def test_l2_equals_the_scalar_l2_with_its_gradient() -> None:
    rng = np.random.default_rng(1)
    arrays = [rng.normal(size=(3, 2)), rng.normal(size=(2,))]
    values = [Value(float(v)) for a in arrays for v in a.ravel()]
    expected = losses.l2(values, 0.01)
    expected.backward()
    tensors = [Tensor(a) for a in arrays]
    got = tn.l2(tensors, 0.01)
    got.backward()
    assert float(got.data) == pytest.approx(expected.data, rel=1e-14)
    flat = np.concatenate([t.grad.ravel() for t in tensors])
    np.testing.assert_allclose(flat, [v.grad for v in values], rtol=1e-14)
    with pytest.raises(ValueError, match="alpha"):
        tn.l2(tensors, -1.0)


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: tn.hinge(Tensor(np.ones((3, 2))), [0, 1, 1]), ["hinge", "one output"]),
        (lambda: tn.mse(Tensor(np.ones((3, 1))), [0, 1]), ["mse", "3 outputs"]),
        (lambda: tn.bce(Tensor(np.ones((2, 1))), [0, 2]), ["bce", "0..1"]),
        (lambda: tn.softmax_cross_entropy(Tensor(np.ones(3)), [0, 1, 1]), ["softmax", "(3,)"]),
    ],
)
def test_bad_loss_inputs_are_one_clear_error(call, words) -> None:
    with pytest.raises(ShapeError) as info:
        call()
    assert all(w in str(info.value) for w in words)


OPTIMIZERS = {
    "sgd": lambda ps: optim.SGD(ps, 0.1, weight_decay=0.01),
    "momentum": lambda ps: optim.SGD(ps, 0.1, momentum=0.9, weight_decay=0.01),
    "adam": lambda ps: optim.Adam(ps, 0.05, weight_decay=0.01),
    "adamw": lambda ps: optim.AdamW(ps, 0.05, weight_decay=0.01),
}
TENSOR_OPTIMIZERS = {
    "sgd": lambda ps: tn.SGD(ps, 0.1, weight_decay=0.01),
    "momentum": lambda ps: tn.SGD(ps, 0.1, momentum=0.9, weight_decay=0.01),
    "adam": lambda ps: tn.Adam(ps, 0.05, weight_decay=0.01),
    "adamw": lambda ps: tn.AdamW(ps, 0.05, weight_decay=0.01),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_each_optimizer_updates_as_the_scalar_one_does(name) -> None:
    rng = np.random.default_rng(2)
    start = rng.normal(size=(2, 3))
    values = [Value(float(v)) for v in start.ravel()]
    t = Tensor(start.copy())
    scalar, tensor = OPTIMIZERS[name](values), TENSOR_OPTIMIZERS[name]([t])
    for _ in range(20):
        grads = rng.normal(size=(2, 3))
        for v, g in zip(values, grads.ravel()):
            v.grad = float(g)
        t.grad = grads
        scalar.step()
        tensor.step()
        np.testing.assert_allclose(t.data.ravel(), [v.data for v in values], rtol=1e-15)
    assert tensor.state_dict().keys() == scalar.state_dict().keys()


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_state_survives_json_and_continues_exactly(name) -> None:
    rng = np.random.default_rng(5)
    a, b = Tensor(rng.normal(size=(3, 2))), Tensor(rng.normal(size=(2, 3)))
    first = TENSOR_OPTIMIZERS[name]([a])
    for _ in range(3):
        a.grad = rng.normal(size=(3, 2))
        first.step()
    b = Tensor(a.data.copy())
    second = TENSOR_OPTIMIZERS[name]([b])
    second.load_state_dict(json.loads(json.dumps(first.state_dict())))
    g = rng.normal(size=(3, 2))
    a.grad, b.grad = g, g.copy()
    first.step()
    second.step()
    np.testing.assert_array_equal(a.data, b.data)


def test_optimizer_state_of_the_wrong_shape_or_kind_changes_nothing() -> None:
    p = Tensor(np.ones((2, 2)))
    opt = tn.SGD([p], 0.1, momentum=0.9)
    state = opt.state_dict()
    with pytest.raises(ValueError, match=r"velocity\[0\] has shape \(3,\)"):
        opt.load_state_dict({**state, "velocity": [[1.0, 2.0, 3.0]], "step": 5})
    with pytest.raises(ValueError, match="is for 'adam'"):
        opt.load_state_dict({**state, "type": "adam"})
    assert opt.steps == 0 and opt.velocity[0].tolist() == [[0, 0], [0, 0]]
    with pytest.raises(ValueError, match="lr must be"):
        tn.Adam([p], -1.0)
    with pytest.raises(ValueError, match="not a Tensor"):
        tn.SGD([Value(1.0)], 0.1)


def test_conv_net_has_the_shapes_it_announces_and_refuses_too_many_blocks() -> None:
    model = tn.conv_net((1, 8, 8), (4, 6), (10,), 10, rng=random.Random(0))
    assert [p.shape for p in model.parameters()] == conv_shapes((1, 8, 8), (4, 6), (10,), 10)
    out = model(Tensor(np.zeros((3, 1, 8, 8)), requires_grad=False))
    assert out.shape == (3, 10)
    with pytest.raises(ShapeError, match="pooling blocks"):
        tn.conv_net((1, 8, 8), (2, 2, 2, 2), (), 10)


@pytest.mark.parametrize("device", BACKENDS)
def test_the_mlp_learns_digits(device) -> None:
    X, y = make_digits(600, 0.0, 3)
    X_train, y_train, X_test, y_test = train_test_split(X, y, 0.25, 3)
    run = TensorRun(
        X_train, y_train, 10, "softmax", (32,), "relu", "adam", 0.01, 0.0, 3,
        device=get_device(device),
    )  # fmt: skip
    for _ in range(60):
        run.step(None, 0.01, 1e-4)
    loss, acc = run.evaluate(X_test, y_test)
    assert acc >= 0.85, (loss, acc)


@pytest.mark.parametrize("device", BACKENDS)
def test_the_conv_model_learns_digits_as_images_in_float32(device) -> None:
    X, y = make_digits(400, 0.0, 4)
    X_train, y_train, X_test, y_test = train_test_split(X, y, 0.25, 4)
    run = TensorRun(
        X_train, y_train, 10, "softmax", (16,), "relu", "adam", 0.01, 0.0, 4,
        conv=(4,), image_shape=DIGITS_SHAPE, device=get_device(device), dtype="float32",
    )  # fmt: skip
    assert run.X_train.shape == (len(X_train), 1, 8, 8)
    for _ in range(40):
        loss, *_ = run.step(None, 0.01, 0.0)
    assert all(p.data.dtype == np.float32 for p in run.params)
    assert run.evaluate(X_test, y_test)[1] >= 0.85


def test_binary_run_on_moons_predicts_classes() -> None:
    X, y = make_moons(60, 0.1, 1)
    run = TensorRun(X, y, 1, "hinge", (8, 8), "relu", "sgd", 0.2, 0.0, 1)
    for _ in range(100):
        run.step(None, 0.2, 1e-4)
    assert sum(p == t for p, t in zip(run.predict(X), y)) / len(y) >= 0.85
    flat = run.weights()
    assert len(flat) == run.weight_count() == 2 * 8 + 8 + 8 * 8 + 8 + 8 + 1
    other = TensorRun(X, y, 1, "hinge", (8, 8), "relu", "sgd", 0.2, 0.0, 99)
    other.load_weights(flat)
    assert other.predict(X) == run.predict(X)
