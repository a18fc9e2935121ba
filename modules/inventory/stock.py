"""Posting to the stock ledger: moves and balances in one transaction, under row locks.

Every change of stock goes through `post()`. It locks the balance rows it touches in a fixed order
(item, location) so two documents never deadlock, refuses any move that would take a balance below
zero (the message says how much is on hand), writes the immutable `StockMove` rows and updates the
balances' quantity and value. Cost is the moving average per item and location: receipts add
`qty x unit_cost` to the value; issues take `qty x (value / qty)` out, the last unit taking what is
left so no rounding residue stays behind. An outbound move that leaves an item below its
reorder point notifies the buyers once (`services.low_stock`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from modules.inventory.models import Item, Location, StockBalance, StockMove
from suite.db import db, locked_or_created, utcnow
from suite.errors import DomainError

CENT = Decimal("0.01")
COST = Decimal("0.0001")


@dataclass(frozen=True)
class Move:
    """One requested change: +qty in at `unit_cost` (receipts) or -qty out at the average."""

    item_id: int
    location_id: int
    qty: Decimal
    kind: str  # receipt issue return transfer adjustment
    unit_cost: Decimal | None = None  # required for inbound moves; outbound use the average
    field: str | None = None  # the form field a refusal belongs to
    value: Decimal | None = None  # inbound only: the exact value (a transfer's outbound value)


@dataclass(frozen=True)
class Document:
    type: str
    id: int
    number: str


def lock_balance(item_id: int, location_id: int) -> StockBalance:
    """The balance row, locked FOR UPDATE; created (race-safe) when it does not exist yet."""
    return locked_or_created(
        sa.select(StockBalance).where(
            StockBalance.item_id == item_id, StockBalance.location_id == location_id
        ),
        lambda: StockBalance(item_id=item_id, location_id=location_id, qty=0, value=0),
    )


def lock_balances(keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], StockBalance]:
    """Lock (item, location) balances in the one global order `post()` uses (no deadlocks).

    A caller that posts twice in one transaction (a transfer: out, then in at the value that
    went out) locks every key first, so it never waits holding a lock out of order.
    """
    return {key: lock_balance(*key) for key in sorted(set(keys))}


def average_cost(balance: StockBalance) -> Decimal:
    if balance.qty <= 0:
        return Decimal(0)
    return (balance.value / balance.qty).quantize(COST, ROUND_HALF_UP)


def post(
    moves: Iterable[Move], document: Document, actor_id: int | None, *, alerts: bool = True
) -> list[StockMove]:
    """Apply the moves all or nothing; raise DomainError (nothing written) when stock is short.

    Then raise or clear low-stock alerts of the items moved (`alerts=False` when the caller
    posts again in the same transaction and checks once at the end, like a transfer).
    """
    moves = list(moves)
    for m in moves:
        if m.qty == 0:
            raise DomainError(_("The quantity must not be zero."), m.field)
        if m.qty > 0 and m.value is None and (m.unit_cost is None or m.unit_cost < 0):
            raise DomainError(_("A receipt needs a unit cost of zero or more."), m.field)
        if m.qty > 0 and m.value is not None and m.value < 0:
            raise DomainError(_("A receipt needs a unit cost of zero or more."), m.field)
    balances = lock_balances((m.item_id, m.location_id) for m in moves)
    now = utcnow()
    written: list[StockMove] = []
    for m in moves:
        bal = balances[(m.item_id, m.location_id)]
        if m.qty > 0 and m.value is not None:
            value = Decimal(m.value).quantize(CENT, ROUND_HALF_UP)
            unit_cost = (value / m.qty).quantize(COST, ROUND_HALF_UP)
        elif m.qty > 0:
            unit_cost = Decimal(m.unit_cost).quantize(COST, ROUND_HALF_UP)
            value = (m.qty * unit_cost).quantize(CENT, ROUND_HALF_UP)
        else:
            if bal.qty + m.qty < 0:
                raise DomainError(_short(m, bal.qty), m.field)
            unit_cost = average_cost(bal)
            if bal.qty + m.qty == 0:
                value = -bal.value
            else:
                value = (m.qty * unit_cost).quantize(CENT, ROUND_HALF_UP)
        bal.qty += m.qty
        bal.value += value
        bal.updated_at = now
        move = StockMove(
            item_id=m.item_id,
            location_id=m.location_id,
            kind=m.kind,
            qty=m.qty,
            unit_cost=unit_cost,
            value=value,
            balance_qty=bal.qty,
            document_type=document.type,
            document_id=document.id,
            document_number=document.number,
            actor_id=actor_id,
            moved_at=now,
        )
        db.session.add(move)
        written.append(move)
    db.session.flush()
    if alerts:
        from modules.inventory.services.low_stock import after_post

        after_post(moves)
    return written


def _short(m: Move, on_hand: Decimal) -> str:
    item = db.session.get(Item, m.item_id)
    location = db.session.get(Location, m.location_id)
    return _(
        "Not enough stock of %(item)s at %(location)s: %(on_hand)s on hand, %(wanted)s asked for.",
        item=item.name if item else m.item_id,
        location=location.name if location else m.location_id,
        on_hand=_qty(on_hand),
        wanted=_qty(-m.qty),
    )


def _qty(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def on_hand(item_id: int, location_id: int | None = None) -> Decimal:
    """Summed in Python: SQLite keeps quantities as exact text and would sum them as floats."""
    stmt = sa.select(StockBalance.qty).where(StockBalance.item_id == item_id)
    if location_id is not None:
        stmt = stmt.where(StockBalance.location_id == location_id)
    return sum(db.session.scalars(stmt), Decimal(0))
