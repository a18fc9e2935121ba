"""Helpers for the invoice, payment and print tests (purchasing-b's part of S1). Orders and
receipts come from the purchasing `world` (conftest.py); call these inside `inside()`."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from modules.purchasing.models import (
    PaymentRequest,
    PurchaseOrder,
    SupplierInvoice,
)
from suite.auth.models import Membership
from suite.db import db
from suite.workflow import engine
from tests.helpers.demo import member, open_tasks

BOX, FERT = "BOX-4030", "FERT-25"


def task_logins(instance_id: int) -> list[str]:
    return sorted(
        db.session.get(Membership, t.assignee_id).user.login for t in open_tasks(instance_id)
    )


def act(login: str, instance_id: int, kind: str = "approve", **fields: Any) -> engine.Result:
    """`login` runs a command on its open task of the instance (engine, no HTTP)."""
    me = member(login)
    task = next(t for t in open_tasks(instance_id) if t.assignee_id == me.id)
    return engine.command(instance_id, kind, me.id, task_id=task.id, key=uuid.uuid4().hex, **fields)


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def counts() -> tuple[int, int]:
    """(supplier invoices, payment requests) in the workspace."""
    return count(SupplierInvoice), count(PaymentRequest)


def invoice_form_data(order_id: int, invoice_no: str, lines: dict[str, tuple[str, str]]) -> dict:
    """The invoice form as posted: `{item code: (qty, price)}`; other lines at 0."""
    data: dict[str, Any] = {"invoice_no": invoice_no, "invoice_date": "2026-03-05"}
    order = db.session.get(PurchaseOrder, order_id)
    for line in order.lines:
        qty, price = lines.get(line.item.code, ("0", str(line.unit_price)))
        data[f"qty_{line.id}"] = qty
        data[f"price_{line.id}"] = price
    return data


def error_near(html: str, field: str) -> str:
    """The error text shown next to form field `field` ("" when there is none)."""
    match = re.search(rf'<p class="error" id="err-{re.escape(field)}"[^>]*>(.*?)</p>', html, re.S)
    return match.group(1).strip() if match else ""


def payment_of(invoice_id: int) -> PaymentRequest | None:
    return db.session.scalar(
        sa.select(PaymentRequest).where(PaymentRequest.invoice_id == invoice_id)
    )


def matched_invoice(order: PurchaseOrder, qty: str = "480", invoice_no: str = "FP-0001") -> Any:
    """The buyer enters a matching invoice for `qty` of the order's first line (the boxes)."""
    from modules.purchasing.services import invoices

    line = order.lines[0]
    result = invoices.enter_invoice(
        order,
        member("buyer"),
        invoice_no=invoice_no,
        invoice_date=None,
        lines=[invoices.InvoiceLineInput(line.id, Decimal(qty), line.unit_price)],
    )
    assert result.matched, result.problems
    return result.invoice


def paid(order: PurchaseOrder, method: str | None) -> PaymentRequest:
    """S1.5-6 through the services: a matched invoice for 480 boxes, finance approves, then
    pays with `method` (None: approved, not paid yet)."""
    from modules.purchasing.services import payments

    payment = payment_of(matched_invoice(order).id)
    act("finance", payment.instance_id)
    if method:
        payments.pay(payment, member("finance"), method)
    db.session.flush()
    return payment


def input_value(html: str, name: str) -> str | None:
    """The value of the form input `name` on the page (None when there is no such input)."""
    tag = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', html)
    if tag is None:
        return None
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return value.group(1) if value else ""


def lines_of(order_id: int) -> dict[str, tuple[Decimal, Decimal]]:
    """{item code: (received, invoiced)} of the order's lines."""
    order = db.session.get(PurchaseOrder, order_id)
    return {line.item.code: (line.received_qty, line.invoiced_qty) for line in order.lines}


def post_invoice(client, inside, order_id, invoice_no, lines, **kw):
    with inside():
        data = invoice_form_data(order_id, invoice_no, lines)
        qty_field = f"qty_{db.session.get(PurchaseOrder, order_id).lines[0].id}"
    return client.form(f"/purchasing/orders/{order_id}/invoices/new", data, **kw), qty_field


def line_id(order_id: int, code: str) -> int:
    order = db.session.get(PurchaseOrder, order_id)
    return next(line.id for line in order.lines if line.item.code == code)
