"""Supplier invoice pages (供应商发票): list and export, entry against an order (three-way match),
the invoice page with its exception process, and the buyer's correction of a blocked invoice."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response

from modules.crm.models import Party
from modules.purchasing.blueprint import bp
from modules.purchasing.forms_billing import invoice_form
from modules.purchasing.models import (
    PaymentRequest,
    PurchaseOrder,
    PurchaseOrderLine,
    SupplierInvoice,
)
from modules.purchasing.services import invoices as services
from modules.purchasing.services import payments as payment_services
from suite.auth.permissions import has_permission, require
from suite.dataio.export import xlsx_response
from suite.db import db
from suite.errors import DomainError
from suite.i18n import money
from suite.tenancy import get_or_404
from suite.views.filters import choice_arg, search_arg
from suite.views.pagination import newest_first
from suite.web import redirect_to, render_form, render_page
from suite.workflow.documents import instance_of, involved, refusal_text, visible_or_404
from suite.workflow.history import history
from suite.workflow.panels import new_key, panel_for
from suite.workflow.planner import CommandRefused
from suite.workflow.views import DocumentPages, register_pages

READ, CREATE, RESOLVE = (
    "purchasing.invoice.read",
    "purchasing.invoice.create",
    "purchasing.invoice.resolve",
)
STATUSES = {
    "matched": _l("Matched"),
    "blocked": _l("Blocked"),
    "cancelled": _l("Cancelled"),
}
FIELDS = {"status": _l("Status"), "amount_total": _l("Total"), "mismatch": _l("Mismatch")}


# --- who sees what --------------------------------------------------------------------------------


def _visible(invoice: SupplierInvoice) -> bool:
    return (
        has_permission(READ)
        or invoice.entered_by_id == g.membership.id
        or involved(services.DOC_TYPE, invoice.id)
    )


def _get_visible(supplier_invoice_id: int) -> SupplierInvoice:
    return visible_or_404(SupplierInvoice, supplier_invoice_id, _visible)


def _can_correct(invoice: SupplierInvoice) -> bool:
    return invoice.status == services.BLOCKED and has_permission(RESOLVE)


# --- the invoice page -----------------------------------------------------------------------------


def _panel_context(
    invoice: SupplierInvoice, *, notice: str | None = None, failed: Any = None
) -> dict[str, Any]:
    instance = instance_of(invoice.instance_id)
    return {
        "invoice": invoice,
        "panel": panel_for(instance, f"invoice-{invoice.id}", notice=notice, failed=failed),
        "statuses": STATUSES,
        "can_correct": _can_correct(invoice),
    }


def detail_page(
    invoice: SupplierInvoice, *, status: int = 200, notice: str | None = None, failed: Any = None
) -> Response:
    ctx = _panel_context(invoice, notice=notice, failed=failed)
    instances = [ctx["panel"].instance] if ctx["panel"].instance else []
    ctx["events"] = history(
        instances,
        "supplier_invoice",
        invoice.id,
        fields=FIELDS,
        formats={
            "status": lambda v: str(STATUSES.get(v, v)),
            "amount_total": lambda v: money(Decimal(str(v))),
        },
    )
    ctx["payments"] = list(
        db.session.scalars(
            sa.select(PaymentRequest)
            .where(PaymentRequest.invoice_id == invoice.id)
            .order_by(PaymentRequest.id)
        )
    )
    ctx["payment_statuses"] = payment_services.STATUS_LABELS
    return render_page(
        "purchasing/invoice_detail.html",
        "purchasing/_invoice_status.html",
        f"invoice-{invoice.id}-status",
        status=status,
        **ctx,
    )


register_pages(
    services.DOC_TYPE,
    DocumentPages(
        status="purchasing/_invoice_status.html",
        actions="purchasing/_invoice_actions.html",
        context=_panel_context,
        page=detail_page,
        visible=_visible,
    ),
)


@bp.route("/invoices/<int:supplier_invoice_id>")
@login_required
def invoice_detail(supplier_invoice_id: int) -> Response:
    return detail_page(_get_visible(supplier_invoice_id))


# --- list and export ------------------------------------------------------------------------------


def _filters() -> dict[str, Any]:
    return {
        "q": search_arg(80),
        "status": choice_arg("status", STATUSES),
        "supplier": request.args.get("supplier", type=int),
    }


def _query(q: str, status: str | None, supplier: int | None) -> sa.Select:
    stmt = sa.select(SupplierInvoice)
    if status:
        stmt = stmt.where(SupplierInvoice.status == status)
    if supplier:
        stmt = stmt.where(SupplierInvoice.supplier_id == supplier)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(
            sa.or_(SupplierInvoice.number.ilike(like), SupplierInvoice.invoice_no.ilike(like))
        )
    return stmt


def _suppliers() -> list[tuple[int, str]]:
    rows = db.session.execute(
        sa.select(Party.id, Party.name).where(Party.is_supplier.is_(True)).order_by(Party.name)
    )
    return [(row.id, row.name) for row in rows]


@bp.route("/invoices")
@require(READ)
def invoice_list() -> Response:
    filters = _filters()
    stmt = _query(**filters)
    rows, next_before = newest_first(stmt, SupplierInvoice.id)
    return render_page(
        "purchasing/invoice_list.html",
        "purchasing/_invoice_results.html",
        "invoice-results",
        items=rows,
        next_before=next_before,
        filters=filters,
        statuses=STATUSES,
        suppliers=_suppliers(),
        can_create=has_permission(CREATE),
    )


@bp.route("/invoices/export.xlsx")
@require(READ)
def invoice_export() -> Response:
    """The filtered list (every page) as an Excel file."""
    stmt = _query(**_filters()).order_by(SupplierInvoice.id.desc())
    headers = [
        _("Number"),
        _("Supplier's invoice number"),
        _("Invoice date"),
        _("Supplier"),
        _("Purchase order"),
        _("Total"),
        _("Status"),
        _("Mismatch"),
    ]
    rows = (
        [
            inv.number,
            inv.invoice_no,
            inv.invoice_date,
            inv.supplier.name,
            inv.order.number,
            inv.amount_total,
            str(STATUSES.get(inv.status, inv.status)),
            inv.mismatch,
        ]
        for inv in db.session.scalars(stmt.execution_options(yield_per=500))
    )
    return xlsx_response("supplier-invoices.xlsx", _("Supplier invoices"), headers, rows)


# --- entry and correction -------------------------------------------------------------------------


@bp.route("/invoices/new")
@require(CREATE)
def invoice_choose_order() -> Response:
    """Orders with goods received but not yet invoiced: pick one to enter its invoice."""
    open_lines = sa.select(PurchaseOrderLine.order_id).where(
        PurchaseOrderLine.received_qty > PurchaseOrderLine.invoiced_qty
    )
    orders = list(
        db.session.scalars(
            sa.select(PurchaseOrder)
            .where(
                PurchaseOrder.status.in_(services.INVOICEABLE),
                PurchaseOrder.id.in_(open_lines),
            )
            .order_by(PurchaseOrder.id.desc())
            .limit(200)
        )
    )
    return render_page(
        "purchasing/invoice_choose.html",
        "purchasing/invoice_choose.html",
        "invoice-choose",
        orders=orders,
    )


def _form_page(
    form: Any, order: PurchaseOrder, invoice: SupplierInvoice | None, **ctx: Any
) -> Response:
    return render_form(
        "purchasing/invoice_form.html",
        "purchasing/_invoice_form.html",
        "invoice-form",
        form,
        order=order,
        invoice=invoice,
        key=new_key(),
        can_correct_blocked=has_permission(RESOLVE),
        **ctx,
    )


@bp.route("/orders/<int:purchase_order_id>/invoices/new", methods=["GET", "POST"])
@require(CREATE)
def invoice_new(purchase_order_id: int) -> Response:
    order = get_or_404(PurchaseOrder, purchase_order_id)
    form = invoice_form(order, services.prefill(order) if request.method == "GET" else None)
    if request.method == "GET" and order.status not in services.INVOICEABLE:
        form.invoice_no.errors = [_("Invoices can be entered only for confirmed orders.")]
    if not form.validate_on_submit():
        return _form_page(form, order, None)
    key = (request.form.get("key") or "").strip()[:64]
    try:
        result = services.enter_invoice(
            order,
            g.membership,
            invoice_no=form.invoice_no.data,
            invoice_date=form.invoice_date.data,
            lines=form.line_inputs(),
            key=f"ui:{g.membership.id}:{key}" if key else None,
        )
    except (DomainError, CommandRefused) as exc:
        db.session.rollback()
        message = refusal_text(exc)
        field = exc.field if isinstance(exc, DomainError) else None
        form.add_problems({field or "invoice_no": message})
        earlier = services.entered_before(order, form.invoice_no.data)
        if field == "invoice_no" and earlier is not None and earlier.status == services.BLOCKED:
            # The same number again (say, after the mismatch): its correction page, not a save.
            return _form_page(form, order, None, blocked=earlier, repeated=True)
        return _form_page(form, order, None)
    db.session.commit()
    if not result.matched:
        # Kept as blocked with a task for the buyers; the form shows why, next to the lines,
        # and sends to the blocked invoice's correction (this form cannot save it again).
        form.add_problems(result.problems)
        return _form_page(form, order, None, blocked=result.invoice)
    return redirect_to(
        "purchasing.invoice_detail",
        _("The invoice matches. A payment request has been sent to finance."),
        supplier_invoice_id=result.invoice.id,
    )


@bp.route("/invoices/<int:supplier_invoice_id>/correct", methods=["GET", "POST"])
@require(RESOLVE)
def invoice_correct(supplier_invoice_id: int) -> Response:
    """The buyer corrects a blocked invoice's lines and matches it again."""
    invoice = _get_visible(supplier_invoice_id)
    if invoice.status != services.BLOCKED:
        return redirect_to("purchasing.invoice_detail", supplier_invoice_id=invoice.id)
    order = invoice.order
    defaults = {line.id: (None, line.unit_price) for line in order.lines}
    defaults |= {line.order_line_id: (line.qty, line.unit_price) for line in invoice.lines}
    form = invoice_form(order, defaults if request.method == "GET" else None)
    if request.method == "GET":
        form.invoice_no.data = invoice.invoice_no
        form.invoice_date.data = invoice.invoice_date
    else:  # the supplier's number and date are the invoice's; only the lines change
        form.invoice_no.data, form.invoice_date.data = invoice.invoice_no, invoice.invoice_date
    if not form.validate_on_submit():
        return _form_page(form, order, invoice)
    try:
        result = services.rematch_invoice(invoice, g.membership, form.line_inputs())
    except (DomainError, CommandRefused) as exc:
        db.session.rollback()
        message = refusal_text(exc)
        form.add_problems({(getattr(exc, "field", None) or "invoice_no"): message})
        return _form_page(form, order, invoice)
    if not result.matched:
        db.session.rollback()
        form.add_problems(result.problems)
        return _form_page(form, order, get_or_404(SupplierInvoice, supplier_invoice_id))
    db.session.commit()
    return redirect_to(
        "purchasing.invoice_detail",
        _("The invoice matches. A payment request has been sent to finance."),
        supplier_invoice_id=invoice.id,
    )


