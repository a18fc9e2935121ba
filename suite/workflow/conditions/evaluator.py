"""`evaluate`: a checked condition run by simpleeval with our own operators and functions.

Each operator checks its operand types, numbers and text stay bounded, and a float meeting a
Decimal becomes that Decimal; every failure is a `ConditionError`.
"""

from __future__ import annotations

import ast
import datetime as dt
import decimal
import math
import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from simpleeval import SimpleEval

from suite.workflow.conditions.checker import compile_condition
from suite.workflow.conditions.model import (
    MAX_NUMBER,
    MAX_TEXT,
    Condition,
    ConditionError,
    _node_position,
)

_PLAIN = (type(None), bool, int, float, Decimal, str, dt.date)
_NUMBER = (int, float, Decimal)  # bool is an int, as in Python


def evaluate(cond: Condition, values: Mapping[str, object]) -> bool:
    """True when the condition holds for `values`: plain Decimal, int, str, bool, None, date.

    Raises ConditionError when it cannot be evaluated (a missing value, `None > 5`, a division by
    zero, a number or text grown too large). A Condition built by hand is checked first.
    Passing something other than a plain value is a programming error (TypeError).
    """
    tree = (
        cond.tree if cond.tree is not None else compile_condition(cond.source, cond.names_used).tree
    )
    assert tree is not None
    for name in cond.names_used:
        if name in values and not _is_plain(values[name]):
            raise TypeError(f"condition value {name!r} is a {type(values[name]).__name__}")
    with decimal.localcontext(decimal.Context()):
        evaluator = _Evaluator(values)
        try:
            return bool(evaluator.eval(cond.source, previously_parsed=tree.body))
        except ConditionError:
            raise
        except Exception as exc:  # bool() of an odd value
            raise ConditionError(_could_not(), cond.source) from exc


def _is_plain(value: object) -> bool:
    if isinstance(value, list | tuple):
        return all(isinstance(v, _PLAIN) for v in value)
    return isinstance(value, _PLAIN)


def _could_not() -> Any:
    return _l("The condition could not be evaluated.")


class _Evaluator(SimpleEval):
    """simpleeval restricted to the allow-listed nodes, our operators and functions."""

    def __init__(self, values: Mapping[str, object]) -> None:
        super().__init__(operators=dict(_OPERATORS), functions=dict(_FUNCTIONS), names=dict(values))
        self.nodes = {
            kind: handler
            for kind, handler in self.nodes.items()
            if kind
            in (ast.Name, ast.UnaryOp, ast.BinOp, ast.BoolOp, ast.Compare, ast.Call, ast.Constant)
        }
        self.nodes[ast.List] = self.nodes[ast.Tuple] = self._eval_sequence

    def _eval(self, node: ast.AST) -> Any:
        try:
            return super()._eval(node)
        except ConditionError as exc:
            if exc.position is None:
                exc.position = _node_position(self.expr, node)
            exc.expression = exc.expression or self.expr
            raise
        except Exception as exc:  # simpleeval's own refusals, odd values: one readable error
            raise ConditionError(_could_not(), self.expr, _node_position(self.expr, node)) from exc

    def _eval_sequence(self, node: ast.List | ast.Tuple) -> list[Any]:
        return [self._eval(element) for element in node.elts]

    def _eval_name(self, node: ast.Name) -> Any:
        try:
            return self.names[node.id]
        except KeyError:
            raise ConditionError(_l("No value for %(name)s.", name=node.id)) from None


def _kind(value: object) -> Any:
    if value is None:
        return _l("an empty value")
    if isinstance(value, bool):
        return _l("a yes/no value")
    if isinstance(value, _NUMBER):
        return _l("a number")
    if isinstance(value, str):
        return _l("a text")
    if isinstance(value, dt.date):
        return _l("a date")
    if isinstance(value, list | tuple):
        return _l("a list")
    return _l("a value")


def _cannot(symbol: str, left: object, right: object) -> ConditionError:
    return ConditionError(
        _l(
            "Cannot use '%(op)s' on %(left)s and %(right)s.",
            op=symbol,
            left=_kind(left),
            right=_kind(right),
        )
    )


def _coerce(a: Any, b: Any) -> tuple[Any, Any]:
    """A float meeting a Decimal becomes the Decimal it reads as (0.1 -> Decimal('0.1'))."""
    if isinstance(a, Decimal) and isinstance(b, float):
        return a, Decimal(repr(b))
    if isinstance(a, float) and isinstance(b, Decimal):
        return Decimal(repr(a)), b
    return a, b


