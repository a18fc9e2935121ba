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

The parts: `model` (the limits, `Condition`, `ConditionError`), `checker` (the allow-list and
`compile_condition`), `evaluator` (`evaluate` with its typed operators and functions), `rows`
(the editor's rows) and `samples` (the values a condition is tried on at publish). Names with a
leading underscore are private to this package.
"""

from suite.workflow.conditions.checker import compile_condition
from suite.workflow.conditions.evaluator import evaluate
from suite.workflow.conditions.model import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_NODES,
    MAX_NUMBER,
    MAX_NUMBER_CONSTANT,
    MAX_TEXT,
    MAX_TEXT_CONSTANT,
    ROW_OPERATORS,
    Condition,
    ConditionError,
)
from suite.workflow.conditions.rows import expression_to_rows, rows_to_expression
from suite.workflow.conditions.samples import sample_values

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_NODES",
    "MAX_NUMBER",
    "MAX_NUMBER_CONSTANT",
    "MAX_TEXT",
    "MAX_TEXT_CONSTANT",
    "ROW_OPERATORS",
    "Condition",
    "ConditionError",
    "compile_condition",
    "evaluate",
    "expression_to_rows",
    "rows_to_expression",
    "sample_values",
]
