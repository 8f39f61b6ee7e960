"""Optimizers: updates against hand-computed values, lr changes, state round trips, bad input."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd.engine import Value
from micrograd.optim import (
    OPTIMIZERS,
    SCHEDULES,
    SGD,
    Adam,
    AdamW,
    Optimizer,
    make_optimizer,
    schedule_factor,
)


def square_step(opt: Optimizer, w: Value) -> None:
    """One step on f(w) = w**2 (gradient 2w)."""
    opt.zero_grad()
    (w**2).backward()
    opt.step()


def bowl_step(opt: Optimizer, params: list[Value]) -> None:
    """One step on f(a, b) = a**2 + 3*b**2 + a*b."""
    a, b = params
    opt.zero_grad()
    (a**2 + 3 * b**2 + a * b).backward()
    opt.step()


# -- SGD ---------------------------------------------------------------------------------------


def test_sgd_two_steps_by_hand() -> None:
    w = Value(1.0)
    opt = SGD([w], lr=0.1)
    square_step(opt, w)
    assert w.data == pytest.approx(0.8, abs=1e-15)  # 1 - 0.1 * 2
    square_step(opt, w)
    assert w.data == pytest.approx(0.64, abs=1e-15)  # 0.8 - 0.1 * 1.6


def test_sgd_momentum_two_steps_by_hand() -> None:
    w = Value(1.0)
    opt = SGD([w], lr=0.1, momentum=0.9)
    square_step(opt, w)  # v = 2, w = 1 - 0.2
    assert w.data == pytest.approx(0.8, abs=1e-15)
    square_step(opt, w)  # g = 1.6, v = 0.9 * 2 + 1.6 = 3.4, w = 0.8 - 0.34
    assert w.data == pytest.approx(0.46, abs=1e-15)
    assert opt.velocity == pytest.approx([3.4], abs=1e-15)


def test_sgd_weight_decay_is_l2_in_the_gradient() -> None:
    w = Value(1.0)
    opt = SGD([w], lr=0.1, weight_decay=0.5)
    square_step(opt, w)  # g = 2 + 0.5 * 1
    assert w.data == pytest.approx(0.75, abs=1e-15)


def test_sgd_matches_karpathys_update() -> None:
    ws = [Value(0.3), Value(-1.2)]
    for w, g in zip(ws, (0.5, -2.0)):
        w.grad = g
    SGD(ws, lr=0.05).step()
    assert [w.data for w in ws] == [0.3 - 0.05 * 0.5, -1.2 - 0.05 * -2.0]


# -- Adam / AdamW ------------------------------------------------------------------------------


def _adam_by_hand(w: float, steps: int, lr: float, wd: float, decoupled: bool) -> list[float]:
    """The Adam formulas written out, b1 = 0.9, b2 = 0.999, eps = 1e-8, on f(w) = w**2."""
    b1, b2, eps = 0.9, 0.999, 1e-8
    m = v = 0.0
    out = []
    for t in range(1, steps + 1):
        g = 2 * w
        if decoupled:
            w = w - lr * wd * w
        else:
            g = g + wd * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        w = w - lr * m_hat / (math.sqrt(v_hat) + eps)
        out.append(w)
    return out


def test_adam_two_steps_by_hand() -> None:
    w = Value(1.0)
    opt = Adam([w], lr=0.1)
    square_step(opt, w)
    # step 1: m_hat = g = 2, v_hat = g*g = 4, so w = 1 - 0.1 * 2 / (2 + 1e-8)
    assert w.data == pytest.approx(1 - 0.1 * 2 / (2 + 1e-8), abs=1e-15)
    assert w.data == pytest.approx(0.9, abs=1e-8)
    square_step(opt, w)
    # step 2: g = 2 * w1; m = 0.9*0.2 + 0.1*g; v = 0.999*0.004 + 0.001*g*g
    w1 = 1 - 0.1 * 2 / (2 + 1e-8)
    g = 2 * w1
    m = 0.9 * 0.2 + 0.1 * g
    v = 0.999 * 0.004 + 0.001 * g * g
    w2 = w1 - 0.1 * (m / (1 - 0.9**2)) / (math.sqrt(v / (1 - 0.999**2)) + 1e-8)
    assert w.data == pytest.approx(w2, abs=1e-14)
    assert w.data == pytest.approx(0.800412, abs=1e-6)
    assert opt.steps == 2


@pytest.mark.parametrize("decoupled", [False, True])
def test_adam_and_adamw_ten_steps_with_weight_decay(decoupled: bool) -> None:
    w = Value(1.0)
    cls = AdamW if decoupled else Adam
    opt = cls([w], lr=0.05, weight_decay=0.3)
    expected = _adam_by_hand(1.0, 10, lr=0.05, wd=0.3, decoupled=decoupled)
    for want in expected:
        square_step(opt, w)
        assert w.data == pytest.approx(want, abs=1e-14)


def test_adamw_decay_differs_from_adam_l2() -> None:
    a, b = Value(1.0), Value(1.0)
    adam, adamw = Adam([a], lr=0.1, weight_decay=0.5), AdamW([b], lr=0.1, weight_decay=0.5)
    for _ in range(3):
        square_step(adam, a)
        square_step(adamw, b)
    assert a.data != pytest.approx(b.data, abs=1e-6)


def test_adamw_first_step_by_hand() -> None:
    w = Value(1.0)
    square_step(AdamW([w], lr=0.1, weight_decay=0.1), w)
    # decay first: 1 - 0.1 * 0.1 * 1 = 0.99; then Adam's first step moves by lr * 2 / (2 + eps)
    assert w.data == pytest.approx(0.99 - 0.1 * 2 / (2 + 1e-8), abs=1e-15)


# -- lr changes --------------------------------------------------------------------------------


def test_lr_changed_between_steps_is_used_from_the_next_step() -> None:
    w = Value(1.0)
    opt = SGD([w], lr=0.1)
    square_step(opt, w)
    assert w.data == pytest.approx(0.8, abs=1e-15)
    opt.lr = 0.01
    square_step(opt, w)
    assert w.data == pytest.approx(0.8 - 0.01 * 1.6, abs=1e-15)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_lr_change_mid_run_matches_a_fresh_computation(name: str) -> None:
    """Halving lr after 2 steps equals the same run where lr was always set before each step."""
    w1, w2 = Value(1.5), Value(1.5)
    a, b = make_optimizer(name, [w1], lr=0.1), make_optimizer(name, [w2], lr=0.1)
    lrs = [0.1, 0.1, 0.05, 0.05, 0.02]
    for lr in lrs:
        b.lr = lr
        square_step(b, w2)
    for i, lr in enumerate(lrs):
        if i in (2, 4):
            a.lr = lr
        square_step(a, w1)
    assert w1.data == w2.data
    assert w1.data != pytest.approx(_run_constant(name, 0.1, 5), abs=1e-9)


def _run_constant(name: str, lr: float, steps: int) -> float:
    w = Value(1.5)
    opt = make_optimizer(name, [w], lr=lr)
    for _ in range(steps):
        square_step(opt, w)
    return w.data


@pytest.mark.parametrize("bad", [0.0, -0.1, math.nan, math.inf])
def test_a_bad_lr_set_between_steps_is_refused_and_changes_nothing(bad: float) -> None:
    w = Value(1.0)
    opt = Adam([w], lr=0.1)
    square_step(opt, w)
    before = (w.data, list(opt.m), list(opt.v), opt.steps)
    opt.lr = bad
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        opt.step()
    assert (w.data, opt.m, opt.v, opt.steps) == before


# -- state -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_state_dict_json_round_trip_gives_identical_updates(name: str) -> None:
    params = [Value(1.0), Value(-0.7)]
    opt = make_optimizer(name, params, lr=0.05, weight_decay=0.01)
    for _ in range(3):
        bowl_step(opt, params)
    opt.lr = 0.03  # a changed lr is part of the state
    text = json.dumps(opt.state_dict())

    clones = [Value(p.data) for p in params]
    clone = make_optimizer(name, clones, lr=0.5)
    clone.load_state_dict(json.loads(text))
    assert clone.lr == 0.03
    assert clone.state_dict() == opt.state_dict()
    for _ in range(4):
        bowl_step(opt, params)
        bowl_step(clone, clones)
        assert [p.data for p in clones] == [p.data for p in params]  # bit-identical


def test_state_dict_is_plain_json_data() -> None:
    opt = Adam([Value(1.0), Value(2.0)], lr=0.1)
    state = opt.state_dict()
    assert state == {
        "type": "adam",
        "step": 0,
        "lr": 0.1,
        "weight_decay": 0.0,
        "betas": [0.9, 0.999],
        "eps": 1e-8,
        "m": [0.0, 0.0],
        "v": [0.0, 0.0],
    }
    assert json.loads(json.dumps(state)) == state
    sgd = SGD([Value(1.0)], lr=0.1, momentum=0.9).state_dict()
    assert sgd == {
        "type": "sgd",
        "step": 0,
        "lr": 0.1,
        "weight_decay": 0.0,
        "momentum": 0.9,
        "velocity": [0.0],
    }


def test_state_dict_buffers_are_copies() -> None:
    w = Value(1.0)
    opt = SGD([w], lr=0.1, momentum=0.5)
    state = opt.state_dict()
    square_step(opt, w)
    assert state["velocity"] == [0.0]


def _adam_state() -> dict:
    return Adam([Value(1.0), Value(2.0)], lr=0.1).state_dict()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "sgd"}, "optimizer state is for 'sgd'"),
        ({"m": [0.0]}, "m must be a list of 2 numbers"),
        ({"v": "oops"}, "v must be a list of 2 numbers"),
        ({"m": [0.0, "x"]}, r"m\[1\] is not a number"),
        ({"step": -1}, "step must be an int >= 0"),
        ({"step": 1.5}, "step must be an int >= 0"),
        ({"lr": 0}, "lr must be a finite number > 0"),
        ({"betas": [0.9]}, "betas must be a pair"),
        ({"eps": -1.0}, "eps must be a finite number > 0"),
        ({"surprise": 1}, "unknown keys"),
    ],
)
def test_load_state_dict_rejects_bad_state_and_changes_nothing(change: dict, message: str) -> None:
    params = [Value(1.0), Value(2.0)]
    opt = Adam(params, lr=0.2)
    bowl_step(opt, params)
    before = opt.state_dict()
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict({**_adam_state(), **change})
    assert opt.state_dict() == before


def test_load_state_dict_rejects_missing_keys_and_non_dicts() -> None:
    opt = Adam([Value(1.0), Value(2.0)], lr=0.1)
    state = _adam_state()
    del state["v"]
    with pytest.raises(ValueError, match=r"missing keys \['v'\]"):
        opt.load_state_dict(state)
    with pytest.raises(ValueError, match="must be a dict"):
        opt.load_state_dict([1, 2])  # type: ignore[arg-type]


# -- construction ------------------------------------------------------------------------------


def test_make_optimizer_names() -> None:
    params = [Value(1.0)]
    assert OPTIMIZERS == ("sgd", "momentum", "adam", "adamw")
    sgd = make_optimizer("sgd", params, 0.1)
    assert type(sgd) is SGD and sgd.momentum == 0.0
    momentum = make_optimizer("momentum", params, 0.1, weight_decay=0.01)
    assert type(momentum) is SGD and momentum.momentum == 0.9 and momentum.weight_decay == 0.01
    assert type(make_optimizer("adam", params, 0.1)) is Adam
    assert type(make_optimizer("adamw", params, 0.1)) is AdamW


def test_unknown_optimizer_name_lists_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'; choose one of sgd, moment"):
        make_optimizer("rmsprop", [Value(1.0)], 0.1)


@pytest.mark.parametrize("lr", [0, 0.0, -1e-3, math.nan, math.inf, -math.inf, "0.1", None, True])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_bad_lr_is_refused(name: str, lr: object) -> None:
    with pytest.raises(ValueError, match="lr must be"):
        make_optimizer(name, [Value(1.0)], lr)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda p: SGD(p, 0.1, weight_decay=-0.1), "weight_decay must be a finite number >= 0"),
        (lambda p: SGD(p, 0.1, weight_decay=math.nan), "weight_decay must be"),
        (lambda p: SGD(p, 0.1, momentum=1.0), r"momentum must be a finite number >= 0 and < 1"),
        (lambda p: SGD(p, 0.1, momentum=-0.5), "momentum must be"),
        (lambda p: Adam(p, 0.1, betas=(0.9, 1.0)), r"betas\[1\] must be"),
        (lambda p: Adam(p, 0.1, betas=0.9), "betas must be a pair"),
        (lambda p: Adam(p, 0.1, eps=0.0), "eps must be a finite number > 0"),
        (lambda p: AdamW(p, 0.1, weight_decay=math.inf), "weight_decay must be"),
    ],
)
def test_bad_hyperparameters_are_refused(build, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build([Value(1.0)])


def test_bad_parameter_lists_are_refused() -> None:
    with pytest.raises(ValueError, match="no parameters"):
        SGD([], 0.1)
    w = Value(1.0)
    with pytest.raises(ValueError, match="parameter 1 is the same Value as parameter 0"):
        SGD([w, w], 0.1)
    with pytest.raises(ValueError, match="parameter 0 is a float, not a Value"):
        SGD([1.0], 0.1)  # type: ignore[list-item]


def test_zero_grad_and_repr() -> None:
    ws = [Value(1.0), Value(2.0)]
    for w in ws:
        w.grad = 3.0
    opt = make_optimizer("momentum", ws, 0.1)
    opt.zero_grad()
    assert [w.grad for w in ws] == [0.0, 0.0]
    assert repr(opt) == "SGD(2 parameters, lr=0.1, weight_decay=0.0, momentum=0.9)"


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_minimises_a_bowl(name: str) -> None:
    params = [Value(1.0), Value(-0.7)]
    opt = make_optimizer(name, params, lr=0.05)
    for _ in range(200):
        bowl_step(opt, params)
    assert abs(params[0].data) < 0.05 and abs(params[1].data) < 0.05


# -- schedules ---------------------------------------------------------------------------------


def test_schedule_values() -> None:
    assert SCHEDULES == ("constant", "linear", "step", "cosine")
    assert [schedule_factor("constant", s, 100) for s in (0, 50, 500)] == [1.0, 1.0, 1.0]
    # Karpathy's demo: learning_rate = 1.0 - 0.9 * k / 100
    assert [schedule_factor("linear", k, 100) for k in (0, 50, 99)] == [
        1.0 - 0.9 * k / 100 for k in (0, 50, 99)
    ]
    assert schedule_factor("linear", 100, 100) == pytest.approx(0.1)
    assert schedule_factor("linear", 1000, 100) == 0.1
    assert [schedule_factor("step", s, 100) for s in (0, 24, 25, 49, 50, 75, 100, 10**6)] == [
        1.0,
        1.0,
        0.5,
        0.5,
        0.25,
        0.125,
        0.0625,
        0.0625,
    ]
    assert schedule_factor("step", 5, 2) == 0.0625  # total // 4 == 0: halve every step, floor
    assert schedule_factor("cosine", 0, 100) == 1.0
    assert schedule_factor("cosine", 50, 100) == pytest.approx(0.55)
    assert schedule_factor("cosine", 100, 100) == pytest.approx(0.1)
    assert schedule_factor("cosine", 1000, 100) == pytest.approx(0.1)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SCHEDULES), st.integers(0, 10**7), st.integers(1, 10**6))
def test_schedule_factor_is_in_zero_one_and_non_increasing(name, step, total) -> None:
    f = schedule_factor(name, step, total)
    assert 0.0 < f <= 1.0
    assert schedule_factor(name, step + 1, total) <= f


def test_schedule_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown schedule 'exp'; choose one of constant"):
        schedule_factor("exp", 0, 10)
    with pytest.raises(ValueError, match="step must be an int >= 0"):
        schedule_factor("linear", -1, 10)
    with pytest.raises(ValueError, match="total_steps must be an int >= 1"):
        schedule_factor("linear", 0, 0)
