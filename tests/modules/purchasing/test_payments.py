"""Payment requests over HTTP (S1.6): finance approves, then marks paid with a method; refusals
write nothing; the supplier's bank account is for finance; list and export; the order closes."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from modules.purchasing.models import PaymentRequest, PurchaseOrder
from suite.db import db
from suite.workflow.models import ProcessInstance
from tests.modules.purchasing.billing_helpers import (
    BOX,
    error_near,
    matched_invoice,
    member,
    open_tasks,
    paid,
    payment_of,
    task_logins,
)

pytest_plugins = ["tests.modules.purchasing.billing_fixtures"]

ACCOUNT = "3901 0012 0900 1234 567"  # SUP-001's bank account (demo data)


def submitted(inside, order_id: int, qty: str = "480", invoice_no: str = "FP-0001") -> int:
    """A matched invoice for `qty` boxes; the id of its payment request (waiting for finance)."""
    with inside():
        order = db.session.get(PurchaseOrder, order_id)
        payment = payment_of(matched_invoice(order, qty, invoice_no).id)
        db.session.commit()
        return payment.id


def command(client, inside, payment_id: int, command: str, comment: str = "") -> object:
    """`command` on the member's open task of the payment's process, as the page posts it."""
    with inside():
        payment = db.session.get(PaymentRequest, payment_id)
        instance = db.session.get(ProcessInstance, payment.instance_id)
        task = open_tasks(instance.id)[0]
        data = {
            "command": command,
            "workflow_task_id": task.id,
            "expected_version": instance.version,
            "comment": comment,
        }
    return client.form(f"/workflow/instances/{instance.id}/commands", data)


def state(payment_id: int) -> tuple:
    p = db.session.get(PaymentRequest, payment_id)
    return p.status, p.method, p.paid_by_id, p.paid_at is not None


# --- S1.6 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "label"),
    [("cash", "Cash"), ("bank", "Bank transfer"), ("on_account", "On account (month end)")],
)
def test_finance_approves_then_marks_paid_with_a_method(inside, box_order, as_user, method, label):
    payment_id = submitted(inside, box_order)
    finance = as_user("finance")
    page = finance.get(f"/purchasing/payments/{payment_id}").get_data(as_text=True)
    assert "Mark paid" not in page  # not approved yet
    assert command(finance, inside, payment_id, "approve").status_code == 303
    with inside():
        assert db.session.get(PaymentRequest, payment_id).status == "approved"
    page = finance.get(f"/purchasing/payments/{payment_id}").get_data(as_text=True)
    assert "Mark paid" in page
    resp = finance.form(f"/purchasing/payments/{payment_id}/pay", {"method": method})
    assert resp.status_code == 303
    with inside():
        assert state(payment_id) == ("paid", method, member("finance").id, True)
        # 480 of 500 boxes invoiced: the order is not billed yet.
        assert db.session.get(PurchaseOrder, box_order).status == "partially_received"
    page = finance.get(resp.headers["Location"]).get_data(as_text=True)
    assert f"Marked paid: {label}." in page


def test_paying_a_request_finance_has_not_approved_is_refused_and_writes_nothing(
    inside, box_order, as_user
):
    payment_id = submitted(inside, box_order)
    resp = as_user("finance").form(f"/purchasing/payments/{payment_id}/pay", {"method": "bank"})
    assert resp.status_code == 409
    assert "Only an approved payment request can be paid." in resp.get_data(as_text=True)
    with inside():
        assert state(payment_id) == ("submitted", None, None, False)


def test_paying_twice_pays_once(inside, box_order, as_user):
    with inside():
        payment_id = paid(db.session.get(PurchaseOrder, box_order), "cash").id
        db.session.commit()
        first = state(payment_id)
    resp = as_user("finance").form(f"/purchasing/payments/{payment_id}/pay", {"method": "bank"})
    assert resp.status_code == 409
    assert "This payment request has been paid already." in resp.get_data(as_text=True)
    with inside():
        assert state(payment_id) == first
        assert first[1] == "cash"


@pytest.mark.parametrize("method", ["", "cheque"])
def test_paying_needs_a_known_method(inside, box_order, as_user, method):
    with inside():
        payment_id = paid(db.session.get(PurchaseOrder, box_order), None).id
        db.session.commit()
    resp = as_user("finance").form(f"/purchasing/payments/{payment_id}/pay", {"method": method})
    assert resp.status_code == 422
    assert error_near(resp.get_data(as_text=True), "method") in (
        "Choose how it was paid.",
        "Not a valid choice.",
    )
    with inside():
        assert state(payment_id) == ("approved", None, None, False)


def test_only_finance_pays(inside, box_order, as_user):
    with inside():
        payment_id = paid(db.session.get(PurchaseOrder, box_order), None).id
        db.session.commit()
    for login in ("buyer", "gm", "staff"):
        resp = as_user(login).form(f"/purchasing/payments/{payment_id}/pay", {"method": "cash"})
        assert resp.status_code == 403, login
    with inside():
        assert state(payment_id) == ("approved", None, None, False)


def test_the_order_closes_when_everything_is_received_invoiced_and_paid(
    inside, world, box_order, as_user
):
    world.receive(box_order, {BOX: "20"})
    payment_id = submitted(inside, box_order, "500")
    with inside():
        assert db.session.get(PurchaseOrder, box_order).status == "billed"
    finance = as_user("finance")
    command(finance, inside, payment_id, "approve")
    finance.form(f"/purchasing/payments/{payment_id}/pay", {"method": "bank"})
    with inside():
        assert db.session.get(PaymentRequest, payment_id).amount == Decimal("1200.00")
        assert db.session.get(PurchaseOrder, box_order).status == "closed"


def test_a_rejected_request_can_be_submitted_again_by_its_requester(inside, box_order, as_user):
    payment_id = submitted(inside, box_order)
    finance = as_user("finance")
    assert command(finance, inside, payment_id, "reject", "Wrong bank details").status_code == 303
    with inside():
        assert db.session.get(PaymentRequest, payment_id).status == "rejected"
    assert finance.form(f"/purchasing/payments/{payment_id}/submit").status_code == 409
    resp = as_user("buyer").form(f"/purchasing/payments/{payment_id}/submit")
    assert resp.status_code == 303
    with inside():
        payment = db.session.get(PaymentRequest, payment_id)
        assert payment.status == "submitted"
        assert task_logins(payment.instance_id) == ["finance"]


def test_over_the_gm_threshold_the_general_manager_approves_too(inside, world, as_user):
    order_id = world.order(lines=((BOX, "SUP-001", "25000", "2.40"),))
    world.receive(order_id, {BOX: "25000"})
    payment_id = submitted(inside, order_id, "25000")
    command(as_user("finance"), inside, payment_id, "approve")
    with inside():
        payment = db.session.get(PaymentRequest, payment_id)
        assert (payment.amount, payment.status) == (Decimal("60000.00"), "submitted")
        assert task_logins(payment.instance_id) == ["gm"]
    command(as_user("gm"), inside, payment_id, "approve")
    with inside():
        assert db.session.get(PaymentRequest, payment_id).status == "approved"


def test_finance_does_not_approve_paying_an_invoice_it_entered_itself(inside, box_order):
    with inside():
        order = db.session.get(PurchaseOrder, box_order)
        from modules.purchasing.services import invoices

        result = invoices.enter_invoice(
            order,
            member("finance"),
            invoice_no="FP-1",
            invoice_date=None,
            lines=[invoices.InvoiceLineInput(order.lines[0].id, Decimal(480), Decimal("2.40"))],
        )
        payment = payment_of(result.invoice.id)
        # The only finance member entered it: the workspace admins are asked instead.
        assert task_logins(payment.instance_id) == ["admin"]


# --- who sees the bank account; the page, list and export -----------------------------------------


def test_the_suppliers_bank_account_shows_for_finance_only(inside, box_order, as_user):
    payment_id = submitted(inside, box_order)
    assert ACCOUNT in as_user("finance").get(f"/purchasing/payments/{payment_id}").get_data(
        as_text=True
    )
    for login in ("buyer", "gm"):
        page = as_user(login).get(f"/purchasing/payments/{payment_id}")
        assert page.status_code == 200
        assert ACCOUNT not in page.get_data(as_text=True), login
    export = as_user("buyer").get("/purchasing/payments/export.xlsx")
    assert ACCOUNT not in str(list(load_workbook(io.BytesIO(export.data)).active.values))
    export = as_user("finance").get("/purchasing/payments/export.xlsx")
    assert ACCOUNT in str(list(load_workbook(io.BytesIO(export.data)).active.values))


def test_who_sees_a_payment_request(inside, box_order, as_user):
    payment_id = submitted(inside, box_order)
    for login, status in (("buyer", 200), ("finance", 200), ("gm", 200), ("admin", 200)):
        assert as_user(login).get(f"/purchasing/payments/{payment_id}").status_code == status
    for login in ("staff", "warehouse", "sales"):
        assert as_user(login).get(f"/purchasing/payments/{payment_id}").status_code == 404
        assert as_user(login).get("/purchasing/payments").status_code == 403


def test_list_filters_and_export(app, inside, world, as_user, monkeypatch):
    ids = []
    for n in range(3):
        order_id = world.order()
        world.receive(order_id, {BOX: "480"})
        ids.append(submitted(inside, order_id, invoice_no=f"FP-{n}"))
    with inside():
        payments = [db.session.get(PaymentRequest, i) for i in ids]
        numbers = [p.number for p in payments]
        first_invoice = payments[0].invoice.number
    finance = as_user("finance")
    command(finance, inside, ids[0], "approve")
    finance.form(f"/purchasing/payments/{ids[0]}/pay", {"method": "bank"})
    html = finance.get("/purchasing/payments?status=paid").get_data(as_text=True)
    assert numbers[0] in html and numbers[1] not in html
    html = finance.get("/purchasing/payments?method=bank").get_data(as_text=True)
    assert numbers[0] in html and numbers[2] not in html
    html = finance.get("/purchasing/payments?q=华盛").get_data(as_text=True)
    assert all(n in html for n in numbers)
    monkeypatch.setitem(app.config, "SUITE_PAGE_SIZE", 2)
    html = finance.get("/purchasing/payments").get_data(as_text=True)
    assert numbers[2] in html and numbers[0] not in html and f"before={ids[1]}" in html
    more = finance.get(f"/purchasing/payments?before={ids[1]}").get_data(as_text=True)
    assert numbers[0] in more and numbers[1] not in more
    rows = list(
        load_workbook(
            io.BytesIO(finance.get("/purchasing/payments/export.xlsx?status=paid").data)
        ).active.iter_rows(values_only=True)
    )
    assert rows[0][:5] == ("Number", "Supplier", "Invoice", "Amount", "Status")
    assert [r[:6] for r in rows[1:]] == [
        (numbers[0], "华盛包装有限公司", first_invoice, 1152, "Paid", "Bank transfer")
    ]


def test_the_payment_page_over_htmx_and_its_command_panels(inside, box_order, as_user):
    payment_id = submitted(inside, box_order)
    finance = as_user("finance")
    resp = finance.htmx(
        "GET", f"/purchasing/payments/{payment_id}", target=f"payment-{payment_id}-status"
    )
    html = resp.get_data(as_text=True)
    assert html.lstrip().startswith(f'<section id="payment-{payment_id}-status"')
    assert "<html" not in html
    with inside():
        payment = db.session.get(PaymentRequest, payment_id)
        instance = db.session.get(ProcessInstance, payment.instance_id)
        task = open_tasks(instance.id)[0]
    resp = finance.htmx(
        "POST",
        f"/workflow/instances/{instance.id}/commands",
        data={"command": "approve", "workflow_task_id": task.id, "comment": ""},
    )
    assert resp.status_code == 200
    assert resp.headers["HX-Trigger"] == "workflow:instance-changed"
    assert f'id="payment-{payment_id}-actions"' in resp.get_data(as_text=True)
    assert "Mark paid" in resp.get_data(as_text=True)
    with inside():
        assert (
            db.session.scalar(
                sa.select(PaymentRequest.status).where(PaymentRequest.id == payment_id)
            )
            == "approved"
        )
