"""Payment request pages (资金给付单): list and export, the document page with its approval
process, finance marking it paid (cash / bank transfer / on account), resubmission."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response

from modules.crm.models import Party
from modules.purchasing.blueprint import bp
from modules.purchasing.forms_billing import PayForm
from modules.purchasing.models import PaymentRequest
from modules.purchasing.services import payments as services
from suite.auth.permissions import has_permission, require
from suite.dataio.export import xlsx_response
from suite.db import db
from suite.errors import DomainError
from suite.i18n import money
from suite.tenancy import get_or_404
from suite.views.filters import choice_arg, search_arg
from suite.views.pagination import newest_first
from suite.web import redirect_to, render_page
from suite.workflow.documents import (
    instance_of,
    instances_of,
    involved,
    submit_from_page,
    visible_or_404,
)
from suite.workflow.history import history
from suite.workflow.panels import new_key, panel_for
from suite.workflow.views import DocumentPages, register_pages

READ, PAY = "purchasing.payment.read", "purchasing.payment.pay"
FIELDS = {"status": _l("Status"), "method": _l("Paid by"), "amount": _l("Amount")}


# --- who sees what --------------------------------------------------------------------------------


def _visible(payment: PaymentRequest) -> bool:
    return (
        has_permission(READ)
        or payment.requester_id == g.membership.id
        or involved(services.DOC_TYPE, payment.id)
    )


def _get_visible(payment_request_id: int) -> PaymentRequest:
    return visible_or_404(PaymentRequest, payment_request_id, _visible)


def sees_bank_account() -> bool:
    """The supplier's bank account is for finance (the people who pay), not for everyone."""
    return has_permission(PAY)


# --- the payment request page ---------------------------------------------------------------------


def _panel_context(
    payment: PaymentRequest,
    *,
    notice: str | None = None,
    failed: Any = None,
    pay_form: PayForm | None = None,
) -> dict[str, Any]:
    instance = instance_of(payment.instance_id)
    can_pay = payment.status == services.APPROVED and has_permission(PAY)
    mine = payment.requester_id == g.membership.id
    return {
        "payment": payment,
        "panel": panel_for(instance, f"payment-{payment.id}", notice=notice, failed=failed),
        "statuses": services.STATUS_LABELS,
        "methods": services.METHODS,
        "can_pay": can_pay,
        "pay_form": pay_form or (PayForm(formdata=None) if can_pay else None),
        "can_submit": mine and payment.status in services.RESUBMITTABLE,
        "submit_key": new_key(),
        "stamp": services.stamp_text(payment),
    }


def detail_page(
    payment: PaymentRequest,
    *,
    status: int = 200,
    notice: str | None = None,
    failed: Any = None,
    pay_form: PayForm | None = None,
) -> Response:
    ctx = _panel_context(payment, notice=notice, failed=failed, pay_form=pay_form)
    instances = instances_of(services.DOC_TYPE, payment.id)
    methods = services.METHODS
    ctx["events"] = history(
        instances,
        "payment_request",
        payment.id,
        fields=FIELDS,
        formats={
            "method": lambda v: str(methods.get(v, v or "")),
            "status": lambda v: str(services.STATUS_LABELS.get(v, v)),
            "amount": lambda v: money(Decimal(str(v))),
        },
    )
    ctx["show_bank"] = sees_bank_account()
    ctx["has_read"] = has_permission(READ)
    return render_page(
        "purchasing/payment_detail.html",
        "purchasing/_payment_status.html",
        f"payment-{payment.id}-status",
        status=status,
        **ctx,
    )


register_pages(
    services.DOC_TYPE,
    DocumentPages(
        status="purchasing/_payment_status.html",
        actions="purchasing/_payment_actions.html",
        context=_panel_context,
        page=detail_page,
        visible=_visible,
    ),
)


@bp.route("/payments/<int:payment_request_id>")
@login_required
def payment_detail(payment_request_id: int) -> Response:
    return detail_page(_get_visible(payment_request_id))


