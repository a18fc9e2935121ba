"""Supplier invoices (供应商发票) and the three-way match (S1.5).

An invoice is entered against one order, line by line. It matches when, for every line, the
invoiced quantity plus what earlier invoices billed is at most the received quantity, and the unit
price is within the workspace's price tolerance of the order price. A matched invoice raises the
order lines' `invoiced_qty` (rows locked), moves the order's status and creates a payment request
(资金给付单). A mismatch is kept as `blocked` with its reasons and starts the invoice exception
process: a buyer either corrects the lines and matches again, or cancels the invoice (the supplier
sends a corrected one). See modules/purchasing/workflows/invoice_exception.yaml.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from modules.purchasing import settings
from modules.purchasing.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    SupplierInvoice,
    SupplierInvoiceLine,
)
from modules.purchasing.services import CENT, QTY, fmt_qty, orders, payments, places_ok
from suite.auth.models import Membership
from suite.db import db
from suite.documents import next_number
from suite.errors import DomainError
from suite.tenancy import Workspace
from suite.workflow import engine
from suite.workflow.models import OPEN, WorkflowTask
from suite.workflow.planner import CommandRefused

DOC_TYPE = "purchasing.invoice_exception"
MATCHED, BLOCKED, CANCELLED = "matched", "blocked", "cancelled"
# Orders an invoice may be entered against (goods may still be on the way: the match decides).
INVOICEABLE = ("confirmed", "partially_received", "received", "billed")


@dataclass(frozen=True)
class InvoiceLineInput:
    """What the supplier billed for one order line."""

    order_line_id: int
    qty: Decimal
    unit_price: Decimal


@dataclass
class MatchResult:
    """The invoice (matched or blocked) and, for a mismatch, the reasons by form field."""

    invoice: SupplierInvoice | None
    problems: dict[str, str] = field(default_factory=dict)

    @property
    def matched(self) -> bool:
        return not self.problems


def qty_field(order_line_id: int) -> str:
    return f"qty_{order_line_id}"


def price_field(order_line_id: int) -> str:
    return f"price_{order_line_id}"


def prefill(order: PurchaseOrder) -> dict[int, tuple[Decimal, Decimal]]:
    """Per order line: (received but not yet invoiced qty, order price), the form's defaults."""
    return {
        line.id: (max(line.received_qty - line.invoiced_qty, Decimal(0)), line.unit_price)
        for line in order.lines
    }


def _money(value: Decimal) -> str:
    return f"{value.quantize(CENT, ROUND_HALF_UP):f}"


def _check_inputs(order: PurchaseOrder, lines: list[InvoiceLineInput]) -> list[InvoiceLineInput]:
    """The lines with a quantity, checked for form-level sense; raises DomainError."""
    by_id = {line.id: line for line in order.lines}
    wanted = []
    for entry in lines:
        if entry.order_line_id not in by_id:
            raise DomainError(_("This line is not on the order."))
        if entry.qty < 0 or not places_ok(entry.qty, QTY):
            raise DomainError(
                _("Enter a quantity of 0 or more, with at most three decimal places."),
                qty_field(entry.order_line_id),
            )
        if entry.unit_price < 0 or not places_ok(entry.unit_price, CENT):
            raise DomainError(
                _("Enter a price of 0 or more, with at most two decimal places."),
                price_field(entry.order_line_id),
            )
        if entry.qty > 0:
            wanted.append(entry)
    if not wanted:
        first = order.lines[0].id if order.lines else 0
        raise DomainError(_("Enter the quantity of at least one line."), qty_field(first))
    return wanted


