"""Finite-difference gradient checks: known gradients, every op, an MLP loss, wrong grads."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from micrograd.data import make_moons
from micrograd.engine import Value
from micrograd.gradcheck import GradCheck, check_node, check_nodes, gradcheck, numeric_grad
from micrograd.nn import MLP


def leaves(*xs: float) -> list[Value]:
    return [Value(x, label=f"x{i}") for i, x in enumerate(xs)]


# (expression, inputs, d out / d input for each input)
KNOWN = {
    "+": (lambda a, b: a + b, (2.0, -3.0), (1.0, 1.0)),
    "-": (lambda a, b: a - b, (2.0, -3.0), (1.0, -1.0)),
    "*": (lambda a, b: a * b, (2.0, -3.0), (-3.0, 2.0)),
    "/": (lambda a, b: a / b, (2.0, -4.0), (-0.25, -0.125)),
    "neg": (lambda a: -a, (1.5,), (-1.0,)),
    "**2": (lambda a: a**2, (-3.0,), (-6.0,)),
    "**-1": (lambda a: a**-1, (2.0,), (-0.25,)),
    "**0.5": (lambda a: a**0.5, (4.0,), (0.25,)),
    "pow": (lambda a, b: a**b, (2.0, 3.0), (12.0, 8.0 * math.log(2.0))),  # a Value exponent
    "exp": (lambda a: a.exp(), (0.5,), (math.exp(0.5),)),
    "log": (lambda a: a.log(), (2.0,), (0.5,)),
    "tanh": (lambda a: a.tanh(), (0.3,), (1 - math.tanh(0.3) ** 2,)),
    "relu": (lambda a: a.relu(), (0.7,), (1.0,)),
    "relu-": (lambda a: a.relu(), (-0.7,), (0.0,)),
    "sigmoid": (lambda a: a.sigmoid(), (0.2,), (math.exp(-0.2) / (1 + math.exp(-0.2)) ** 2,)),
    "sum": (lambda a, b, c: Value.sum([a, 2.5, b, c]), (1.0, 2.0, 3.0), (1.0, 1.0, 1.0)),
    "dot": (lambda a, b, c: Value.dot([a, b], [c, 3.0 * c]), (1.0, 2.0, 0.5), (0.5, 1.5, 7.0)),
}


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_known_gradients(name):
    fn, inputs, expected = KNOWN[name]
    xs = leaves(*inputs)
    out = fn(*xs)
    out.backward()
    for x, want in zip(xs, expected):
        result = check_node(out, x)
        assert isinstance(result, GradCheck)
        assert result.ok, result
        assert result.analytic == pytest.approx(want, rel=1e-12, abs=1e-15)
        assert result.numeric == pytest.approx(want, rel=1e-6, abs=1e-8)
        assert result.relative_error < 1e-6


def test_exponent_rounded_in_the_op_name_is_recovered():
    a = Value(1.7)
    out = a ** (1 / 3)
    assert out._op == "**0.333333"  # 6 significant digits: not the real exponent
    out.backward()
    result = check_node(out, a)
    assert result.ok and result.relative_error < 1e-8


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("constant_inputs", [False, True])
def test_both_dot_layouts(bias, constant_inputs):
    ws = leaves(0.5, -1.5, 2.0)
    b = Value(0.25, label="b") if bias else None
    xs = [0.3, -0.7, 1.1] if constant_inputs else leaves(0.3, -0.7, 1.1)
    out = (Value.dot(ws, xs, b) * Value.dot(ws, xs, b)).tanh()  # each weight used twice
    out.backward()
    nodes = ws + ([] if constant_inputs else xs) + ([b] if bias else [])
    results = check_nodes(out, nodes)
    assert all(r.ok for r in results), results
    if constant_inputs:  # d out / d w_i is proportional to the constant x_i
        ratio = [r.analytic / x for r, x in zip(results, xs)]
        assert ratio == pytest.approx([ratio[0]] * 3)


def test_dot_after_a_dead_relu_layer_takes_the_value_layout():
    """All inputs 0: both layouts reproduce the value; only the Value one is right."""
    ws = leaves(0.5, -1.5)
    hidden = [Value(-1.0).relu(), Value(-2.0).relu()]  # dead: 0.0, 0.0
    out = Value.dot(ws, hidden, Value(0.1)) ** 2
    out.backward()
    for h in hidden:
        result = check_node(out, h)
        assert result.ok, result
        assert result.numeric != 0.0


def test_intermediate_nodes():
    a, b = leaves(0.4, -1.2)
    mid = a * b + a
    th = mid.tanh()
    out = (th * mid).exp()
    out.backward()
    for node in (mid, th, a, b):
        result = check_node(out, node)
        assert result.ok, result
    assert numeric_grad(out, mid) == pytest.approx(mid.grad, rel=1e-6)
    assert check_node(out, out).numeric == pytest.approx(1.0)


def test_mlp_hinge_loss_all_parameters():
    X, y = make_moons(12, 0.1, seed=3)
    random.seed(1337)
    model = MLP(2, [8, 8, 1])
    scores = [model(list(map(Value, x))) for x in X]
    losses = [(1 + -(2 * t - 1) * s).relu() for t, s in zip(y, scores)]
    total = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in model.parameters())
    total.backward()
    results = check_nodes(total, model.parameters())
    assert len(results) == len(model.parameters())
    assert all(r.ok for r in results), [r for r in results if not r.ok]
    assert any(abs(r.analytic) > 1e-3 for r in results)


def test_tiny_tanh_mlp_constant_inputs_all_leaves():
    """Inputs as plain floats: the first layer's dots keep the inputs only as locals."""
    X = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    y = [1, 0, 0, 1]  # Karpathy's lecture example
    model = MLP(3, [4, 4, 1], activation="tanh", output_activation="tanh", seed=0)
    outputs = [model(x) for x in X]
    loss = Value.sum([(s - (2 * t - 1)) ** 2 for s, t in zip(outputs, y)])
    loss.backward()
    results = check_nodes(loss)  # every leaf: parameters and the label constants
    assert len(results) > len(model.parameters())
    assert all(r.ok for r in results), [r for r in results if not r.ok]


