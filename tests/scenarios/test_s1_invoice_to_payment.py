# ruff: noqa: F811 - the purchasing fixtures are imported, then requested by name
"""S1 Purchase to pay, steps 5-6, through the web UI with the demo users (SCENARIOS.md).

Steps 1-4 are arranged through the module's services (tests/scenarios/test_s1_request_to_receipt.py
walks them through the UI): 500 boxes x 2.40 from SUP-001 and 20 bags x 180.00 from SUP-002,
approved by the department head, confirmed, 480 boxes received.

5. The buyer enters the supplier's invoice. 500 boxes is refused, naming the line and both
   quantities, and opens an exception task for the buyer; 480 boxes matches.
6. The matched invoice creates a payment request (资金给付单) of 480 x 2.40 = 1,152.00; finance
   approves and marks it paid by bank transfer; the print carries 银行付讫. The last 20 boxes are
   paid in cash (现金付讫), the fertilizer on account (挂账); both orders are then closed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from modules.purchasing.models import PaymentRequest, PurchaseOrder, SupplierInvoice
from suite.auth.models import Membership
from suite.db import db
from suite.workflow.models import ProcessInstance, WorkflowTask
from tests.modules.purchasing.conftest import (  # noqa: F401 - fixtures
    BOX,
    FERT,
    S1_LINES,
    as_user,
    demo,
    inside,
    world,
)

POPPLER = all(shutil.which(t) for t in ("pdffonts", "pdftotext"))
OVER = "Line 1 Packaging box 40x30: invoiced 500, received 480"


def open_task(inside, instance_id: int) -> tuple[int, str, int] | None:
    """(task id, assignee login, instance version) of the open approval task, or None."""
    with inside():
        task = db.session.scalar(
            sa.select(WorkflowTask).where(
                WorkflowTask.instance_id == instance_id,
                WorkflowTask.status == "open",
                WorkflowTask.kind == "approval",
            )
        )
        if task is None:
            return None
        login = db.session.get(Membership, task.assignee_id).user.login
        return task.id, login, db.session.get(ProcessInstance, instance_id).version


def command(client, instance_id: int, task: tuple[int, str, int], name: str, comment: str = ""):
    return client.form(
        f"/workflow/instances/{instance_id}/commands",
        {
            "command": name,
            "key": uuid.uuid4().hex,
            "expected_version": task[2],
            "workflow_task_id": task[0],
            "comment": comment,
        },
    )


def invoice(client, inside, order_id: int, invoice_no: str, qty: str) -> tuple:
    """The buyer opens the form (prefilled), sets the quantity of line 1 and saves."""
    page = client.get(f"/purchasing/orders/{order_id}/invoices/new").get_data(as_text=True)
    with inside():
        lines = db.session.get(PurchaseOrder, order_id).lines
        first = lines[0].id
        data = {"invoice_no": invoice_no, "invoice_date": "2026-03-05", "key": uuid.uuid4().hex}
        for line in lines:
            data[f"qty_{line.id}"] = re.search(
                rf'name="qty_{line.id}"[^>]*value="([^"]*)"', page
            ).group(1)
            data[f"price_{line.id}"] = re.search(
                rf'name="price_{line.id}"[^>]*value="([^"]*)"', page
            ).group(1)
    data[f"qty_{first}"] = qty
    return client.form(f"/purchasing/orders/{order_id}/invoices/new", data), first


def pay(as_user, inside, invoice_id: int, method: str) -> tuple[int, bytes]:
    """Finance approves the invoice's payment request from its inbox, then pays it; the print."""
    with inside():
        payment = db.session.scalar(
            sa.select(PaymentRequest).where(PaymentRequest.invoice_id == invoice_id)
        )
        payment_id, instance_id = payment.id, payment.instance_id
    finance = as_user("finance")
    assert f"/purchasing/payments/{payment_id}" in finance.get("/inbox").get_data(as_text=True)
    task = open_task(inside, instance_id)
    assert task[1] == "finance"
    page = finance.get(f"/purchasing/payments/{payment_id}").get_data(as_text=True)
    assert 'name="command" value="approve"' in page
    assert command(finance, instance_id, task, "approve", "OK").status_code == 303
    resp = finance.form(f"/purchasing/payments/{payment_id}/pay", {"method": method})
    assert resp.status_code == 303
    pdf = finance.get(f"/purchasing/payments/{payment_id}/print.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    return payment_id, pdf.data


def pdf_text(tmp_path: Path, data: bytes, name: str) -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(data)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    assert "Noto-Sans-CJK" in fonts
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout


@pytest.mark.skipif(not POPPLER, reason="poppler-utils is not installed")
def test_s1_steps_5_and_6(world, inside, as_user, tmp_path):
    # Steps 1-4 (services): the request's two orders, confirmed; 480 of 500 boxes received.
    request_id = world.approved(lines=S1_LINES)
    box_order, fert_order = world.orders(request_id)
    world.confirm(box_order)
    world.confirm(fert_order)
    world.receive(box_order, {BOX: "480"})
    buyer = as_user("buyer")

    # 5. An invoice for 500 boxes: refused, naming the line and both quantities ...
    resp, box_line = invoice(buyer, inside, box_order, "HS-20260305-01", "500")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert re.search(rf'<p class="error" id="err-qty_{box_line}"[^>]*>{OVER}</p>', html)
    with inside():
        blocked = db.session.scalar(sa.select(SupplierInvoice))
        assert (blocked.status, blocked.mismatch) == ("blocked", OVER)
        assert db.session.get(PurchaseOrder, box_order).lines[0].invoiced_qty == 0
        assert db.session.scalar(sa.select(sa.func.count(PaymentRequest.id))) == 0
        blocked_id, exception = blocked.id, blocked.instance_id
    # ... and opens an exception task for the buyer, in the buyer's inbox.
    task = open_task(inside, exception)
    assert task[1] == "buyer"
    assert f"/purchasing/invoices/{blocked_id}" in buyer.get("/inbox").get_data(as_text=True)
    page = buyer.get(f"/purchasing/invoices/{blocked_id}").get_data(as_text=True)
    assert OVER in page and "Correct and match again" in page
    # The supplier sends a corrected invoice: the buyer cancels this one with a comment.
    resp = command(buyer, exception, task, "approve", "Supplier sends a corrected invoice")
    assert resp.status_code == 303
    with inside():
        assert db.session.get(SupplierInvoice, blocked_id).status == "cancelled"

    # The corrected invoice for 480 boxes matches.
    resp, _ = invoice(buyer, inside, box_order, "HS-20260305-02", "480")
    assert resp.status_code == 303
    with inside():
        matched = db.session.scalar(
            sa.select(SupplierInvoice).where(SupplierInvoice.invoice_no == "HS-20260305-02")
        )
        assert (matched.status, matched.amount_total) == ("matched", Decimal("1152.00"))
        order = db.session.get(PurchaseOrder, box_order)
        assert (order.lines[0].received_qty, order.lines[0].invoiced_qty) == (480, 480)
        assert order.status == "partially_received"
        payment = db.session.scalar(sa.select(PaymentRequest))
        # 6. A payment request (资金给付单) of 480 x 2.40 = 1,152.00, waiting for finance.
        assert re.fullmatch(r"PAY-\d{4}-0001", payment.number)
        assert (payment.amount, payment.status) == (Decimal("1152.00"), "submitted")
        matched_id = matched.id
    page = buyer.get(f"/purchasing/invoices/{matched_id}").get_data(as_text=True)
    assert payment.number in page and "CN¥1,152.00" in page

    # Finance approves and marks it paid by bank transfer; the print says 银行付讫.
    payment_id, pdf = pay(as_user, inside, matched_id, "bank")
    with inside():
        paid = db.session.get(PaymentRequest, payment_id)
        paid_by = db.session.get(Membership, paid.paid_by_id).user.login
        assert (paid.status, paid.method, paid_by) == ("paid", "bank", "finance")
    text = pdf_text(tmp_path, pdf, "bank")
    assert "银行付讫" in text and "现金付讫" not in text and "1,152.00" in text

    # The remaining 20 boxes arrive, are invoiced and paid in cash: 现金付讫; the order closes.
    world.receive(box_order, {BOX: "20"})
    assert invoice(buyer, inside, box_order, "HS-20260310-01", "20")[0].status_code == 303
    with inside():
        second = db.session.scalar(
            sa.select(SupplierInvoice).where(SupplierInvoice.invoice_no == "HS-20260310-01")
        )
        assert second.amount_total == Decimal("48.00")
        assert db.session.get(PurchaseOrder, box_order).status == "billed"
        second_id = second.id
    _, pdf = pay(as_user, inside, second_id, "cash")
    assert "现金付讫" in pdf_text(tmp_path, pdf, "cash")
    with inside():
        assert db.session.get(PurchaseOrder, box_order).status == "closed"

    # The fertilizer: 20 bags x 180.00, paid on account (月末挂账): 挂账.
    world.receive(fert_order, {FERT: "20"})
    assert invoice(buyer, inside, fert_order, "FS-88", "20")[0].status_code == 303
    with inside():
        fert_invoice = db.session.scalar(
            sa.select(SupplierInvoice).where(SupplierInvoice.invoice_no == "FS-88")
        )
        assert fert_invoice.amount_total == Decimal("3600.00")
        fert_id = fert_invoice.id
    payment_id, pdf = pay(as_user, inside, fert_id, "on_account")
    text = pdf_text(tmp_path, pdf, "on_account")
    assert "挂账" in text and "3,600.00" in text
    with inside():
        assert db.session.get(PurchaseOrder, fert_order).status == "closed"
        rows = db.session.execute(
            sa.select(PaymentRequest.method, PaymentRequest.amount).order_by(PaymentRequest.id)
        )
        assert [tuple(r) for r in rows] == [
            ("bank", Decimal("1152.00")),
            ("cash", Decimal("48.00")),
            ("on_account", Decimal("3600.00")),
        ]
