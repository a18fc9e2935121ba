"""Rule expressions for approval routing (WORKFLOW 2.3), e.g. `amount > finance_threshold`.

A condition is a Python expression checked against an AST allow-list before simpleeval ever sees
it: names, numbers, text, comparisons, `and/or/not`, `+ - * / %`, `in` with literal lists and the
functions `len abs min max round`. Everything else (attributes, subscripts, dunders, lambdas,
comprehensions, f-strings, assignments, keyword arguments, more than 500 characters, 32 levels
or 200 parts) is refused with a `ConditionError` an admin can read.

Evaluation is just as strict: operators check their operand types (no `"a" * 10**9`, no `%`
string formatting), numbers stay below 10**30 and text below 10,000 characters, and a Decimal
meeting a float turns the float into a Decimal, so money compares and computes exactly. Any
failure is a `ConditionError`. The engine evaluates every condition on `sample_values()` when a
process is published, where a failure is a publish error; at run time a failing case counts as
"not taken" and the decision moves on to the next case or the default.

The admin editor's field/operator/value rows are the same strings (`rows_to_expression`);
`expression_to_rows` reads them back, or returns None when the text is more than rows can say.
"""

from __future__ import annotations

import ast
import datetime as dt
import decimal
import keyword
import math
import operator
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from simpleeval import SimpleEval

MAX_LENGTH = 500
MAX_DEPTH = 32
MAX_NODES = 200
MAX_TEXT_CONSTANT = 200
MAX_NUMBER_CONSTANT = 10**15
MAX_NUMBER = 10**30  # any intermediate result; keeps int arithmetic and round() cheap
MAX_TEXT = 10_000  # any intermediate text
FUNCTIONS = ("len", "abs", "min", "max", "round")
ROW_OPERATORS = ("==", "!=", ">", ">=", "<", "<=", "in", "not in")

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
_PLAIN = (type(None), bool, int, float, Decimal, str, dt.date)
_NUMBER = (int, float, Decimal)  # bool is an int, as in Python


class ConditionError(ValueError):
    """A condition is refused or cannot be evaluated; `str()` is a sentence for the admin.

    `position` is the 0-based character offset in `expression` where the problem is, if known.
    """

    def __init__(
        self, message: Any, expression: str | None = None, position: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.expression = expression
        self.position = position


@dataclass(frozen=True)
class Condition:
    """A checked expression: `source` (stripped), the names it reads and its checked tree.

    Conditions are stored as their source; one built by hand (no tree) is checked again by
    `evaluate`, with `names_used` as the names it may read.
    """

    source: str
    names_used: frozenset[str]
    tree: ast.Expression | None = field(default=None, repr=False, compare=False)


# --- compiling -------------------------------------------------------------------------------


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


def _line_start(source: str, lineno: int) -> int:
    """Character offset of line `lineno` (1-based), splitting lines the way the tokenizer does."""
    start = 0
    for match in re.finditer(r"\r\n|\r|\n", source):
        if lineno <= 1:
            break
        start, lineno = match.end(), lineno - 1
    return start


def _node_position(source: str, node: ast.AST) -> int | None:
    lineno, col = getattr(node, "lineno", None), getattr(node, "col_offset", None)
    if lineno is None or col is None:
        return None
    start = _line_start(source, lineno)
    return start + len(source[start:].encode()[:col].decode(errors="ignore"))


# --- evaluating ------------------------------------------------------------------------------


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


# --- the editor's rows -----------------------------------------------------------------------

_ROW_AST = {symbol: kind for kind, symbol in _COMPARE.items()}
_NUMERIC = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
_QUOTED_TYPES = ("text", "select")  # never read as a number, even when the value looks like one


def rows_to_expression(
    rows: list[dict[str, Any]], fields: Mapping[str, Mapping[str, Any]] | None = None
) -> str:
    """The expression for the editor's rows `{"field", "op", "value", "join"}`.

    `join` ("and"/"or") ties a row to the rows before it; `and` binds tighter, as in the text,
    so `A and B or C` means (A and B) or C. Values that read as numbers (or True/False/None) are
    written bare unless `fields` says the field is text or select; everything else becomes one
    quoted string literal. For `in`/`not in` the value is a list or comma-separated text.
    """
    groups: list[list[str]] = []
    for row in rows:
        name = str(row.get("field") or "").strip()
        if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
            raise ConditionError(_l("Not a valid field name: %(name)s", name=name))
        op = " ".join(str(row.get("op") or "").split()).lower()
        if op not in ROW_OPERATORS:
            raise ConditionError(_l("The operator '%(op)s' is not allowed in a condition.", op=op))
        join = str(row.get("join") or "and").strip().lower()
        if join not in ("and", "or"):
            raise ConditionError(_l("Rows can only be joined with and or or."))
        quote = ((fields or {}).get(name) or {}).get("type") in _QUOTED_TYPES
        value = row.get("value")
        if op in ("in", "not in"):
            if isinstance(value, list | tuple):
                items = list(value)
            else:
                items = [part.strip() for part in str(value or "").split(",") if part.strip()]
            literal = "[" + ", ".join(_literal(item, quote) for item in items) + "]"
        else:
            literal = _literal(value, quote)
        term = f"{name} {op} {literal}"
        if not groups or join == "or":
            groups.append([term])
        else:
            groups[-1].append(term)
    return " or ".join(" and ".join(group) for group in groups)


def _literal(value: Any, quote: bool) -> str:
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int | float | Decimal):
        text = format(value, "f") if isinstance(value, Decimal) else repr(value)
        # NaN, inf and 1e+20 are not digits: they stay text rather than become names
        return text if _NUMERIC.fullmatch(text) else str.__repr__(text)
    text = str(value).strip()
    if not quote and (_NUMERIC.fullmatch(text) or text in ("True", "False", "None")):
        return text
    return str.__repr__(text)


