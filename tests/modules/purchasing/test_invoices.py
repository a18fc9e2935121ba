"""Supplier invoices over HTTP (S1.5): entry against an order, the three-way match, the blocked
invoice and its exception task for the buyers, the buyer's two ways out, list and export."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from modules.purchasing import settings
from modules.purchasing.models import (
    PaymentRequest,
    PurchaseOrder,
    SupplierInvoice,
)
from suite.audit.models import AuditEvent
from suite.auth.models import User
from suite.db import db
from suite.tenancy import Workspace
from suite.workflow.models import ProcessInstance, WorkflowTask
from tests.modules.purchasing.billing_helpers import (
    BOX,
    FERT,
    counts,
    error_near,
    input_value,
    line_id,
    lines_of,
    member,
    open_tasks,
    payment_of,
    post_invoice,
    task_logins,
)
from tests.modules.purchasing.test_orders import statements

pytest_plugins = ["tests.modules.purchasing.billing_fixtures"]

BOX_OVER = "Line 1 Packaging box 40x30: invoiced 500, received 480"


# --- the form -------------------------------------------------------------------------------------


def test_the_form_starts_from_received_not_invoiced_qty_and_the_order_price(
    inside, two_line_order, as_user
):
    resp = as_user("buyer").get(f"/purchasing/orders/{two_line_order}/invoices/new")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    with inside():
        box, fert = line_id(two_line_order, BOX), line_id(two_line_order, FERT)
    assert input_value(html, f"qty_{box}") == "480"
    assert input_value(html, f"price_{box}") == "2.40"
    assert input_value(html, f"qty_{fert}") == "0"
    assert input_value(html, f"price_{fert}") == "180.00"


# --- S1.5: the three-way match --------------------------------------------------------------------


def test_invoice_over_received_qty_is_rejected_and_opens_an_exception_task_for_the_buyer(
    inside, two_line_order, as_user
):
    resp, qty_field = post_invoice(
        as_user("finance"), inside, two_line_order, "FP-0001", {BOX: ("500", "2.40")}
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert error_near(html, qty_field) == BOX_OVER
    with inside():
        invoice = db.session.scalar(sa.select(SupplierInvoice))
        assert (invoice.status, invoice.mismatch) == ("blocked", BOX_OVER)
        assert invoice.amount_total == Decimal("1200.00")
        assert f"kept as {invoice.number} (blocked)" in html
        # Not accepted: nothing invoiced on the order, no payment request.
        assert lines_of(two_line_order)[BOX] == (Decimal("480.000"), Decimal("0.000"))
        assert counts() == (1, 0)
        # The exception task goes to the buyers.
        instance = db.session.get(ProcessInstance, invoice.instance_id)
        assert (instance.document_type, instance.status) == (
            "purchasing.invoice_exception",
            "running",
        )
        assert task_logins(invoice.instance_id) == ["buyer"]
        invoice_id = invoice.id
    inbox = as_user("buyer").get("/inbox").get_data(as_text=True)
    assert f"/purchasing/invoices/{invoice_id}" in inbox


def test_invoice_for_the_received_qty_matches_and_asks_finance_to_pay(
    app, inside, two_line_order, as_user
):
    resp, _ = post_invoice(
        as_user("buyer"), inside, two_line_order, "FP-0001", {BOX: ("480", "2.40")}
    )
    assert resp.status_code == 303
    with inside():
        invoice = db.session.scalar(sa.select(SupplierInvoice))
        assert resp.headers["Location"].endswith(f"/purchasing/invoices/{invoice.id}")
        assert (invoice.status, invoice.amount_total, invoice.mismatch) == (
            "matched",
            Decimal("1152.00"),
            "",
        )
        assert invoice.invoice_no == "FP-0001"
        assert invoice.instance_id is None  # no exception
        assert lines_of(two_line_order) == {
            BOX: (Decimal("480.000"), Decimal("480.000")),
            FERT: (Decimal("0.000"), Decimal("0.000")),
        }
        assert db.session.get(PurchaseOrder, two_line_order).status == "partially_received"
        payment = payment_of(invoice.id)
        assert (payment.number[:9], payment.amount, payment.status) == (
            "PAY-2026-",
            Decimal("1152.00"),
            "submitted",
        )
        assert payment.requester_id == member("buyer").id
        assert task_logins(payment.instance_id) == ["finance"]
    page = as_user("buyer").get(resp.headers["Location"]).get_data(as_text=True)
    assert "FP-0001" in page
    assert payment.number in page
    # The order's page lists the invoice with its payment request, and its history who acted.
    order_page = as_user("buyer").get(f"/purchasing/orders/{two_line_order}").get_data(as_text=True)
    billing = order_page[order_page.index('class="card bill-order"') :]
    assert "FP-0001" in billing and payment.number in billing
    # ... in one statement, both tables scoped to the workspace.
    seen = statements(app, as_user("buyer"), f"/purchasing/orders/{two_line_order}")
    billing_sql = [s for s in seen if "supplier_invoice" in s or "payment_request" in s]
    assert len(billing_sql) == 1
    assert "payment_request.workspace_id" in billing_sql[0]
    assert "supplier_invoice.workspace_id" in billing_sql[0]
    with inside():
        actors = set(
            db.session.scalars(
                sa.select(User.display_name)
                .join(AuditEvent, AuditEvent.actor_id == User.id)
                .where(
                    AuditEvent.entity_type == "purchase_order",
                    AuditEvent.entity_id == str(two_line_order),
                )
            )
        )
    timeline = order_page[order_page.index('class="timeline wf-history"') :]
    assert actors and all(f"<strong>{name}</strong>" in timeline for name in actors)


def test_earlier_invoices_count_against_the_received_qty(inside, box_order, as_user):
    client = as_user("buyer")
    assert (
        post_invoice(client, inside, box_order, "FP-1", {BOX: ("300", "2.40")})[0].status_code
        == 303
    )
    resp, qty_field = post_invoice(client, inside, box_order, "FP-2", {BOX: ("200", "2.40")})
    assert resp.status_code == 422
    assert error_near(resp.get_data(as_text=True), qty_field) == (
        "Line 1 Packaging box 40x30: invoiced 200 + 300 before, received 480"
    )
    resp, _ = post_invoice(client, inside, box_order, "FP-3", {BOX: ("180", "2.40")})
    assert resp.status_code == 303
    with inside():
        assert lines_of(box_order)[BOX] == (Decimal("480.000"), Decimal("480.000"))
        amounts = db.session.scalars(sa.select(PaymentRequest.amount).order_by(PaymentRequest.id))
        assert list(amounts) == [Decimal("720.00"), Decimal("432.00")]


def test_unit_price_must_equal_the_order_price_by_default(inside, box_order, as_user):
    resp, _ = post_invoice(as_user("buyer"), inside, box_order, "FP-1", {BOX: ("480", "2.41")})
    assert resp.status_code == 422
    with inside():
        price_field = f"price_{line_id(box_order, BOX)}"
        assert counts() == (1, 0)
    assert error_near(resp.get_data(as_text=True), price_field) == (
        "Line 1 Packaging box 40x30: unit price 2.41, order price 2.40 (tolerance 0.00)"
    )


def test_the_price_tolerance_setting_lets_small_differences_match(inside, box_order, as_user, demo):
    admin = as_user("admin")
    resp = admin.form(
        "/purchasing/settings", {"price_tolerance": "0.05", "over_receipt_percent": "0"}
    )
    assert resp.status_code == 303
    client = as_user("buyer")
    resp, _ = post_invoice(client, inside, box_order, "FP-1", {BOX: ("100", "2.45")})
    assert resp.status_code == 303  # 0.05 off: within the tolerance
    resp, _ = post_invoice(client, inside, box_order, "FP-2", {BOX: ("100", "2.46")})
    assert resp.status_code == 422
    with inside():
        price_field = f"price_{line_id(box_order, BOX)}"
        assert settings.get("price_tolerance", db.session.get(Workspace, demo.id)) == Decimal(
            "0.05"
        )
        assert payment_of(db.session.scalar(sa.select(SupplierInvoice.id))).amount == Decimal(
            "245.00"
        )
    assert "unit price 2.46, order price 2.40 (tolerance 0.05)" in error_near(
        resp.get_data(as_text=True), price_field
    )


# --- the buyer resolves a blocked invoice ---------------------------------------------------------


def blocked_invoice(inside, order_id, as_user) -> int:
    resp, _ = post_invoice(as_user("finance"), inside, order_id, "FP-9", {BOX: ("500", "2.40")})
    assert resp.status_code == 422
    with inside():
        return db.session.scalar(sa.select(SupplierInvoice.id))


def test_the_buyer_corrects_a_blocked_invoice_and_it_matches(inside, box_order, as_user):
    invoice_id = blocked_invoice(inside, box_order, as_user)
    buyer = as_user("buyer")
    page = buyer.get(f"/purchasing/invoices/{invoice_id}").get_data(as_text=True)
    assert BOX_OVER in page
    assert "Correct and match again" in page
    with inside():
        box = line_id(box_order, BOX)
    # Still wrong: refused, the invoice stays blocked and nothing changes.
    resp = buyer.form(
        f"/purchasing/invoices/{invoice_id}/correct", {f"qty_{box}": "490", f"price_{box}": "2.40"}
    )
    assert resp.status_code == 422
    assert error_near(resp.get_data(as_text=True), f"qty_{box}") == (
        "Line 1 Packaging box 40x30: invoiced 490, received 480"
    )
    with inside():
        assert db.session.get(SupplierInvoice, invoice_id).status == "blocked"
    resp = buyer.form(
        f"/purchasing/invoices/{invoice_id}/correct", {f"qty_{box}": "480", f"price_{box}": "2.40"}
    )
    assert resp.status_code == 303
    with inside():
        invoice = db.session.get(SupplierInvoice, invoice_id)
        assert (invoice.status, invoice.amount_total, invoice.invoice_no) == (
            "matched",
            Decimal("1152.00"),
            "FP-9",
        )
        assert [line.qty for line in invoice.lines] == [Decimal("480.000")]
        assert lines_of(box_order)[BOX] == (Decimal("480.000"), Decimal("480.000"))
        # The buyer's task is done with it; finance is asked to pay.
        instance = db.session.get(ProcessInstance, invoice.instance_id)
        assert instance.status == "approved"
        assert open_tasks(instance.id) == []
        task = db.session.scalar(
            sa.select(WorkflowTask).where(WorkflowTask.instance_id == instance.id)
        )
        assert (task.status, task.assignee_id) == ("approved", member("buyer").id)
        payment = payment_of(invoice_id)
        assert (payment.amount, payment.status) == (Decimal("1152.00"), "submitted")


def test_approving_the_exception_without_a_correction_cancels_the_invoice(
    inside, box_order, as_user
):
    invoice_id = blocked_invoice(inside, box_order, as_user)
    with inside():
        invoice = db.session.get(SupplierInvoice, invoice_id)
        instance_id = invoice.instance_id
        (task,) = open_tasks(instance_id)
        version = db.session.get(ProcessInstance, instance_id).version
    resp = as_user("buyer").form(
        f"/workflow/instances/{instance_id}/commands",
        {
            "command": "approve",
            "workflow_task_id": task.id,
            "expected_version": version,
            "comment": "Supplier sends a corrected invoice for 480.",
        },
    )
    assert resp.status_code == 303
    with inside():
        assert db.session.get(SupplierInvoice, invoice_id).status == "cancelled"
        assert db.session.get(ProcessInstance, instance_id).status == "approved"
        assert lines_of(box_order)[BOX][1] == Decimal("0.000")
        assert counts() == (1, 0)
    # The corrected invoice (a new number) is then entered and matches.
    resp, _ = post_invoice(as_user("finance"), inside, box_order, "FP-10", {BOX: ("480", "2.40")})
    assert resp.status_code == 303


def test_approving_the_exception_needs_a_comment(inside, box_order, as_user):
    invoice_id = blocked_invoice(inside, box_order, as_user)
    with inside():
        instance_id = db.session.get(SupplierInvoice, invoice_id).instance_id
        (task,) = open_tasks(instance_id)
    resp = as_user("buyer").form(
        f"/workflow/instances/{instance_id}/commands",
        {"command": "approve", "workflow_task_id": task.id, "comment": ""},
    )
    assert resp.status_code == 422
    with inside():
        assert db.session.get(SupplierInvoice, invoice_id).status == "blocked"


# --- list, export, who may do what ----------------------------------------------------------------


def test_list_filters_searches_pages_and_exports(app, inside, box_order, as_user, monkeypatch):
    client = as_user("buyer")
    for n, qty in enumerate(("100", "100", "600"), start=1):
        post_invoice(client, inside, box_order, f"FP-{n}", {BOX: (qty, "2.40")})
    html = client.get("/purchasing/invoices").get_data(as_text=True)
    assert all(f"FP-{n}" in html for n in (1, 2, 3))
    html = client.get("/purchasing/invoices?status=blocked").get_data(as_text=True)
    assert "FP-3" in html and "FP-1" not in html
    html = client.get("/purchasing/invoices?q=fp-2").get_data(as_text=True)
    assert "FP-2" in html and "FP-1" not in html and "FP-3" not in html
    monkeypatch.setitem(app.config, "SUITE_PAGE_SIZE", 2)
    first = client.get("/purchasing/invoices").get_data(as_text=True)
    assert "FP-3" in first and "FP-2" in first and "FP-1" not in first
    with inside():
        ids = list(db.session.scalars(sa.select(SupplierInvoice.id).order_by(SupplierInvoice.id)))
    assert f"before={ids[1]}" in first
    more = client.htmx("GET", f"/purchasing/invoices?before={ids[1]}", target="invoice-results")
    assert "FP-1" in more.get_data(as_text=True) and "FP-2" not in more.get_data(as_text=True)
    resp = client.get("/purchasing/invoices/export.xlsx?status=matched")
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(resp.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Number", "Supplier's invoice number", "Invoice date")
    assert [(r[1], r[5], r[6]) for r in rows[1:]] == [
        ("FP-2", 240, "Matched"),
        ("FP-1", 240, "Matched"),
    ]


@pytest.mark.parametrize(
    ("login", "list_", "enter", "correct"),
    [
        ("buyer", 200, 200, 200),
        ("finance", 200, 200, 403),
        ("gm", 200, 403, 403),
        ("warehouse", 403, 403, 403),
        ("staff", 403, 403, 403),
        ("admin", 200, 200, 200),
    ],
)
def test_permission_matrix(inside, box_order, as_user, login, list_, enter, correct):
    invoice_id = blocked_invoice(inside, box_order, as_user)
    client = as_user(login)
    assert client.get("/purchasing/invoices").status_code == list_
    assert client.get(f"/purchasing/orders/{box_order}/invoices/new").status_code == enter
    assert client.get(f"/purchasing/invoices/{invoice_id}/correct").status_code == correct
    detail = client.get(f"/purchasing/invoices/{invoice_id}").status_code
    assert detail == (200 if list_ == 200 else 404)


# --- after a mismatch: the blocked invoice's correction, not a second save (S1 browser walk) ------


def actions_of(html: str) -> str:
    """The invoice form's action row."""
    return re.search(r'<div class="actions">(.*?)</div>', html, re.S).group(1)


