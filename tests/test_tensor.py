"""The tensor engine: every op's gradient against central differences on hypothesis-drawn
shapes, conv2d and max_pool2d against direct loops, PyTorch's backward semantics, no cycles."""

from __future__ import annotations

import gc
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from tensorhelp import BACKENDS, check_gradients, host, xp_of

from micrograd.tensor import (
    RULES,
    ShapeError,
    Tensor,
    conv2d,
    linear,
    max_pool2d,
    snapshot,
    sumsq,
)

FEW = settings(max_examples=15, deadline=None)


def values(shape, low=-2.0, high=2.0, seed=0, away_from_zero=False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.uniform(low, high, size=shape)
    if away_from_zero:  # |a| in [0.5, 2]: kinks (relu, max) and poles (1/b) stay far
        a = np.sign(a + (a == 0)) * rng.uniform(0.5, 2.0, size=shape)
    return a


# -- elementwise ops, broadcasting, size-1 and empty axes -------------------------------------

two_shapes = hnp.mutually_broadcastable_shapes(
    num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=3
)


@pytest.mark.parametrize("device", BACKENDS)
@pytest.mark.parametrize("op", ["+", "-", "*", "/"])
@FEW
@given(shapes=two_shapes, seed=st.integers(0, 100))
def test_binary_op_gradients_broadcast_back_to_each_shape(device, op, shapes, seed) -> None:
    sa, sb = shapes.input_shapes
    a = values(sa, seed=seed)
    b = values(sb, seed=seed + 1, away_from_zero=op == "/")
    fn = {
        "+": lambda x, y: x + y,
        "-": lambda x, y: x - y,
        "*": lambda x, y: x * y,
        "/": lambda x, y: x / y,
    }[op]
    check_gradients(fn, [a, b], device)


UNARY = {
    "neg": (lambda x: -x, False),
    "exp": (lambda x: x.exp(), False),
    "log": (lambda x: (x * x).log(), True),
    "tanh": (lambda x: x.tanh(), False),
    "relu": (lambda x: x.relu(), True),
    "sigmoid": (lambda x: x.sigmoid(), False),
    "softplus": (lambda x: x.softplus(), False),
    "pow2": (lambda x: x**2, False),
    "pow3": (lambda x: x**3, False),
    "pow-1": (lambda x: x**-1, True),
    "pow0.5": (lambda x: (x * x) ** 0.5, True),
    "scalar ops": (lambda x: 2.0 - (1.0 / (3.0 + x * x)) * 0.5 + 1.0, False),
}


@pytest.mark.parametrize("device", BACKENDS)
@pytest.mark.parametrize("name", list(UNARY))
@FEW
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4), seed=st.integers())
def test_unary_op_gradients(device, name, shape, seed) -> None:
    fn, away = UNARY[name]
    check_gradients(fn, [values(shape, seed=seed % 1000, away_from_zero=away)], device)


@pytest.mark.parametrize("device", BACKENDS)
def test_sigmoid_and_softplus_do_not_overflow(device) -> None:
    xp = xp_of(device)
    x = Tensor(xp.asarray([-1000.0, 0.0, 1000.0]))
    s, sp = x.sigmoid(), x.softplus()
    np.testing.assert_allclose(host(s.data), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(host(sp.data), [0.0, np.log(2.0), 1000.0])
    (s + sp).sum().backward()
    assert np.isfinite(host(x.grad)).all()


# -- matrix products ---------------------------------------------------------------------------


@pytest.mark.parametrize("device", BACKENDS)
@FEW
@given(
    batch=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=2),
    n=st.integers(1, 3),
    k=st.integers(0, 3),
    m=st.integers(1, 3),
    seed=st.integers(0, 100),
)
def test_matmul_gradients_with_batch_broadcasting(device, batch, n, k, m, seed) -> None:
    ba, bb = batch.input_shapes
    a, b = values((*ba, n, k), seed=seed), values((*bb, k, m), seed=seed + 1)
    check_gradients(lambda x, y: x @ y, [a, b], device)


@pytest.mark.parametrize("device", BACKENDS)
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradients(device, bias) -> None:
    arrays = [values((5, 3)), values((3, 4), seed=1)] + ([values((4,), seed=2)] if bias else [])
    check_gradients(lambda x, w, *b: linear(x, w, *b), arrays, device)


# -- reductions, shapes, gather, softmax -------------------------------------------------------