def expression_to_rows(
    expr: str, fields: Mapping[str, Mapping[str, Any]] | None = None
) -> list[dict[str, Any]] | None:
    """The rows for `expr`, or None when rows cannot say it exactly (the editor shows the text).

    Rows cover and/or chains of `field op value`; the rows are only returned if writing them
    back gives the same expression.
    """
    if not isinstance(expr, str) or len(expr) > MAX_LENGTH:
        return None
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    body = tree.body
    groups = body.values if isinstance(body, ast.BoolOp) and isinstance(body.op, ast.Or) else [body]
    rows: list[dict[str, Any]] = []
    for g, group in enumerate(groups):
        and_op = isinstance(group, ast.BoolOp) and isinstance(group.op, ast.And)
        for t, term in enumerate(group.values if and_op else [group]):
            row = _row(term)
            if row is None:
                return None
            rows.append({**row, "join": "or" if g and not t else "and"})
    try:
        again = ast.parse(rows_to_expression(rows, fields), mode="eval")
    except (ConditionError, SyntaxError):
        return None
    return rows if _canonical(again) == _canonical(tree) else None


def _row(term: ast.expr) -> dict[str, Any] | None:
    if not (
        isinstance(term, ast.Compare)
        and len(term.ops) == 1
        and isinstance(term.left, ast.Name)
        and type(term.ops[0]) in _COMPARE
    ):
        return None
    op, right = _COMPARE[type(term.ops[0])], term.comparators[0]
    if op in ("in", "not in"):
        if not isinstance(right, ast.List | ast.Tuple):
            return None
        shown = [_shown(element) for element in right.elts]
        if any(item is None or "," in item for item in shown):
            return None
        value = ", ".join(shown)  # type: ignore[arg-type]
    else:
        value = _shown(right)
        if value is None:
            return None
    return {"field": term.left.id, "op": op, "value": value}


def _shown(node: ast.expr) -> str | None:
    """A constant as the editor's input shows it."""
    if _is_negative_number(node):
        inner = _shown(node.operand)  # type: ignore[attr-defined]
        return None if inner is None else ("-" if isinstance(node.op, ast.USub) else "") + inner
    if not isinstance(node, ast.Constant) or not isinstance(node.value, str | int | float | None):
        return None
    return node.value if isinstance(node.value, str) else repr(node.value)


def _canonical(tree: ast.AST) -> str:
    """The tree's dump with tuples read as lists (`x in (1, 2)` is the same rule as `[1, 2]`)."""
    return re.sub(r"\bTuple\(", "List(", ast.dump(tree))


# --- publishing ------------------------------------------------------------------------------

_SAMPLES: dict[str, object] = {
    "money": Decimal("1000.00"),
    "number": 1,
    "text": "sample",
    "date": dt.date(2026, 1, 1),
    "user": 1,
    "department": 1,
    "bool": True,
}


def sample_values(fields: Mapping[str, Mapping[str, Any]]) -> dict[str, object]:
    """A plausible value per field, by type, to check at publish that each condition evaluates.

    A select takes its first option; an unknown type gets None.
    """
    values: dict[str, object] = {}
    for name, spec in fields.items():
        kind = (spec or {}).get("type", "text")
        if kind == "select":
            options = list((spec or {}).get("options") or [])
            first = options[0] if options else ""
            values[name] = first.get("value") if isinstance(first, Mapping) else first
        else:
            values[name] = _SAMPLES.get(kind)
    return values
