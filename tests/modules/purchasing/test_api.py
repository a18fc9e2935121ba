"""Purchase-to-pay in the JSON API (S1 over HTTP): a request created and submitted by `staff`,
approved, its orders, a partial receipt, a matched and a blocked invoice, the payment request;
422 for bad input, 403 without permission, 404 for another workspace's ids; answers match the
OpenAPI document. Documents are arranged through the module's services (`world`)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from modules.purchasing.models import PaymentRequest, PurchaseOrder, PurchaseRequest
from modules.purchasing.services import invoices as invoice_services
from suite.db import db
from suite.tenancy import system
from tests.helpers.api import spec_checker
from tests.modules.crm import conftest as master_fixtures
from tests.modules.purchasing.billing_helpers import member
from tests.modules.purchasing.conftest import item, party
from tests.suite.test_tenancy import rows_of

api, token_for = master_fixtures.api, master_fixtures.token_for


def s1_body(inside) -> dict:
    """S1.1: 500 boxes x 2.40 from SUP-001 and 20 bags of fertilizer x 180.00 from SUP-002."""
    with inside():
        box, fert = item("BOX-4030").id, item("FERT-25").id
        sup1, sup2 = party("SUP-001").id, party("SUP-002").id
    return {
        "project": "P-2026-001",
        "reason": "Spring packing",
        "lines": [
            {"item_id": box, "supplier_id": sup1, "qty": "500", "unit_price": "2.40"},
            {"item_id": fert, "supplier_id": sup2, "qty": "20", "unit_price": "180.00"},
        ],
    }


def test_a_request_is_created_submitted_approved_and_becomes_two_orders(
    app, demo, inside, api, token_for
):
    staff, head, buyer = token_for("staff"), token_for("dept_head"), token_for("buyer")
    check = spec_checker(api)
    body = s1_body(inside)
    created = check(
        api(staff, "POST", "/api/v1/purchase-requests", json=body),
        201,
        "/api/v1/purchase-requests",
        "post",
    )
    assert re.fullmatch(r"PR-\d{4}-0001", created["number"])
    assert (created["status"], created["amount_total"], created["project"]) == (
        "draft",
        "4800.00",
        "P-2026-001",
    )
    assert [
        (x["item"]["code"], x["supplier"]["code"], x["qty"], x["amount"]) for x in created["lines"]
    ] == [
        ("BOX-4030", "SUP-001", "500.000", "1200.00"),
        ("FERT-25", "SUP-002", "20.000", "3600.00"),
    ]
    url = f"/api/v1/purchase-requests/{created['id']}"
    submitted = check(
        api(staff, "POST", f"{url}/submit", json={"key": "pr-1"}),
        200,
        "/api/v1/purchase-requests/{purchase_request_id}/submit",
        "post",
    )
    assert submitted["request"]["status"] == "submitted"
    assert submitted["result"]["replayed"] is False
    again = api(staff, "POST", f"{url}/submit", json={"key": "pr-1"}).get_json()
    assert again["result"] == {**submitted["result"], "replayed": True}

    # 4,800.00: the department head alone approves (S1.2), through the kernel's API
    instance = f"/api/v1/instances/{submitted['result']['instance_id']}"
    task = api(head, "GET", instance).get_json()["my_open_task_ids"][0]
    approve = {"command": "approve", "task_id": task}
    assert api(head, "POST", f"{instance}/commands", json=approve).status_code == 200

    detail = check(api(staff, "GET", url), 200, "/api/v1/purchase-requests/{purchase_request_id}")
    assert detail["status"] == "ordered" and len(detail["order_ids"]) == 2
    orders = check(
        api(buyer, "GET", f"/api/v1/purchase-orders?request_id={created['id']}"),
        200,
        "/api/v1/purchase-orders",
    )
    got = sorted((o["supplier"]["code"], o["status"], o["amount_total"]) for o in orders["items"])
    assert got == [("SUP-001", "draft", "1200.00"), ("SUP-002", "draft", "3600.00")]
    assert sorted(o["id"] for o in orders["items"]) == sorted(detail["order_ids"])
    # buyers see every request; the requester sees theirs under `mine`
    mine = api(staff, "GET", "/api/v1/purchase-requests").get_json()["items"]
    assert [r["number"] for r in mine] == [created["number"]]
    everyone = api(buyer, "GET", "/api/v1/purchase-requests?scope=all").get_json()["items"]
    assert [r["number"] for r in everyone] == [created["number"]]


def test_receipts_invoices_and_payments_are_read_with_their_lines(
    app, demo, world, inside, api, token_for
):
    order_id = world.order()  # S1's box order, 500 x 2.40 from SUP-001, confirmed
    world.receive(order_id, {"BOX-4030": "480"})
    with inside():
        order = db.session.get(PurchaseOrder, order_id)
        line = order.lines[0]
        matched = invoice_services.enter_invoice(
            order,
            member("finance"),
            invoice_no="INV-480",
            invoice_date=None,
            lines=[invoice_services.InvoiceLineInput(line.id, Decimal(480), Decimal("2.40"))],
        )
        db.session.commit()
        matched_id = matched.invoice.id
    check = spec_checker(api)
    buyer, finance = token_for("buyer"), token_for("finance")

    po = check(
        api(buyer, "GET", f"/api/v1/purchase-orders/{order_id}"),
        200,
        "/api/v1/purchase-orders/{purchase_order_id}",
    )
    assert (po["lines"][0]["qty"], po["lines"][0]["received_qty"], po["lines"][0]["open_qty"]) == (
        "500.000",
        "480.000",
        "20.000",
    )
    receipts = check(
        api(buyer, "GET", f"/api/v1/goods-receipts?order_id={order_id}"),
        200,
        "/api/v1/goods-receipts",
    )
    [receipt] = receipts["items"]
    assert re.fullmatch(r"GRN-\d{4}-0001", receipt["number"])
    assert receipt["location"]["code"] == "A-01" and receipt["supplier"]["code"] == "SUP-001"
    assert [(x["item"]["code"], x["qty"], x["unit_cost"]) for x in receipt["lines"]] == [
        ("BOX-4030", "480.000", "2.40")
    ]
    one = check(
        api(buyer, "GET", f"/api/v1/goods-receipts/{receipt['id']}"),
        200,
        "/api/v1/goods-receipts/{goods_receipt_id}",
    )
    assert one == receipt

    invoices = check(
        api(finance, "GET", "/api/v1/supplier-invoices?status=matched"),
        200,
        "/api/v1/supplier-invoices",
    )
    assert [(i["invoice_no"], i["amount_total"]) for i in invoices["items"]] == [
        ("INV-480", "1152.00")
    ]
    inv = check(
        api(finance, "GET", f"/api/v1/supplier-invoices/{matched_id}"),
        200,
        "/api/v1/supplier-invoices/{supplier_invoice_id}",
    )
    assert [(x["item"]["code"], x["qty"], x["unit_price"]) for x in inv["lines"]] == [
        ("BOX-4030", "480.000", "2.40")
    ]
    payments = check(
        api(finance, "GET", "/api/v1/payment-requests"), 200, "/api/v1/payment-requests"
    )
    [payment] = payments["items"]
    assert (payment["invoice_id"], payment["amount"], payment["status"]) == (
        matched_id,
        "1152.00",
        "submitted",
    )
    assert "bank_account" not in repr(payment)  # the supplier's account is finance's page only
    check(
        api(finance, "GET", f"/api/v1/payment-requests/{payment['id']}"),
        200,
        "/api/v1/payment-requests/{payment_request_id}",
    )


def test_a_blocked_invoice_says_why(app, demo, world, inside, api, token_for):
    order_id = world.order()
    world.receive(order_id, {"BOX-4030": "480"})
    with inside():
        order = db.session.get(PurchaseOrder, order_id)
        invoice_services.enter_invoice(
            order,
            member("finance"),
            invoice_no="INV-500",
            invoice_date=None,
            lines=[
                invoice_services.InvoiceLineInput(order.lines[0].id, Decimal(500), Decimal("2.40"))
            ],
        )
        db.session.commit()
    body = api(token_for("finance"), "GET", "/api/v1/supplier-invoices?status=blocked").get_json()
    [blocked] = body["items"]
    assert blocked["invoice_no"] == "INV-500" and "480" in blocked["mismatch"]
    assert "500" in blocked["mismatch"]


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        (lambda b: b["lines"][0].update(qty=500), ["lines[0].qty"]),  # a number: never
        (lambda b: b["lines"][1].update(unit_price="180.005"), ["lines[1].unit_price"]),
        (lambda b: b["lines"][0].update(item_id="1"), ["lines[0].item_id"]),
        (lambda b: b["lines"][0].update(colour="red"), ["lines[0]"]),
        (lambda b: b.update(lines=[]), ["lines"]),
        (lambda b: b.update(is_asset="no"), ["is_asset"]),
        (lambda b: b.update(urgent=True), ["urgent"]),
        (lambda b: b["lines"][0].update(item_id=999999), ["lines[0].item_id"]),  # not ours
        (lambda b: b["lines"][1].update(qty="0"), ["lines[1].qty"]),  # service rule
    ],
)
def test_bad_request_input_is_422_and_writes_nothing(
    app, demo, inside, api, token_for, change, errors
):
    staff = token_for("staff")
    api(staff, "GET", "/api/v1/me")  # the token's first use stamps last_used_at
    body = s1_body(inside)
    change(body)
    before = rows_of(app, demo.id)
    resp = api(staff, "POST", "/api/v1/purchase-requests", json=body)
    assert resp.status_code == 422, resp.get_json()
    assert sorted(resp.get_json()["errors"]) == errors
    assert rows_of(app, demo.id) == before


def test_submit_refusals(app, demo, world, inside, api, token_for):
    staff, dept_head = token_for("staff"), token_for("dept_head")
    request_id = world.request(submit=False)
    url = f"/api/v1/purchase-requests/{request_id}/submit"
    resp = api(dept_head, "POST", url)  # sees it (department line) but did not raise it
    assert resp.status_code == 403 and resp.get_json()["error"] == "not_initiator"
    assert api(staff, "POST", url).status_code == 200
    again = api(staff, "POST", url)  # no key: a second submit is refused, not replayed
    assert again.status_code == 409 and again.get_json()["error"] == "refused"
    assert api(staff, "POST", url, json={"key": 5}).status_code == 422


LISTS = (
    "/api/v1/purchase-requests",
    "/api/v1/purchase-orders",
    "/api/v1/goods-receipts",
    "/api/v1/supplier-invoices",
    "/api/v1/payment-requests",
)


@pytest.mark.parametrize(
    ("login", "allowed"),
    [
        ("staff", LISTS[:1]),  # raises requests: sees their own
        ("warehouse", LISTS[:3]),
        ("buyer", LISTS),
        ("finance", LISTS),
        ("nobody", ()),
    ],
)
def test_lists_need_their_read_permission(demo, api, token_for, make_member, login, allowed):
    make_member(demo, "nobody", roles=())
    token = token_for(login)
    for url in LISTS:
        expected = 200 if url in allowed else 403
        assert api(token, "GET", url).status_code == expected, (login, url)


def test_a_request_is_404_to_someone_who_may_not_see_it(app, demo, world, api, token_for):
    request_id = world.request(submit=False)
    url = f"/api/v1/purchase-requests/{request_id}"
    assert api(token_for("sales"), "GET", url).status_code == 404  # another department
    assert api(token_for("staff"), "GET", url).status_code == 200
    assert api(token_for("sales"), "GET", "/api/v1/purchase-requests?scope=all").status_code == 403


def test_another_workspaces_documents_answer_404(
    app, demo, world, inside, api, token_for, make_workspace, make_member
):
    order_id = world.order()
    receipt_id = world.receive(order_id, {"BOX-4030": "480"})
    with inside():
        order = db.session.get(PurchaseOrder, order_id)
        result = invoice_services.enter_invoice(
            order,
            member("finance"),
            invoice_no="INV-1",
            invoice_date=None,
            lines=[
                invoice_services.InvoiceLineInput(order.lines[0].id, Decimal(480), Decimal("2.40"))
            ],
        )
        db.session.commit()
        demo_ids = {
            "purchase_request_id": order.request_id,
            "purchase_order_id": order_id,
            "goods_receipt_id": receipt_id,
            "supplier_invoice_id": result.invoice.id,
            "payment_request_id": _payment_id(),
        }
    other = make_workspace("other", "Other Co")
    make_member(other, "other_admin", roles=("suite.admin",))
    outsider = token_for("other_admin")
    api(outsider, "GET", "/api/v1/me")
    before = rows_of(app, demo.id)
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or not set(rule.arguments) <= set(demo_ids):
            continue
        if not rule.arguments:
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<int:{arg}>", str(demo_ids[arg]))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            resp = api(outsider, method, url, json={})
            assert resp.status_code == 404, (method, url, resp.status_code)
            assert resp.get_json()["error"] == "not_found"
            checked += 1
    assert checked == 6
    for url in (
        "/api/v1/purchase-requests?scope=all",
        "/api/v1/purchase-orders",
        "/api/v1/goods-receipts",
        "/api/v1/supplier-invoices",
        "/api/v1/payment-requests",
    ):
        assert api(outsider, "GET", url).get_json()["items"] == [], url
    assert rows_of(app, demo.id) == before
    with app.app_context(), system():
        assert db.session.get(PurchaseRequest, demo_ids["purchase_request_id"]).status == "ordered"


def _payment_id() -> int:
    return db.session.scalar(sa.select(PaymentRequest.id))
