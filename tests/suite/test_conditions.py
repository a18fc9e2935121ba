"""Rule expressions for approval routing (WORKFLOW 2.3): the allow-list, evaluation on plain values,
the editor's rows, and a fuzz test that nothing but ConditionError ever comes out."""

from __future__ import annotations

import ast
import datetime as dt
import gc
import time
from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suite.workflow.conditions import (
    MAX_LENGTH,
    Condition,
    ConditionError,
    compile_condition,
    evaluate,
    expression_to_rows,
    rows_to_expression,
    sample_values,
)

FIELDS = {
    "amount": {"type": "money"},
    "title": {"type": "text"},
    "urgency": {"type": "select", "options": ["low", "normal", "high"]},
    "count": {"type": "number"},
    "ok": {"type": "bool"},
    "due": {"type": "date"},
    "owner": {"type": "user"},
    "dept": {"type": "department"},
}
PARAMS = {"finance_threshold": 5000, "gm_threshold": 50000}
NAMES = [*FIELDS, *PARAMS, "empty"]
SAMPLE = {**sample_values(FIELDS), **PARAMS, "empty": None}
INJECTION = "x' or 1 or 'y"


def check(expr: str, **values: object) -> bool:
    return evaluate(compile_condition(expr, NAMES), {**SAMPLE, **values})


def refusal(expr: str, names: list[str] = NAMES) -> ConditionError:
    with pytest.raises(ConditionError) as info:
        compile_condition(expr, names)
    return info.value


# -- what is allowed ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "values", "expected"),
    [
        ("amount > finance_threshold and urgency == 'high'", {"urgency": "high"}, False),
        ("amount > finance_threshold and urgency == 'high'", {"amount": Decimal("6000.00")}, False),
        (
            "amount > finance_threshold and urgency == 'high'",
            {"amount": Decimal("6000.00"), "urgency": "high"},
            True,
        ),
        ("amount > gm_threshold or urgency in ['high', 'normal']", {"urgency": "normal"}, True),
        ("amount >= 1000", {}, True),
        ("amount == 1000", {}, True),
        ("amount == 0.1", {"amount": Decimal("0.10")}, True),  # the float reads as Decimal('0.1')
        ("amount * 1.13 > 1129.99", {}, True),
        ("amount / 3 < 333.34", {}, True),
        ("amount % 300 == 100", {}, True),
        ("-amount < 0 and +count == 1", {}, True),
        ("not ok", {}, False),
        ("count + 2 * 3 == 7", {}, True),
        ("count in (1, 2) and urgency not in ['high']", {}, True),
        ("count in [-1, -2]", {"count": -2}, True),
        ("'amp' in title", {"title": "sample"}, True),
        ("len(title) == 6 and abs(-count) == 1", {}, True),
        ("max(amount, 2000) == 2000 and min(count, 0) == 0", {}, True),
        ("round(amount / 7, 2) == 142.86", {}, True),
        ("round(2.5) == 2", {}, True),
        ("due > due", {}, False),
        ("empty == None and empty != 0", {}, True),
        ("owner == 1 and dept != 2", {}, True),
        ("title + '!' == 'sample!'", {}, True),
        ("1 < count + 1 < 3", {}, True),
    ],
)
def test_conditions_evaluate_on_plain_values(expr, values, expected):
    assert check(expr, **values) is expected


def test_money_is_exact_decimal_arithmetic():
    cond = compile_condition("amount * 3 == 0.3", ["amount"])
    assert evaluate(cond, {"amount": Decimal("0.1")}) is True
    assert evaluate(cond, {"amount": Decimal("0.10")}) is True
    assert evaluate(cond, {"amount": 0.1}) is False  # plain floats stay floats, as in Python


def test_compiled_condition_knows_the_names_it_reads():
    cond = compile_condition("  amount > finance_threshold and len(title) > 0  ", NAMES)
    assert cond.names_used == {"amount", "finance_threshold", "title"}
    assert cond.source == "amount > finance_threshold and len(title) > 0"
    assert cond == Condition(cond.source, cond.names_used)
    assert len({cond, Condition(cond.source, cond.names_used)}) == 1


def test_result_is_always_a_bool():
    assert check("count") is True
    assert check("title and empty") is False


