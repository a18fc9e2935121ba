"""Low stock (S7.3): items whose on hand (all locations) is below their reorder point.

`after_post()` runs inside `stock.post()`, in the posting transaction: an outbound move that
leaves an item below its point raises a `LowStockAlert` and notifies the buyers, once; a move that
brings it back to the point clears the alert so the next fall notifies again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from modules.inventory.master import unit_label
from modules.inventory.models import Item, LowStockAlert, StockBalance
from suite.auth.models import Membership, MembershipRole, Role
from suite.db import db
from suite.notify import notify

BUYER_ROLE = "purchasing.buyer"  # a role code, not an import: inventory does not use purchasing
EVENT = "inventory.low_stock"
QTY_UNITS = 1000  # Qty() has 3 decimals


def scaled(column: Any, units: int = QTY_UNITS) -> Any:
    """A Numeric column as an exact integer of 1/units (SQLite keeps Decimals as text)."""
    return sa.cast(sa.func.round(column * sa.literal(units, sa.Integer)), sa.BigInteger)


def total_on_hand(item_ids: Iterable[int]) -> dict[int, Decimal]:
    """On hand over all locations per item, exact on SQLite and PostgreSQL."""
    ids = list(set(item_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(StockBalance.item_id, sa.func.sum(scaled(StockBalance.qty)))
        .where(StockBalance.item_id.in_(ids))
        .group_by(StockBalance.item_id)
    )
    out = dict.fromkeys(ids, Decimal(0))
    for item_id, total in rows:
        out[item_id] = Decimal(int(total or 0)) / QTY_UNITS
    return out


def buyers() -> list[int]:
    """Active members of the current workspace holding the buyer role."""
    return list(
        db.session.scalars(
            sa.select(Membership.id)
            .join(MembershipRole, MembershipRole.membership_id == Membership.id)
            .join(Role, Role.id == MembershipRole.role_id)
            .where(Role.code == BUYER_ROLE, Membership.active.is_(True))
            .order_by(Membership.id)
        )
    )


def after_post(moves: Iterable[Any]) -> list[int]:
    """Raise or clear the alerts of the items just moved; returns the items newly alerted."""
    moves = list(moves)
    outbound = {m.item_id for m in moves if m.qty < 0}
    items = {
        i.id: i
        for i in db.session.scalars(sa.select(Item).where(Item.id.in_({m.item_id for m in moves})))
        if i.is_stock and i.reorder_point > 0
    }
    if not items:
        return []
    totals = total_on_hand(items)
    alerted = set(
        db.session.scalars(
            sa.select(LowStockAlert.item_id).where(LowStockAlert.item_id.in_(list(items)))
        )
    )
    raised: list[int] = []
    for item_id, item in sorted(items.items()):
        low = totals[item_id] < item.reorder_point
        if not low and item_id in alerted:
            db.session.execute(sa.delete(LowStockAlert).where(LowStockAlert.item_id == item_id))
        elif low and item_id in outbound and item_id not in alerted and _raise(item, totals):
            raised.append(item_id)
    return raised


def _raise(item: Item, totals: dict[int, Decimal]) -> bool:
    """Insert the alert (a racing move may have inserted it first) and notify the buyers."""
    try:
        with db.session.begin_nested():
            db.session.add(LowStockAlert(item_id=item.id, on_hand=totals[item.id]))
    except sa.exc.IntegrityError:
        return False  # another transaction raised it: its buyers are told once
    notify(
        buyers(),
        EVENT,
        _("Low stock: %(code)s %(name)s", code=item.code, name=item.name),
        _(
            "%(on_hand)s %(unit)s on hand, below the reorder point of %(point)s.",
            on_hand=plain(totals[item.id]),
            unit=unit_label(item.unit),
            point=plain(item.reorder_point),
        ),
        link="/inventory/low-stock",
        payload={"item_id": item.id},
    )
    return True


def plain(value: Decimal) -> str:
    """380.000 -> 380, 2.500 -> 2.5 (for messages)."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class LowItem:
    item: Item
    on_hand: Decimal
    shortfall: Decimal  # reorder point - on hand


def low_items(limit: int | None = None) -> list[LowItem]:
    """Active stock items whose on hand (all locations) is below their reorder point."""
    total = sa.func.coalesce(sa.func.sum(scaled(StockBalance.qty)), 0)
    stmt = (
        sa.select(Item, total)
        .outerjoin(StockBalance, StockBalance.item_id == Item.id)
        .where(Item.active.is_(True), Item.is_stock.is_(True), scaled(Item.reorder_point) > 0)
        .group_by(Item.id)
        .having(total < sa.func.max(scaled(Item.reorder_point)))
        .order_by(Item.code)
    )
    if limit:
        stmt = stmt.limit(limit)
    out = []
    for item, units in db.session.execute(stmt):
        on_hand = Decimal(int(units)) / QTY_UNITS
        out.append(LowItem(item, on_hand, item.reorder_point - on_hand))
    return out