def axes_for(ndim: int):
    return st.one_of(
        st.none(),
        st.integers(-ndim, ndim - 1) if ndim else st.none(),
        st.lists(st.integers(0, max(ndim - 1, 0)), min_size=1, max_size=ndim, unique=True).map(
            tuple
        )
        if ndim
        else st.none(),
    )


@pytest.mark.parametrize("device", BACKENDS)
@pytest.mark.parametrize("op", ["sum", "mean", "max"])
@FEW
@given(data=st.data())
def test_reduction_gradients_over_axes(device, op, data) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    axis = data.draw(axes_for(len(shape)))
    keepdims = data.draw(st.booleans())
    # distinct values: the max is unique, so its derivative exists
    a = np.random.default_rng(len(shape)).permutation(np.prod(shape)).reshape(shape) * 0.1
    check_gradients(lambda x: getattr(x, op)(axis=axis, keepdims=keepdims), [a], device)


@pytest.mark.parametrize("device", BACKENDS)
def test_sum_of_an_empty_axis_is_zero_and_its_gradient_empty(device) -> None:
    check_gradients(lambda x: x.sum(axis=0), [np.zeros((0, 3))], device)
    check_gradients(lambda x: x.sum(), [np.zeros((2, 0))], device)


@pytest.mark.parametrize("device", BACKENDS)
def test_max_shares_the_gradient_between_ties(device) -> None:
    x = Tensor(xp_of(device).asarray([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]]))
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(host(x.grad), [[0, 0.5, 0.5], [1, 0, 0]])


@pytest.mark.parametrize("device", BACKENDS)
@FEW
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=3), seed=st.integers(0, 99))
def test_reshape_transpose_flatten_gradients(device, shape, seed) -> None:
    a = values(shape, seed=seed)
    perm = tuple(np.random.default_rng(seed).permutation(len(shape)))
    check_gradients(lambda x: x.reshape(-1), [a], device)
    check_gradients(lambda x: x.transpose(perm) * 1.5, [a], device)
    check_gradients(lambda x: x.T, [a], device)
    check_gradients(lambda x: x.flatten(len(shape) - 1 if len(shape) > 1 else 0), [a], device)


@pytest.mark.parametrize("device", BACKENDS)
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@FEW
@given(data=st.data())
def test_softmax_gradients_along_an_axis(device, op, data) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    a = values(shape, low=-3, high=3, seed=data.draw(st.integers(0, 99)))
    check_gradients(lambda x: getattr(x, op)(axis=axis), [a], device)


@pytest.mark.parametrize("device", BACKENDS)
def test_log_softmax_is_stable_for_huge_logits(device) -> None:
    x = Tensor(xp_of(device).asarray([[1000.0, 0.0, -1000.0]]))
    out = x.log_softmax()
    np.testing.assert_allclose(host(out.data), [[0.0, -1000.0, -2000.0]])
    np.testing.assert_allclose(host(x.softmax().data), [[1.0, 0.0, 0.0]])


@pytest.mark.parametrize("device", BACKENDS)
@FEW
@given(n=st.integers(1, 5), c=st.integers(1, 4), seed=st.integers(0, 99))
def test_gather_by_label_gradient(device, n, c, seed) -> None:
    labels = np.random.default_rng(seed).integers(0, c, size=n)
    labels_xp = xp_of(device).asarray(labels)
    check_gradients(lambda x: x.gather(labels_xp), [values((n, c), seed=seed)], device)


@pytest.mark.parametrize("device", BACKENDS)
def test_sumsq_gradient(device) -> None:
    arrays = [values((2, 3)), values((4,), seed=1), values((), seed=2)]
    check_gradients(lambda *ts: sumsq(ts) * 0.3, arrays, device)


# -- conv2d and max_pool2d ---------------------------------------------------------------------


def conv_loops(x, w, b, stride, padding):
    """The definition, one multiply-add at a time."""
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (wd + 2 * padding - kw) // stride + 1
    out = np.zeros((n, f, oh, ow))
    for i in range(n):
        for j in range(f):
            for y in range(oh):
                for z in range(ow):
                    total = b[j]
                    for ch in range(c):
                        for u in range(kh):
                            for v in range(kw):
                                total += xp[i, ch, y * stride + u, z * stride + v] * w[j, ch, u, v]
                    out[i, j, y, z] = total
    return out


def pool_loops(x, k, stride):
    n, c, h, w = x.shape
    oh, ow = (h - k) // stride + 1, (w - k) // stride + 1
    out = np.zeros((n, c, oh, ow))
    grad_of_sum = np.zeros_like(x)
    for i in range(n):
        for j in range(c):
            for y in range(oh):
                for z in range(ow):
                    window = x[i, j, y * stride : y * stride + k, z * stride : z * stride + k]
                    u, v = np.unravel_index(np.argmax(window), window.shape)  # first max
                    out[i, j, y, z] = window[u, v]
                    grad_of_sum[i, j, y * stride + u, z * stride + v] += 1.0
    return out, grad_of_sum


