"""Stocktakes (盘点, S7.2): count sheet -> counted vs system -> approved variance -> posted.

Lifecycle: counting -> submitted (the variance approval runs) -> posted; a rejected or withdrawn
one goes back to counting. On approval the variances post as `adjustment` moves in the
approving command's transaction: gains at the location's average cost (the item's standard
price when there is no stock), losses at the average.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from modules.inventory.models import Item, StockBalance, StockMove, Stocktake, StocktakeLine
from modules.inventory.services.lines import check_qty, location, stock_item
from modules.inventory.stock import CENT, Document, Move, average_cost, lock_balances, post
from suite.auth.models import Membership
from suite.db import db, utcnow
from suite.documents import next_number
from suite.errors import DomainError
from suite.workflow import engine, tasks
from suite.workflow.models import WorkflowTask

DOC_TYPE = "inventory.stocktake"
COUNTING, SUBMITTED, POSTED = "counting", "submitted", "posted"


def create(actor: Membership, location_id: int | None, note: str = "") -> Stocktake:
    """A count sheet (ST-YYYY-NNNN) with the system quantity of every item kept there now."""
    loc = location(location_id)
    st = Stocktake(
        number=next_number("ST"),
        status=COUNTING,
        location_id=loc.id,
        created_by_id=actor.id,
        note=(note or "").strip()[:300],
    )
    rows = db.session.execute(
        sa.select(StockBalance.item_id, StockBalance.qty)
        .join(Item, Item.id == StockBalance.item_id)
        .where(StockBalance.location_id == loc.id, Item.is_stock.is_(True))
        .order_by(Item.code)
    )
    st.lines = [StocktakeLine(item_id=i, system_qty=q) for i, q in rows]
    db.session.add(st)
    db.session.flush()
    return st


def returned_task(st: Stocktake) -> WorkflowTask | None:
    """The counter's open edit task when an approver sent the stocktake back (退回)."""
    return tasks.returned_task(st.instance_id, st.created_by_id)


def can_count(st: Stocktake) -> bool:
    return st.status == COUNTING or (st.status == SUBMITTED and returned_task(st) is not None)


def _editable(st: Stocktake) -> None:
    if not can_count(st):
        raise DomainError(_("The counts are locked while the variance is in approval."))


def add_line(st: Stocktake, item_id: int | None) -> StocktakeLine:
    """Count an item the sheet did not list (found on the shelf); system qty = on hand now."""
    _editable(st)
    item = stock_item(item_id, "item_id")
    if any(line.item_id == item.id for line in st.lines):
        raise DomainError(_("This item is on the sheet already."), "item_id")
    qty = db.session.scalar(
        sa.select(StockBalance.qty).where(
            StockBalance.item_id == item.id, StockBalance.location_id == st.location_id
        )
    )
    line = StocktakeLine(item_id=item.id, system_qty=qty or Decimal(0))
    st.lines.append(line)
    db.session.flush()
    return line


def save_counts(st: Stocktake, counts: Mapping[int, Decimal | None]) -> None:
    """Store counted quantities by line id (None: not counted yet); zero is a valid count."""
    _editable(st)
    by_id = {line.id: line for line in st.lines}
    for line_id, qty in counts.items():
        line = by_id.get(line_id)
        if line is None:
            raise DomainError(_("This line is not on the sheet."), f"counted-{line_id}")
        field = f"counted-{line_id}"
        line.counted_qty = None if qty is None else check_qty(qty, field, zero_ok=True)
    db.session.flush()


def submit(st: Stocktake, actor: Membership, key: str | None = None) -> engine.Result:
    """Send the variance for approval; every line must be counted."""
    if st.status != COUNTING:
        raise DomainError(_("This stocktake has been submitted already."))
    if not st.lines:
        raise DomainError(_("Add at least one item to count."), "item_id")
    missing = [line for line in st.lines if line.counted_qty is None]
    if missing:
        raise DomainError(
            _("Count every line first (%(n)s not counted).", n=len(missing)),
            f"counted-{missing[0].id}",
        )
    st.status = SUBMITTED
    db.session.flush()
    result = engine.submit(DOC_TYPE, st, actor.id, key=key)
    st.instance_id = result.instance_id
    return result


def unit_cost(line: StocktakeLine, location_id: int) -> Decimal:
    """What a unit of this line is worth now: the location's average, else the standard price."""
    bal = db.session.scalar(
        sa.select(StockBalance).where(
            StockBalance.item_id == line.item_id, StockBalance.location_id == location_id
        )
    )
    if bal is not None and bal.qty > 0:
        return average_cost(bal)
    return line.item.standard_price


def variance_values(st: Stocktake) -> dict[str, Any]:
    """Gains, losses and their absolute sum at today's costs (what the approver decides on)."""
    gain = loss = Decimal(0)
    lines = 0
    for line in st.lines:
        v = line.variance
        if not v:
            continue
        lines += 1
        value = (abs(v) * unit_cost(line, st.location_id)).quantize(CENT, ROUND_HALF_UP)
        if v > 0:
            gain += value
        else:
            loss += value
    return {
        "variance_value": gain + loss,
        "gain_value": gain,
        "loss_value": loss,
        "lines_with_variance": lines,
    }


def post_adjustments(st: Stocktake, actor_id: int | None) -> list[StockMove]:
    """Post every non-zero variance as an `adjustment` move and mark the stocktake posted."""
    lines = [line for line in st.lines if line.variance]
    lock_balances((line.item_id, st.location_id) for line in lines)
    moves = [
        Move(
            line.item_id,
            st.location_id,
            line.variance,
            "adjustment",
            unit_cost=unit_cost(line, st.location_id) if line.variance > 0 else None,
            field=f"counted-{line.id}",
        )
        for line in lines
    ]
    written = post(moves, Document(DOC_TYPE, st.id, st.number), actor_id) if moves else []
    st.status, st.posted_at = POSTED, utcnow()
    db.session.flush()
    return written


def _approver(st: Stocktake) -> int | None:
    """Who gave the final approval (the last approval task acted on), for the ledger's actor."""
    return db.session.scalar(
        sa.select(WorkflowTask.assignee_id)
        .where(
            WorkflowTask.instance_id == st.instance_id,
            WorkflowTask.status == "approved",
        )
        .order_by(WorkflowTask.acted_at.desc(), WorkflowTask.id.desc())
        .limit(1)
    )


class StocktakeType:
    """What the workflow engine needs to know about stocktakes."""

    key = DOC_TYPE
    template = "inventory.stocktake"

    def get(self, document_id: int) -> Stocktake:
        return db.session.get(Stocktake, document_id)

    def values(self, st: Stocktake) -> dict[str, Any]:
        return variance_values(st)

    def title(self, st: Stocktake) -> str:
        return _("%(number)s stocktake %(location)s", number=st.number, location=st.location.name)

    def url(self, st: Stocktake) -> str:
        return f"/inventory/stocktakes/{st.id}"

    def on_outcome(self, st: Stocktake, status: str) -> None:
        if status == "approved":
            post_adjustments(st, _approver(st))
        elif st.status != POSTED:
            st.status = COUNTING


stocktake_type = StocktakeType()