def test_sample_values_have_a_plausible_value_per_type():
    assert SAMPLE["amount"] == Decimal("1000.00")
    assert SAMPLE["count"] == 1
    assert SAMPLE["title"] == "sample"
    assert SAMPLE["urgency"] == "low"
    assert SAMPLE["due"] == dt.date(2026, 1, 1)
    assert SAMPLE["owner"] == 1
    assert SAMPLE["dept"] == 1
    assert SAMPLE["ok"] is True
    assert sample_values({"kind": {"type": "select", "options": [{"value": "a"}]}}) == {"kind": "a"}
    assert sample_values({"x": {"type": "select"}, "y": {"type": "no-such-type"}}) == {
        "x": "",
        "y": None,
    }


# -- what is refused --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        ("a.__class__", "Attribute access"),
        ("title.upper() == 'X'", "Attribute access"),
        ("().__class__.__bases__", "Attribute access"),
        ("__import__('os')", "Unknown function __import__"),
        ("__builtins__", "underscore"),
        ("_private > 1", "underscore"),
        ("open('/etc/passwd')", "Unknown function open"),
        ("eval('1')", "Unknown function eval"),
        ("title[0] == 's'", "Indexing"),
        ("title[1:2]", "Indexing"),
        ("(lambda: 1)()", "Only the functions"),
        ("lambda: 1", "Lambda"),
        ("[c for c in title]", "Comprehensions"),
        ("any(c for c in title)", "Unknown function any"),
        ("{c: 1 for c in title}", "Comprehensions"),
        ("f'{title}' == 'x'", "f-strings"),
        ("(n := 1)", "Assignments are not allowed in a condition: n := 1"),
        ("max(*[1, 2])", "Unpacking"),
        ("max(count, key=len)", "Keyword arguments"),
        ("round()", "Wrong number of arguments for round"),
        ("len(title, title)", "Wrong number of arguments for len"),
        ("nobody > 1", "Unknown name nobody"),
        ("count ** 2 > 1", "'**'"),
        ("count // 2 > 1", "'//'"),
        ("count << 2 > 1", "'<<'"),
        ("count is None", "'is'"),
        ("~count", "'~'"),
        ("count if ok else 2", "not allowed in a condition: count if ok else 2"),
        ("{1: 2}", "not allowed in a condition"),
        ("{1, 2}", "not allowed in a condition"),
        ("count == [1]", "list"),
        ("count in [amount]", "list"),
        ("max([3, 9]) == 9", "list"),
        ("b'x' == title", "Only numbers, text"),
        ("count == 1j", "Only numbers, text"),
        ("10000000000000000 > 1", "Numbers larger than 1,000,000,000,000,000"),
        ("count < 1e300", "Numbers larger than"),
        ("title == '" + "x" * 201 + "'", "limited to 200 characters"),
        ("amount >", "The condition is incomplete."),
        ("not", "The condition is incomplete."),
        ("amount > > 1", "Syntax error in the condition at character"),
        ("amount in [1,", "Syntax error in the condition at character"),
        ("amount > 5; import os", "Syntax error"),
        ("", "empty"),
        ("   ", "empty"),
    ],
)
def test_forbidden_constructs_are_refused_with_a_message_naming_the_problem(expr, problem):
    exc = refusal(expr, [*NAMES, "a", "n"])
    assert problem in str(exc)
    assert exc.expression == expr


def test_non_text_condition_is_refused():
    assert "must be text" in str(refusal(5000))  # type: ignore[arg-type]


def test_too_long_is_refused_before_parsing():
    exc = refusal("count > 1 and " * 40 + "ok")
    assert f"longer than {MAX_LENGTH} characters" in str(exc)
    assert "longer than" in str(refusal("not " * 1000 + "ok"))
    assert "longer than" in str(refusal("(" * 300 + "ok" + ")" * 300))


def test_too_deep_is_refused():
    assert "nested too deeply" in str(refusal("not " * 40 + "ok"))
    assert "nested too deeply" in str(refusal("-(" * 40 + "count" + ")" * 40))
    assert "nested too deeply" in str(refusal("abs(" * 40 + "count" + ")" * 40))
    compile_condition("(" * 100 + "ok" + ")" * 100, NAMES)  # parentheses alone add no depth


def test_too_many_parts_is_refused():
    assert "too large" in str(refusal("count in [" + ",".join(["1"] * 240) + "]"))
    assert "too large" in str(refusal("count" + "<1" * 240))


