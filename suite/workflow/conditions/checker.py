"""The allow-list: `compile_condition` parses an expression and refuses, with a readable
`ConditionError`, anything that is not a name, plain value, allowed operator or function call."""

from __future__ import annotations

import ast
import math
from collections.abc import Collection, Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from suite.workflow.conditions.model import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_NODES,
    MAX_NUMBER_CONSTANT,
    MAX_TEXT_CONSTANT,
    Condition,
    ConditionError,
    _line_start,
    _node_position,
)

_UNARY = {ast.Not: "not", ast.USub: "-", ast.UAdd: "+"}
_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Mod: "%"}
_COMPARE = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}
_FORBIDDEN_OPS = {
    ast.Pow: "**",
    ast.FloorDiv: "//",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.MatMult: "@",
    ast.Invert: "~",
    ast.Is: "is",
    ast.IsNot: "is not",
}
_ARITY = {
    "len": (1, 1),
    "abs": (1, 1),
    "round": (1, 2),
    "min": (1, MAX_NODES),
    "max": (1, MAX_NODES),
}


def compile_condition(expr: str, names: Collection[str]) -> Condition:
    """Parse and check `expr` against the allow-list; `names` are the fields and params it may read.

    Raises ConditionError naming the first problem (and its position when known).
    """
    if not isinstance(expr, str):
        raise ConditionError(_l("The condition must be text."), None)
    if not expr.strip():
        raise ConditionError(_l("The condition is empty."), expr)
    if len(expr) > MAX_LENGTH:
        raise ConditionError(
            _l("The condition is longer than %(max)s characters.", max=MAX_LENGTH), expr
        )
    lead = len(expr) - len(expr.lstrip())
    source = expr.strip()
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        if exc.lineno is None or exc.offset is None or "null bytes" in str(exc.msg):
            raise ConditionError(_l("The condition is not a valid expression."), expr) from None
        if exc.offset < 1:  # the parser ran out of input: `amount >`, `not`, `a ==`
            raise ConditionError(
                _l("The condition is incomplete."), expr, lead + len(source)
            ) from None
        pos = lead + min(_line_start(source, exc.lineno) + exc.offset - 1, len(source))
        raise ConditionError(
            _l("Syntax error in the condition at character %(position)s.", position=pos + 1),
            expr,
            pos,
        ) from None
    except (ValueError, MemoryError, RecursionError, OverflowError):
        raise ConditionError(_l("The condition is not a valid expression."), expr) from None
    checker = _Checker(source, frozenset(names))
    try:
        checker.visit(tree.body, 1)
    except ConditionError as exc:
        exc.expression = expr
        if exc.position is not None:
            exc.position += lead
        raise
    return Condition(source, frozenset(checker.used), tree)