# --- on the order's page --------------------------------------------------------------------------


# The order's invoices, each with its payment requests (or one row with none), in one statement.
_ORDER_INVOICES = (
    sa.select(SupplierInvoice, PaymentRequest)
    .outerjoin(PaymentRequest, PaymentRequest.invoice_id == SupplierInvoice.id)
    .where(SupplierInvoice.order_id == sa.bindparam("order_id"))
    .order_by(SupplierInvoice.id, PaymentRequest.id)
)


@bp.app_template_global("purchasing_billing")
def billing_for(order: PurchaseOrder) -> dict[str, Any]:
    """The order's invoices and payment requests, for `_invoice_order_section.html`."""
    invoices: dict[int, SupplierInvoice] = {}
    payments: list[PaymentRequest] = []
    for invoice, payment in db.session.execute(_ORDER_INVOICES, {"order_id": order.id}):
        invoices.setdefault(invoice.id, invoice)
        if payment is not None:
            payments.append(payment)
    return {
        "invoices": list(invoices.values()),
        "payments": payments,
        "statuses": STATUSES,
        "payment_statuses": payment_services.STATUS_LABELS,
        "can_create": has_permission(CREATE)
        and order.status in services.INVOICEABLE
        and any(line.received_qty > line.invoiced_qty for line in order.lines),
        "can_read": has_permission(READ),
    }