def test_positions_point_at_the_problem():
    assert refusal("count > 1 and nobody").position == 14
    assert refusal("  count > 1 and nobody").position == 16
    assert refusal("title == '销售部' and x.y").position == 19
    exc = refusal("count > > 1")
    assert exc.position == 8
    assert "at character 9" in str(exc)


def test_unknown_names_depend_on_the_spec():
    assert "Unknown name amount" in str(refusal("amount > 1", ["title"]))
    assert compile_condition("amount > 1", {"amount"}).names_used == {"amount"}


# -- evaluation errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "values", "problem"),
    [
        ("empty > 5", {}, "Cannot use '>' on an empty value and a number"),
        ("title < 5", {}, "Cannot use '<' on a text and a number"),
        ("due > 5", {}, "Cannot use '>' on a date and a number"),
        ("due > stamp", {"stamp": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}, "Cannot use '>'"),
        ("count / 0 > 1", {}, "Division by zero"),
        ("amount % 0 > 1", {}, "Division by zero"),
        ("amount / (count - 1) > 1", {}, "Division by zero"),
        ("title * 1000000000 == ''", {}, "Cannot use '*' on a text and a number"),
        ("'%999999999d' % count == ''", {}, "Cannot use '%' on a text and a number"),
        ("title - title == ''", {}, "Cannot use '-' on a text and a text"),
        ("title + title == ''", {"title": "x" * 6000}, "Text in the condition became too long"),
        ("-title == ''", {}, "Cannot use '-' on a text"),
        (
            "count * 1000000000000000 * 1000000000000000 * 1000000000000000 > 1",
            {},
            "A number in the condition became too large",
        ),
        ("round(count, -1000000000000000) == 0", {}, "Function round cannot be used"),
        ("round(count, 1.5) == 0", {}, "Function round cannot be used"),
        ("len(count) == 1", {}, "Function len cannot be used"),
        ("abs(title) == 1", {}, "Function abs cannot be used"),
        ("max(title, count) == 1", {}, "Function max cannot be used"),
        ("min('') == 1", {}, "Function min cannot be used"),
        ("count in title", {}, "Cannot use 'in' on a number and a text"),
        ("count not in amount", {}, "Cannot use 'not in' on a number and a number"),
        ("missing > 1", {}, "No value for missing"),
    ],
)
def test_evaluation_errors_become_condition_errors(expr, values, problem):
    cond = compile_condition(expr, [*NAMES, "stamp", "missing"])
    with pytest.raises(ConditionError) as info:
        evaluate(cond, {**SAMPLE, **values})
    assert problem in str(info.value)
    assert info.value.expression == cond.source
    assert info.value.position is not None


def test_short_circuit_skips_the_failing_part():
    assert check("empty != None and empty > 5") is False
    assert check("ok or count / 0 > 1") is True


def test_values_must_be_plain():
    cond = compile_condition("amount > 1", ["amount"])
    with pytest.raises(TypeError):
        evaluate(cond, {"amount": object()})


def test_a_hand_built_condition_is_checked_before_it_runs():
    with pytest.raises(ConditionError, match="Attribute access"):
        evaluate(Condition("title.__class__", frozenset({"title"})), SAMPLE)
    assert evaluate(Condition("count == 1", frozenset({"count"})), SAMPLE) is True


def test_messages_are_translated_when_shown(app):
    exc = refusal("nobody > 1")
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        zh = str(exc)
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        en = str(exc)
    assert en == "Unknown name nobody in the condition."
    assert "nobody" in zh
    assert zh != en
    with pytest.raises(ConditionError) as info:
        check("empty > 5")
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        assert "an empty value" not in str(info.value)


# -- the editor's rows ------------------------------------------------------------------------

ROWS = [
    {"field": "amount", "op": ">", "value": "5000", "join": "and"},
    {"field": "urgency", "op": "==", "value": "high", "join": "and"},
    {"field": "title", "op": "==", "value": INJECTION, "join": "or"},
    {"field": "urgency", "op": "not in", "value": "low, normal", "join": "and"},
    {"field": "count", "op": "<=", "value": "-3.5", "join": "and"},
]


def test_rows_write_the_expression():
    expr = rows_to_expression(ROWS)
    assert expr == (
        "amount > 5000 and urgency == 'high' or "
        "title == \"x' or 1 or 'y\" and urgency not in ['low', 'normal'] and count <= -3.5"
    )
    assert expression_to_rows(expr) == ROWS


