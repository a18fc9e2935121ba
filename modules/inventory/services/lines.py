"""Checks shared by the stock documents: quantities, items and locations of this workspace."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import gettext as _

from modules.inventory.models import Item, Location
from suite.db import db
from suite.errors import DomainError

MAX_QTY = Decimal("99999999999.999")  # Qty() = Numeric(14, 3)
MILLI = Decimal("0.001")


@dataclass(frozen=True)
class LineInput:
    """One line as typed: an item and a quantity; `field` prefixes the form fields."""

    item_id: int | None
    qty: Decimal | None
    field: str = "lines-0"


def check_qty(qty: Decimal | None, field: str, *, zero_ok: bool = False) -> Decimal:
    """A quantity with at most three decimals, above zero (or zero when counting)."""
    if qty is None:
        raise DomainError(_("Enter a quantity."), field)
    try:
        exact = qty.is_finite() and qty == qty.quantize(MILLI)
    except InvalidOperation:
        exact = False
    if not exact:
        raise DomainError(_("At most three decimal places."), field)
    if qty < 0 or (qty == 0 and not zero_ok):
        raise DomainError(_("The quantity must be more than zero."), field)
    if qty > MAX_QTY:
        raise DomainError(_("The quantity is too large."), field)
    return qty


def stock_item(item_id: int | None, field: str) -> Item:
    """An active stock item of the current workspace."""
    item = db.session.scalar(sa.select(Item).where(Item.id == item_id)) if item_id else None
    if item is None or not item.active:
        raise DomainError(_("Choose an item from the list."), field)
    if not item.is_stock:
        raise DomainError(_("%(item)s is not kept in stock.", item=item.name), field)
    return item


def location(location_id: int | None, field: str = "location_id") -> Location:
    """An active location of the current workspace."""
    loc = (
        db.session.scalar(sa.select(Location).where(Location.id == location_id))
        if location_id
        else None
    )
    if loc is None or not loc.active:
        raise DomainError(_("Choose a location from the list."), field)
    return loc


def check_lines(lines: Sequence[LineInput]) -> list[tuple[Item, Decimal, str]]:
    """Every line valid, at least one, each item once; (item, qty, field prefix)."""
    if not lines:
        raise DomainError(_("Add at least one line."), "lines")
    out: list[tuple[Item, Decimal, str]] = []
    seen: set[int] = set()
    for line in lines:
        item = stock_item(line.item_id, f"{line.field}-item_id")
        if item.id in seen:
            raise DomainError(_("This item is on another line already."), f"{line.field}-item_id")
        seen.add(item.id)
        out.append((item, check_qty(line.qty, f"{line.field}-qty"), line.field))
    return out
