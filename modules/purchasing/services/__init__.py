"""Purchasing services: business operations on requests, orders, receipts (no `request`, no
templates; refusals are `DomainError`s). Shared checks for quantities and money live here."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

QTY = Decimal("0.001")
CENT = Decimal("0.01")
MAX_QTY = Decimal("99999999999.999")  # Numeric(14, 3)
MAX_MONEY = Decimal("999999999999.99")  # Numeric(14, 2)


def places_ok(value: Decimal, quantum: Decimal) -> bool:
    """True when `value` is finite and has no more decimal places than `quantum`."""
    try:
        return value.is_finite() and value == value.quantize(quantum)
    except InvalidOperation:  # absurdly long
        return False


def fmt_qty(value: Decimal) -> str:
    """A quantity as people write it: 480, 2.5 (no trailing zeros)."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
