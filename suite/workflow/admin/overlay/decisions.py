"""A decision's section: each case's condition as editor rows or as text, checked on samples."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _

from suite.workflow import conditions
from suite.workflow.admin.overlay.forms import MAX_ROWS, Errors, FormData, to_int
from suite.workflow.admin.overlay.spec import field_specs


def case_values(
    template_node: Mapping[str, Any], node: Mapping[str, Any], spec: Mapping[str, Any], locale: str
) -> list[dict[str, Any]]:
    """One entry per template case: its target, and the condition as rows or as text."""
    fields = field_specs(spec)
    current = list(node.get("cases") or ())
    out = []
    for i, case in enumerate(template_node.get("cases") or ()):
        when = str((current[i] if i < len(current) else case).get("when", ""))
        rows = conditions.expression_to_rows(when, fields)
        out.append(
            {
                "next": case.get("next"),
                "as": "rows" if rows else "text",
                "when": when,
                "rows": [*(rows or []), blank_row()],
            }
        )
    return out


def blank_row() -> dict[str, str]:
    return {"join": "and", "field": "", "op": "==", "value": ""}


def parse_cases(
    template_node: Mapping[str, Any], spec: Mapping[str, Any], form: FormData
) -> tuple[dict[str, Any], list[dict[str, Any]], Errors]:
    """(the decision's overlay entry, case form values, errors) for a posted decision form."""
    fields = field_specs(spec)
    names = set(fields) | set(spec.get("params") or {})
    sample = {**conditions.sample_values(fields), **(spec.get("params") or {})}
    errors = Errors()
    cases: list[dict[str, Any]] = []
    values: list[dict[str, Any]] = []
    for i, case in enumerate(template_node.get("cases") or ()):
        key = f"case-{i}"
        mode = "rows" if form.get(f"{key}-as") == "rows" else "text"
        rows = []
        for j in range(min(to_int(form.get(f"{key}-rows")) or 0, MAX_ROWS)):
            row = {k: str(form.get(f"{key}-row-{j}-{k}", "")).strip() for k in blank_row()}
            if row["field"]:
                rows.append(row)
        when = str(form.get(f"{key}-when", "")).strip()
        try:
            if mode == "rows":
                if not rows:
                    raise conditions.ConditionError(_("Add at least one condition row."))
                when = conditions.rows_to_expression(rows, fields)
            conditions.evaluate(conditions.compile_condition(when, names), sample)
        except conditions.ConditionError as exc:
            errors.add(key, str(exc))
        values.append(
            {"next": case.get("next"), "as": mode, "when": when, "rows": [*rows, blank_row()]}
        )
        cases.append({"when": when, "next": case.get("next")})
    template_cases = [
        {"when": str(c.get("when", "")), "next": c.get("next")}
        for c in template_node.get("cases") or ()
    ]
    return ({} if cases == template_cases else {"cases": cases}), values, errors