def _lock_lines(order: PurchaseOrder) -> dict[int, PurchaseOrderLine]:
    """The order's lines, locked FOR UPDATE in id order (two invoices cannot both bill them)."""
    rows = db.session.scalars(
        sa.select(PurchaseOrderLine)
        .where(PurchaseOrderLine.order_id == order.id)
        .order_by(PurchaseOrderLine.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.id: row for row in rows}


def _match(
    order: PurchaseOrder, locked: dict[int, PurchaseOrderLine], lines: list[InvoiceLineInput]
) -> dict[str, str]:
    """The three-way match: {form field: "Line 1 Packaging box 40x30: invoiced 500, ..."}."""
    tolerance = settings.get("price_tolerance", db.session.get(Workspace, order.workspace_id))
    position = {line.id: n for n, line in enumerate(order.lines, start=1)}
    problems: dict[str, str] = {}
    for entry in lines:
        line = locked[entry.order_line_id]
        name = _("Line %(n)s %(item)s", n=position[line.id], item=line.item.name)
        before = line.invoiced_qty
        if before + entry.qty > line.received_qty:
            if before:
                text = _(
                    "%(line)s: invoiced %(qty)s + %(before)s before, received %(received)s",
                    line=name,
                    qty=fmt_qty(entry.qty),
                    before=fmt_qty(before),
                    received=fmt_qty(line.received_qty),
                )
            else:
                text = _(
                    "%(line)s: invoiced %(qty)s, received %(received)s",
                    line=name,
                    qty=fmt_qty(entry.qty),
                    received=fmt_qty(line.received_qty),
                )
            problems[qty_field(line.id)] = text
        if abs(entry.unit_price - line.unit_price) > tolerance:
            problems[price_field(line.id)] = _(
                "%(line)s: unit price %(price)s, order price %(ordered)s (tolerance %(tol)s)",
                line=name,
                price=_money(entry.unit_price),
                ordered=_money(line.unit_price),
                tol=_money(tolerance),
            )
    return problems


def _set_lines(invoice: SupplierInvoice, lines: list[InvoiceLineInput]) -> None:
    invoice.lines = [
        SupplierInvoiceLine(
            order_line_id=entry.order_line_id,
            qty=entry.qty,
            unit_price=entry.unit_price,
            amount=(entry.qty * entry.unit_price).quantize(CENT, ROUND_HALF_UP),
        )
        for entry in lines
    ]
    invoice.amount_total = sum((line.amount for line in invoice.lines), Decimal(0))


def _accept(
    invoice: SupplierInvoice,
    locked: dict[int, PurchaseOrderLine],
    lines: list[InvoiceLineInput],
    actor: Membership,
) -> None:
    """A match: bill the order lines, move the order, ask finance to pay."""
    for entry in lines:
        locked[entry.order_line_id].invoiced_qty += entry.qty
    invoice.status, invoice.mismatch = MATCHED, ""
    db.session.flush()
    orders.refresh_status(invoice.order)
    payments.create_payment(invoice, actor)


def entered_before(order: PurchaseOrder, invoice_no: str) -> SupplierInvoice | None:
    """The order's supplier's invoice already entered under this number (any status), if any."""
    return db.session.scalar(
        sa.select(SupplierInvoice).where(
            SupplierInvoice.supplier_id == order.supplier_id,
            SupplierInvoice.invoice_no == (invoice_no or "").strip(),
        )
    )


def enter_invoice(
    order: PurchaseOrder,
    actor: Membership,
    *,
    invoice_no: str,
    invoice_date: dt.date | None,
    lines: list[InvoiceLineInput],
    key: str | None = None,
) -> MatchResult:
    """Record a supplier invoice; matched -> payment request, mismatch -> blocked + buyer task."""
    invoice_no = (invoice_no or "").strip()
    if not invoice_no:
        raise DomainError(_("Enter the supplier's invoice number."), "invoice_no")
    if order.status not in INVOICEABLE:
        raise DomainError(_("Invoices can be entered only for confirmed orders."))
    wanted = _check_inputs(order, lines)
    duplicate = entered_before(order, invoice_no)
    if duplicate is not None:
        raise DomainError(
            _(
                "Invoice %(no)s of this supplier is already entered (%(number)s).",
                no=invoice_no,
                number=duplicate.number,
            ),
            "invoice_no",
        )
    locked = _lock_lines(order)
    problems = _match(order, locked, wanted)
    invoice = SupplierInvoice(
        number=next_number("BILL"),
        invoice_no=invoice_no,
        order_id=order.id,
        supplier_id=order.supplier_id,
        invoice_date=invoice_date,
        entered_by_id=actor.id,
        status=BLOCKED if problems else MATCHED,
        mismatch="\n".join(problems.values()),
    )
    _set_lines(invoice, wanted)
    try:
        with db.session.begin_nested():  # the same number entered at the same moment elsewhere
            db.session.add(invoice)
            db.session.flush()
    except sa.exc.IntegrityError:
        raise DomainError(
            _("Invoice %(no)s of this supplier is already entered.", no=invoice_no), "invoice_no"
        ) from None
    if problems:
        result = engine.submit(DOC_TYPE, invoice, actor.id, key=key)
        invoice.instance_id = result.instance_id
        db.session.flush()
        return MatchResult(invoice, problems)
    _accept(invoice, locked, wanted, actor)
    return MatchResult(invoice)


def rematch_invoice(
    invoice: SupplierInvoice, actor: Membership, lines: list[InvoiceLineInput]
) -> MatchResult:
    """A buyer corrects a blocked invoice's lines; a match accepts it and closes the exception.

    A mismatch changes nothing (the caller rolls back and shows the reasons)."""
    if invoice.status != BLOCKED:
        raise DomainError(_("Only a blocked invoice can be corrected."))
    order = invoice.order
    wanted = _check_inputs(order, lines)
    locked = _lock_lines(order)
    problems = _match(order, locked, wanted)
    if problems:
        return MatchResult(invoice, problems)
    _set_lines(invoice, wanted)
    _accept(invoice, locked, wanted, actor)
    _close_exception(invoice, actor)
    return MatchResult(invoice)


def _close_exception(invoice: SupplierInvoice, actor: Membership) -> None:
    """End the buyer's exception process now that the invoice matches."""
    if invoice.instance_id is None:
        return
    mine = db.session.scalar(
        sa.select(WorkflowTask.id).where(
            WorkflowTask.instance_id == invoice.instance_id,
            WorkflowTask.status == OPEN,
            WorkflowTask.kind == "approval",
            WorkflowTask.assignee_id == actor.id,
        )
    )
    comment = _("Corrected and matched again.")
    try:
        if mine is not None:
            engine.command(invoice.instance_id, "approve", actor.id, task_id=mine, comment=comment)
        else:  # an administrator corrected it without holding the task
            engine.command(invoice.instance_id, "cancel", None, comment=comment)
    except CommandRefused as exc:
        if exc.code != "not_running":
            raise


def cancel_blocked(invoice: SupplierInvoice) -> None:
    """The exception ended without a correction: the supplier sends a new invoice instead."""
    if invoice.status == BLOCKED:
        invoice.status = CANCELLED


class InvoiceExceptionType:
    """What the workflow engine needs to know about blocked supplier invoices."""

    key = DOC_TYPE
    template = DOC_TYPE

    def get(self, document_id: int) -> SupplierInvoice | None:
        return db.session.get(SupplierInvoice, document_id)

    def values(self, invoice: SupplierInvoice) -> dict[str, Any]:
        return {"amount": invoice.amount_total, "supplier": invoice.supplier.name}

    def title(self, invoice: SupplierInvoice) -> str:
        return _(
            "Invoice exception %(number)s %(supplier)s",
            number=invoice.number,
            supplier=invoice.supplier.name,
        )

    def url(self, invoice: SupplierInvoice) -> str:
        return f"/purchasing/invoices/{invoice.id}"

    def on_outcome(self, invoice: SupplierInvoice, status: str) -> None:
        # approved / rejected / withdrawn / cancelled without a correction: cancel the invoice;
        # after a correction the invoice is already matched and stays so.
        cancel_blocked(invoice)


invoice_exception = InvoiceExceptionType()
