"""The backward pass replayed one node at a time on a snapshot, and paths from the root."""

from __future__ import annotations

import math
import pickle

import pytest

from micrograd.engine import Value
from micrograd.graph import backward_steps, snapshot
from micrograd.train import TrainConfig, Trainer


def test_a_small_graph_step_by_step():
    a = Value(3.0, label="a")
    b = Value(2.0, label="b")
    c = a * a + b  # a is read twice by one node: it gets two contributions
    c.backward()
    snap = snapshot(c)
    steps = list(backward_steps(snap))
    assert [s.number for s in steps] == [1, 2, 3, 4]
    assert [s.index for s in steps] == list(range(len(snap) - 1, -1, -1))
    first = steps[0]
    assert first.index == snap.root and first.grad == 1.0
    mul = next(s for s in steps if snap.ops[s.index] == "*")
    assert mul.grad == 1.0
    (s0, s1) = mul.sends
    assert s0.child == s1.child and snap.labels[s0.child] == "a"
    assert (s0.local, s0.contribution, s0.before, s0.after, s0.complete) == (3.0, 3.0, 0, 3, False)
    assert (s1.before, s1.after, s1.complete) == (3.0, 6.0, True)
    assert a.grad == 6.0 and b.grad == 1.0
    leaves = [s for s in steps if not snap.children[s.index]]
    assert all(s.sends == () for s in leaves)


def test_final_partial_sums_equal_the_stored_grads_on_a_training_step():
    trainer = Trainer(TrainConfig(samples=20, hidden=(4, 3), seed=3, alpha=1e-3))
    trainer.step()
    trainer.step()  # leaves had grads from step 1: the trainer zeroes them before backward
    snap = snapshot(trainer.last_root)
    final = [math.nan] * len(snap)
    final[snap.root] = 1.0
    seen = set()
    for step in backward_steps(snap):
        # a node's gradient is complete when it is processed, and equals the stored one
        assert step.grad == pytest.approx(snap.grads[step.index], abs=1e-12, rel=1e-12)
        seen.add(step.index)
        for send in step.sends:
            assert send.after == send.before + send.contribution
            assert send.contribution == send.local * step.grad or step.grad == 0
            if send.complete:
                final[send.child] = send.after
    assert seen == set(range(len(snap)))
    leaves = [i for i in range(len(snap)) if not snap.children[i]]
    assert len(leaves) > 20
    for i in range(len(snap)):  # every node, leaves included, is completed exactly
        assert final[i] == pytest.approx(snap.grads[i], abs=1e-12, rel=1e-12), i


def test_nan_propagates_as_in_the_engine():
    a = Value(1.0)
    b = a * math.nan
    out = b + a
    out.backward()
    snap = snapshot(out)
    *_, last = backward_steps(snap)
    sums = {}
    for step in backward_steps(snap):
        for send in step.sends:
            sums[send.child] = send.after
    assert math.isnan(sums[last.index]) and math.isnan(a.grad)


def test_empty_and_single_node():
    snap = snapshot(Value(2.0))
    (only,) = backward_steps(snap)
    assert only.grad == 1.0 and only.sends == ()


def test_path_to_follows_children_from_the_root():
    x = Value(1.0, label="x")
    y = (x * 2 + 1).tanh() + x
    snap = snapshot(y)
    ix = snap.labels.index("x")
    path = snap.path_to(ix)
    assert path[0] == snap.root and path[-1] == ix
    assert len(path) == 2  # the shortest way: y = ... + x
    for parent, child in zip(path, path[1:]):
        assert child in snap.children[parent]
    assert snap.path_to(snap.root) == (snap.root,)
    with pytest.raises(IndexError):
        snap.path_to(len(snap))
    again = pickle.loads(pickle.dumps(snap))  # the cache is not pickled
    assert "_tree_parent" not in again.__dict__ and again.path_to(ix) == path


# -- the lecture's view: a fused dot split into its products and sums ----------------------------


def _lecture_loss(value_inputs: bool):
    """The lecture's 3-4-4-1 tanh MLP on two samples, sum of squared errors; inputs as plain
    numbers (the Trainer's way: constants) or as Values."""
    from micrograd.nn import MLP

    model = MLP(3, [4, 4, 1], activation="tanh", seed=3)
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5]]
    if value_inputs:
        xs = [[Value(v, label=f"x{i}") for i, v in enumerate(x)] for x in xs]
    loss = Value.sum([(model(x) - t) ** 2 for x, t in zip(xs, [1.0, -1.0])])
    loss.backward()
    return loss


@pytest.mark.parametrize("value_inputs", [False, True])
def test_split_dots_shows_the_same_numbers_as_products_and_sums(value_inputs):
    from micrograd.graph import split_dots

    snap = snapshot(_lecture_loss(value_inputs))
    split = split_dots(snap)
    counts = split.op_counts()
    assert "dot" not in counts and counts["*"] == 2 * (3 * 4 + 4 * 4 + 4)
    assert counts["+"] == 2 * (3 * 4 + 4 * 4 + 4)  # bias + x0w0, + x1w1, ...: one + per term
    assert split.data[split.root] == snap.data[snap.root]
    # every node that is not a dot is still there with the same numbers, leaves included
    kept = sorted((o, lb, d, g) for o, lb, d, g in zip(snap.ops, snap.labels, snap.data,
                                                       snap.grads) if o != "dot")  # fmt: skip
    split_nodes = set(zip(split.ops, split.labels, split.data, split.grads))
    assert all(node in split_nodes for node in kept)
    # each dot's value and grad are those of the last + that replaced it
    for i in (i for i, o in enumerate(snap.ops) if o == "dot"):
        assert (snap.data[i], snap.grads[i]) in {
            (d, g) for o, d, g in zip(split.ops, split.data, split.grads) if o == "+"
        }
    # and the split graph is a graph like any other: its backward pass gives its grads
    final = {}
    for step in backward_steps(split):
        final[step.index] = step.grad
        assert step.grad == pytest.approx(split.grads[step.index], rel=1e-12, abs=1e-12)
    assert len(final) == len(split)
    if not value_inputs:
        inputs = [i for i in range(len(split)) if split.labels[i] in ("x0", "x1", "x2")]
        assert len(inputs) == 2 * 3 * 4  # one leaf per use of each constant input
    products = [i for i in range(len(split)) if split.ops[i] == "*"]
    assert split.labels[products[0]] == "x0*w0"


def test_split_dots_without_a_bias_and_with_one_term():
    from micrograd.graph import split_dots

    a, b, c, d = Value(2.0), Value(-3.0), Value(0.5), Value(4.0)
    one = Value.dot([a], [b])  # a*b alone
    two = Value.dot([a, c], [b, d])  # a*b + c*d
    out = one * two
    out.backward()
    split = split_dots(snapshot(out))
    assert split.op_counts() == {"": 4, "*": 4, "+": 1}
    assert split.data[split.root] == out.data
    leaves = [i for i in range(len(split)) if not split.ops[i]]
    grads = {split.data[i]: split.grads[i] for i in leaves}
    assert grads == {2.0: a.grad, -3.0: b.grad, 0.5: c.grad, 4.0: d.grad}