def test_a_wrong_gradient_is_detected():
    a, b = leaves(0.8, -0.3)
    out = (a * b).sigmoid() + a.exp()
    out.backward()
    assert check_node(out, a).ok
    a.grad *= 1.001
    bad = check_node(out, a)
    assert not bad.ok
    assert bad.relative_error == pytest.approx(0.001 / 1.001, rel=1e-3)
    b.grad = -b.grad
    assert not check_node(out, b).ok


def test_a_stale_graph_is_refused():
    a, b = leaves(0.8, -0.3)
    out = a * b
    out.backward()
    a.data -= 0.1 * a.grad  # an optimizer step after the forward pass
    with pytest.raises(ValueError, match="stale"):
        check_node(out, b)


def test_leaving_the_domain_is_a_clear_error():
    a = Value(1e-8)
    out = a.log()
    out.backward()
    with pytest.raises(ValueError, match="smaller h"):
        check_node(out, a, h=1e-6)
    assert check_node(out, a, h=1e-12).ok


def test_unknown_node_is_refused():
    out = Value(1.0) * 2
    with pytest.raises(ValueError, match="not part"):
        check_node(out, Value(3.0))


def test_gradcheck_builds_and_checks():
    xs = leaves(0.5, -0.25, 1.5)
    xs[0].grad = 123.0  # stale grad from an earlier pass is cleared

    def f() -> Value:
        return (xs[0] * xs[1] + xs[2] ** 3).tanh() / (xs[2].sigmoid() + 1)

    results = gradcheck(f, xs)
    assert [r.label for r in results] == ["x0", "x1", "x2"]
    assert all(r.ok for r in results), results


_UNARY = [
    lambda v: v.tanh(),
    lambda v: v.sigmoid(),
    lambda v: (v * 0.5).exp(),
    lambda v: (v * v + 1.0).log(),
    lambda v: -v,
    lambda v: v**2,
]


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.floats(-2.0, 2.0), min_size=3, max_size=3),
    ops=st.lists(st.integers(0, len(_UNARY) - 1), min_size=4, max_size=4),
)
def test_random_composites_with_shared_subexpressions(values, ops):
    a, b, c = leaves(*values)
    s = a * b + c  # used several times below
    t = _UNARY[ops[0]](s) * _UNARY[ops[1]](a) - s
    u = Value.sum([t, _UNARY[ops[2]](t), s, 1.5]) / (c.sigmoid() + 0.5)
    out = _UNARY[ops[3]](u) + Value.dot([a, b], [s, t], c)
    # exp of exp of exp overflows for some inputs (inf, then inf - inf): no derivative to check
    assume(math.isfinite(out.data))
    out.backward()
    for r in check_nodes(out, [a, b, c, s, t]):
        assert r.ok, r
