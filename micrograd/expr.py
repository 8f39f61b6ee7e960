"""The lecture's scratch expressions, parsed safely into an unfused graph of named Values.

    a=2.0, b=-3.0, c=10.0, f=-2.0; e=a*b; d=e+c; L=d*f

Statements are separated by `,`, `;` or new lines; each is `name = expression`, and the last
one is the output (a last statement without `name =` is called `out`). A statement whose
expression is a number (`b = -3.0`) makes a leaf. Expressions use numbers, names defined
earlier, `+ - * / **`, unary `-` and `+`, parentheses, and the functions tanh, exp, relu, log
and sigmoid, called as `tanh(n)` or as the lecture writes them, `n.tanh()`.

Each piece is parsed with `ast` and only the node types above are accepted: nothing is ever
evaluated by Python. The graph is built one `Value` per op (no fused `sum` or `dot`), each
leaf and each named result labelled with its name; a number inside an expression becomes a
constant leaf labelled with its text. Every bad input raises `ExprError`, one line naming the
position (column, 1-based, and the line when the text has several). Standard library only.
"""

from __future__ import annotations

import ast
import keyword
import math
from collections.abc import Callable
from dataclasses import dataclass

from micrograd.engine import Value

__all__ = ["FUNCTIONS", "MAX_LENGTH", "MAX_NODES", "ExprError", "Expression", "parse"]

MAX_LENGTH = 2000  # characters of text
MAX_NODES = 300  # nodes of the graph: a scratch expression is read by a person
MAX_DEPTH = 200  # nesting of one expression (the builder recurses, two frames a level)
FUNCTIONS: dict[str, Callable[[Value], Value]] = {
    "tanh": Value.tanh,
    "exp": Value.exp,
    "relu": Value.relu,
    "log": Value.log,
    "sigmoid": Value.sigmoid,
}
_BINARY: dict[type, Callable[[Value, Value], Value]] = {
    ast.Add: Value.__add__,
    ast.Sub: Value.__sub__,
    ast.Mult: Value.__mul__,
    ast.Div: Value.__truediv__,
}
_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


