"""The tensor graph's gradient check of one element and its backward pass node by node
(micrograd.tensor_grad), and the shown graph's parameters as its forward pass saw them."""

from __future__ import annotations

import numpy as np
import pytest

from micrograd import tensor
from micrograd.tensor import Tensor, topological_order
from micrograd.tensor_grad import FORWARD, backward_steps, check_element, largest_grad_element
from micrograd.train import TrainConfig, Trainer
from tui.tensor_views import copy_params
from tui.training.tensor import TensorShown

MOONS = TrainConfig(engine="tensor", samples=40, hidden=(4,), activation="tanh", seed=3)
CONV = TrainConfig(
    engine="tensor", dataset="digits", samples=120, test_fraction=0.2, conv=(3,), hidden=(8,),
    optimizer="adam", lr=0.01, batch_size=16, seed=4, alpha=1e-3,
)  # fmt: skip


def graph(config: TrainConfig):
    t = Trainer(config)
    run = t.tensor_run
    loss = run.loss(run.model(run.X_train), run.y_train)
    loss.backward()
    return t, loss


def test_every_op_of_the_rule_table_can_be_rerun():
    assert set(FORWARD) == set(tensor.RULES)


@pytest.mark.parametrize("config", [MOONS, CONV], ids=["moons", "conv"])
def test_each_nodes_largest_gradient_agrees_with_a_central_difference(config):
    _, loss = graph(config)
    checked = 0
    for node in topological_order(loss):
        if node.grad is None:
            with pytest.raises(ValueError, match="no gradient"):
                check_element(loss, node)
            continue
        c = check_element(loss, node)
        g = np.asarray(node.grad)
        assert c.element == largest_grad_element(node)
        assert abs(c.analytic) == pytest.approx(np.abs(g).max())
        if c.kink is None:  # a ReLU at 0 or a max tie has no single slope
            assert c.ok, (node._op, node.label, c)
            checked += 1
    assert checked >= 10


def test_an_element_chosen_and_a_wrong_rule_caught(monkeypatch):
    _, loss = graph(MOONS)
    tanh = next(n for n in topological_order(loss) if n._op == "tanh")
    good = check_element(loss, tanh, (3, 1))
    assert good.ok and good.element == (3, 1) and good.analytic == tanh.grad[3, 1]
    with pytest.raises(ValueError, match="outside shape"):
        check_element(loss, tanh, (400, 0))
    # tanh's rule with a sign error: backward() then gives wrong grads below it, and the check
    # of W (whose gradient goes through the tanh) says so
    monkeypatch.setitem(tensor._VJPS, "tanh", lambda xp, n, g: (-g * (1 - n.data * n.data),))
    _, loss = graph(MOONS)
    w = next(n for n in topological_order(loss) if n.label == "L0.W")
    bad = check_element(loss, w)
    assert not bad.ok and bad.analytic == pytest.approx(-bad.numeric, rel=1e-4)


def test_a_graph_whose_parameters_changed_is_refused():
    t, loss = graph(MOONS)
    w = t.tensor_run.params[0]
    w.data = w.data + 0.1
    with pytest.raises(ValueError, match="stale"):
        check_element(loss, w)


@pytest.mark.parametrize("config", [MOONS, CONV], ids=["moons", "conv"])
def test_the_walk_sends_add_up_to_each_gradient(config):
    _, loss = graph(config)
    order = topological_order(loss)
    steps = list(backward_steps(loss))
    with_grad = [i for i, n in enumerate(order) if n.grad is not None]
    assert [s.index for s in steps] == sorted(with_grad, reverse=True)  # the loss first
    assert [s.number for s in steps] == list(range(1, len(steps) + 1))
    last: dict[int, tuple] = {}
    for s in steps:
        g = np.asarray(order[s.index].grad, dtype=np.float64)
        assert s.grad[3] == pytest.approx(np.sqrt((g * g).sum()))
        for send in s.sends:
            last[send.child] = send.after
            assert send.complete == (send is [x for t in steps for x in t.sends
                                              if x.child == send.child][-1])  # fmt: skip
    for child, after in last.items():  # each running sum ends as the node's gradient
        g = np.asarray(order[child].grad, dtype=np.float64)
        assert after[0] == pytest.approx(g.min()) and after[1] == pytest.approx(g.max())
        assert after[3] == pytest.approx(np.sqrt((g * g).sum()))


def test_the_shown_graph_has_the_forward_pass_parameters_and_checks_after_updates():
    t = Trainer(CONV)
    before = copy_params(t)
    t.step()
    params = t.tensor_run.params
    shown = TensorShown(t.step_count, t.last_root, params, before)
    leaves = {n.label: n for n in shown.snapshot.nodes if n.label in {p.label for p in params}}
    for p, old in zip(params, before):
        assert leaves[p.label].data_summary[3] == pytest.approx(np.sqrt((old * old).sum()))
        assert not np.allclose(np.asarray(p.data), old)  # the optimizer moved them since
    t.step()  # training moves on: new data in the parameters, new grads
    check = shown.check(name="L0.W")
    assert check.error is None and check.ok, check
    old = TensorShown(t.step_count, t.last_root)  # without them: the values after the update
    t.step()
    assert "stale" in (old.check(name="L0.W").error or "")


def test_a_scalar_tensor_check():
    a = Tensor(np.array([1.0, 2.0]))
    loss = (a * a).sum()
    loss.backward()
    c = check_element(loss, loss)
    assert c.element == () and c.ok and c.analytic == 1.0


def test_a_kink_is_named_with_both_slopes():
    x = Tensor(np.array([0.0, 2.0]))
    loss = (x.relu() * 3.0).sum()
    loss.backward()
    at_zero = check_element(loss, x, (0,))  # relu at 0: slope 3 to the right, 0 to the left
    assert not at_zero.ok and at_zero.analytic == 0.0 and at_zero.numeric == pytest.approx(1.5)
    assert at_zero.kink == (pytest.approx(3.0), pytest.approx(0.0))
    smooth = check_element(loss, x, (1,))
    assert smooth.ok and smooth.kink is None
