"""The purchasing settings page (/purchasing/settings): the invoice price tolerance and the
over-receipt allowance, admins only, checked before anything is stored."""

from __future__ import annotations

from decimal import Decimal

import pytest

from modules.purchasing import settings
from suite.db import db
from suite.tenancy import Workspace
from tests.modules.purchasing.billing_helpers import BOX, error_near, input_value

pytest_plugins = ["tests.modules.purchasing.billing_fixtures"]


def stored(inside, demo) -> tuple[Decimal, Decimal]:
    with inside():
        ws = db.session.get(Workspace, demo.id)
        return settings.get("price_tolerance", ws), settings.get("over_receipt_percent", ws)


def test_admin_sees_the_defaults_and_saves_new_values(inside, demo, as_user):
    admin = as_user("admin")
    html = admin.get("/purchasing/settings").get_data(as_text=True)
    assert input_value(html, "price_tolerance") == "0.00"
    assert input_value(html, "over_receipt_percent") == "0.00"
    resp = admin.form(
        "/purchasing/settings", {"price_tolerance": "0.05", "over_receipt_percent": "10"}
    )
    assert resp.status_code == 303
    assert stored(inside, demo) == (Decimal("0.05"), Decimal("10"))
    html = admin.get("/purchasing/settings").get_data(as_text=True)
    assert "Saved." in html
    assert input_value(html, "price_tolerance") == "0.05"
    assert input_value(html, "over_receipt_percent") == "10.00"


@pytest.mark.parametrize(
    ("tolerance", "percent", "field", "message"),
    [
        ("-0.01", "0", "price_tolerance", "The tolerance cannot be negative."),
        ("0.005", "0", "price_tolerance", "At most two decimal places."),
        ("", "0", "price_tolerance", "This field is required."),
        ("0", "100.01", "over_receipt_percent", "Enter a percentage from 0 to 100."),
        ("0", "-1", "over_receipt_percent", "Enter a percentage from 0 to 100."),
        ("0", "1.234", "over_receipt_percent", "Enter a number with at most two decimal places."),
    ],
)
def test_bad_values_are_refused_next_to_the_field_and_nothing_is_stored(
    inside, demo, as_user, tolerance, percent, field, message
):
    resp = as_user("admin").form(
        "/purchasing/settings", {"price_tolerance": tolerance, "over_receipt_percent": percent}
    )
    assert resp.status_code == 422
    assert error_near(resp.get_data(as_text=True), field) == message
    assert stored(inside, demo) == (Decimal("0.00"), Decimal("0"))


@pytest.mark.parametrize("login", ["buyer", "finance", "gm", "staff", "warehouse"])
def test_only_admins_manage_the_settings(inside, demo, as_user, login):
    client = as_user(login)
    assert client.get("/purchasing/settings").status_code == 403
    resp = client.form(
        "/purchasing/settings", {"price_tolerance": "9", "over_receipt_percent": "50"}
    )
    assert resp.status_code == 403
    assert stored(inside, demo) == (Decimal("0.00"), Decimal("0"))


def test_the_over_receipt_allowance_set_here_lets_receipts_exceed_the_order(inside, world, as_user):
    order_id = world.order()  # 500 boxes
    as_user("admin").form(
        "/purchasing/settings", {"price_tolerance": "0", "over_receipt_percent": "10"}
    )
    world.receive(order_id, {BOX: "550"})  # 10% more than ordered
    from modules.purchasing.models import PurchaseOrder

    with inside():
        assert db.session.get(PurchaseOrder, order_id).lines[0].received_qty == Decimal("550")