class ExprError(ValueError):
    """A bad scratch expression: one line, naming where (`column 7: ...`)."""


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its output node and every named node, in the order defined."""

    text: str
    root: Value
    names: dict[str, Value]

    @property
    def leaves(self) -> dict[str, Value]:
        """The named inputs (statements whose expression is a number)."""
        return {name: v for name, v in self.names.items() if not v._prev}


def parse(text: str) -> Expression:
    """Parse `text` (see the module docstring) into a graph; ExprError on any bad input."""
    if len(text) > MAX_LENGTH:
        raise ExprError(f"column {MAX_LENGTH + 1}: the text is longer than {MAX_LENGTH} characters")
    for pos, char in enumerate(text):
        if not (char.isascii() and (char.isprintable() or char in "\n\t")):
            raise ExprError(f"{_where(text, pos)}: {ascii(char)} is not allowed here")
    statements = _split(text)
    if not statements:
        raise ExprError(f"{_where(text, 0)}: empty: write e.g. a=2.0, b=-3.0; c=a*b")
    builder = _Builder(text)
    for k, (start, end) in enumerate(statements):
        root = builder.statement(start, end, last=k == len(statements) - 1)
    return Expression(text, root, dict(builder.names))


def _where(text: str, pos: int) -> str:
    """`column C` (1-based) of character `pos`, with `line L, ` when the text has new lines."""
    pos = max(0, min(pos, len(text)))
    if "\n" not in text:
        return f"column {pos + 1}"
    line = text.count("\n", 0, pos) + 1
    return f"line {line}, column {pos - (text.rfind(chr(10), 0, pos) + 1) + 1}"


def _split(text: str) -> list[tuple[int, int]]:
    """(start, end) of each statement: pieces between `,` `;` or new lines outside brackets,
    blank pieces dropped. Unbalanced parentheses are left for the parser to name."""
    pieces: list[tuple[int, int]] = []
    depth, start = 0, 0
    for pos, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char in ",;\n" and depth <= 0:
            pieces.append((start, pos))
            start, depth = pos + 1, 0
    pieces.append((start, len(text)))
    return [(s, e) for s, e in pieces if text[s:e].strip()]


def _literal(node: ast.expr) -> float | None:
    """The number a node spells (`2`, `-3.0`, `+1e-3`), or None."""
    sign = 1.0
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -sign if isinstance(node.op, ast.USub) else sign
        node = node.operand
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return sign * float(node.value)
    return None


class _Builder:
    """Builds the graph statement by statement; knows the text, to name positions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.names: dict[str, Value] = {}
        self.nodes = 0
        self.offset = 0  # where the expression being built starts in the text

    def fail(self, pos: int, message: str) -> ExprError:
        return ExprError(f"{_where(self.text, pos)}: {message}")

    def at(self, node: ast.AST) -> int:
        """The text position of an ast node of the expression being built (ASCII text only:
        ast's byte offsets are character offsets). Lines count from the expression's start."""
        line, col = getattr(node, "lineno", 1), getattr(node, "col_offset", 0)
        pos = self.offset
        for _ in range(line - 1):
            pos = self.text.index("\n", pos) + 1
        return pos + col

    def statement(self, start: int, end: int, last: bool) -> Value:
        piece = self.text[start:end]
        lead = len(piece) - len(piece.lstrip())
        eq = piece.find("=")
        if eq < 0 or piece[eq + 1 : eq + 2] == "=" or (eq and piece[eq - 1] in "<>!"):
            if not last:
                raise self.fail(start + lead, "expected name = expression, e.g. e = a*b")
            name, name_at, body_at = "out", start + lead, start
        else:
            name = piece[:eq].strip()
            name_at, body_at = start + lead, start + eq + 1
            if not name:
                raise self.fail(start + eq, "a name is missing before =")
            if not name.isidentifier() or keyword.iskeyword(name):
                raise self.fail(name_at, f"{name!r} is not a name (letters, digits, _)")
            if name in FUNCTIONS:
                raise self.fail(name_at, f"{name!r} is a function: choose another name")
            if name in self.names:
                raise self.fail(name_at, f"{name!r} is defined twice")
        body = self.text[body_at:end]
        body_at += len(body) - len(body.lstrip())
        body = body.strip()
        if not body:
            raise self.fail(end, f"an expression is missing after {name} =")
        self.offset = body_at
        tree = self._parse(body, body_at)
        self._check_depth(tree)
        number = _literal(tree)
        if number is not None:
            value = self._number(number, tree)
        else:
            value = self.build(tree)
        if self.names.get(value.label) is value:  # `d = c`: one node cannot have two names
            raise self.fail(
                body_at + len(body) - len(body.lstrip()),
                f"{name} = {value.label} "
                f"only renames {value.label}: use {value.label}, or compute something",
            )
        value.label = name
        self.names[name] = value
        return value

    def _parse(self, body: str, body_at: int) -> ast.expr:
        try:
            module = ast.parse(body, mode="eval")
        except SyntaxError as exc:
            line, col = exc.lineno or 1, (exc.offset or 1) - 1
            pos = body_at
            for _ in range(line - 1):
                pos = self.text.index("\n", pos) + 1
            reason = (exc.msg or "syntax error").split(" (")[0]
            raise self.fail(pos + col, f"cannot read this: {reason}") from None
        except (RecursionError, MemoryError, ValueError):
            raise self.fail(body_at, "too deeply nested") from None
        return module.body

    def _check_depth(self, tree: ast.AST) -> None:
        """Refuse nesting deeper than MAX_DEPTH before building (the builder recurses)."""
        stack = [(tree, 1)]
        while stack:
            node, depth = stack.pop()
            if depth > MAX_DEPTH:
                raise self.fail(self.at(node), f"nested more than {MAX_DEPTH} deep")
            stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))

    def _count(self, where: ast.AST) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(self.at(where), f"more than {MAX_NODES} nodes: keep it small")

    def _number(self, number: float, node: ast.AST) -> Value:
        if not math.isfinite(number):
            raise self.fail(self.at(node), "the number is too large")
        self._count(node)
        text = ast.get_source_segment(self.text[self.offset :], node) or f"{number:g}"
        return Value(number, label=text.strip())

    def build(self, node: ast.expr) -> Value:
        """The Value of one expression node, one graph node per op."""
        number = _literal(node)
        if number is not None:
            return self._number(number, node)
        try:
            return self._build(node)
        except (ValueError, ZeroDivisionError) as exc:
            if isinstance(exc, ExprError):
                raise
            raise self.fail(self.at(node), str(exc)) from None

    def _build(self, node: ast.expr) -> Value:
        if isinstance(node, ast.Name):
            if node.id in self.names:
                return self.names[node.id]
            if node.id in FUNCTIONS:
                raise self.fail(self.at(node), f"{node.id} is a function: call it, {node.id}(x)")
            raise self.fail(self.at(node), f"{node.id!r} is not defined (yet)")
        if isinstance(node, ast.BinOp) and type(node.op) in _SYMBOLS:
            a = self.build(node.left)
            if isinstance(node.op, ast.Pow):
                n = _literal(node.right)
                self._count(node)
                # a constant exponent is the engine's one-operand `**n` node, as `a**2` is
                return a ** (n if n is not None else self.build(node.right))
            b = self.build(node.right)
            self._count(node)
            return _BINARY[type(node.op)](a, b)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            a = self.build(node.operand)
            if isinstance(node.op, ast.UAdd):
                return a
            self._count(node)
            return -a
        if isinstance(node, ast.Call):
            return self._call(node)
        raise self.fail(self.at(node), f"{_describe(node)} is not allowed here")

    def _call(self, node: ast.Call) -> Value:
        func = node.func
        if isinstance(func, ast.Attribute):  # n.tanh(), as the lecture writes it
            name, args = func.attr, [func.value, *node.args]
        elif isinstance(func, ast.Name):
            name, args = func.id, list(node.args)
        else:
            raise self.fail(self.at(func), "only tanh, exp, relu, log, sigmoid can be called")
        if name not in FUNCTIONS:
            allowed = ", ".join(FUNCTIONS)
            raise self.fail(self.at(node), f"{name!r} is not a function here (only {allowed})")
        if node.keywords or len(args) != 1:
            raise self.fail(self.at(node), f"{name} takes one argument, e.g. {name}(x)")
        a = self.build(args[0])
        self._count(node)
        return FUNCTIONS[name](a)


def _describe(node: ast.AST) -> str:
    """How an error names a construct that is not allowed."""
    if isinstance(node, ast.BinOp):
        op = type(node.op).__name__
        return f"the operator {op}"
    if isinstance(node, ast.Constant):
        return f"the value {node.value!r}"
    return {
        ast.Compare: "a comparison",
        ast.BoolOp: "and/or",
        ast.Attribute: "an attribute",
        ast.Subscript: "indexing",
        ast.Lambda: "lambda",
        ast.IfExp: "if/else",
        ast.Name: "a name",
        ast.Tuple: "a tuple",
        ast.List: "a list",
    }.get(type(node), type(node).__name__)
