"""What every section's form handling shares: the form and error types, numbers and durations."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from flask_babel import gettext as _

from suite.workflow import conditions
from suite.workflow.calendar import parse_duration

MAX_ROWS = 30  # approver or condition rows one form may send


class FormData(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def getlist(self, key: str) -> list[Any]: ...


class Errors(dict[str, list[str]]):
    def add(self, key: str, message: str) -> None:
        self.setdefault(key, []).append(message)


def to_int(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def to_number(text: str) -> int | float | None:
    raw = text.replace(",", "").replace("，", "").replace("¥", "").strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    if not value.is_finite() or abs(value) > conditions.MAX_NUMBER_CONSTANT:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _duration(text: str, errors: Errors, key: str, required: bool = False) -> str | None:
    if not text:
        if required:
            errors.add(key, _("Enter a duration."))
        return None
    try:
        parse_duration(text)
    except ValueError:
        errors.add(key, _("Write a duration like 30m, 24h, 2d or 2wd (working days)."))
        return None
    return text.lower().replace(" ", "")
