"""Purchase order pages (采购订单): the list (search, filters, keyset, Excel), the order page with
its quantities, timeline and linked documents, and the buyer's send / confirm / cancel.

The list and the order page are budgeted at p95 <= 50 ms with a million orders: a few indexed
statements each (the supplier joined in; on the order page lines and items too; no COUNT).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import to_user_timezone
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from modules.crm.models import Party
from modules.purchasing.blueprint import bp
from modules.purchasing.forms import ConfirmOrderForm
from modules.purchasing.models import (
    PurchaseOrder,
    PurchaseOrderLine,
)
from modules.purchasing.services import orders as services
from modules.purchasing.services.receipts import may_receive
from suite.auth.permissions import has_permission, require
from suite.dataio.export import xlsx_response
from suite.db import db
from suite.errors import DomainError
from suite.i18n import Labels, datetime_local, money
from suite.tenancy import OneOr404
from suite.views.filters import choice_arg, search_arg
from suite.views.pagination import newest_first
from suite.web import redirect_to, render_page
from suite.workflow.history import history

STATUSES = {
    "draft": _l("Draft"),
    "confirmed": _l("Confirmed"),
    "partially_received": _l("Partially received"),
    "received": _l("Received"),
    "billed": _l("Billed"),
    "closed": _l("Closed"),
    "cancelled": _l("Cancelled"),
}
FIELDS = {
    "status": _l("Status"),
    "supplier_reference": _l("Supplier's reference"),
    "sent_at": _l("Sent"),
    "confirmed_at": _l("Confirmed"),
    "amount_total": _l("Total"),
    "asset_number": _l("Asset number"),
}
NUMBER = re.compile(r"^[A-Za-z]{2,4}-\d{4}-\d+$")


# The list shows a few columns of each order and its supplier's name: plain rows, no ORM objects
# (loading 25 orders and their suppliers as objects cost ~0.5 ms more per page).
_LIST_ROWS = sa.select(
    PurchaseOrder.id,
    PurchaseOrder.number,
    PurchaseOrder.status,
    PurchaseOrder.is_asset,
    PurchaseOrder.amount_total,
    PurchaseOrder.created_at,
    Party.name.label("supplier_name"),
).join(PurchaseOrder.supplier)
_EXPORT_ROWS = sa.select(PurchaseOrder).options(joinedload(PurchaseOrder.supplier))


def _list_stmt(stmt: sa.Select = _EXPORT_ROWS) -> tuple[sa.Select, dict[str, Any]]:
    """`stmt` narrowed by the list's filters (status, supplier, search), and the filters."""
    status = choice_arg("status", STATUSES)
    supplier_id = request.args.get("supplier_id", type=int)
    q = search_arg(80)
    if status:
        stmt = stmt.where(PurchaseOrder.status == status)
    if supplier_id:
        stmt = stmt.where(PurchaseOrder.supplier_id == supplier_id)
    if q:
        stmt = stmt.where(_search(q))
    return stmt, {"status": status, "supplier_id": supplier_id, "q": q}


def _search(q: str) -> Any:
    """A number (PO-2026-0042 exactly, or its last digits) or part of a supplier's name/code.

    Suppliers are looked up first (a small table), so the orders are then found through the
    (supplier_id, id) index instead of a scan joined to every order.
    """
    like = f"%{q.lower()}%"
    suppliers = (
        sa.select(Party.id)
        .where(
            Party.is_supplier.is_(True),
            sa.or_(sa.func.lower(Party.name).like(like), sa.func.lower(Party.code).like(like)),
        )
        .limit(200)
    )
    ids = list(db.session.scalars(suppliers))
    conditions = [PurchaseOrder.supplier_id.in_(ids)] if ids else []
    if NUMBER.match(q):
        conditions.append(PurchaseOrder.number == q.upper())
    elif q.isdigit():
        conditions.append(PurchaseOrder.number.like(f"%-{q.zfill(4)}"))
    return sa.or_(*conditions) if conditions else sa.false()


_SUPPLIER_CHOICES = (
    sa.select(Party.id, Party.name)
    .where(Party.is_supplier.is_(True))
    .order_by(Party.name)
    .limit(500)
)


def _supplier_filter_choices() -> list[tuple[int, str]]:
    return [(r.id, r.name) for r in db.session.execute(_SUPPLIER_CHOICES)]


@bp.route("/orders")
@require("purchasing.order.read")
def order_list() -> Response:
    stmt, filters = _list_stmt(_LIST_ROWS)
    items, next_before = newest_first(stmt, PurchaseOrder.id, scalars=False)
    return render_page(
        "purchasing/order_list.html",
        "purchasing/_order_rows.html",
        "purchase-order-rows",
        items=items,
        next_before=next_before,
        statuses=Labels(STATUSES),
        suppliers=_supplier_filter_choices(),
        **filters,
    )


@bp.route("/orders/export.xlsx")
@require("purchasing.order.read")
def order_export() -> Response:
    stmt, _filters = _list_stmt()
    stmt = stmt.order_by(PurchaseOrder.id.desc())
    headers = [
        _("Number"),
        _("Supplier"),
        _("Status"),
        _("Total"),
        _("Supplier's reference"),
        _("Asset number"),
        _("Sent"),
        _("Confirmed"),
        _("Created"),
    ]

    def rows() -> Any:
        for o in db.session.scalars(stmt.execution_options(yield_per=500)):
            yield [
                o.number,
                o.supplier.name,
                str(STATUSES.get(o.status, o.status)),
                o.amount_total,
                o.supplier_reference,
                o.asset_number or "",
                to_user_timezone(o.sent_at) if o.sent_at else None,
                to_user_timezone(o.confirmed_at) if o.confirmed_at else None,
                to_user_timezone(o.created_at),
            ]

    return xlsx_response("purchase-orders.xlsx", _("Purchase orders"), headers, rows())


