"""The engine: every op's gradient against central differences, and the fixes users asked for."""

from __future__ import annotations

import gc
import math
import pickle
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd.engine import OPS, Value, topological_order

H = 1e-6


def central_difference(f, xs: list[float], i: int, h: float = H) -> float:
    up = list(xs)
    down = list(xs)
    up[i] += h
    down[i] -= h
    return (f(*[Value(v) for v in up]).data - f(*[Value(v) for v in down]).data) / (2 * h)


def assert_grads_match(f, xs: list[float], rel: float = 1e-4, abs_: float = 1e-5) -> None:
    leaves = [Value(v) for v in xs]
    out = f(*leaves)
    out.backward()
    for i, leaf in enumerate(leaves):
        numeric = central_difference(f, xs, i)
        assert leaf.grad == pytest.approx(numeric, rel=rel, abs=abs_), (i, xs)


finite = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False)
positive = st.floats(min_value=0.1, max_value=5.0)
away_from_zero = finite.filter(lambda v: abs(v) > 0.1)
away_from_kink = finite.filter(lambda v: abs(v) > 1e-3)


UNARY = {
    "neg": (lambda a: -a, finite),
    "exp": (lambda a: a.exp(), finite),
    "log": (lambda a: a.log(), positive),
    "tanh": (lambda a: a.tanh(), finite),
    "relu": (lambda a: a.relu(), away_from_kink),
    "sigmoid": (lambda a: a.sigmoid(), finite),
    "square": (lambda a: a**2, finite),
    "cube": (lambda a: a**3, finite),
    "inverse": (lambda a: a**-1, away_from_zero),
    "sqrt": (lambda a: a**0.5, positive),
    "radd": (lambda a: 2.5 + a, finite),
    "rsub": (lambda a: 2.5 - a, finite),
    "rmul": (lambda a: 2.5 * a, finite),
    "rtruediv": (lambda a: 2.5 / a, away_from_zero),
    "rpow": (lambda a: 2.5**a, finite),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_op_gradient_matches_central_difference(name: str) -> None:
    f, values = UNARY[name]

    @settings(max_examples=60, deadline=None)
    @given(values)
    def check(a: float) -> None:
        assert_grads_match(f, [a])

    check()


BINARY = {
    "add": (lambda a, b: a + b, finite),
    "sub": (lambda a, b: a - b, finite),
    "mul": (lambda a, b: a * b, finite),
    "truediv": (lambda a, b: a / b, away_from_zero),
}


@settings(max_examples=60, deadline=None)
@given(positive, finite)
def test_pow_with_a_value_exponent_matches_central_difference(a: float, b: float) -> None:
    assert_grads_match(lambda x, y: x**y, [a, b])
    x, y = Value(a), Value(b)
    out = x**y
    assert out._op == "pow" and out._prev == (x, y)
    assert out.data == pytest.approx(a**b)


@pytest.mark.parametrize("base", [0.0, -2.0])
def test_pow_with_a_value_exponent_refuses_a_base_that_is_not_positive(base: float) -> None:
    with pytest.raises(ValueError, match=r"base > 0.*got base"):
        Value(base) ** Value(2.0)
    with pytest.raises(ValueError, match="base > 0"):
        base ** Value(2.0)


def _lecture_neuron() -> tuple[list[Value], Value]:
    """The lecture's neuron, built unfused: o = tanh(x1*w1 + x2*w2 + b)."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x2w2 = x2 * w2
    s = x1w1 + x2w2
    n = s + b
    # a node read twice and the Value exponent too: e = exp(2n) ** (x1/x1) ...
    e = (n * 2).exp() ** (x1 / x1)
    o = (e - 1) / (e + 1)
    return [x1, x2, w1, w2, b], o


def test_backward_by_hand_in_reverse_topological_order_gives_backward():
    leaves, o = _lecture_neuron()
    o.backward()
    expected = [v.grad for v in topological_order(o)]
    assert leaves[2].grad == pytest.approx(1.0, rel=1e-6)  # the lecture's w1.grad
    assert leaves[0].grad == pytest.approx(-1.5, rel=1e-6)  # x1.grad (through x1/x1 too)

    leaves, o = _lecture_neuron()
    order = topological_order(o)
    o.grad = 1.0
    for node in reversed(order):
        node._backward()
    assert [v.grad for v in order] == expected  # the same arithmetic, the same order


def test_backward_by_hand_on_the_lectures_named_steps():
    a, b, c, f = Value(2.0), Value(-3.0), Value(10.0), Value(-2.0)
    e = a * b
    d = e + c
    L = d * f
    L.grad = 1.0
    L._backward()
    assert (d.grad, f.grad) == (-2.0, 4.0)
    d._backward()
    assert (e.grad, c.grad) == (-2.0, -2.0)
    e._backward()
    assert (a.grad, b.grad) == (6.0, -4.0)
    a._backward()  # a leaf: nothing to send
    assert a.grad == 6.0
    e._backward()  # once per call: a second call adds again, as the lecture's bug shows
    assert (a.grad, b.grad) == (12.0, -8.0)


def test_underscore_backward_sends_nothing_from_a_zero_grad_and_nan_from_nan():
    out = Value(0.0) ** 0.5  # local inf at 0
    out._backward()
    assert out._prev[0].grad == 0.0
    out.grad = math.nan
    out._backward()
    assert math.isnan(out._prev[0].grad)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_op_gradient_matches_central_difference(name: str) -> None:
    f, values = BINARY[name]

    @settings(max_examples=60, deadline=None)
    @given(values, values)
    def check(a: float, b: float) -> None:
        assert_grads_match(f, [a, b])

    check()


@settings(max_examples=60, deadline=None)
@given(st.lists(finite, min_size=1, max_size=6))
def test_sum_gradient_matches_central_difference(xs: list[float]) -> None:
    assert_grads_match(lambda *v: Value.sum(v) * Value.sum(v), xs)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 5).flatmap(lambda n: st.lists(finite, min_size=2 * n + 1, max_size=2 * n + 1))
)
def test_dot_gradient_matches_central_difference(xs: list[float]) -> None:
    n = (len(xs) - 1) // 2

    def f(*v: Value) -> Value:
        return Value.dot(v[:n], v[n : 2 * n], v[-1]).tanh()

    assert_grads_match(f, xs)


def test_dot_with_constant_inputs_gives_no_children_to_the_constants() -> None:
    w = [Value(2.0), Value(-1.0)]
    b = Value(0.5)
    out = Value.dot(w, [3.0, 4.0], b)
    assert out.data == 0.5 + 6.0 - 4.0
    assert out._prev == (w[0], w[1], b)
    out.backward()
    assert [wi.grad for wi in w] == [3.0, 4.0]
    assert b.grad == 1.0


def test_dot_takes_a_plain_number_bias_as_a_constant() -> None:
    w = [Value(2.0)]
    out = Value.dot(w, [3.0], 0.5)
    assert out.data == 6.5
    out.backward()
    assert w[0].grad == 3.0
    assert out._prev[-1].data == 0.5 and not out._prev[-1]._prev  # a constant leaf


def test_dot_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="2 weights but 3 inputs"):
        Value.dot([Value(1.0), Value(2.0)], [1.0, 2.0, 3.0])


# Random composite expressions: shared subexpressions and reused operands.
@st.composite
def expressions(draw):
    n_leaves = draw(st.integers(1, 4))
    xs = draw(st.lists(st.floats(-2.0, 2.0), min_size=n_leaves, max_size=n_leaves))
    steps = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["+", "-", "*", "tanh", "sigmoid", "exp_small", "sq", "dot"]),
                st.integers(0, 1000),
                st.integers(0, 1000),
            ),
            min_size=1,
            max_size=12,
        )
    )
    return xs, steps


def build(xs_values: tuple[Value, ...], steps) -> Value:
    nodes = list(xs_values)
    for op, i, j in steps:
        a = nodes[i % len(nodes)]
        b = nodes[j % len(nodes)]  # may be a itself: `a*a` reuses an operand
        if op == "+":
            out = a + b
        elif op == "-":
            out = a - b
        elif op == "*":
            out = a * b
        elif op == "tanh":
            out = a.tanh()
        elif op == "sigmoid":
            out = a.sigmoid()
        elif op == "exp_small":
            out = (a * 0.1).exp()
        elif op == "sq":
            out = a**2
        else:
            out = Value.dot([a, b], [b, a])
        # Keep magnitudes bounded so central differences stay accurate.
        nodes.append(out.tanh() * 2.0)
    return Value.sum(nodes[len(xs_values) :]) + nodes[-1] * nodes[-1]


@settings(max_examples=150, deadline=None)
@given(expressions())
def test_random_expression_gradients_match_central_difference(case) -> None:
    xs, steps = case
    assert_grads_match(lambda *v: build(v, steps), xs, rel=1e-3, abs_=1e-4)


def test_operands_are_an_ordered_tuple() -> None:
    a = Value(3.0)
    sq = a * a
    assert sq._prev == (a, a)
    sq.backward()
    assert a.grad == 6.0  # both operands contribute


def test_karpathy_sanity_check() -> None:
    # micrograd's own test_sanity_check, with PyTorch's answers written out.
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    assert y.data == -20.0
    assert x.grad == 46.0


def test_karpathy_more_ops() -> None:
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert g.data == pytest.approx(24.70408163265306, abs=1e-12)
    assert a.grad == pytest.approx(138.83381924198252, abs=1e-9)
    assert b.grad == pytest.approx(645.5772594752186, abs=1e-9)


def test_million_node_chain_backpropagates() -> None:
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y + 1e-6
    y.backward()
    assert x.grad == 1.0
    assert y.data == pytest.approx(2.0)


def test_backward_twice_doubles_leaf_gradients_exactly() -> None:
    a = Value(1.5)
    b = Value(-0.5)
    c = a * b
    d = (c + a).tanh() * c
    d.backward()
    first = (a.grad, b.grad, c.grad)
    d.backward()
    assert a.grad == 2 * first[0]
    assert b.grad == 2 * first[1]
    assert c.grad == first[2]  # an intermediate holds one pass's gradient, not two


def live_values() -> int:
    return sum(1 for o in gc.get_objects() if type(o) is Value)


def test_graph_is_freed_by_reference_counting_alone() -> None:
    gc.collect()
    gc.disable()
    try:
        before = live_values()
        a = Value(2.0)
        out = (a * a + a.exp()).tanh()
        out.backward()
        assert live_values() == before + 5  # a, a*a, exp(a), +, tanh
        del out
        assert live_values() == before + 1  # only the leaf `a` is left
    finally:
        gc.enable()


def test_graph_has_no_reference_cycles() -> None:
    gc.collect()
    gc.disable()
    try:
        a = Value(0.5)
        out = Value.sum([(a * i).relu() for i in range(50)]).sigmoid()
        out.backward()
        del out
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_deep_graph_pickles_and_keeps_values_and_grads() -> None:
    x = Value(0.5, label="x")
    y = x
    for i in range(20_000):
        y = (y * 1.0001) if i % 2 else (y + 0.001)
    y.backward()
    clone = pickle.loads(pickle.dumps(y))
    order, clone_order = topological_order(y), topological_order(clone)
    assert len(order) == len(clone_order)
    assert [(n.data, n.grad, n._op, n.label) for n in order] == [
        (n.data, n.grad, n._op, n.label) for n in clone_order
    ]
    # The rebuilt graph backpropagates like the original.
    (clone_leaf,) = [n for n in clone_order if n.label == "x"]
    clone_leaf.grad = 0.0
    clone.backward()
    assert clone_leaf.grad == pytest.approx(x.grad)


def test_leaves_shared_across_a_pickle_keep_their_identity() -> None:
    w = Value(2.0, label="w")
    out = w * 3.0 + w
    params, graph = pickle.loads(pickle.dumps(([w], out)))
    assert params[0] in graph._prev[0]._prev


def test_log_of_non_positive_names_the_op_and_the_value() -> None:
    with pytest.raises(ValueError, match=r"log: .*-1\.0"):
        Value(-1).log()
    with pytest.raises(ValueError, match="log"):
        Value(0.0).log()


def test_domain_errors_are_clear() -> None:
    with pytest.raises(ValueError, match=r"\*\*: a negative base"):
        Value(-8.0) ** 0.5
    with pytest.raises(ZeroDivisionError, match="/: division by zero"):
        Value(1.0) / 0
    with pytest.raises(ZeroDivisionError, match=r"\*\*"):
        Value(0.0) ** -1
    with pytest.raises(TypeError, match="exponent"):
        Value(2.0) ** "2"  # type: ignore[operator]  (a Value exponent is a "pow" node now)
    with pytest.raises(TypeError, match="int or a float"):
        Value("3")  # type: ignore[arg-type]


def test_exp_overflow_gives_inf_not_a_crash() -> None:
    big = Value(1000.0)
    out = big.exp()
    assert out.data == math.inf
    out.backward()
    assert big.grad == math.inf
    a = Value(1e300)
    square = a**2
    assert square.data == math.inf  # overflow gives inf, not OverflowError
    square.backward()
    assert a.grad == 2e300  # the derivative 2a is finite and flows back


def test_sigmoid_and_tanh_are_stable_at_extremes() -> None:
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0
    assert Value(1000.0).tanh().data == 1.0


def test_nan_gradient_propagates() -> None:
    a = Value(1.0)
    b = a * 2.0
    c = b * 3.0
    c.grad = 0.0
    out = c + Value(math.nan) * c
    out.backward()
    assert math.isnan(a.grad)


def test_every_op_has_a_derivative_rule_in_the_table() -> None:
    a, b = Value(0.7), Value(1.3)
    made = [a + b, a - b, a * b, a / b, -a, a**2, a.exp(), a.log(), a.tanh(), a.relu()]
    made += [a.sigmoid(), Value.sum([a, b]), Value.dot([a], [b]), a**b]
    for node in made:
        key = "**" if node._op.startswith("**") else node._op
        assert key in OPS, node._op


def test_topological_order_puts_operands_first() -> None:
    random.seed(0)
    leaves = [Value(random.random()) for _ in range(5)]
    nodes = list(leaves)
    for _ in range(40):
        nodes.append(random.choice(nodes) * random.choice(nodes) + random.choice(nodes))
    order = topological_order(nodes[-1])
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for child in node._prev:
            assert position[id(child)] < position[id(node)]
    assert order[-1] is nodes[-1]


def _reference_order(root: Value) -> list[Value]:
    """The textbook recursive post-order (operands in order, each node once)."""
    order: list[Value] = []
    seen: set[int] = set()

    def visit(node: Value) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        for child in reversed(node._prev):  # the stack version pops the last operand first
            visit(child)
        order.append(node)

    visit(root)
    return order


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_topological_order_is_the_post_order_of_a_depth_first_walk(seed: int) -> None:
    rng = random.Random(seed)
    leaves = [Value(rng.random()) for _ in range(rng.randint(1, 6))]
    nodes = list(leaves)
    for _ in range(rng.randint(0, 60)):
        kind = rng.randrange(4)
        if kind == 0:
            nodes.append(rng.choice(nodes) * rng.choice(nodes))
        elif kind == 1:
            nodes.append(rng.choice(nodes).relu())
        elif kind == 2:
            k = rng.randint(1, 4)
            nodes.append(Value.dot(rng.choices(nodes, k=k), rng.choices(nodes, k=k), nodes[0]))
        else:
            nodes.append(Value.sum(rng.choices(nodes, k=rng.randint(0, 5))))
    root = rng.choice(nodes[len(leaves) - 1 :])
    order = topological_order(root)
    reference = _reference_order(root)
    assert [id(n) for n in order] == [id(n) for n in reference]
    assert len({id(n) for n in order}) == len(order)


def test_the_op_tables_forward_rules_give_what_the_engine_computes() -> None:
    from micrograd.operators import OPS as TABLE

    a, b = Value(0.7), Value(-1.3)
    made = {
        "+": a + b,
        "-": a - b,
        "*": a * b,
        "/": a / b,
        "neg": -a,
        "exp": a.exp(),
        "log": a.log(),
        "tanh": b.tanh(),
        "relu": b.relu(),
        "sigmoid": b.sigmoid(),
        "pow": a**b,
    }
    with_rules = {op for op, entry in TABLE.items() if entry.forward is not None}
    assert with_rules == set(made)
    for op, node in made.items():
        assert node._op == op
        assert TABLE[op].forward([c.data for c in node._prev]) == node.data, op
