"""The Trainer's phase-by-phase step: a full cycle of phases is one step(); skipping zero_grad
accumulates gradients across steps (the lecture's bug)."""

from __future__ import annotations

import pytest

from micrograd.train import PHASES, TrainConfig, Trainer

CONFIGS = [
    TrainConfig(samples=30, hidden=(4, 3), lr=0.1, seed=3),
    TrainConfig(samples=30, hidden=(5,), lr=0.05, seed=4, batch_size=8, alpha=1e-3,
                optimizer="adam"),
    TrainConfig(dataset="tiny", seed=5),
]  # fmt: skip


def weights(t: Trainer) -> list[float]:
    return [p.data for p in t.params]


@pytest.mark.parametrize("config", CONFIGS)
def test_a_cycle_of_phases_is_one_step(config):
    whole, phased = Trainer(config), Trainer(config)
    for _ in range(3):
        expected = whole.step()
        seen = []
        report = None
        for _ in PHASES:
            name, report = phased.step_phase()
            seen.append(name)
            assert phased.phase == ("" if name == "update" else name)
        assert tuple(seen) == PHASES
        assert report is not None and report.step == expected.step == phased.step_count
        assert report.loss == pytest.approx(expected.loss, abs=1e-12)
        assert report.accuracy == expected.accuracy
        for a, b in zip(weights(whole), weights(phased), strict=True):
            assert a == pytest.approx(b, abs=1e-12)
        for a, b in zip(whole.params, phased.params, strict=True):
            assert a.grad == pytest.approx(b.grad, abs=1e-12)


def test_each_phase_leaves_what_it_says():
    t = Trainer(TrainConfig(dataset="tiny", seed=2))
    t.step()
    old_grads = [p.grad for p in t.params]
    assert any(old_grads)
    before = weights(t)
    assert t.step_phase() == ("forward", None)
    assert t.last_root is not None and t.step_count == 1  # the last step's graph still
    assert t.step_phase()[0] == "loss"
    root = t.last_root
    assert root.label == "loss" and root.grad == 0.0  # data, no gradients yet
    assert [p.grad for p in t.params] == old_grads  # the last step's, until zero_grad
    assert t.step_phase()[0] == "zero_grad"
    assert all(p.grad == 0.0 for p in t.params)
    assert t.step_phase()[0] == "backward"
    assert root.grad == 1.0 and any(p.grad for p in t.params)
    grads = [p.grad for p in t.params]
    assert weights(t) == before
    name, report = t.step_phase()
    assert name == "update" and report.step == 2 and t.phase == ""
    lr = report.lr
    for b, a, g in zip(before, weights(t), grads, strict=True):  # sgd: p -= lr * grad
        assert a == pytest.approx(b - lr * g, abs=1e-12)


def test_skipping_zero_grad_accumulates_the_gradients():
    config = TrainConfig(dataset="tiny", seed=6)
    buggy, fresh = Trainer(config), Trainer(config)
    buggy.step()
    fresh.step()
    old = [p.grad for p in buggy.params]
    for _ in range(4):  # to after backward
        buggy.step_phase(zero_grad=False)
        fresh.step_phase()
    for p, q, g in zip(buggy.params, fresh.params, old, strict=True):
        assert p.grad == pytest.approx(q.grad + g, rel=1e-12, abs=1e-12)  # this plus the last
    assert any(abs(p.grad - q.grad) > 1e-6 for p, q in zip(buggy.params, fresh.params))


def test_step_drops_a_step_under_way_and_the_tensor_engine_refuses_phases():
    t = Trainer(TrainConfig(samples=20, hidden=(3,), seed=1))
    t.step_phase()
    t.step()
    assert t.phase == "" and t.step_count == 1
    tensor = Trainer(TrainConfig(samples=20, hidden=(3,), seed=1, engine="tensor"))
    with pytest.raises(ValueError, match="scalar engine"):
        tensor.step_phase()
