"""Goods receipts (入库单) against an order, and returns to the supplier.

Received quantities change only under a row lock on the order's lines (SELECT ... FOR UPDATE,
in id order), so two receipts posted at once never receive more than is open. Stock moves go
through `modules.inventory.stock.post` in the same transaction: all or nothing. A fixed-asset
order is received (accepted) by the asset acceptance group and moves no stock.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from modules.inventory.models import Location
from modules.inventory.stock import Document, Move, post
from modules.purchasing import settings
from modules.purchasing.models import (
    GoodsReceipt,
    GoodsReceiptLine,
    PurchaseOrder,
    PurchaseOrderLine,
)
from modules.purchasing.services import QTY, fmt_qty, places_ok
from modules.purchasing.services.orders import refresh_status
from suite.auth.models import Membership
from suite.auth.permissions import grants, permissions_of
from suite.db import db
from suite.documents import next_number
from suite.errors import DomainError
from suite.tenancy import Workspace

DOC_TYPE = "purchasing.goods_receipt"
RECEIVABLE = ("confirmed", "partially_received", "received")


def may_receive(actor: Membership, order: PurchaseOrder) -> bool:
    """Stock orders: the warehouse (receipt.create); fixed assets: the acceptance group."""
    perm = "purchasing.receipt.accept_asset" if order.is_asset else "purchasing.receipt.create"
    return grants(permissions_of(actor), perm)


def lock_lines(order_id: int) -> dict[int, PurchaseOrderLine]:
    """The order's lines, locked FOR UPDATE in id order and re-read (PostgreSQL waits here)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL lock_timeout = '5s'"))
    lines = db.session.scalars(
        sa.select(PurchaseOrderLine)
        .where(PurchaseOrderLine.order_id == order_id)
        .order_by(PurchaseOrderLine.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {line.id: line for line in lines}


def _qty_checked(qty: Decimal | None, field: str) -> Decimal:
    if qty is None or not places_ok(qty, QTY):
        raise DomainError(_("At most three decimal places."), field)
    if qty < 0:
        raise DomainError(_("The quantity cannot be negative."), field)
    return qty


def _location(location_id: int | None) -> Location | None:
    if location_id is None:
        return None
    location = db.session.scalar(
        sa.select(Location).where(Location.id == location_id, Location.active.is_(True))
    )
    if location is None:
        raise DomainError(_("Choose a location."), "location_id")
    return location


def line_no(order: PurchaseOrder, line: PurchaseOrderLine) -> int:
    """The line's position on the order, counted from 1 as printed."""
    return next((n for n, other in enumerate(order.lines, 1) if other.id == line.id), 0)


def post_receipt(
    order: PurchaseOrder,
    actor: Membership,
    *,
    location_id: int | None,
    quantities: Mapping[int, Decimal],
    note: str = "",
) -> GoodsReceipt:
    """Receive goods (GRN-YYYY-NNNN): stock in at the order price, received qty up, status."""
    if not may_receive(actor, order):
        raise DomainError(
            _("Fixed assets are received by the asset acceptance group.")
            if order.is_asset
            else _("You may not receive goods.")
        )
    if order.status == "draft":
        raise DomainError(_("The supplier has not confirmed this order yet."))
    if order.status not in RECEIVABLE:
        raise DomainError(_("This order cannot receive goods any more."))
    lines = lock_lines(order.id)
    workspace = db.session.get(Workspace, order.workspace_id)
    allowance = settings.get("over_receipt_percent", workspace)
    wanted: list[tuple[PurchaseOrderLine, Decimal]] = []
    for line_id, raw in quantities.items():
        field = f"qty-{line_id}"
        line = lines.get(line_id)
        if line is None:
            raise DomainError(_("This line is not on the order."), field)
        qty = _qty_checked(raw, field)
        if qty == 0:
            continue
        limit = (line.qty * (100 + allowance) / 100).quantize(QTY, ROUND_DOWN)
        if line.received_qty + qty > limit:
            raise DomainError(_over_message(order, line, qty, limit), field)
        wanted.append((line, qty))
    if not wanted:
        first = next(iter(quantities), None)
        raise DomainError(
            _("Enter the quantity received for at least one line."),
            f"qty-{first}" if first is not None else None,
        )
    location = _location(location_id)
    stock_lines = [(ln, q) for ln, q in wanted if not order.is_asset and ln.item.is_stock]
    if stock_lines and location is None:
        raise DomainError(_("Choose the location the goods go to."), "location_id")
    receipt = GoodsReceipt(
        number=next_number("GRN"),
        order_id=order.id,
        location_id=location.id if location else None,
        status="accepted" if order.is_asset else "posted",
        received_by_id=actor.id,
        note=(note or "").strip()[:300],
    )
    for line, qty in wanted:
        receipt.lines.append(
            GoodsReceiptLine(
                order_line_id=line.id, item_id=line.item_id, qty=qty, unit_cost=line.unit_price
            )
        )
    db.session.add(receipt)
    db.session.flush()
    if stock_lines:
        moves = [
            Move(
                ln.item_id, location.id, q, "receipt", unit_cost=ln.unit_price, field=f"qty-{ln.id}"
            )
            for ln, q in stock_lines
        ]
        post(moves, Document(DOC_TYPE, receipt.id, receipt.number), actor.id)
    for line, qty in wanted:
        line.received_qty += qty
    db.session.flush()
    refresh_status(order)
    return receipt


def _over_message(
    order: PurchaseOrder, line: PurchaseOrderLine, qty: Decimal, limit: Decimal
) -> str:
    values = {
        "no": line_no(order, line),
        "item": line.item.name,
        "open": fmt_qty(line.open_qty),
        "asked": fmt_qty(qty),
    }
    if limit > line.qty:
        values["limit"] = fmt_qty(max(limit - line.received_qty, Decimal(0)))
        return _(
            "Line %(no)s (%(item)s): %(open)s open, at most %(limit)s with the over-receipt "
            "allowance; %(asked)s asked for.",
            **values,
        )
    return _("Line %(no)s (%(item)s): %(open)s open, %(asked)s asked for.", **values)


def returned_so_far(receipt: GoodsReceipt) -> dict[int, Decimal]:
    """Per order line, how much of this receipt went back to the supplier already."""
    rows = db.session.execute(
        sa.select(GoodsReceiptLine.order_line_id, GoodsReceiptLine.qty)
        .join(GoodsReceipt, GoodsReceipt.id == GoodsReceiptLine.receipt_id)
        .where(GoodsReceipt.return_of_id == receipt.id)
    ).all()
    out: dict[int, Decimal] = {}
    for order_line_id, qty in rows:  # summed here: SQLite would sum the text as floats
        out[order_line_id] = out.get(order_line_id, Decimal(0)) - qty
    return out


def return_to_supplier(
    receipt: GoodsReceipt,
    actor: Membership,
    quantities: Mapping[int, Decimal],
    note: str = "",
) -> GoodsReceipt:
    """Send received goods back (GRT-YYYY-NNNN): stock out at average cost, received qty down."""
    order = receipt.order
    if receipt.status == "returned":
        raise DomainError(_("A return cannot be returned."))
    if not may_receive(actor, order):
        raise DomainError(_("You may not return goods of this order."))
    lines = lock_lines(order.id)
    done = returned_so_far(receipt)
    by_id = {rl.id: rl for rl in receipt.lines}
    wanted: list[tuple[GoodsReceiptLine, PurchaseOrderLine, Decimal]] = []
    for rl_id, raw in quantities.items():
        field = f"qty-{rl_id}"
        rl = by_id.get(rl_id)
        if rl is None:
            raise DomainError(_("This line is not on the receipt."), field)
        qty = _qty_checked(raw, field)
        if qty == 0:
            continue
        line = lines[rl.order_line_id]
        returnable = rl.qty - done.get(rl.order_line_id, Decimal(0))
        values = {
            "no": line_no(order, line),
            "item": line.item.name,
            "open": fmt_qty(returnable),
            "asked": fmt_qty(qty),
        }
        if qty > returnable:
            raise DomainError(
                _(
                    "Line %(no)s (%(item)s): %(open)s can be returned, %(asked)s asked for.",
                    **values,
                ),
                field,
            )
        if line.received_qty - qty < line.invoiced_qty:
            values["invoiced"] = fmt_qty(line.invoiced_qty)
            raise DomainError(
                _("Line %(no)s (%(item)s): %(invoiced)s are already invoiced.", **values), field
            )
        wanted.append((rl, line, qty))
    if not wanted:
        first = next(iter(quantities), None)
        raise DomainError(
            _("Enter the quantity to return for at least one line."),
            f"qty-{first}" if first is not None else None,
        )
    ret = GoodsReceipt(
        number=next_number("GRT"),
        order_id=order.id,
        location_id=receipt.location_id,
        status="returned",
        received_by_id=actor.id,
        note=(note or "").strip()[:300],
        return_of_id=receipt.id,
    )
    for rl, _line, qty in wanted:
        ret.lines.append(
            GoodsReceiptLine(
                order_line_id=rl.order_line_id, item_id=rl.item_id, qty=-qty, unit_cost=rl.unit_cost
            )
        )
    db.session.add(ret)
    db.session.flush()
    moves = [
        Move(rl.item_id, receipt.location_id, -qty, "return", field=f"qty-{rl.id}")
        for rl, _line, qty in wanted
        if not order.is_asset and rl.item.is_stock and receipt.location_id is not None
    ]
    if moves:
        post(moves, Document(DOC_TYPE, ret.id, ret.number), actor.id)
    for _rl, line, qty in wanted:
        line.received_qty -= qty
    db.session.flush()
    refresh_status(order)
    return ret
