"""The params section: a template param's editor kind, its text, and posted values checked."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from suite.workflow.admin.overlay.forms import Errors, FormData, _duration, to_number
from suite.workflow.calendar import parse_duration


def param_kind(value: object) -> str:
    """How a template param is edited: bool, number (decimal text), duration or text."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, str):
        try:
            parse_duration(value)
        except ValueError:
            return "text"
        return "duration"
    return "text"


def param_text(value: object) -> str:
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return "" if value is None else str(value)


def parse_params(
    template: Mapping[str, Any], form: FormData
) -> tuple[dict[str, Any], dict[str, Any], Errors]:
    """(params overlay: those differing from the template, form values, errors)."""
    overlay: dict[str, Any] = {}
    values: dict[str, Any] = {}
    errors = Errors()
    for name, default in (template.get("params") or {}).items():
        kind = param_kind(default)
        key = f"param-{name}"
        if kind == "bool":
            value: Any = form.get(key) == "y"
            values[name] = value
        else:
            text = str(form.get(key, "")).strip()
            values[name] = text
            value = check_param(kind, text, errors, key)
        if key not in errors and value != default:
            overlay[name] = value
    return overlay, values, errors


def check_param(kind: str, value: object, errors: Errors, key: str) -> Any:
    text = str(value).strip()
    if kind == "number":
        number = to_number(text)
        if number is None:
            errors.add(key, _("Enter a number, e.g. 5000 or 4999.50."))
        return number
    if kind == "duration":
        return _duration(text, errors, key, required=True)
    if kind == "text" and len(text) > 200:
        errors.add(key, _("At most 200 characters."))
    return text
