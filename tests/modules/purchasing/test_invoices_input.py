"""Supplier invoice entry refuses bad input next to the field (HTTP 422) and writes nothing: no
invoice, no payment request, no exception process, nothing invoiced on the order."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from modules.purchasing.models import SupplierInvoice
from suite.db import db
from suite.workflow.models import ProcessInstance
from tests.modules.purchasing.billing_helpers import (
    BOX,
    counts,
    error_near,
    invoice_form_data,
    line_id,
    lines_of,
    post_invoice,
)

pytest_plugins = ["tests.modules.purchasing.billing_fixtures"]


# --- bad input: 422 next to the field, nothing written --------------------------------------------


@pytest.mark.parametrize(
    ("qty", "price", "field", "message"),
    [
        ("480", "2.405", "price", "At most two decimal places."),
        ("-1", "2.40", "qty", "The quantity cannot be negative."),
        ("480", "-2.40", "price", "The price cannot be negative."),
        ("1.0005", "2.40", "qty", "At most three decimal places."),
        ("abc", "2.40", "qty", "Not a valid decimal value."),
        ("0", "2.40", "qty", "Enter the quantity of at least one line."),
        ("480", "", "price", "Enter the unit price."),
    ],
)
def test_bad_lines_are_refused_next_to_the_field_and_nothing_is_written(
    inside, box_order, as_user, qty, price, field, message
):
    resp, _ = post_invoice(as_user("buyer"), inside, box_order, "FP-1", {BOX: (qty, price)})
    assert resp.status_code == 422
    with inside():
        name = f"{field}_{line_id(box_order, BOX)}"
        assert counts() == (0, 0)
        assert lines_of(box_order)[BOX] == (Decimal("480.000"), Decimal("0.000"))
        assert (
            db.session.scalar(
                sa.select(sa.func.count(ProcessInstance.id)).where(
                    ProcessInstance.document_type == "purchasing.invoice_exception"
                )
            )
            == 0
        )
    assert error_near(resp.get_data(as_text=True), name) == message


def test_a_supplier_invoice_number_is_entered_once_per_supplier(inside, box_order, as_user):
    client = as_user("buyer")
    assert (
        post_invoice(client, inside, box_order, "FP-1", {BOX: ("100", "2.40")})[0].status_code
        == 303
    )
    resp, _ = post_invoice(client, inside, box_order, " FP-1 ", {BOX: ("100", "2.40")})
    assert resp.status_code == 422
    with inside():
        number = db.session.scalar(sa.select(SupplierInvoice.number))
        assert counts() == (1, 1)
        assert lines_of(box_order)[BOX][1] == Decimal("100.000")
    assert error_near(resp.get_data(as_text=True), "invoice_no") == (
        f"Invoice FP-1 of this supplier is already entered ({number})."
    )


def test_an_invoice_needs_the_suppliers_number(inside, box_order, as_user):
    resp, _ = post_invoice(as_user("buyer"), inside, box_order, "", {BOX: ("480", "2.40")})
    assert resp.status_code == 422
    assert error_near(resp.get_data(as_text=True), "invoice_no") == "This field is required."
    with inside():
        assert counts() == (0, 0)


def test_no_invoice_for_an_order_the_supplier_has_not_confirmed(inside, world, as_user):
    order_id = world.order(confirmed=False)
    resp, _ = post_invoice(as_user("buyer"), inside, order_id, "FP-1", {BOX: ("1", "2.40")})
    assert resp.status_code == 422
    assert error_near(resp.get_data(as_text=True), "invoice_no") == (
        "Invoices can be entered only for confirmed orders."
    )
    with inside():
        assert counts() == (0, 0)


def test_the_form_over_htmx_answers_its_fragment(inside, box_order, as_user):
    client = as_user("buyer")
    with inside():
        data = invoice_form_data(box_order, "FP-1", {BOX: ("480", "2.405")})
    resp = client.htmx(
        "POST", f"/purchasing/orders/{box_order}/invoices/new", target="invoice-form", data=data
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert html.lstrip().startswith('<form id="invoice-form"')
    assert "<html" not in html
    resp = client.htmx(
        "POST",
        f"/purchasing/orders/{box_order}/invoices/new",
        target="invoice-form",
        data={**data, f"price_{data_line(data)}": "2.40"},
    )
    assert resp.status_code == 204
    assert resp.headers["HX-Location"].startswith("/purchasing/invoices/")


def data_line(data: dict) -> str:
    return next(k for k in data if k.startswith("price_")).split("_", 1)[1]
