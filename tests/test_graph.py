"""The graph snapshot agrees with the live graph, pickles, satisfies the chain rule; DOT export."""

from __future__ import annotations

import math
import pickle
import random
import re

import pytest

from micrograd.data import make_moons
from micrograd.engine import Value, topological_order
from micrograd.graph import GraphSnapshot, NodeInfo, node_count, op_counts, snapshot, to_dot
from micrograd.nn import MLP


def mlp_loss(samples: int = 30) -> tuple[Value, MLP]:
    """Karpathy's demo loss: hinge on an MLP's scores plus 1e-4 L2, written inline."""
    X, y = make_moons(samples, 0.1, seed=1337)
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    scores = [model(list(map(Value, x))) for x in X]
    losses = [(1 + -(2 * t - 1) * s).relu() for t, s in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    total = data_loss + reg_loss
    total.backward()
    return total, model


@pytest.fixture(scope="module")
def loss_graph() -> tuple[Value, GraphSnapshot]:
    root, _ = mlp_loss()
    return root, snapshot(root)


def test_snapshot_agrees_with_live_graph(loss_graph):
    root, snap = loss_graph
    order = topological_order(root)
    assert len(snap) == len(order) == node_count(root) == node_count(snap)
    assert snap.root == len(order) - 1
    index = {node: i for i, node in enumerate(order)}
    for i, node in enumerate(order):
        assert snap.data[i] == node.data
        assert snap.grads[i] == node.grad
        assert snap.ops[i] == node._op
        assert snap.labels[i] == node.label
        assert snap.children[i] == tuple(index[c] for c in node._prev)
        assert snap.locals[i] == node._local
        assert all(c < i for c in snap.children[i])  # topological: operands first
    assert snap.data[snap.root] == root.data
    assert snap.grads[snap.root] == 1.0


def test_snapshot_holds_plain_data_only(loss_graph):
    _, snap = loss_graph
    for field in (snap.ops, snap.labels, snap.data, snap.grads, snap.children, snap.locals):
        assert type(field) is tuple
    assert all(type(x) is float for x in snap.data + snap.grads)
    assert all(type(c) is tuple for c in snap.children + snap.locals)
    assert all(type(x) is int for kids in snap.children for x in kids)
    assert all(type(x) is float for loc in snap.locals for x in loc)


def test_op_counts(loss_graph):
    root, snap = loss_graph
    counts = op_counts(root)
    assert counts == snap.op_counts() == op_counts(snap)
    assert sum(counts.values()) == len(snap)
    assert counts["relu"] == 30 * (16 + 16 + 1)  # hidden neurons and one hinge per sample
    assert counts["dot"] == 30 * 33
    # leaves: 337 parameters, 60 inputs, a 1 and a label per sample, 4 constants of the sums
    assert counts[""] == 337 + 60 + 30 * 2 + 4


def test_pickle_round_trip(loss_graph):
    _, snap = loss_graph
    assert snap._consumers  # fill the cache; it must not be pickled
    blob = pickle.dumps(snap)
    back = pickle.loads(blob)
    assert back == snap
    assert back.consumers(0) == snap.consumers(0)
    assert b"micrograd.engine" not in blob
    assert b"_consumers" not in blob


def test_chain_rule_holds_at_every_node(loss_graph):
    """grad[j] == sum over consumers p of grad[p] * local: the snapshot is self-consistent."""
    _, snap = loss_graph
    for j in range(len(snap) - 1):
        terms = [snap.grads[p] * snap.locals[p][k] for p, k in snap.consumers(j)]
        assert terms, f"node {j} feeds nothing"
        expected = math.fsum(terms)
        scale = math.fsum(abs(t) for t in terms)
        assert abs(snap.grads[j] - expected) <= 1e-12 * scale + 1e-300, j


def test_consumers_count_repeated_operands():
    a = Value(3.0, label="a")
    sq = a * a
    out = sq + a
    out.backward()
    snap = snapshot(out)
    ia = snap.labels.index("a")
    isq = snap.children[snap.root][0]
    assert sorted(snap.consumers(ia)) == [(isq, 0), (isq, 1), (snap.root, 1)]
    assert snap.consumers(snap.root) == ()
    assert snap.grads[ia] == 7.0


def test_node_view():
    a, b = Value(2.0, label="a"), Value(5.0, label="b")
    out = a * b
    out.backward()
    snap = snapshot(out)
    info = snap.node(-1)
    assert isinstance(info, NodeInfo)
    assert (info.index, info.op, info.data, info.grad) == (2, "*", 10.0, 1.0)
    assert not info.is_leaf
    assert [snap.node(c).label for c in info.children] == ["a", "b"]
    assert info.locals == (5.0, 2.0)
    assert snap.node(info.children[0]).consumers == ((2, 0),)
    with pytest.raises(IndexError):
        snap.node(3)


def test_snapshot_of_a_long_chain_is_quick_and_iterative():
    x = Value(1.0)
    for _ in range(150_000):
        x = x * 1.0
    snap = snapshot(x)  # would blow the recursion limit if it recursed
    assert len(snap) == 300_001
    assert len(snap.children[-1]) == 2
    assert snap.ops.count("*") == 150_000
    assert len(snap.consumers(0)) == 1


# -- DOT -----------------------------------------------------------------------------------

_NODE = re.compile(r"^\s*(\w+) \[(.*)\];$")
_EDGE = re.compile(r"^\s*(\w+) -> (\w+)( \[.*\])?;$")


def parse_dot(text: str) -> tuple[set[str], list[tuple[str, str]], list[str]]:
    """Declared nodes, edges and comments; checks braces/quotes balance outside strings."""
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            assert depth >= 0
    assert depth == 0 and not in_string
    lines = text.strip().splitlines()
    assert lines[0] == "digraph micrograd {" and lines[-1] == "}"
    nodes: set[str] = set()
    edges: list[tuple[str, str]] = []
    comments: list[str] = []
    for line in lines[1:-1]:
        s = line.strip()
        if s.startswith("//"):
            comments.append(s)
        elif m := _EDGE.match(line):
            edges.append((m.group(1), m.group(2)))
        elif m := _NODE.match(line):
            if m.group(1) != "node":
                nodes.add(m.group(1))
        else:
            assert s in ("rankdir=LR;",), s
    for a, b in edges:
        assert a in nodes and b in nodes, (a, b)
    return nodes, edges, comments


def record_fields(label: str) -> list[str]:
    """Split a record label '{ a | b | c }' on unescaped bars."""
    inner = label.strip()[1:-1]
    return [f.strip() for f in re.split(r"(?<!\\)\|", inner)]


def test_dot_of_a_small_graph():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    out = (a * b + a).tanh()
    out.label = "out"
    out.backward()
    nodes, edges, comments = parse_dot(to_dot(out))
    assert comments == []
    assert len([n for n in nodes if not n.endswith("_op")]) == 5
    assert len([n for n in nodes if n.endswith("_op")]) == 3
    assert len(edges) == 3 + 5  # op -> result, operand -> op
    text = to_dot(snapshot(out))
    assert text == to_dot(out)
    assert 'label="tanh"' in text and 'label="*"' in text
    assert "grad 1 " in text  # the root's gradient


def test_dot_escapes_special_characters():
    a = Value(1.0, label='w{"1"}|<x>\\')
    out = a - Value(2.0, label="b")
    text = to_dot(out)
    nodes, _, _ = parse_dot(text)
    line = next(x for x in text.splitlines() if "data 1 " in x)
    label = re.search(r'label="((?:[^"\\]|\\.)*)"', line).group(1)
    fields = record_fields(label)
    assert fields[0] == r"w\{\"1\"\}\|\<x\>\\"
    assert fields[1:] == ["data 1", "grad 0"]
    assert 'headlabel="a"' in text and 'headlabel="b"' in text  # operand order of "-"


def test_dot_truncates_to_the_nodes_nearest_the_root():
    x = Value(1.0, label="x")
    for i in range(50):
        x = x + Value(float(i), label=f"c{i}")
    snap = snapshot(x)
    total = len(snap)
    nodes, edges, comments = parse_dot(to_dot(snap, max_nodes=10))
    values = [n for n in nodes if not n.endswith("_op")]
    assert len(values) == 10
    assert f"n{snap.root}" in nodes
    labels = {snap.labels[int(n[1:])] for n in values}
    assert {"c49", "c48", "c47", "c46"} <= labels  # constants within 4 edges of the root
    assert not labels & {f"c{i}" for i in range(45)} and "x" not in labels
    assert any(f"{total - 10} of {total} nodes left out" in c for c in comments)
    assert any("operands not drawn" in c for c in comments)
    _, _, comments = parse_dot(to_dot(snap))
    assert comments == []
    with pytest.raises(ValueError):
        to_dot(snap, max_nodes=0)


def test_dot_of_the_mlp_loss_is_well_formed(loss_graph):
    _, snap = loss_graph
    nodes, edges, comments = parse_dot(to_dot(snap, max_nodes=500))
    assert len([n for n in nodes if not n.endswith("_op")]) == 500
    assert len(comments) >= 1


def test_one_nodes_consumers_equal_the_whole_tables(loss_graph):
    snap = pickle.loads(pickle.dumps(loss_graph[1]))  # a copy without the shared fixture's cache
    alone = [snap.consumers(i) for i in range(len(snap))]  # one scan each, no table yet
    assert "_consumers" not in snap.__dict__
    assert alone == list(snap._consumers)
    assert [snap.consumers(i) for i in range(len(snap))] == alone  # now from the table
    assert snap.consumers(-1) == snap.consumers(snap.root) == ()
    with pytest.raises(IndexError):
        snap.consumers(len(snap))
