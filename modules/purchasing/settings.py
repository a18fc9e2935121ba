"""Purchasing settings kept in the workspace's settings (`settings["purchasing"]`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import g

DEFAULTS: dict[str, Decimal] = {
    "price_tolerance": Decimal("0.00"),  # invoice unit price may differ from the order by this much
    "over_receipt_percent": Decimal("0"),  # receipts may exceed the ordered qty by this percent
}


def get(name: str, workspace: Any = None) -> Decimal:
    workspace = workspace if workspace is not None else g.workspace
    raw = ((workspace.settings or {}).get("purchasing") or {}).get(name)
    return DEFAULTS[name] if raw is None else Decimal(str(raw))


def put(workspace: Any, **values: Decimal) -> None:
    """Store as strings (JSON has no Decimal); a new dict so the JSON column sees the change."""
    settings = dict(workspace.settings or {})
    section = dict(settings.get("purchasing") or {})
    section.update({k: str(v) for k, v in values.items() if k in DEFAULTS})
    settings["purchasing"] = section
    workspace.settings = settings