conv_cases = st.tuples(
    st.integers(1, 2),  # n
    st.integers(1, 3),  # c
    st.integers(1, 3),  # f
    st.integers(1, 3),  # k
    st.integers(1, 2),  # stride
    st.integers(0, 2),  # padding
    st.integers(3, 6),  # h
    st.integers(3, 6),  # w
)


@pytest.mark.parametrize("device", BACKENDS)
@FEW
@given(case=conv_cases, seed=st.integers(0, 99))
def test_conv2d_matches_the_loop_definition_and_its_gradients(device, case, seed) -> None:
    n, c, f, k, stride, padding, h, w = case
    x, k_, b = values((n, c, h, w), seed=seed), values((f, c, k, k), seed=seed + 1), values(f)
    xp = xp_of(device)
    out = conv2d(
        Tensor(xp.asarray(x)), Tensor(xp.asarray(k_)), Tensor(xp.asarray(b)), stride, padding
    )
    np.testing.assert_allclose(host(out.data), conv_loops(x, k_, b, stride, padding), atol=1e-12)
    check_gradients(
        lambda a, kk, bb: conv2d(a, kk, bb, stride=stride, padding=padding), [x, k_, b], device
    )


@pytest.mark.parametrize("device", BACKENDS)
@FEW
@given(k=st.integers(1, 3), stride=st.integers(1, 3), h=st.integers(3, 7), seed=st.integers(0, 99))
def test_max_pool2d_matches_the_loop_definition(device, k, stride, h, seed) -> None:
    x = values((2, 2, h, h + 1), seed=seed)
    expected, grad_of_sum = pool_loops(x, k, stride)
    t = Tensor(xp_of(device).asarray(x))
    out = max_pool2d(t, k, stride)
    np.testing.assert_array_equal(host(out.data), expected)
    out.sum().backward()
    np.testing.assert_array_equal(host(t.grad), grad_of_sum)
    check_gradients(lambda a: max_pool2d(a, k, stride), [x], device)


@pytest.mark.parametrize("device", BACKENDS)
def test_max_pool_sends_a_tie_to_the_first_maximum_only(device) -> None:
    t = Tensor(xp_of(device).ones((1, 1, 2, 2)))
    max_pool2d(t).sum().backward()
    np.testing.assert_array_equal(host(t.grad), [[[[1, 0], [0, 0]]]])


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: Tensor(np.ones((2, 3))) + Tensor(np.ones(4)), ["+", "(2, 3)", "(4,)"]),
        (lambda: Tensor(np.ones((2, 3))) * np.ones((3, 2)), ["*", "(2, 3)", "(3, 2)"]),
        (lambda: Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5))), ["@", "(2, 3)", "(4, 5)"]),
        (lambda: Tensor(np.ones(3)) @ Tensor(np.ones(3)), ["@", "(3,)"]),
        (lambda: Tensor(np.ones((2, 3))).reshape(4), ["reshape", "(4,)", "(2, 3)"]),
        (lambda: Tensor(np.ones((2, 3))).sum(axis=2), ["sum", "axis 2", "(2, 3)"]),
        (lambda: Tensor(np.ones((2, 3))).gather([0, 3]), ["gather", "0..2"]),
        (lambda: Tensor(np.ones((2, 3))).gather([0]), ["gather", "(2, 3)", "(1,)"]),
        (
            lambda: conv2d(Tensor(np.ones((1, 2, 5, 5))), Tensor(np.ones((4, 3, 3, 3)))),
            ["conv2d", "(1, 2, 5, 5)", "(4, 3, 3, 3)"],
        ),
        (
            lambda: conv2d(Tensor(np.ones((1, 1, 2, 2))), Tensor(np.ones((1, 1, 3, 3)))),
            ["conv2d", "3x3", "(1, 1, 2, 2)"],
        ),
        (lambda: max_pool2d(Tensor(np.ones((2, 5, 5)))), ["max_pool2d", "(2, 5, 5)"]),
        (lambda: linear(np.ones((2, 3)), Tensor(np.ones((4, 2)))), ["linear", "(2, 3)", "(4, 2)"]),
    ],
)
def test_bad_shapes_raise_one_error_naming_the_op_and_the_shapes(make, words) -> None:
    with pytest.raises(ShapeError) as info:
        make()
    for word in words:
        assert word in str(info.value)


