"""The admin editor's field / operator / value rows: written as an expression, and read back
from one when the rows can say it exactly."""

from __future__ import annotations

import ast
import keyword
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l

from suite.workflow.conditions.checker import _COMPARE, _is_negative_number
from suite.workflow.conditions.model import MAX_LENGTH, ROW_OPERATORS, ConditionError

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
