"""Goods receipts list (入库单): search, status filter, newest first, Excel export."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import to_user_timezone
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from modules.crm.models import Party
from modules.purchasing.blueprint import bp
from modules.purchasing.models import GoodsReceipt, GoodsReceiptLine, PurchaseOrder
from modules.purchasing.views.receipts import STATUSES, _may_enter
from suite.auth.permissions import require
from suite.dataio.export import xlsx_response
from suite.db import db
from suite.views.filters import choice_arg, search_arg
from suite.views.pagination import newest_first
from suite.web import render_page


def _list_stmt() -> tuple[sa.Select, dict[str, Any]]:
    status = choice_arg("status", STATUSES)
    q = search_arg(80)
    stmt = sa.select(GoodsReceipt).options(
        joinedload(GoodsReceipt.order).joinedload(PurchaseOrder.supplier),
        joinedload(GoodsReceipt.location),
    )
    if status:
        stmt = stmt.where(GoodsReceipt.status == status)
    if q:
        like = f"%{q.lower()}%"
        orders = sa.select(PurchaseOrder.id).join(Party, Party.id == PurchaseOrder.supplier_id)
        orders = orders.where(
            sa.or_(
                sa.func.lower(PurchaseOrder.number).like(like),
                sa.func.lower(Party.name).like(like),
            )
        )
        stmt = stmt.where(
            sa.or_(sa.func.lower(GoodsReceipt.number).like(like), GoodsReceipt.order_id.in_(orders))
        )
    return stmt, {"status": status, "q": q}


@bp.route("/receipts")
@require("purchasing.receipt.read")
def receipt_list() -> Response:
    stmt, filters = _list_stmt()
    items, next_before = newest_first(stmt, GoodsReceipt.id)
    return render_page(
        "purchasing/receipt_list.html",
        "purchasing/_receipt_rows.html",
        "goods-receipt-rows",
        items=items,
        next_before=next_before,
        statuses=STATUSES,
        can_enter=_may_enter(),
        **filters,
    )


@bp.route("/receipts/export.xlsx")
@require("purchasing.receipt.read")
def receipt_export() -> Response:
    stmt, _filters = _list_stmt()
    stmt = stmt.options(selectinload(GoodsReceipt.lines).joinedload(GoodsReceiptLine.item))
    stmt = stmt.order_by(GoodsReceipt.id.desc())
    headers = [
        _("Number"),
        _("Status"),
        _("Order"),
        _("Supplier"),
        _("Location"),
        _("Item code"),
        _("Item"),
        _("Quantity"),
        _("Unit cost"),
        _("Received at"),
    ]

    def rows() -> Any:
        for r in db.session.scalars(stmt.execution_options(yield_per=200)):
            for line in r.lines:
                yield [
                    r.number,
                    str(STATUSES.get(r.status, r.status)),
                    r.order.number,
                    r.order.supplier.name,
                    r.location.name if r.location else "",
                    line.item.code,
                    line.item.name,
                    line.qty,
                    line.unit_cost,
                    to_user_timezone(r.received_at),
                ]

    return xlsx_response("goods-receipts.xlsx", _("Goods receipts"), headers, rows())