# -- semantics ---------------------------------------------------------------------------------


def test_every_op_has_a_rule_with_its_text() -> None:
    for name, rule in RULES.items():
        assert rule.forward and rule.text.startswith("dL/d"), name


def test_backward_twice_adds_one_more_gradient_to_leaves_only() -> None:
    a, b = Tensor(values((2, 3))), Tensor(values((3,), seed=1))
    c = a * b
    d = ((c + a).tanh() * c).sum()
    d.backward()
    first = (a.grad.copy(), b.grad.copy(), c.grad.copy())
    d.backward()
    np.testing.assert_array_equal(a.grad, 2 * first[0])
    np.testing.assert_array_equal(b.grad, 2 * first[1])
    np.testing.assert_array_equal(c.grad, first[2])


def test_a_tensor_used_twice_collects_both_contributions() -> None:
    a = Tensor(np.array([3.0]))
    (a * a).sum().backward()  # operands are an ordered tuple: (a, a)
    assert a.grad.tolist() == [6.0]


def test_constants_get_no_gradient_and_record_no_operands() -> None:
    x = Tensor(np.ones((2, 2)), requires_grad=False)
    w = Tensor(np.ones((2, 2)))
    y = (x * 2.0).exp()
    assert y._prev == () and not y.requires_grad
    (y @ w).sum().backward()
    assert x.grad is None and w.grad is not None


def test_float32_stays_float32_through_ops_and_gradients() -> None:
    x = Tensor(np.ones((2, 1, 4, 4)), dtype="float32")
    w = Tensor(values((3, 1, 3, 3)), dtype="float32")
    out = max_pool2d(conv2d(x, w, padding=1).relu()).flatten().log_softmax().mean() * 2.0
    out.backward()
    assert out.data.dtype == np.float32
    assert w.grad.dtype == np.float32 and x.grad.dtype == np.float32


def test_a_deep_chain_backpropagates_without_recursion() -> None:
    x = Tensor(np.array([0.5]))
    y = x
    for _ in range(20_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0001**20_000])


def test_graph_is_freed_by_reference_counting_alone() -> None:
    gc.collect()
    gc.disable()
    try:
        before = sum(1 for o in gc.get_objects() if type(o) is Tensor)
        a, w = Tensor(values((4, 3))), Tensor(values((3, 2), seed=1))
        out = linear(a, w).relu().log_softmax().gather([0, 1, 0, 1]).mean()
        out.backward()
        del out
        # only a, w and the constant labels' tensor are gone with the graph: none is left
        assert sum(1 for o in gc.get_objects() if type(o) is Tensor) <= before + 2
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_graph_has_no_reference_cycles() -> None:
    gc.collect()
    gc.disable()
    try:
        x = Tensor(values((1, 2, 6, 6)), requires_grad=False)
        w, b = Tensor(values((3, 2, 3, 3))), Tensor(values(3))
        out = max_pool2d(conv2d(x, w, b, padding=1)).flatten().softmax().sum()
        out.backward()
        del out
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_a_graph_pickles() -> None:
    a = Tensor(values((2, 2)), label="a")
    out = (a.exp() * 2.0).sum()
    out.backward()
    clone = pickle.loads(pickle.dumps(out))
    np.testing.assert_array_equal(clone.data, out.data)
    assert clone._prev[0]._op == "*"


def test_snapshot_holds_host_summaries_of_each_node() -> None:
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=False, label="x")
    w = Tensor(np.ones((3, 2)), label="W")
    loss = (x @ w).relu().mean()
    loss.label = "loss"
    loss.backward()
    snap = snapshot(loss)
    assert sorted(n.op for n in snap.nodes) == ["", "", "@", "mean", "relu"]
    root = snap.node(snap.root)
    assert root.label == "loss" and root.shape == () and snap.node(root.children[0]).op == "relu"
    by_label = {n.label: n for n in snap.nodes}
    mm = next(n for n in snap.nodes if n.op == "@")
    assert mm.shape == (2, 2) and mm.children == (by_label["x"].index, by_label["W"].index)
    assert mm.data_summary[:2] == (3.0, 12.0)
    assert by_label["x"].grad_summary is None  # x is a constant
    assert by_label["W"].grad_values == (0.75, 0.75, 1.25, 1.25, 1.75, 1.75)
    assert pickle.loads(pickle.dumps(snap)) == snap
    assert snap.op_counts()["relu"] == 1
