"""The float math of micrograd in one place: safe functions, the activations, the op table.

Plain functions of floats, no `Value`: the engine records their derivatives, the library's
float-only forward passes (`MLP.predict`, dead-neuron detection) and the gradient check call
them, and `OPS` lists every op's formula and derivative as a learner reads them (the app shows
it). The engine keeps its hot ops (+, *, dot, relu) inline for speed; `OPS[op].forward` is the
same rule on plain floats. Standard library only.
"""

from __future__ import annotations

import math
from collections import namedtuple
from collections.abc import Callable

Number = int | float


def safe_exp(a: float) -> float:
    """exp(a); overflow gives inf, not an exception."""
    try:
        return math.exp(a)
    except OverflowError:
        return math.inf


def safe_pow(a: float, n: Number) -> float:
    """a ** n; overflow gives inf (-inf for a negative base and an odd n), not an exception."""
    try:
        return a**n
    except OverflowError:
        return math.inf if a > 0 or float(n) % 2 == 0 else -math.inf


def checked_log(a: float) -> float:
    """log(a) for a > 0; ValueError naming the input otherwise."""
    if not a > 0.0:
        raise ValueError(f"log: the input must be > 0, got {a!r}")
    return math.log(a)


def checked_pow(a: float, b: float) -> float:
    """a ** b for a Value exponent b: needs a > 0 (d/db = a**b * log(a)); overflow gives inf."""
    if not a > 0.0:
        raise ValueError(
            f"**: a Value exponent needs a base > 0 (d/db = a**b * log(a)), got base {a!r}; "
            "for a constant exponent write a ** 2.0 with a plain number"
        )
    return safe_pow(a, b)


def checked_div(a: float, b: float) -> float:
    """a / b; ZeroDivisionError naming both operands when b is 0."""
    if b == 0.0:
        raise ZeroDivisionError(f"/: division by zero ({a!r} / {b!r})")
    return a / b


def sigmoid(a: float) -> float:
    """1 / (1 + exp(-a)), computed without overflow for any a."""
    if a >= 0.0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


def softplus(a: float) -> float:
    """log(1 + exp(a)), computed without overflow for any a; NaN stays NaN."""
    if a != a:
        return a
    if a <= 0.0:
        return math.log(1.0 + math.exp(a))
    return a + math.log(1.0 + math.exp(-a))


def relu(a: float) -> float:
    """max(0, a)"""
    return a if a > 0.0 else 0.0


def linear(a: float) -> float:
    """a: the identity (an output layer with no activation)"""
    return a


tanh = math.tanh

# Each activation a layer can have, as a function of floats.
ACTIVATION_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "relu": relu,
    "tanh": tanh,
    "sigmoid": sigmoid,
    "linear": linear,
}


# One op as a learner reads it: its formula, its local derivatives, and (for the ops whose value
# depends on their operands alone) its forward rule on the operands' floats. A namedtuple, not
# typing.NamedTuple: importing typing would add about 1 MiB to every engine user.
Op = namedtuple("Op", ("formula", "derivative", "forward"), defaults=(None,))


# The derivative rules, one entry per op. `a`, `b` are the operands, `out` the result, `n` a
# constant exponent ("**2": one operand); "pow" is `a ** b` with a Value exponent (two
# operands). `**`, `sum` and `dot` need more than their operands (the exponent, folded
# constants), which the gradient check recovers from the recorded node: no forward rule here.
OPS: dict[str, Op] = {
    "+": Op("a + b", "d/da = 1, d/db = 1", lambda xs: xs[0] + xs[1]),
    "-": Op("a - b", "d/da = 1, d/db = -1", lambda xs: xs[0] - xs[1]),
    "*": Op("a * b", "d/da = b, d/db = a", lambda xs: xs[0] * xs[1]),
    "/": Op("a / b", "d/da = 1/b, d/db = -a/b**2", lambda xs: checked_div(xs[0], xs[1])),
    "neg": Op("-a", "d/da = -1", lambda xs: -xs[0]),
    "**": Op("a ** n", "d/da = n * a**(n-1)"),
    "pow": Op(
        "a ** b  (a > 0)",
        "d/da = b * a**(b-1), d/db = a**b * log(a)",
        lambda xs: checked_pow(xs[0], xs[1]),
    ),
    "exp": Op("exp(a)", "d/da = exp(a)", lambda xs: safe_exp(xs[0])),
    "log": Op("log(a)", "d/da = 1/a", lambda xs: checked_log(xs[0])),
    "tanh": Op("tanh(a)", "d/da = 1 - tanh(a)**2", lambda xs: tanh(xs[0])),
    "relu": Op("max(0, a)", "d/da = 1 if a > 0 else 0", lambda xs: relu(xs[0])),
    "sigmoid": Op(
        "1 / (1 + exp(-a))", "d/da = sigmoid(a) * (1 - sigmoid(a))", lambda xs: sigmoid(xs[0])
    ),
    "sum": Op("a1 + a2 + ... + ak", "d/dai = 1"),
    "dot": Op("w1*x1 + ... + wk*xk (+ b)", "d/dwi = xi, d/dxi = wi, d/db = 1"),
}


def op_rule(op: str) -> Op | None:
    """The table's entry for a node's op name; "**2" is the "**" rule with n = 2 written in.
    None for a leaf ("") or an op the table does not know."""
    if op.startswith("**"):
        formula, derivative, _ = OPS["**"]
        n = op[2:]
        return Op(formula.replace("n", n), derivative + f"  (n = {n})")
    return OPS.get(op)
