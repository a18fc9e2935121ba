"""Purchase orders (采购订单): send to the supplier, record their confirmation, cancel, and the
lifecycle computed from the lines: draft -> confirmed -> partially_received -> received ->
billed -> closed, or cancelled."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from modules.purchasing.models import PaymentRequest, PurchaseOrder, SupplierInvoice
from suite.auth.models import Membership
from suite.db import db, utcnow
from suite.errors import DomainError
from suite.i18n import money
from suite.notify.models import OutboxMessage

STATUSES = (
    "draft",
    "confirmed",
    "partially_received",
    "received",
    "billed",
    "closed",
    "cancelled",
)
SENDABLE = ("draft", "confirmed")
CANCELLABLE = ("draft", "confirmed")


def document_link(order: PurchaseOrder) -> str:
    """The PDF print when the print view exists, else the order page (relative URLs)."""
    if "purchasing.order_print" in current_app.view_functions:
        return f"/purchasing/orders/{order.id}/print.pdf"
    return f"/purchasing/orders/{order.id}"


def send_order(order: PurchaseOrder, actor: Membership) -> PurchaseOrder:
    """Record that the order went out; e-mail the supplier a link through the outbox."""
    if order.status not in SENDABLE:
        raise DomainError(_("Only a draft or confirmed order can be sent."))
    order.sent_at = utcnow()
    if order.buyer_id is None:
        order.buyer_id = actor.id
    address = (order.supplier.email or "").strip()
    if address:
        db.session.add(
            OutboxMessage(
                channel="email",
                address=address,
                event="purchasing.order_sent",
                subject=_("Purchase order %(number)s", number=order.number),
                body=_(
                    "Please find our purchase order %(number)s, total %(total)s, at the link "
                    "below, and confirm it with your reference.",
                    number=order.number,
                    total=money(order.amount_total),
                ),
                link=document_link(order),
                payload={"purchase_order_id": order.id},
            )
        )
    db.session.flush()
    return order


def confirm_order(
    order: PurchaseOrder, actor: Membership, supplier_reference: str = ""
) -> PurchaseOrder:
    """Record the supplier's confirmation (their order or reference number)."""
    if order.status != "draft":
        raise DomainError(_("Only a draft order can be confirmed."))
    reference = (supplier_reference or "").strip()
    if len(reference) > 80:
        raise DomainError(_("At most 80 characters."), "supplier_reference")
    order.supplier_reference = reference
    order.confirmed_at = utcnow()
    if order.buyer_id is None:
        order.buyer_id = actor.id
    order.status = "confirmed"
    db.session.flush()
    return order


def cancel_order(order: PurchaseOrder, actor: Membership) -> PurchaseOrder:
    """Cancel an order nothing has been received or invoiced for."""
    received = any(line.received_qty > 0 or line.invoiced_qty > 0 for line in order.lines)
    if order.status not in CANCELLABLE or received:
        raise DomainError(_("Only an order nothing has been received for can be cancelled."))
    order.status = "cancelled"
    db.session.flush()
    return order


def _all_paid(order: PurchaseOrder) -> bool:
    """Every matched invoice of the order has a paid payment request and none still open."""
    invoices = list(
        db.session.scalars(
            sa.select(SupplierInvoice.id).where(
                SupplierInvoice.order_id == order.id, SupplierInvoice.status == "matched"
            )
        )
    )
    if not invoices:
        return False
    rows = db.session.execute(
        sa.select(PaymentRequest.invoice_id, PaymentRequest.status).where(
            PaymentRequest.invoice_id.in_(invoices)
        )
    ).all()
    paid = {r.invoice_id for r in rows if r.status == "paid"}
    pending = [r for r in rows if r.status not in ("paid", "rejected")]
    return paid == set(invoices) and not pending


def refresh_status(order: PurchaseOrder) -> str:
    """Recompute the status from the lines' received and invoiced quantities."""
    if order.status == "cancelled":
        return order.status
    lines = order.lines
    if lines and all(line.invoiced_qty >= line.qty for line in lines):
        status = "closed" if _all_paid(order) else "billed"
    elif lines and all(line.received_qty >= line.qty for line in lines):
        status = "received"
    elif any(line.received_qty > 0 for line in lines):
        status = "partially_received"
    else:
        status = "confirmed" if order.confirmed_at is not None else "draft"
    if order.status != status:
        order.status = status
        db.session.flush()
    return status
