# ruff: noqa: F811 - the purchasing fixtures are imported, then requested by name
"""S1 Purchase to pay, steps 1-4 and 7, through the web UI with the demo users (SCENARIOS.md).

1. staff (Production) raises 500 x 2.40 + 20 x 180.00 = 4,800.00;
2. routing: dept head only; 6,000.00 also finance; over 50,000 also the general manager;
3. approval makes one draft PO-YYYY-NNNN per supplier; the buyer sends it and records the
   supplier's confirmation;
4. the warehouse keeper receives 480 boxes: stock +480 exactly, moving average 2.4000, 20 open;
7. a fixed asset waits for finance's asset number; its receipt is the acceptance group's.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import sqlalchemy as sa

from modules.inventory.models import StockBalance, StockMove
from modules.inventory.stock import average_cost
from modules.purchasing.models import GoodsReceipt, PurchaseOrder, PurchaseRequest
from suite.db import db
from suite.workflow.models import ProcessInstance
from tests.modules.purchasing.conftest import (  # noqa: F401 - fixtures
    BOX,
    FERT,
    LAPTOP,
    as_user,
    demo,
    inside,
    item,
    location,
    member,
    open_tasks,
    party,
)

YEAR_NO = r"\d{4}-\d{4}"


def request_form(inside, lines, **extra):
    data = {"project": "", "reason": "", **extra}
    with inside():
        for n, (code, sup, qty, price) in enumerate(lines):
            data |= {
                f"lines-{n}-item_id": str(item(code).id),
                f"lines-{n}-supplier_id": str(party(sup).id),
                f"lines-{n}-qty": qty,
                f"lines-{n}-unit_price": price,
            }
    return data


def raise_request(client, inside, lines, **extra):
    """Fill in the form, save, submit: the request's id."""
    resp = client.form("/purchasing/requests/new", request_form(inside, lines, **extra))
    assert resp.status_code == 303, resp.get_data(as_text=True)[:3000]
    req_id = int(re.search(r"/purchasing/requests/(\d+)$", resp.headers["Location"]).group(1))
    resp = client.form(f"/purchasing/requests/{req_id}/submit", {"key": uuid.uuid4().hex})
    assert resp.status_code == 303
    return req_id


def approve_all(as_user, inside, req_id):
    """Each assignee approves from the document page; who was asked, step by step."""
    asked = []
    while True:
        with inside():
            req = db.session.get(PurchaseRequest, req_id)
            instance = db.session.get(ProcessInstance, req.instance_id)
            tasks = [
                (t.id, db.session.get(type(member("staff")), t.assignee_id).user.login)
                for t in open_tasks(req.instance_id)
            ]
            version = instance.version
        if not tasks:
            return asked
        asked.append([login for _, login in tasks])
        task_id, login = tasks[0]
        client = as_user(login)
        page = client.get(f"/purchasing/requests/{req_id}").get_data(as_text=True)
        assert 'name="command" value="approve"' in page
        resp = client.form(
            f"/workflow/instances/{req.instance_id}/commands",
            {
                "command": "approve",
                "key": uuid.uuid4().hex,
                "expected_version": version,
                "workflow_task_id": task_id,
                "comment": "OK",
            },
        )
        assert (
            resp.status_code == 303 and resp.headers["Location"] == f"/purchasing/requests/{req_id}"
        )