# --- the order page -------------------------------------------------------------------------------


# The order with its supplier, request, lines and items and its goods receipts (workspace-scoped,
# else 404), in one statement (an order has a few lines and receipts: lines x receipts rows),
# built once.
_ORDER_PAGE = OneOr404(
    PurchaseOrder,
    joinedload(PurchaseOrder.supplier),
    joinedload(PurchaseOrder.request),
    joinedload(PurchaseOrder.lines).joinedload(PurchaseOrderLine.item),
    joinedload(PurchaseOrder.receipts),
    fresh=True,
)


def _load(purchase_order_id: int) -> PurchaseOrder:
    return _ORDER_PAGE(purchase_order_id)


def order_context(order: PurchaseOrder) -> dict[str, Any]:
    """Everything the order page shows (invoices and payments: `_invoice_order_section.html`)."""
    from modules.purchasing.views.receipts import STATUSES as RECEIPT_STATUSES

    me = g.membership
    manage = has_permission("purchasing.order.manage")
    return {
        "order": order,
        "statuses": Labels(STATUSES),
        "receipts": order.receipts,
        "receipt_statuses": Labels(RECEIPT_STATUSES),
        "can_send": manage and order.status in services.SENDABLE,
        "can_confirm": manage and order.status == "draft",
        "can_cancel": manage
        and order.status in services.CANCELLABLE
        and not any(ln.received_qty > 0 for ln in order.lines),
        "can_receive": order.status in ("confirmed", "partially_received")
        and may_receive(me, order),
        "print_url": _endpoint_url("purchasing.order_print", purchase_order_id=order.id),
        "events": history(
            [],
            "purchase_order",
            order.id,
            fields=FIELDS,
            formats={
                "amount_total": lambda v: money(Decimal(str(v))),
                "status": lambda v: str(STATUSES.get(v, v)),
                "sent_at": _when,
                "confirmed_at": _when,
            },
            limit=50,
        ),
    }


def _when(value: Any) -> str:
    """A stored ISO timestamp (audit payload) in the workspace's time zone."""
    try:
        return datetime_local(dt.datetime.fromisoformat(str(value)), "short")
    except ValueError:
        return str(value)


def _endpoint_url(endpoint: str, **values: Any) -> str | None:
    from flask import url_for

    return url_for(endpoint, **values) if endpoint in current_app.view_functions else None


def order_page(
    order: PurchaseOrder,
    *,
    status: int = 200,
    notice: str | None = None,
    confirm_form: ConfirmOrderForm | None = None,
) -> Response:
    ctx = order_context(order)
    if confirm_form is None and ctx["can_confirm"]:  # the page shows the form only then
        confirm_form = ConfirmOrderForm(formdata=None, obj=order)
    return render_page(
        "purchasing/order_detail.html",
        "purchasing/_order_summary.html",
        f"purchase-order-{order.id}-summary",
        status=status,
        notice=notice,
        confirm_form=confirm_form,
        **ctx,
    )


@bp.route("/orders/<int:purchase_order_id>")
@require("purchasing.order.read")
def order_detail(purchase_order_id: int) -> Response:
    return order_page(_load(purchase_order_id))


def _refused(purchase_order_id: int, exc: DomainError, **kwargs: Any) -> Response:
    db.session.rollback()
    return order_page(_load(purchase_order_id), status=409, notice=exc.message, **kwargs)


@bp.route("/orders/<int:purchase_order_id>/send", methods=["POST"])
@require("purchasing.order.manage")
def order_send(purchase_order_id: int) -> Response:
    order = _load(purchase_order_id)
    try:
        services.send_order(order, g.membership)
    except DomainError as exc:
        return _refused(purchase_order_id, exc)
    db.session.commit()
    message = (
        _("Sent to %(email)s.", email=order.supplier.email)
        if order.supplier.email
        else _("Marked as sent. The supplier has no e-mail address: send the PDF yourself.")
    )
    return redirect_to("purchasing.order_detail", message, purchase_order_id=order.id)


@bp.route("/orders/<int:purchase_order_id>/confirm", methods=["POST"])
@require("purchasing.order.manage")
def order_confirm(purchase_order_id: int) -> Response:
    order = _load(purchase_order_id)
    form = ConfirmOrderForm()
    if not form.validate_on_submit():
        return order_page(order, status=422, confirm_form=form)
    try:
        services.confirm_order(order, g.membership, form.supplier_reference.data or "")
    except DomainError as exc:
        if exc.field:
            db.session.rollback()
            form.supplier_reference.errors.append(exc.message)
            return order_page(_load(purchase_order_id), status=422, confirm_form=form)
        return _refused(purchase_order_id, exc)
    db.session.commit()
    return redirect_to(
        "purchasing.order_detail", _("Supplier confirmation recorded."), purchase_order_id=order.id
    )


@bp.route("/orders/<int:purchase_order_id>/cancel", methods=["POST"])
@require("purchasing.order.manage")
def order_cancel(purchase_order_id: int) -> Response:
    order = _load(purchase_order_id)
    try:
        services.cancel_order(order, g.membership)
    except DomainError as exc:
        return _refused(purchase_order_id, exc)
    db.session.commit()
    return redirect_to("purchasing.order_detail", _("Cancelled."), purchase_order_id=order.id)