def test_after_a_mismatch_the_form_sends_to_the_correction_and_offers_no_second_save(
    inside, box_order, as_user
):
    buyer = as_user("buyer")
    resp, qty_field = post_invoice(buyer, inside, box_order, "FP-7", {BOX: ("500", "2.40")})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert error_near(html, qty_field) == BOX_OVER  # the reason stays next to the line
    with inside():
        invoice_id, number = db.session.execute(
            sa.select(SupplierInvoice.id, SupplierInvoice.number)
        ).one()
        box = line_id(box_order, BOX)
    assert f"kept as {number} (blocked)" in html
    assert "the same invoice number cannot be entered twice" in html
    correct = f'href="/purchasing/invoices/{invoice_id}/correct">Correct and match again</a>'
    assert correct in actions_of(html)
    assert "<button" not in actions_of(html) and "Check and save" not in html
    assert '<fieldset class="bill-set" disabled>' in html  # the typed lines are read-only now
    # The same number posted again (the back button, say): refused next to the number, with
    # the way to the correction; nothing new is written.
    resp, _ = post_invoice(buyer, inside, box_order, "FP-7", {BOX: ("480", "2.40")})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert error_near(html, "invoice_no") == (
        f"Invoice FP-7 of this supplier is already entered ({number})."
    )
    assert f"{number} is blocked: correct its lines there and match it again." in html
    assert correct in html
    assert "Check and save" in actions_of(html)  # a mistyped number may still be changed
    with inside():
        assert counts() == (1, 0)
    # The correction page the link opens matches 480.
    assert buyer.get(f"/purchasing/invoices/{invoice_id}/correct").status_code == 200
    resp = buyer.form(
        f"/purchasing/invoices/{invoice_id}/correct", {f"qty_{box}": "480", f"price_{box}": "2.40"}
    )
    assert resp.status_code == 303
    with inside():
        assert db.session.get(SupplierInvoice, invoice_id).status == "matched"
        assert counts() == (1, 1)


