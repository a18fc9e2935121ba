"""Stock reports from the ledger: the reconciliation (库存对帐单) and period bounds.

For a period [from, to] in the workspace's time zone, per item (and optionally per location):
opening + in - out = closing, in quantity and value, aggregated by SQL over `stock_move`.
SQLite keeps Decimals as text, so sums are taken over exact integers (thousandths of a unit,
fen) on every database: `CAST(ROUND(qty * 1000) AS BIGINT)` is exact for Numeric(14, 3).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from modules.inventory.models import Item, Location, StockMove, Warehouse
from modules.inventory.services.low_stock import QTY_UNITS, scaled
from suite.db import db

FEN = 100


def period_bounds(
    date_from: dt.date | None, date_to: dt.date | None, timezone: str
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[start, end) in UTC: `date_from` 00:00 and the day after `date_to` 00:00, local time."""
    tz = ZoneInfo(timezone)

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.UTC)

    start = midnight(date_from) if date_from else None
    end = midnight(date_to + dt.timedelta(days=1)) if date_to else None
    return start, end


@dataclass
class ReconRow:
    item: Item
    location: Location | None  # None: all locations of the item
    opening_qty: Decimal
    in_qty: Decimal
    out_qty: Decimal
    closing_qty: Decimal
    opening_value: Decimal
    in_value: Decimal
    out_value: Decimal
    closing_value: Decimal

    @property
    def balanced(self) -> bool:
        return (
            self.opening_qty + self.in_qty - self.out_qty == self.closing_qty
            and self.opening_value + self.in_value - self.out_value == self.closing_value
        )


@dataclass
class Totals:
    opening_value: Decimal = Decimal(0)
    in_value: Decimal = Decimal(0)
    out_value: Decimal = Decimal(0)
    closing_value: Decimal = Decimal(0)


def _sum_when(cond: Any, expr: Any) -> Any:
    return sa.func.coalesce(sa.func.sum(sa.case((cond, expr), else_=0)), 0)


def reconciliation(
    start: dt.datetime | None,
    end: dt.datetime | None,
    *,
    by_location: bool = False,
    item_id: int | None = None,
    warehouse_id: int | None = None,
) -> list[ReconRow]:
    """Per item (x location) with any move up to `end`: opening before `start`, in and out
    during [start, end), closing = opening + in - out (also equal to the ledger's sum).

    Per item over all warehouses, transfers between locations are left out (their two halves
    cancel); otherwise they are an out at the source and an in at the destination.
    """
    q = scaled(StockMove.qty)
    v = scaled(StockMove.value, FEN)
    before = StockMove.moved_at < start if start is not None else sa.false()
    during = sa.not_(before)
    keys = [StockMove.item_id] + ([StockMove.location_id] if by_location else [])
    stmt = sa.select(
        *keys,
        _sum_when(before, q),
        _sum_when(sa.and_(during, q > 0), q),
        _sum_when(sa.and_(during, q < 0), -q),
        _sum_when(before, v),
        _sum_when(sa.and_(during, q > 0), v),
        _sum_when(sa.and_(during, q < 0), -v),
    ).group_by(*keys)
    if end is not None:
        stmt = stmt.where(StockMove.moved_at < end)
    if not by_location and not warehouse_id:  # a transfer's two halves cancel in the total
        stmt = stmt.where(StockMove.kind != "transfer")
    if item_id:
        stmt = stmt.where(StockMove.item_id == item_id)
    if warehouse_id:
        stmt = stmt.where(
            StockMove.location_id.in_(
                sa.select(Location.id).where(Location.warehouse_id == warehouse_id)
            )
        )
    raw = list(db.session.execute(stmt))
    items = _by_id(Item, {r[0] for r in raw})
    locations = _by_id(Location, {r[1] for r in raw}) if by_location else {}
    rows = []
    for r in raw:
        sums = r[len(keys) :]
        oq, iq, xq = (Decimal(int(x)) / QTY_UNITS for x in sums[:3])
        ov, iv, xv = (Decimal(int(x)) / FEN for x in sums[3:])
        rows.append(
            ReconRow(
                item=items[r[0]],
                location=locations.get(r[1]) if by_location else None,
                opening_qty=oq,
                in_qty=iq,
                out_qty=xq,
                closing_qty=oq + iq - xq,
                opening_value=ov,
                in_value=iv,
                out_value=xv,
                closing_value=ov + iv - xv,
            )
        )
    rows.sort(key=lambda row: (row.item.code, _location_key(row.location)))
    return rows


def totals(rows: list[ReconRow]) -> Totals:
    """The value columns summed (quantities of different units do not add up)."""
    t = Totals()
    for r in rows:
        t.opening_value += r.opening_value
        t.in_value += r.in_value
        t.out_value += r.out_value
        t.closing_value += r.closing_value
    return t


def _by_id(model: Any, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    stmt = sa.select(model).where(model.id.in_(ids))
    if model is Location:
        stmt = stmt.options(sa.orm.joinedload(Location.warehouse))
    return {row.id: row for row in db.session.scalars(stmt)}


def _location_key(location: Location | None) -> tuple[str, str]:
    if location is None:
        return ("", "")
    return (location.warehouse.code, location.code)


def warehouses() -> list[Warehouse]:
    return list(db.session.scalars(sa.select(Warehouse).order_by(Warehouse.code)))
