"""Losses: values against hand computations, gradients against central differences, stability."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd.engine import Value
from micrograd.losses import (
    BINARY_LOSSES,
    LOSSES,
    accuracy,
    bce,
    float_loss,
    hinge,
    l2,
    mse,
    predict_class,
    softmax_cross_entropy,
    sse,
)

H = 1e-6


def _values(xs: list[float]) -> list[Value]:
    return [Value(x) for x in xs]


def _grads_match_central_difference(loss_of_floats, xs: list[float]) -> None:
    """Backprop through loss_of_floats(list[Value]) against (f(x+h) - f(x-h)) / 2h per input."""
    leaves = _values(xs)
    loss_of_floats(leaves).backward()
    for i in range(len(xs)):
        up, down = list(xs), list(xs)
        up[i] += H
        down[i] -= H
        numeric = (loss_of_floats(_values(up)).data - loss_of_floats(_values(down)).data) / (2 * H)
        assert leaves[i].grad == pytest.approx(numeric, rel=1e-4, abs=1e-6), (i, xs)


# -- values by hand ----------------------------------------------------------------------------


def test_registry_names() -> None:
    assert set(LOSSES) == {"hinge", "mse", "sse", "bce", "softmax"}  # sse: the lecture's loss
    assert BINARY_LOSSES == ("hinge", "mse", "sse", "bce")
    assert LOSSES["softmax"] is softmax_cross_entropy


def test_hinge_value_by_hand() -> None:
    # t = +1, -1, +1, -1; margins 1 - t*s = 1-2, 1+0.5, 1-0.3, 1+(-3) -> relu: 0, 1.5, 0.7, 0
    loss = hinge(_values([2.0, 0.5, 0.3, -3.0]), [1, 0, 1, 0])
    assert loss.data == pytest.approx((0.0 + 1.5 + 0.7 + 0.0) / 4, abs=1e-15)


def test_mse_value_by_hand() -> None:
    # targets +1, -1: (0.5-1)^2 + (0.5+1)^2 = 0.25 + 2.25
    loss = mse(_values([0.5, 0.5]), [1, 0])
    assert loss.data == pytest.approx(1.25, abs=1e-15)


def test_sse_value_by_hand_is_the_lectures_sum_of_squared_errors() -> None:
    # the lecture's ys = [1, -1, -1, 1] (labels 1, 0, 0, 1): sum((yout - ygt)**2)
    outputs = _values([0.9, -0.2, 0.4, 1.5])
    loss = sse(outputs, [1, 0, 0, 1])
    expected = (0.9 - 1) ** 2 + (-0.2 + 1) ** 2 + (0.4 + 1) ** 2 + (1.5 - 1) ** 2
    assert loss.data == pytest.approx(expected, abs=1e-15)
    assert float_loss("sse", [0.9, -0.2, 0.4, 1.5], [1, 0, 0, 1]) == pytest.approx(expected)
    loss.backward()
    assert [o.grad for o in outputs] == pytest.approx([2 * (0.9 - 1), 2 * 0.8, 2 * 1.4, 1.0])


def test_bce_value_by_hand() -> None:
    s = [0.0, 2.0, -1.5, 3.0]
    t = [1, 0, 0, 1]
    p = [1 / (1 + math.exp(-v)) for v in s]
    expected = -sum(ti * math.log(pi) + (1 - ti) * math.log(1 - pi) for pi, ti in zip(p, t)) / 4
    assert bce(_values(s), t).data == pytest.approx(expected, rel=1e-14)


def test_softmax_cross_entropy_value_by_hand() -> None:
    rows = [[1.0, 2.0, 3.0], [0.5, -0.5, 0.0]]
    labels = [2, 1]
    expected = 0.0
    for row, y in zip(rows, labels):
        z = sum(math.exp(v) for v in row)
        expected -= math.log(math.exp(row[y]) / z)
    expected /= 2
    loss = softmax_cross_entropy([_values(r) for r in rows], labels)
    assert loss.data == pytest.approx(expected, rel=1e-14)


def test_l2_value_and_gradient() -> None:
    params = _values([1.0, -2.0, 0.5])
    reg = l2(params, 0.1)
    assert reg.data == pytest.approx(0.1 * (1 + 4 + 0.25), rel=1e-15)
    reg.backward()
    assert [p.grad for p in params] == pytest.approx([0.2, -0.4, 0.1])
    assert len(reg._prev) == 2  # one dot node and the constant: a cheap graph


def test_l2_of_no_parameters_is_zero() -> None:
    assert l2([], 0.5).data == 0.0


@pytest.mark.parametrize("alpha", [-1.0, math.nan, math.inf, "0.1", True])
def test_l2_rejects_a_bad_alpha(alpha) -> None:
    with pytest.raises(ValueError, match="alpha"):
        l2(_values([1.0]), alpha)


def test_mean_is_one_sum_node() -> None:
    loss = mse(_values([0.1, 0.2, 0.3]), [0, 1, 0])
    assert loss._op == "/"
    assert loss._prev[0]._op == "sum"
    assert len(loss._prev[0]._prev) == 3


def test_karpathy_hinge_formula_agrees() -> None:
    scores = [0.3, -1.2, 2.0, 0.9]
    labels = [1, 0, 0, 1]
    ys = [2 * c - 1 for c in labels]
    demo = sum((1 + -y * s).relu() for y, s in zip(ys, _values(scores))) * (1.0 / 4)
    assert hinge(_values(scores), labels).data == pytest.approx(demo.data, rel=1e-15)


def test_binary_losses_accept_one_element_lists_and_floats() -> None:
    for name in BINARY_LOSSES:
        a = LOSSES[name]([[Value(0.4)], [Value(-0.2)]], [1, 0]).data
        b = LOSSES[name]([0.4, -0.2], [1, 0]).data
        c = LOSSES[name](_values([0.4, -0.2]), [1, 0]).data
        assert a == b == c


# -- float twin --------------------------------------------------------------------------------

scores = st.floats(min_value=-30.0, max_value=30.0, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(scores, st.integers(0, 1)), min_size=1, max_size=8))
def test_float_loss_agrees_with_value_loss_binary(pairs: list[tuple[float, int]]) -> None:
    s = [p[0] for p in pairs]
    t = [p[1] for p in pairs]
    for name in BINARY_LOSSES:
        value = LOSSES[name](_values(s), t).data
        assert float_loss(name, s, t) == pytest.approx(value, rel=1e-12, abs=1e-12)
        assert float_loss(name, [[v] for v in s], t) == pytest.approx(value, rel=1e-12, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 4).flatmap(
        lambda k: st.lists(
            st.tuples(st.lists(scores, min_size=k, max_size=k), st.integers(0, k - 1)),
            min_size=1,
            max_size=6,
        )
    )
)
def test_float_loss_agrees_with_value_loss_softmax(rows: list[tuple[list[float], int]]) -> None:
    outputs = [r[0] for r in rows]
    labels = [r[1] for r in rows]
    value = softmax_cross_entropy([_values(o) for o in outputs], labels).data
    assert float_loss("softmax", outputs, labels) == pytest.approx(value, rel=1e-12, abs=1e-12)


def test_float_loss_unknown_name() -> None:
    with pytest.raises(ValueError, match="unknown loss 'l1'"):
        float_loss("l1", [0.0], [0])


# -- gradients ---------------------------------------------------------------------------------

kinkless = st.floats(min_value=-5.0, max_value=5.0, allow_nan=False).filter(
    lambda v: abs(abs(v) - 1.0) > 1e-3
)


@pytest.mark.parametrize("name", BINARY_LOSSES)
def test_binary_loss_gradient_matches_central_difference(name: str) -> None:
    @settings(max_examples=40, deadline=None)
    @given(st.lists(st.tuples(kinkless, st.integers(0, 1)), min_size=1, max_size=5))
    def check(pairs: list[tuple[float, int]]) -> None:
        labels = [p[1] for p in pairs]
        _grads_match_central_difference(lambda vs: LOSSES[name](vs, labels), [p[0] for p in pairs])

    check()


def test_bce_gradient_is_sigmoid_minus_target_at_zero_and_both_sides() -> None:
    for s in (-2.0, -1e-9, 0.0, 1e-9, 2.0):
        for t in (0, 1):
            leaf = Value(s)
            bce([leaf], [t]).backward()
            assert leaf.grad == pytest.approx(1 / (1 + math.exp(-s)) - t, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(2, 4).flatmap(
        lambda k: st.tuples(
            st.lists(st.floats(-5.0, 5.0), min_size=2 * k, max_size=2 * k),
            st.lists(st.integers(0, k - 1), min_size=2, max_size=2),
        )
    )
)
def test_softmax_gradient_matches_central_difference(case) -> None:
    flat, labels = case
    k = len(flat) // 2

    def f(vs: list[Value]) -> Value:
        return softmax_cross_entropy([vs[:k], vs[k:]], labels)

    _grads_match_central_difference(f, flat)


def test_softmax_gradient_is_softmax_minus_one_hot() -> None:
    row = _values([0.2, -1.0, 3.0])
    softmax_cross_entropy([row], [0]).backward()
    z = sum(math.exp(v.data) for v in row)
    expected = [math.exp(v.data) / z - (1.0 if j == 0 else 0.0) for j, v in enumerate(row)]
    assert [v.grad for v in row] == pytest.approx(expected, abs=1e-14)


# -- stability ---------------------------------------------------------------------------------


@pytest.mark.parametrize("s", [1000.0, -1000.0, 1e300, -1e300, 745.2, -745.2])
@pytest.mark.parametrize("t", [0, 1])
def test_bce_is_stable_for_extreme_logits(s: float, t: int) -> None:
    leaf = Value(s)
    loss = bce([leaf], [t])
    loss.backward()
    # softplus(x) with x = s (t = 0) or -s (t = 1): x for big x, 0 for very negative x
    x = s if t == 0 else -s
    assert loss.data == pytest.approx(max(x, 0.0), rel=1e-15)
    assert leaf.grad == (1.0 if s > 0 else 0.0) - t
    assert float_loss("bce", [s], [t]) == loss.data


def test_softmax_is_stable_for_extreme_logits() -> None:
    row = _values([1000.0, -1000.0, 999.0])
    loss = softmax_cross_entropy([row], [2])
    assert loss.data == pytest.approx(1.0 + math.log1p(math.exp(-1.0)), rel=1e-12)
    loss.backward()
    assert all(math.isfinite(v.grad) for v in row)
    assert sum(v.grad for v in row) == pytest.approx(0.0, abs=1e-12)
    assert float_loss("softmax", [[1000.0, -1000.0, 999.0]], [2]) == loss.data


def test_mse_of_a_huge_output_is_inf_not_an_exception() -> None:
    assert mse([Value(1e200)], [1]).data == math.inf
    assert float_loss("mse", [1e200], [1]) == math.inf


@pytest.mark.parametrize("name", [*BINARY_LOSSES, "softmax"])
def test_nan_output_gives_a_nan_loss_not_an_exception(name: str) -> None:
    nan = float("nan")
    outputs = [[Value(nan), Value(0.0)]] if name == "softmax" else [Value(nan)]
    floats = [[nan, 0.0]] if name == "softmax" else [nan]
    loss = LOSSES[name](outputs, [1])
    assert math.isnan(loss.data)
    loss.backward()  # NaN flows back, nothing raises
    assert math.isnan(float_loss(name, floats, [1]))


def test_softmax_with_an_infinite_logit_is_nan() -> None:
    assert math.isnan(softmax_cross_entropy([_values([math.inf, 0.0])], [0]).data)
    assert math.isnan(float_loss("softmax", [[math.inf, 0.0]], [0]))


# -- bad arguments -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", BINARY_LOSSES)
def test_binary_losses_reject_bad_labels_and_shapes(name: str) -> None:
    f = LOSSES[name]
    with pytest.raises(ValueError, match="2 outputs but 1 labels"):
        f(_values([0.1, 0.2]), [1])
    with pytest.raises(ValueError, match="no samples"):
        f([], [])
    with pytest.raises(ValueError, match="label 2 of sample 0"):
        f(_values([0.1]), [2])
    with pytest.raises(ValueError, match="label -1"):
        f(_values([0.1]), [-1])
    with pytest.raises(ValueError, match="one output per sample"):
        f([[Value(0.1), Value(0.2)]], [1])


def test_softmax_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="at least 2 outputs"):
        softmax_cross_entropy([[Value(1.0)]], [0])
    with pytest.raises(ValueError, match="sample 1 has 2 outputs"):
        softmax_cross_entropy([_values([1, 2, 3]), _values([1, 2])], [0, 0])
    with pytest.raises(ValueError, match="label 3"):
        softmax_cross_entropy([_values([1, 2, 3])], [3])
    with pytest.raises(ValueError, match="no samples"):
        softmax_cross_entropy([], [])


# -- predictions and accuracy ------------------------------------------------------------------


def test_predict_class() -> None:
    for name in BINARY_LOSSES:
        assert predict_class(name, 0.3) == 1
        assert predict_class(name, -0.3) == 0
        assert predict_class(name, 0.0) == 0
        assert predict_class(name, [2.0]) == 1
        assert predict_class(name, Value(2.0)) == 1
    assert predict_class("softmax", [0.1, 2.0, -1.0]) == 1
    assert predict_class("softmax", [3.0, 3.0, -1.0]) == 0  # ties: lowest class
    assert predict_class("softmax", (Value(0.0), Value(1.0))) == 1
    with pytest.raises(ValueError, match="unknown loss"):
        predict_class("nope", 1.0)
    with pytest.raises(ValueError, match="at least 2"):
        predict_class("softmax", 1.0)


def test_predict_class_agrees_with_bce_probability() -> None:
    for s in (-3.0, -0.01, 0.01, 3.0):
        p = 1 / (1 + math.exp(-s))
        assert predict_class("bce", s) == int(p > 0.5)


def test_accuracy() -> None:
    assert accuracy([1, 0, 1, 1], [1, 1, 1, 0]) == 0.5
    assert accuracy([2], [2]) == 1.0
    assert accuracy([0, 0], [1, 1]) == 0.0
    with pytest.raises(ValueError, match="3 predictions but 2 labels"):
        accuracy([0, 0, 0], [0, 0])
    with pytest.raises(ValueError, match="no samples"):
        accuracy([], [])


def test_float_loss_is_json_friendly_plain_float() -> None:
    value = float_loss("hinge", [0.5, -0.5], [1, 0])
    assert type(value) is float
    assert json.loads(json.dumps(value)) == value
