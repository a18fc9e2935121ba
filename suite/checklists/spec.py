"""The template spec (docs/CHECKLISTS.md): validation, item lookup, and how an answer scores.

A spec is plain JSON, stored in a template's `draft` and, frozen, in each published version:
`{"sections": [{"title": str, "items": [{"key", "type", "label", "required", "weight", ...}]}]}`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _

from suite.checklists.models import ITEM_TYPES

SCORED = ("pass_fail", "yes_no", "number")  # items that pass or fail; the others are evidence
UPLOADS = ("photo", "signature")
RULES = ("require_photo", "require_note", "corrective_action", "notify")
KEY = re.compile(r"^i\d{1,5}$")
DECIMAL = re.compile(r"^-?\d{1,10}(\.\d{1,4})?$")
MAX_ITEMS = 300


class SpecError(Exception):
    """A spec that cannot be published: `errors` maps `<item key>.<field>` (or `sections`) to
    messages, so the builder shows each next to its field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def items(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for section in spec.get("sections", []):
        yield from section.get("items", [])


def item(spec: dict[str, Any], key: str) -> dict[str, Any] | None:
    return next((i for i in items(spec) if i.get("key") == key), None)


def parse_decimal(text: Any) -> Decimal | None:
    """A decimal as typed (`1,2` or `1.2`, full-width digits too), else None; never a float."""
    if text is None:
        return None
    text = str(text).strip().replace("，", ".").replace(",", ".").replace("．", ".")
    text = text.translate({0xFF10 + d: str(d) for d in range(10)} | {0xFF0D: "-"})
    if not DECIMAL.match(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        return None


def weight(it: dict[str, Any]) -> Decimal:
    return parse_decimal(it.get("weight", "1")) or Decimal(0)


def validate(spec: dict[str, Any]) -> dict[str, str]:
    """Every problem of a spec, keyed like `SpecError.errors`; empty when it can be published."""
    errors: dict[str, str] = {}
    sections = spec.get("sections") or []
    all_items = list(items(spec))
    if not all_items:
        errors["sections"] = _("Add at least one item.")
    if len(all_items) > MAX_ITEMS:
        errors["sections"] = _("At most %(n)d items.", n=MAX_ITEMS)
    for n, section in enumerate(sections):
        if not str(section.get("title", "")).strip():
            errors[f"s{n}.title"] = _("Give the section a title.")
    seen: set[str] = set()
    for it in all_items:
        key = str(it.get("key", ""))
        if not KEY.match(key) or key in seen:
            errors[f"{key}.key"] = _("Item keys must be unique.")
        seen.add(key)
        errors.update({f"{key}.{f}": m for f, m in item_errors(it).items()})
    return errors


def item_errors(it: dict[str, Any]) -> dict[str, str]:
    """Problems of one item, keyed by its field (`label`, `min`, `options`, `weight`, ...)."""
    errors: dict[str, str] = {}
    kind = it.get("type")
    if kind not in ITEM_TYPES:
        errors["type"] = _("Not a valid choice.")
    if not str(it.get("label", "")).strip():
        errors["label"] = _("This field is required.")
    elif len(str(it["label"])) > 300:
        errors["label"] = _("At most %(n)d characters.", n=300)
    w = parse_decimal(it.get("weight", "1"))
    if w is None or w < 0 or w > 1000:
        errors["weight"] = _("A number from 0 to 1000.")
    if kind == "number":
        low, high = it.get("min"), it.get("max")
        lo = parse_decimal(low) if low not in (None, "") else None
        hi = parse_decimal(high) if high not in (None, "") else None
        if low not in (None, "") and lo is None:
            errors["min"] = _("Not a valid number.")
        if high not in (None, "") and hi is None:
            errors["max"] = _("Not a valid number.")
        if lo is not None and hi is not None and lo > hi:
            errors["max"] = _("The maximum must not be below the minimum.")
        if len(str(it.get("unit", ""))) > 20:
            errors["unit"] = _("At most %(n)d characters.", n=20)
    if kind == "select":
        options = [str(o).strip() for o in it.get("options") or []]
        if len([o for o in options if o]) < 2:
            errors["options"] = _("Give at least two options, one per line.")
        elif len(set(options)) != len(options):
            errors["options"] = _("Options must be different.")
    return errors


def is_scored(it: dict[str, Any]) -> bool:
    return it.get("type") in SCORED


def can_fail(it: dict[str, Any]) -> bool:
    """Items whose answer can fail, so on-fail rules apply."""
    return it.get("type") in SCORED