def test_injection_value_stays_one_string_literal():
    for value in (INJECTION, 'a" or 1 or "b', "x'\"\\' or 1 #", "'); __import__('os') #"):
        expr = rows_to_expression([{"field": "title", "op": "==", "value": value}])
        cond = compile_condition(expr, NAMES)
        assert cond.names_used == {"title"}
        tree = ast.parse(expr, mode="eval").body
        assert isinstance(tree, ast.Compare)
        assert tree.comparators[0].value == value  # type: ignore[attr-defined]
        assert evaluate(cond, {"title": value}) is True
        assert evaluate(cond, {"title": "y"}) is False
        assert expression_to_rows(expr) == [
            {"field": "title", "op": "==", "value": value, "join": "and"}
        ]


@pytest.mark.parametrize(
    "expr",
    [
        "amount > 5000",
        "amount >= 5000.5 and urgency == 'high'",
        "urgency in ['high', 'normal'] or amount < -1",
        "title != '5000 yuan' or ok == True or empty == None",
        "count in []",
        "title == '销售部'",
        "a == 1 or b == 2 or c == 3 and d == 4",
    ],
)
def test_simple_expressions_round_trip_through_rows(expr):
    rows = expression_to_rows(expr)
    assert rows is not None
    assert rows_to_expression(rows) == expr


@pytest.mark.parametrize(
    "expr",
    [
        "amount > finance_threshold",  # name against name
        "amount + 1 > 5",
        "a and (b == 1 or c == 2)",
        "not a == 1",
        "1 < a < 3",
        "a == 1 and",
        "len(title) > 3",
        "title == '5000'",  # would come back as the number 5000
        "x in ['a,b']",  # the comma would split the item
        "title == ' padded '",  # the input box strips
        "x in [y]",
        "x == 1e20",
    ],
)
def test_expressions_rows_cannot_say_exactly_return_none(expr):
    assert expression_to_rows(expr) is None


def test_rows_follow_field_types_when_given():
    fields = {"code": {"type": "text"}, "amount": {"type": "money"}}
    rows = [
        {"field": "code", "op": "==", "value": "5000"},
        {"field": "amount", "op": "in", "value": ["1", 2, Decimal("2.50")], "join": "or"},
    ]
    expr = rows_to_expression(rows, fields)
    assert expr == "code == '5000' or amount in [1, 2, 2.50]"
    assert rows_to_expression(rows) == "code == 5000 or amount in [1, 2, 2.50]"
    assert expression_to_rows("code == '5000'", fields) == [
        {"field": "code", "op": "==", "value": "5000", "join": "and"}
    ]
    assert rows_to_expression([{"field": "x", "op": "==", "value": "007"}]) == "x == '007'"
    assert rows_to_expression([{"field": "x", "op": "==", "value": Decimal("NaN")}]) == "x == 'NaN'"
    assert rows_to_expression([{"field": "x", "op": "==", "value": None}]) == "x == None"


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({"field": "a.b", "op": "==", "value": "1"}, "Not a valid field name"),
        ({"field": "__class__", "op": "==", "value": "1"}, "Not a valid field name"),
        ({"field": "x or 1", "op": "==", "value": "1"}, "Not a valid field name"),
        ({"field": "x", "op": "is", "value": "1"}, "The operator 'is'"),
        ({"field": "x", "op": "== 1 or x", "value": "1"}, "The operator"),
        ({"field": "x", "op": "==", "value": "1", "join": "xor"}, "joined with and or or"),
    ],
)
def test_bad_rows_are_refused(row, problem):
    with pytest.raises(ConditionError, match=problem):
        rows_to_expression([row])


# -- fuzz -------------------------------------------------------------------------------------

# Two grammars: one of the allowed constructs only (these mostly compile and reach evaluation),
# one that mixes in every forbidden construct.
ALLOWED_BINARY = [" and ", " or ", " + ", " - ", " * ", " / ", " % ", " == ", " != ", " < "]
ALLOWED_BINARY += [" <= ", " > ", " >= ", " in ", " not in "]
FORBIDDEN_BINARY = [" ** ", " // ", " << ", " & ", " is ", " if 1 else ", " @ "]
GOOD_ATOMS = st.one_of(
    st.sampled_from(NAMES),
    st.integers(-1000, 10**6).map(str),
    st.floats(-1e6, 1e6).map(repr),
    st.text(max_size=12).map(repr),
    st.sampled_from(["True", "False", "None", "0", "['high', 'low']", "(1, 2.5, None)"]),
)
BAD_ATOMS = st.one_of(
    st.sampled_from(["nobody", "__class__", "_x", "len", "open", "b'x'", "1j", "...", "{}"]),
    st.integers(-(10**17), 10**17).map(str),
    st.floats().map(repr),
    st.text(max_size=210).map(repr),
)