def _bounded(value: Any) -> Any:
    if isinstance(value, Decimal):
        too_large = not value.is_finite() or abs(value) > MAX_NUMBER
    elif isinstance(value, float):
        too_large = not math.isfinite(value) or abs(value) > MAX_NUMBER
    else:
        too_large = isinstance(value, int) and abs(value) > MAX_NUMBER
    if too_large:
        raise ConditionError(_l("A number in the condition became too large."))
    return value


def _is_number(value: object) -> bool:
    return isinstance(value, _NUMBER)


def _ordering(fn: Callable[[Any, Any], bool], symbol: str) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        a, b = _coerce(a, b)
        same = (
            (_is_number(a) and _is_number(b))
            or (isinstance(a, str) and isinstance(b, str))
            or (isinstance(a, dt.date) and isinstance(b, dt.date))
        )
        if not same:
            raise _cannot(symbol, a, b)
        try:
            return fn(a, b)
        except TypeError:  # a date against a datetime
            raise _cannot(symbol, a, b) from None

    return compare


def _equal(a: Any, b: Any) -> bool:
    a, b = _coerce(a, b)
    return bool(a == b)


def _contains(item: Any, container: Any, symbol: str = "in") -> bool:
    if isinstance(container, str) and isinstance(item, str):
        return item in container
    if isinstance(container, list | tuple):
        return any(_equal(item, element) for element in container)
    raise _cannot(symbol, item, container)


def _arithmetic(fn: Callable[[Any, Any], Any], symbol: str) -> Callable[[Any, Any], Any]:
    def apply(a: Any, b: Any) -> Any:
        a, b = _coerce(a, b)
        if symbol == "+" and isinstance(a, str) and isinstance(b, str):
            if len(a) + len(b) > MAX_TEXT:
                raise ConditionError(_l("Text in the condition became too long."))
            return a + b
        if not (_is_number(a) and _is_number(b)):
            raise _cannot(symbol, a, b)
        if symbol in "/%" and b == 0:
            raise ConditionError(_l("Division by zero in the condition."))
        return _bounded(fn(a, b))

    return apply


def _unary(fn: Callable[[Any], Any], symbol: str) -> Callable[[Any], Any]:
    def apply(a: Any) -> Any:
        if not _is_number(a):
            raise ConditionError(_l("Cannot use '%(op)s' on %(value)s.", op=symbol, value=_kind(a)))
        return fn(a)

    return apply


_OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: _arithmetic(operator.add, "+"),
    ast.Sub: _arithmetic(operator.sub, "-"),
    ast.Mult: _arithmetic(operator.mul, "*"),
    ast.Div: _arithmetic(operator.truediv, "/"),
    ast.Mod: _arithmetic(operator.mod, "%"),
    ast.Eq: _equal,
    ast.NotEq: lambda a, b: not _equal(a, b),
    ast.Lt: _ordering(operator.lt, "<"),
    ast.LtE: _ordering(operator.le, "<="),
    ast.Gt: _ordering(operator.gt, ">"),
    ast.GtE: _ordering(operator.ge, ">="),
    ast.In: _contains,
    ast.NotIn: lambda a, b: not _contains(a, b, "not in"),
    ast.Not: operator.not_,
    ast.USub: _unary(operator.neg, "-"),
    ast.UAdd: _unary(operator.pos, "+"),
}


def _function_error(name: str) -> ConditionError:
    return ConditionError(_l("Function %(name)s cannot be used with these values.", name=name))


def _len(value: Any) -> int:
    if not isinstance(value, str | list | tuple):
        raise _function_error("len")
    return len(value)


def _abs(value: Any) -> Any:
    if not _is_number(value):
        raise _function_error("abs")
    return abs(value)


def _extreme(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    def pick(*args: Any) -> Any:
        items = args[0] if len(args) == 1 else args
        if not isinstance(items, str | list | tuple) or not items:
            raise _function_error(name)
        try:
            return fn(items)
        except (TypeError, ArithmeticError):
            raise _function_error(name) from None

    return pick


def _round(value: Any, digits: Any = None) -> Any:
    if not _is_number(value) or not (digits is None or (type(digits) is int and abs(digits) <= 15)):
        raise _function_error("round")
    _bounded(value)
    return round(value) if digits is None else round(value, digits)


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": _len,
    "abs": _abs,
    "min": _extreme(min, "min"),
    "max": _extreme(max, "max"),
    "round": _round,
}