class _Checker:
    def __init__(self, source: str, names: frozenset[str]) -> None:
        self.source = source
        self.names = names
        self.used: set[str] = set()
        self.count = 0

    def refuse(self, message: Any, node: ast.AST) -> ConditionError:
        return ConditionError(message, self.source, _node_position(self.source, node))

    def text(self, node: ast.AST) -> str:
        segment = ast.get_source_segment(self.source, node) or type(node).__name__
        return segment if len(segment) <= 40 else segment[:39] + "…"

    def visit(self, node: ast.expr, depth: int, *, list_ok: bool = False) -> None:
        if depth > MAX_DEPTH:
            raise self.refuse(
                _l("The condition is nested too deeply (more than %(max)s levels).", max=MAX_DEPTH),
                node,
            )
        self.tick(node)
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                self.visit(value, depth + 1)
        elif isinstance(node, ast.UnaryOp):
            self.operator(node.op, _UNARY, node)
            self.visit(node.operand, depth + 1)
        elif isinstance(node, ast.BinOp):
            self.operator(node.op, _BINARY, node)
            self.visit(node.left, depth + 1)
            self.visit(node.right, depth + 1)
        elif isinstance(node, ast.Compare):
            self.visit(node.left, depth + 1)
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                self.operator(op, _COMPARE, node)
                self.visit(comparator, depth + 1, list_ok=isinstance(op, ast.In | ast.NotIn))
        elif isinstance(node, ast.Name):
            self.name(node)
        elif isinstance(node, ast.Constant):
            self.constant(node)
        elif isinstance(node, ast.List | ast.Tuple) and list_ok:
            for element in node.elts:
                self.tick(element)
                if isinstance(element, ast.Constant):
                    self.constant(element)
                elif _is_negative_number(element):
                    self.constant(element.operand)
                else:
                    raise self.refuse(_list_message(), element)
        elif isinstance(node, ast.Call):
            self.call(node, depth)
        else:
            raise self.refuse(self.forbidden(node), node)

    def tick(self, node: ast.AST) -> None:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.refuse(
                _l("The condition is too large (more than %(max)s parts).", max=MAX_NODES), node
            )

    def operator(self, op: ast.AST, allowed: Mapping[type, str], node: ast.AST) -> None:
        if type(op) not in allowed:
            symbol = _FORBIDDEN_OPS.get(type(op), type(op).__name__)
            raise self.refuse(
                _l("The operator '%(op)s' is not allowed in a condition.", op=symbol), node
            )

    def name(self, node: ast.Name) -> None:
        if node.id.startswith("_"):
            raise self.refuse(
                _l("Names starting with an underscore are not allowed: %(name)s", name=node.id),
                node,
            )
        if node.id not in self.names or not isinstance(node.ctx, ast.Load):
            raise self.refuse(_l("Unknown name %(name)s in the condition.", name=node.id), node)
        self.used.add(node.id)

    def constant(self, node: ast.Constant) -> None:
        value = node.value
        if value is None or isinstance(value, bool):
            return
        if isinstance(value, int | float):
            if not (math.isfinite(value) and abs(value) <= MAX_NUMBER_CONSTANT):
                raise self.refuse(
                    _l(
                        "Numbers larger than %(max)s are not allowed in a condition.",
                        max=f"{MAX_NUMBER_CONSTANT:,}",
                    ),
                    node,
                )
        elif isinstance(value, str):
            if len(value) > MAX_TEXT_CONSTANT:
                raise self.refuse(
                    _l(
                        "Text in a condition is limited to %(max)s characters.",
                        max=MAX_TEXT_CONSTANT,
                    ),
                    node,
                )
        else:
            raise self.refuse(
                _l(
                    "Only numbers, text, True, False and None can be written as values: %(text)s",
                    text=self.text(node),
                ),
                node,
            )

    def call(self, node: ast.Call, depth: int) -> None:
        allowed = ", ".join(FUNCTIONS)
        if isinstance(node.func, ast.Attribute):
            raise self.refuse(self.forbidden(node.func), node.func)
        if not isinstance(node.func, ast.Name):
            raise self.refuse(
                _l("Only the functions %(allowed)s can be called.", allowed=allowed), node
            )
        name = node.func.id
        if name not in FUNCTIONS:
            raise self.refuse(
                _l(
                    "Unknown function %(name)s; the allowed functions are %(allowed)s.",
                    name=name,
                    allowed=allowed,
                ),
                node,
            )
        if node.keywords:
            raise self.refuse(
                _l(
                    "Keyword arguments are not allowed in a condition: %(text)s",
                    text=self.text(node),
                ),
                node,
            )
        low, high = _ARITY[name]
        if not low <= len(node.args) <= high:
            raise self.refuse(_l("Wrong number of arguments for %(name)s.", name=name), node)
        for arg in node.args:
            self.visit(arg, depth + 1)

    def forbidden(self, node: ast.expr) -> Any:
        text = self.text(node)
        if isinstance(node, ast.Attribute):
            return _l("Attribute access is not allowed in a condition: %(text)s", text=text)
        if isinstance(node, ast.Subscript):
            return _l("Indexing is not allowed in a condition: %(text)s", text=text)
        if isinstance(node, ast.Lambda):
            return _l("Lambda functions are not allowed in a condition.")
        if isinstance(node, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
            return _l("Comprehensions are not allowed in a condition: %(text)s", text=text)
        if isinstance(node, ast.JoinedStr | ast.FormattedValue):
            return _l("Formatted strings (f-strings) are not allowed in a condition.")
        if isinstance(node, ast.NamedExpr):
            return _l("Assignments are not allowed in a condition: %(text)s", text=text)
        if isinstance(node, ast.Starred):
            return _l("Unpacking with * is not allowed in a condition.")
        if isinstance(node, ast.List | ast.Tuple):
            return _list_message()
        return _l("This is not allowed in a condition: %(text)s", text=text)


def _list_message() -> Any:
    return _l("A list may only follow in or not in, and may only hold plain values.")


def _is_negative_number(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub | ast.UAdd)
        and isinstance(node.operand, ast.Constant)
        and type(node.operand.value) in (int, float)
    )
