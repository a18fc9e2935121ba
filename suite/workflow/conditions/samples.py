"""Sample values per field type: at publish, every condition is evaluated on them once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

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
