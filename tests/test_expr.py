"""The scratch expression parser: the lecture's text, an unfused labelled graph, clear errors."""

from __future__ import annotations

import builtins
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd.engine import topological_order
from micrograd.expr import MAX_NODES, ExprError, parse

LECTURE = "a=2.0, b=-3.0, c=10.0, f=-2.0; e=a*b; d=e+c; L=d*f"


def test_the_lectures_expression_gives_its_values_and_grads():
    expr = parse(LECTURE)
    v = expr.names
    assert list(v) == ["a", "b", "c", "f", "e", "d", "L"]
    assert expr.root is v["L"] and expr.root.data == -8.0
    assert (v["e"].data, v["d"].data) == (-6.0, 4.0)
    assert list(expr.leaves) == ["a", "b", "c", "f"]
    expr.root.backward()
    grads = {name: node.grad for name, node in v.items()}
    assert grads == {"a": 6.0, "b": -4.0, "c": -2.0, "f": 4.0, "e": -2.0, "d": -2.0, "L": 1.0}


def test_the_graph_is_unfused_and_every_named_node_carries_its_name():
    expr = parse("x1=2.0; x2=0.0; w1=-3.0; w2=1.0; b=6.88; n=x1*w1 + x2*w2 + b; o=n.tanh()")
    order = topological_order(expr.root)
    ops = [node._op for node in order]
    assert sorted(op for op in ops if op) == ["*", "*", "+", "+", "tanh"]  # one node per op
    assert {node.label for node in order} >= {"x1", "x2", "w1", "w2", "b", "n", "o"}
    assert all(node.label for node in order if not node._prev)  # every leaf is named
    assert expr.names["n"]._op == "+" and expr.names["o"]._op == "tanh"


def test_functions_both_spellings_powers_and_constants():
    expr = parse("a=0.5, b=2.0; y=tanh(a)*a.exp() + relu(-a) - log(b)/sigmoid(a) + a**2 + b**a")
    order = topological_order(expr.root)
    ops = {node._op for node in order}
    assert ops >= {"tanh", "exp", "relu", "neg", "log", "sigmoid", "/", "**2", "pow", "-"}
    constants = [n for n in order if not n._prev and n.label not in ("a", "b")]
    assert constants == []  # `**2` keeps its exponent in the op, `-a` is a neg node
    assert parse("a=2; out=3*a").root.data == 6.0
    three = [n for n in topological_order(parse("a=2; y=3*a").root) if n.label == "3"]
    assert len(three) == 1 and three[0].data == 3.0  # a constant is a leaf labelled by its text


def test_a_last_expression_without_a_name_is_out():
    expr = parse("a=2\nb=3\na*b")
    assert expr.root.label == "out" and expr.root.data == 6.0


# Each bad input, the column (1-based) the message must name, and a word it must contain.
BAD = [
    ("", 1, "empty"),
    ("a=2; b=x*2", 8, "not defined"),
    ("a=2; b=__import__('os').system('true')", 8, "not a function"),
    ("a=2; b=a.__class__", 8, "attribute"),
    ("a=2; b=a[0]", 8, "indexing"),
    ("a=2; b=a==a", 8, "comparison"),
    ("a=2; b = a if a else a", 10, "if/else"),
    ("a=2; b=(a", 8, "never closed"),
    ("a=2; a=3", 6, "defined twice"),
    ("tanh=3", 1, "function"),
    ("2a=3", 1, "not a name"),
    ("a=2; b=tanh(a, a)", 8, "one argument"),
    ("a=2; b=lambda: a", 8, "lambda"),
    ("a=-1; b=log(a)", 9, "> 0"),
    ("a=0; b=1/a", 8, "division by zero"),
    ("a=-2; b=3; c=a**b", 14, "base > 0"),
    ("a=1e999", 3, "too large"),
    ("a=2; b=", 8, "missing"),
    ("=3", 1, "name is missing"),
    ("a=2 b=3", 5, "cannot read"),
    ("a=2; b=a", 8, "renames"),
    ("a=2; b=a; c=1", 8, "renames"),
    ("a=2; a*2; c=a", 6, "name = expression"),
    ("a=\u00e9", 3, "not allowed"),
    ("a=2; b=[a]", 8, "list"),
    ("a=2; b=[a, a]; c=3", 8, "list"),  # a comma inside brackets does not end the statement
    ("a=2; b=" + "-" * 250 + "a", None, "nested"),
    ("a=2; b=" + "+".join(["a*a"] * (MAX_NODES // 2 + 1)), None, "nodes"),
    ("a" * 3000, None, "longer than"),
]


@pytest.mark.parametrize(("text", "column", "word"), BAD, ids=[repr(b[0][:20]) for b in BAD])
def test_every_bad_input_is_one_line_naming_its_column(text, column, word, monkeypatch):
    monkeypatch.setattr(builtins, "eval", None)  # parsing never evaluates Python
    monkeypatch.setattr(builtins, "exec", None)
    with pytest.raises(ExprError) as info:
        parse(text)
    message = str(info.value)
    assert "\n" not in message and word in message
    found = re.match(r"column (\d+): ", message)
    assert found, message
    if column is not None:
        assert int(found.group(1)) == column, message


def test_a_bad_input_on_a_later_line_names_line_and_column():
    with pytest.raises(ExprError, match=r"^line 3, column 3: 'z' is not defined"):
        parse("a=2\nb=a*3\nc=z+1")


# -- property: any expression built from the allowed ops backpropagates like the engine -------

LEAF_VALUES = st.floats(min_value=0.2, max_value=2.0)


@st.composite
def expressions(draw) -> str:
    """A random expression text over leaves a, b, c (all positive: log and pow are defined)."""
    terms = ["a", "b", "c"]
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["+", "-", "*", "/", "**2", "fn", "neg"]))
        x, y = draw(st.sampled_from(terms)), draw(st.sampled_from(terms))
        if kind == "fn":
            terms.append(f"{draw(st.sampled_from(['tanh', 'sigmoid', 'relu']))}({x})")
        elif kind == "neg":
            terms.append(f"(-{x})")
        elif kind == "**2":
            terms.append(f"({x})**2")
        elif kind == "/":
            terms.append(f"({x})/(1+({y})**2)")  # never zero
        else:
            terms.append(f"({x}{kind}{y})")
    return terms[-1]


@settings(max_examples=60, deadline=None)
@given(expressions(), LEAF_VALUES, LEAF_VALUES, LEAF_VALUES)
def test_parsed_graph_grads_match_central_differences(body, a, b, c):
    def value(**leaves: float) -> float:
        text = ", ".join(f"{k}={v!r}" for k, v in leaves.items())
        return parse(f"{text}; out={body}" if body not in "abc" else f"{text}; out={body}*1").root

    leaves = {"a": a, "b": b, "c": c}
    root = value(**leaves)
    root.backward()
    named = {node.label: node for node in topological_order(root) if node.label in leaves}
    h = 1e-6
    for name, node in named.items():
        up = value(**{**leaves, name: leaves[name] + h}).data
        down = value(**{**leaves, name: leaves[name] - h}).data
        assert node.grad == pytest.approx((up - down) / (2 * h), rel=1e-4, abs=1e-5), name
