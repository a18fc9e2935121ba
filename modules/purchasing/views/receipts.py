"""Goods receipt pages (入库单), built for the warehouse keeper's phone: pick the order (or scan
its number), big quantity inputs prefilled with the open quantity, a scan box that focuses the
line of an item code or barcode; the receipt page with its return to the supplier; the list."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import abort, current_app, g, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from modules.inventory.models import Location, Warehouse
from modules.purchasing.blueprint import bp
from modules.purchasing.models import (
    GoodsReceipt,
    GoodsReceiptLine,
    PurchaseOrder,
    PurchaseOrderLine,
)
from modules.purchasing.services import receipts as services
from suite.auth.permissions import has_permission, require
from suite.db import db
from suite.errors import DomainError
from suite.tenancy import get_or_404
from suite.web import redirect_to, render_page
from suite.workflow.history import history

STATUSES = {
    "posted": _l("Posted"),
    "accepted": _l("Accepted"),
    "returned": _l("Returned"),
}
OPEN_STATUSES = ("confirmed", "partially_received")


def _may_enter() -> bool:
    return has_permission("purchasing.receipt.create") or has_permission(
        "purchasing.receipt.accept_asset"
    )


def _order(purchase_order_id: int) -> PurchaseOrder:
    return get_or_404(
        PurchaseOrder,
        purchase_order_id,
        joinedload(PurchaseOrder.supplier),
        selectinload(PurchaseOrder.lines).joinedload(PurchaseOrderLine.item),
        fresh=True,
    )


def _receipt(goods_receipt_id: int) -> GoodsReceipt:
    return get_or_404(
        GoodsReceipt,
        goods_receipt_id,
        joinedload(GoodsReceipt.order).joinedload(PurchaseOrder.supplier),
        joinedload(GoodsReceipt.location),
        selectinload(GoodsReceipt.lines).joinedload(GoodsReceiptLine.item),
        fresh=True,
    )


def _locations() -> list[tuple[int, str]]:
    rows = db.session.execute(
        sa.select(Location.id, Location.code, Location.name, Warehouse.code.label("wh"))
        .join(Warehouse, Warehouse.id == Location.warehouse_id)
        .where(Location.active.is_(True), Warehouse.active.is_(True))
        .order_by(Warehouse.id, Location.code)
        .limit(500)
    ).all()
    return [(r.id, f"{r.wh} {r.code} {r.name}") for r in rows]


def _parse_qty(raw: str | None) -> Decimal | None:
    """What the keeper typed: empty is 0; `1,200` is 1200; anything else is None (an error)."""
    text = (raw or "").replace(",", "").replace("，", "").strip()
    if not text:
        return Decimal(0)
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _typed(prefix: str, ids: list[int]) -> tuple[dict[int, Decimal], dict[str, str]]:
    """Quantities from the form (`qty-<id>`), and errors for the ones that are not numbers."""
    values: dict[int, Decimal] = {}
    errors: dict[str, str] = {}
    for line_id in ids:
        raw = request.values.get(f"{prefix}-{line_id}")
        if raw is None:
            continue
        qty = _parse_qty(raw)
        if qty is None:
            errors[f"{prefix}-{line_id}"] = _("Not a valid number.")
        else:
            values[line_id] = qty
    return values, errors


# --- pick the order -------------------------------------------------------------------------------


@bp.route("/receipts/new")
@login_required
def receipt_pick() -> Response:
    """Scan or type the order number, or pick one of the orders waiting for goods."""
    if not _may_enter():
        abort(403)
    number = (request.args.get("number") or "").strip().upper()
    error = None
    if number:
        order_id = db.session.scalar(
            sa.select(PurchaseOrder.id).where(PurchaseOrder.number == number)
        )
        if order_id is not None:
            return redirect_to("purchasing.receipt_new", purchase_order_id=order_id)
        error = _("No order has the number %(number)s.", number=number)
    kinds = []
    if has_permission("purchasing.receipt.create"):
        kinds.append(False)
    if has_permission("purchasing.receipt.accept_asset"):
        kinds.append(True)
    waiting = list(
        db.session.scalars(
            sa.select(PurchaseOrder)
            .options(joinedload(PurchaseOrder.supplier))
            .where(PurchaseOrder.status.in_(OPEN_STATUSES), PurchaseOrder.is_asset.in_(kinds))
            .order_by(PurchaseOrder.id.desc())
            .limit(50)
        )
    )
    return render_page(
        "purchasing/receipt_pick.html",
        "purchasing/_receipt_waiting.html",
        "receipt-waiting",
        waiting=waiting,
        number=number,
        error=error,
    )


# --- enter a receipt ------------------------------------------------------------------------------


def _entry_page(
    order: PurchaseOrder,
    *,
    status: int = 200,
    typed: dict[int, Decimal] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    locations = _locations()
    location_id = request.values.get("location_id", type=int)
    if location_id not in {loc_id for loc_id, _label in locations}:
        location_id = locations[0][0] if locations else None
    scan = (request.args.get("scan") or "").strip()
    focus, scan_message = None, None
    if scan:
        wanted = scan.lower()
        focus = next(
            (
                ln.id
                for ln in order.lines
                if ln.item.code.lower() == wanted or (ln.item.barcode or "") == scan
            ),
            None,
        )
        if focus is None:
            scan_message = _("No line of this order has the code %(code)s.", code=scan)
    open_lines = [ln for ln in order.lines if ln.open_qty > 0 or (typed and ln.id in typed)]
    return render_page(
        "purchasing/receipt_form.html",
        "purchasing/_receipt_lines.html",
        f"purchase-order-{order.id}-receipt-lines",
        status=status,
        order=order,
        lines=open_lines or order.lines,
        typed=typed or {},
        errors=errors or {},
        focus=focus,
        scan=scan,
        scan_message=scan_message,
        notice=notice,
        locations=locations,
        location_id=location_id,
        needs_location=not order.is_asset,
        note=request.form.get("note", ""),
        raw={k: v for k, v in request.values.items() if k.startswith("qty-")},
        has_order_read=has_permission("purchasing.order.read"),
    )


@bp.route("/orders/<int:purchase_order_id>/receipts/new", methods=["GET", "POST"])
@login_required
def receipt_new(purchase_order_id: int) -> Response:
    order = _order(purchase_order_id)
    if not services.may_receive(g.membership, order):
        abort(403)
    ids = [ln.id for ln in order.lines]
    typed, errors = _typed("qty", ids)
    if request.method == "GET":
        notice = None
        if order.status == "draft":
            notice = _("The supplier has not confirmed this order yet.")
        elif order.status not in services.RECEIVABLE:
            notice = _("This order cannot receive goods any more.")
        return _entry_page(order, typed=typed, notice=notice)
    if errors:
        return _entry_page(order, status=422, typed=typed, errors=errors)
    try:
        receipt = services.post_receipt(
            order,
            g.membership,
            location_id=request.form.get("location_id", type=int),
            quantities=typed,
            note=request.form.get("note", ""),
        )
    except DomainError as exc:
        db.session.rollback()
        field = exc.field or ""
        order = _order(purchase_order_id)
        if field.startswith("qty-") or field == "location_id":
            return _entry_page(order, status=422, typed=typed, errors={field: exc.message})
        return _entry_page(order, status=409, typed=typed, notice=exc.message)
    db.session.commit()
    return redirect_to(
        "purchasing.receipt_detail",
        _("Receipt %(number)s posted.", number=receipt.number),
        goods_receipt_id=receipt.id,
    )


# --- the receipt page -----------------------------------------------------------------------------


def _receipt_page(
    receipt: GoodsReceipt,
    *,
    status: int = 200,
    typed: dict[int, Decimal] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    returns = list(
        db.session.scalars(
            sa.select(GoodsReceipt)
            .where(GoodsReceipt.return_of_id == receipt.id)
            .order_by(GoodsReceipt.id)
        )
    )
    done = services.returned_so_far(receipt) if receipt.status != "returned" else {}
    returnable = {rl.id: rl.qty - done.get(rl.order_line_id, Decimal(0)) for rl in receipt.lines}
    can_return = (
        receipt.status != "returned"
        and services.may_receive(g.membership, receipt.order)
        and any(q > 0 for q in returnable.values())
    )
    print_url = (
        url_for("purchasing.receipt_print", goods_receipt_id=receipt.id)
        if "purchasing.receipt_print" in current_app.view_functions
        else None
    )
    return render_page(
        "purchasing/receipt_detail.html",
        "purchasing/_receipt_return.html",
        f"goods-receipt-{receipt.id}-return",
        status=status,
        receipt=receipt,
        statuses=STATUSES,
        returns=returns,
        returnable=returnable,
        can_return=can_return,
        typed=typed or {},
        errors=errors or {},
        notice=notice,
        print_url=print_url,
        events=history([], "goods_receipt", receipt.id, fields={"note": _l("Note")}, limit=50),
    )


@bp.route("/receipts/<int:goods_receipt_id>")
@require("purchasing.receipt.read")
def receipt_detail(goods_receipt_id: int) -> Response:
    return _receipt_page(_receipt(goods_receipt_id))


@bp.route("/receipts/<int:goods_receipt_id>/return", methods=["POST"])
@login_required
def receipt_return(goods_receipt_id: int) -> Response:
    receipt = _receipt(goods_receipt_id)
    if not services.may_receive(g.membership, receipt.order):
        abort(403)
    typed, errors = _typed("qty", [rl.id for rl in receipt.lines])
    if errors:
        return _receipt_page(receipt, status=422, typed=typed, errors=errors)
    try:
        ret = services.return_to_supplier(
            receipt, g.membership, typed, note=request.form.get("note", "")
        )
    except DomainError as exc:
        db.session.rollback()
        receipt = _receipt(goods_receipt_id)
        if exc.field:
            return _receipt_page(receipt, status=422, typed=typed, errors={exc.field: exc.message})
        return _receipt_page(receipt, status=409, typed=typed, notice=exc.message)
    db.session.commit()
    return redirect_to(
        "purchasing.receipt_detail",
        _("Return %(number)s posted.", number=ret.number),
        goods_receipt_id=ret.id,
    )