def test_after_a_mismatch_who_may_not_correct_is_sent_to_the_blocked_invoice(
    inside, box_order, as_user
):
    resp, _ = post_invoice(as_user("finance"), inside, box_order, "FP-8", {BOX: ("500", "2.40")})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    with inside():
        invoice_id = db.session.scalar(sa.select(SupplierInvoice.id))
    assert actions_of(html).strip() == (
        f'<a class="btn btn-primary" href="/purchasing/invoices/{invoice_id}">'
        "Open the blocked invoice</a>"
    )
    assert f"/purchasing/invoices/{invoice_id}/correct" not in html


def test_the_status_card_says_a_buyer_resolves_it_only_while_blocked(inside, box_order, as_user):
    invoice_id = blocked_invoice(inside, box_order, as_user)
    buyer = as_user("buyer")
    hint = "Invoice exception: a buyer resolves it."

    def status_card() -> str:
        page = buyer.get(f"/purchasing/invoices/{invoice_id}").get_data(as_text=True)
        pattern = rf'<section id="invoice-{invoice_id}-status".*?</section>'
        return re.search(pattern, page, re.S).group(0)

    assert hint in status_card()
    with inside():
        box = line_id(box_order, BOX)
    resp = buyer.form(
        f"/purchasing/invoices/{invoice_id}/correct", {f"qty_{box}": "480", f"price_{box}": "2.40"}
    )
    assert resp.status_code == 303
    card = status_card()
    assert hint not in card
    assert "Matched with the order and the goods received." in card
    assert "chip-approved" in card  # the exception process ended with the correction


def test_invoice_pages_show_units_in_the_pages_language(inside, box_order, as_user):
    buyer = as_user("buyer")
    form = buyer.get(f"/purchasing/orders/{box_order}/invoices/new").get_data(as_text=True)
    assert "<span>Ordered 500 Piece × CN¥2.40</span>" in form
    assert "<span>Received 480 Piece</span>" in form
    assert buyer.form("/language", {"locale": "zh_CN"}).status_code == 303
    form = buyer.get(f"/purchasing/orders/{box_order}/invoices/new").get_data(as_text=True)
    assert "<span>已收货 480 个</span>" in form and " pcs" not in form and ">pcs<" not in form
    resp, _ = post_invoice(buyer, inside, box_order, "FP-1", {BOX: ("480", "2.40")})
    assert resp.status_code == 303
    page = buyer.get(resp.headers["Location"]).get_data(as_text=True)
    assert '<td class="num">480 个</td>' in page and " pcs" not in page and ">pcs<" not in page
