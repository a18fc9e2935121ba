"""Payment requests (资金给付单, S1.6): created by a matched invoice, approved by finance through
the `purchasing.payment_request` process, then marked paid by finance with a method.

Lifecycle: submitted -> approved -> paid, or rejected / draft (withdrawn); a rejected or
withdrawn request can be submitted again by its requester. Paying locks the row, so two clicks
(or two finance people) pay once.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from modules.purchasing.models import PaymentRequest, SupplierInvoice
from modules.purchasing.services import orders
from suite.auth.models import Membership
from suite.db import db, utcnow
from suite.documents import next_number
from suite.errors import DomainError
from suite.workflow import engine

DOC_TYPE = "purchasing.payment_request"
DRAFT, SUBMITTED, APPROVED, PAID, REJECTED = "draft", "submitted", "approved", "paid", "rejected"
RESUBMITTABLE = (DRAFT, REJECTED)
# Payment methods and the text of the stamp the printed request carries once paid.
METHODS = {
    "cash": _l("Cash"),
    "bank": _l("Bank transfer"),
    "on_account": _l("On account (month end)"),
}
STATUS_LABELS = {
    DRAFT: _l("Draft"),
    SUBMITTED: _l("In approval"),
    APPROVED: _l("Approved"),
    PAID: _l("Paid"),
    REJECTED: _l("Rejected"),
}
STAMPS = {"cash": "现金付讫", "bank": "银行付讫", "on_account": "挂账"}


def create_payment(invoice: SupplierInvoice, actor: Membership) -> PaymentRequest:
    """A payment request for a matched invoice's total, submitted to finance at once."""
    payment = PaymentRequest(
        number=next_number("PAY"),
        invoice_id=invoice.id,
        supplier_id=invoice.supplier_id,
        amount=invoice.amount_total,
        requester_id=actor.id,
        status=SUBMITTED,
    )
    db.session.add(payment)
    db.session.flush()
    result = engine.submit(DOC_TYPE, payment, actor.id)
    payment.instance_id = result.instance_id
    db.session.flush()
    return payment


def resubmit_payment(
    payment: PaymentRequest, actor: Membership, key: str | None = None
) -> engine.Result:
    """The requester sends a rejected or withdrawn request to finance again."""
    if payment.requester_id != actor.id:
        raise DomainError(_("Only the requester can submit this payment request."))
    if payment.status not in RESUBMITTABLE:
        raise DomainError(_("This payment request has been submitted already."))
    payment.status = SUBMITTED
    db.session.flush()
    result = engine.submit(DOC_TYPE, payment, actor.id, key=key)
    payment.instance_id = result.instance_id
    return result


def lock(payment_id: int) -> PaymentRequest | None:
    """The payment request row, locked until commit, re-read from the database."""
    return db.session.scalar(
        sa.select(PaymentRequest)
        .where(PaymentRequest.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def pay(payment: PaymentRequest, actor: Membership, method: str) -> PaymentRequest:
    """Finance pays an approved request by cash, bank transfer or on account (月末挂账)."""
    if method not in METHODS:
        raise DomainError(_("Choose how it was paid."), "method")
    locked = lock(payment.id)
    if locked is None or locked.status != APPROVED:
        if locked is not None and locked.status == PAID:
            raise DomainError(_("This payment request has been paid already."))
        raise DomainError(_("Only an approved payment request can be paid."))
    locked.status, locked.method = PAID, method
    locked.paid_by_id, locked.paid_at = actor.id, utcnow()
    db.session.flush()
    orders.refresh_status(locked.invoice.order)
    return locked


def stamp_text(payment: PaymentRequest) -> str | None:
    """现金付讫 / 银行付讫 / 挂账 once paid; nothing before."""
    return STAMPS.get(payment.method or "") if payment.status == PAID else None


class PaymentRequestType:
    """What the workflow engine needs to know about payment requests."""

    key = DOC_TYPE
    template = DOC_TYPE

    def get(self, document_id: int) -> PaymentRequest | None:
        return db.session.get(PaymentRequest, document_id)

    def values(self, payment: PaymentRequest) -> dict[str, Any]:
        return {"amount": payment.amount, "supplier": payment.supplier.name}

    def title(self, payment: PaymentRequest) -> str:
        return f"{payment.number} {payment.supplier.name}"

    def url(self, payment: PaymentRequest) -> str:
        return f"/purchasing/payments/{payment.id}"

    def on_outcome(self, payment: PaymentRequest, status: str) -> None:
        if payment.status == PAID:
            return
        payment.status = {"approved": APPROVED, "rejected": REJECTED, "cancelled": REJECTED}.get(
            status, DRAFT
        )


payment_request = PaymentRequestType()