def test_s1_steps_1_to_4(as_user, inside):
    staff, buyer, wh = as_user("staff"), as_user("buyer"), as_user("warehouse")
    # 1. the request: two lines, 4,800.00
    req_id = raise_request(
        staff, inside, [(BOX, "SUP-001", "500", "2.40"), (FERT, "SUP-002", "20", "180.00")]
    )
    page = staff.get(f"/purchasing/requests/{req_id}").get_data(as_text=True)
    assert f'id="purchase-request-{req_id}-total">CN¥4,800.00<' in page
    with inside():
        req = db.session.get(PurchaseRequest, req_id)
        assert req.amount_total == Decimal("4800.00") and req.status == "submitted"
        assert req.department.name.startswith("Production")
    # 2. the department head only
    assert approve_all(as_user, inside, req_id) == [["dept_head"]]
    six = raise_request(staff, inside, [(BOX, "SUP-001", "2500", "2.40")])
    assert approve_all(as_user, inside, six) == [["dept_head"], ["finance"]]
    big = raise_request(staff, inside, [(FERT, "SUP-002", "300", "180.00")])  # 54,000.00
    assert approve_all(as_user, inside, big) == [["dept_head"], ["finance"], ["gm"]]
    # 3. one draft order per supplier, sent and confirmed by the buyer
    with inside():
        orders = db.session.scalars(
            sa.select(PurchaseOrder)
            .where(PurchaseOrder.request_id == req_id)
            .order_by(PurchaseOrder.id)
        ).all()
        assert [(o.supplier.code, o.status, o.amount_total) for o in orders] == [
            ("SUP-001", "draft", Decimal("1200.00")),
            ("SUP-002", "draft", Decimal("3600.00")),
        ]
        assert all(re.fullmatch(rf"PO-{YEAR_NO}", o.number) for o in orders)
        box_order = orders[0].id
        box_line = orders[0].lines[0].id
    assert db_status(inside, req_id) == "ordered"
    assert buyer.form(f"/purchasing/orders/{box_order}/send").status_code == 303
    resp = buyer.form(f"/purchasing/orders/{box_order}/confirm", {"supplier_reference": "HS-118"})
    assert resp.status_code == 303
    with inside():
        order = db.session.get(PurchaseOrder, box_order)
        assert (order.status, order.supplier_reference) == ("confirmed", "HS-118")
        assert order.sent_at is not None and order.confirmed_at is not None
    # 4. 480 boxes arrive
    resp = wh.form(
        f"/purchasing/orders/{box_order}/receipts/new",
        {f"qty-{box_line}": "480", "location_id": str(location_id(inside))},
    )
    assert resp.status_code == 303
    with inside():
        bal = db.session.scalar(sa.select(StockBalance).where(StockBalance.item_id == item(BOX).id))
        assert (bal.qty, bal.value, average_cost(bal)) == (
            Decimal("480.000"),
            Decimal("1152.00"),
            Decimal("2.4000"),
        )
        receipt = db.session.scalar(sa.select(GoodsReceipt))
        assert re.fullmatch(rf"GRN-{YEAR_NO}", receipt.number)
        assert db.session.get(PurchaseOrder, box_order).status == "partially_received"
    page = buyer.get(f"/purchasing/orders/{box_order}").get_data(as_text=True)
    assert f'id="purchase-order-line-{box_line}-open">20<' in page
    assert "Partially received" in page


def test_s1_step_7_fixed_asset(as_user, inside):
    staff, finance, wh, acceptance = (
        as_user("staff"),
        as_user("finance"),
        as_user("warehouse"),
        as_user("acceptance"),
    )
    req_id = raise_request(staff, inside, [(LAPTOP, "SUP-003", "1", "6000.00")], is_asset="y")
    assert approve_all(as_user, inside, req_id) == [["dept_head"], ["finance"]]
    # approved, but no order until finance enters the asset number
    assert db_status(inside, req_id) == "approved"
    assert orders_of(inside, req_id) == []
    page = staff.get(f"/purchasing/requests/{req_id}").get_data(as_text=True)
    assert "waiting for the asset number" in page
    url = f"/purchasing/requests/{req_id}/asset-number"
    assert staff.form(url, {"asset_number": "FA-1"}).status_code == 403
    assert finance.form(url, {"asset_number": "FA-2026-001"}).status_code == 303
    (order_id,) = orders_of(inside, req_id)
    assert db_status(inside, req_id) == "ordered"
    buyer = as_user("buyer")
    buyer.form(f"/purchasing/orders/{order_id}/send")
    buyer.form(f"/purchasing/orders/{order_id}/confirm", {"supplier_reference": "LX-9"})
    with inside():
        order = db.session.get(PurchaseOrder, order_id)
        assert (order.status, order.asset_number, order.is_asset) == (
            "confirmed",
            "FA-2026-001",
            True,
        )
        line_id = order.lines[0].id
    # the warehouse may not receive it; the acceptance group accepts it, no stock moves
    entry = f"/purchasing/orders/{order_id}/receipts/new"
    assert wh.get(entry).status_code == 403
    assert wh.form(entry, {f"qty-{line_id}": "1"}).status_code == 403
    resp = acceptance.form(entry, {f"qty-{line_id}": "1"})
    assert resp.status_code == 303
    with inside():
        assert db.session.get(PurchaseOrder, order_id).status == "received"
        receipt = db.session.scalar(sa.select(GoodsReceipt))
        assert (receipt.status, receipt.received_by_id) == ("accepted", member("acceptance").id)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StockMove)) == 0


def db_status(inside, req_id):
    with inside():
        return db.session.get(PurchaseRequest, req_id).status


def orders_of(inside, req_id):
    with inside():
        return list(
            db.session.scalars(
                sa.select(PurchaseOrder.id).where(PurchaseOrder.request_id == req_id)
            )
        )


def location_id(inside, code="A-01"):
    with inside():
        return location(code).id