@bp.route("/payments/<int:payment_request_id>/pay", methods=["POST"])
@require(PAY)
def payment_pay(payment_request_id: int) -> Response:
    """Finance marks an approved request paid; anything else is refused and nothing is written."""
    payment = _get_visible(payment_request_id)
    form = PayForm()
    if not form.validate_on_submit():
        return detail_page(payment, status=422, pay_form=form)
    try:
        services.pay(payment, g.membership, form.method.data)
    except DomainError as exc:
        db.session.rollback()
        payment = get_or_404(PaymentRequest, payment_request_id)
        if exc.field:
            form.method.errors = [*form.method.errors, exc.message]
            return detail_page(payment, status=422, pay_form=form)
        return detail_page(payment, status=409, notice=exc.message)
    db.session.commit()
    label = services.METHODS[form.method.data]
    return redirect_to(
        "purchasing.payment_detail",
        _("Marked paid: %(method)s.", method=label),
        payment_request_id=payment.id,
    )


@bp.route("/payments/<int:payment_request_id>/submit", methods=["POST"])
@login_required
def payment_submit(payment_request_id: int) -> Response:
    """The requester sends a rejected or withdrawn payment request to finance again."""
    payment = _get_visible(payment_request_id)
    return submit_from_page(
        lambda key: services.resubmit_payment(payment, g.membership, key=key),
        done=lambda message: redirect_to(
            "purchasing.payment_detail", message, payment_request_id=payment.id
        ),
        refused=lambda notice: detail_page(
            get_or_404(PaymentRequest, payment_request_id), status=409, notice=notice
        ),
    )


# --- list and export ------------------------------------------------------------------------------


def _filters() -> dict[str, Any]:
    return {
        "q": search_arg(80),
        "status": choice_arg("status", services.STATUS_LABELS),
        "method": choice_arg("method", services.METHODS),
    }


def _query(q: str, status: str | None, method: str | None) -> sa.Select:
    stmt = sa.select(PaymentRequest)
    if status:
        stmt = stmt.where(PaymentRequest.status == status)
    if method:
        stmt = stmt.where(PaymentRequest.method == method)
    if q:
        like = f"%{q}%"
        suppliers = sa.select(Party.id).where(Party.name.ilike(like))
        stmt = stmt.where(
            sa.or_(PaymentRequest.number.ilike(like), PaymentRequest.supplier_id.in_(suppliers))
        )
    return stmt


@bp.route("/payments")
@require(READ)
def payment_list() -> Response:
    filters = _filters()
    stmt = _query(**filters)
    rows, next_before = newest_first(stmt, PaymentRequest.id)
    return render_page(
        "purchasing/payment_list.html",
        "purchasing/_payment_results.html",
        "payment-results",
        items=rows,
        next_before=next_before,
        filters=filters,
        statuses=services.STATUS_LABELS,
        methods=services.METHODS,
    )


@bp.route("/payments/export.xlsx")
@require(READ)
def payment_export() -> Response:
    """The filtered list (every page) as an Excel file; bank accounts only for finance."""
    stmt = _query(**_filters()).order_by(PaymentRequest.id.desc())
    bank = sees_bank_account()
    headers = [
        _("Number"),
        _("Supplier"),
        _("Invoice"),
        _("Amount"),
        _("Status"),
        _("Paid by"),
        _("Paid at"),
    ]
    if bank:
        headers += [_("Bank"), _("Bank account")]
    methods, statuses = services.METHODS, services.STATUS_LABELS

    def row(p: PaymentRequest) -> list[Any]:
        out = [
            p.number,
            p.supplier.name,
            p.invoice.number,
            p.amount,
            str(statuses.get(p.status, p.status)),
            str(methods[p.method]) if p.method in methods else "",
            _local(p.paid_at),
        ]
        if bank:
            out += [p.supplier.bank_name, p.supplier.bank_account]
        return out

    rows = (row(p) for p in db.session.scalars(stmt.execution_options(yield_per=500)))
    return xlsx_response("payment-requests.xlsx", _("Payment requests"), headers, rows)


def _local(value: Any) -> Any:
    """A UTC datetime in the workspace's time zone (Excel has none)."""
    if value is None:
        return None
    from flask_babel import get_timezone

    return value.astimezone(get_timezone())