def _allowed(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, st.sampled_from(ALLOWED_BINARY), inner).map(
            lambda t: f"({t[0]}{t[1]}{t[2]})"
        ),
        st.tuples(st.sampled_from(["not ", "-", "+"]), inner).map(lambda t: f"({''.join(t)})"),
        st.tuples(
            st.sampled_from(["len", "abs", "min", "max", "round"]), st.lists(inner, max_size=3)
        ).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.tuples(inner, st.lists(GOOD_ATOMS, max_size=4)).map(
            lambda t: f"({t[0]} in [{', '.join(t[1])}])"
        ),
    )


def _any(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        _allowed(inner),
        st.tuples(inner, st.sampled_from(FORBIDDEN_BINARY), inner).map(
            lambda t: f"({t[0]}{t[1]}{t[2]})"
        ),
        st.tuples(
            st.sampled_from(["open", "__import__", "getattr", ""]), st.lists(inner, max_size=2)
        ).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.tuples(inner, st.sampled_from(["__class__", "real", "upper()"])).map(
            lambda t: f"({t[0]}).{t[1]}"
        ),
        st.tuples(inner, inner).map(lambda t: f"({t[0]})[{t[1]}]"),
        inner.map(lambda x: f"(lambda: {x})"),
        inner.map(lambda x: f"[v for v in {x}]"),
        inner.map(lambda x: f"f'{{{x}}}'"),
        inner.map(lambda x: f"(w := {x})"),
        inner.map(lambda x: f"max(*{x})"),
        inner.map(lambda x: f"max({x}, key=len)"),
        inner.map(lambda x: f"(~{x})"),
    )


ALLOWED_EXPRESSIONS = st.recursive(GOOD_ATOMS, _allowed, max_leaves=20)
ANY_EXPRESSIONS = st.recursive(st.one_of(GOOD_ATOMS, BAD_ATOMS), _any, max_leaves=20)
PYTHONISH = st.text(
    alphabet="abcdeflmnotux_ 0123456789()[]{}.,:'\"+-*/%<>=!~&|^@#\\\n", max_size=80
)
ALLOWED_NODES = {
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
    ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Mod, ast.Compare, ast.Eq, ast.NotEq,
    ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Name, ast.Load, ast.Constant,
    ast.List, ast.Tuple, ast.Call,
}  # fmt: skip
SLOW = 0.1  # seconds; a call takes about a millisecond, this only catches blow-ups


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    """fn's result (or the ConditionError's message) and its time, without garbage collection:
    hypothesis piles up objects and a full collection can take longer than the call itself."""
    was_enabled = gc.isenabled()
    gc.disable()
    started = time.perf_counter()
    try:
        result = fn()
    except ConditionError as exc:
        result = ConditionError, str(exc)
    finally:
        elapsed = time.perf_counter() - started
        if was_enabled:
            gc.enable()
    return result, elapsed


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    st.one_of(ALLOWED_EXPRESSIONS, ANY_EXPRESSIONS, PYTHONISH, st.text(max_size=MAX_LENGTH + 20))
)
def test_fuzz_only_condition_errors_come_out_and_quickly(expr):
    cond, elapsed = timed(lambda: compile_condition(expr, NAMES))
    assert elapsed < SLOW, expr
    if not isinstance(cond, Condition):
        assert cond[0] is ConditionError and cond[1], expr  # type: ignore[index]
        return
    tree = ast.parse(cond.source, mode="eval")
    assert {type(node) for node in ast.walk(tree)} <= ALLOWED_NODES, expr
    assert all(not node.id.startswith("_") for node in ast.walk(tree) if isinstance(node, ast.Name))
    result, elapsed = timed(lambda: evaluate(cond, SAMPLE))
    assert elapsed < SLOW, expr
    assert isinstance(result, bool) or (result[0] is ConditionError and result[1]), expr  # type: ignore[index]
