"""Purchasing on PostgreSQL: S1 steps 1-4 through the web UI, and receipts posted at once.

Receipts lock the order's lines (SELECT ... FOR UPDATE) before reading what is open, so goods
received concurrently for one order line never exceed the ordered quantity, and the stock
ledger agrees with the lines afterwards (SQLite serialises writes and cannot show this).

Run with throwaway servers: `python3 scripts/with_services.py -- .venv/bin/python -m pytest
tests/pg/test_purchasing_races_pg.py`
"""

from __future__ import annotations

import re
import threading
import uuid
from collections import Counter
from decimal import Decimal

import pytest
import sqlalchemy as sa

from modules.inventory.models import StockBalance, StockMove
from modules.inventory.stock import average_cost
from modules.purchasing.models import GoodsReceipt, PurchaseOrder, PurchaseRequest
from modules.purchasing.services import orders as order_services
from modules.purchasing.services import receipts as receipt_services
from modules.purchasing.services import requests as request_services
from suite.auth.models import Membership
from suite.db import db
from suite.demo import DEMO_PASSWORD, seed_demo
from suite.errors import DomainError
from suite.tenancy import use_workspace
from suite.workflow import engine
from suite.workflow.models import ProcessInstance, WorkflowTask
from tests.conftest import Client
from tests.modules.purchasing.conftest import BOX, FERT, item, location, member, party

pytestmark = pytest.mark.pg


@pytest.fixture
def pg_demo(pg_app):
    with pg_app.app_context():
        ws, _created = seed_demo()
        ws_id = ws.id
        db.session.remove()
    return ws_id


def login(app, name):
    app.test_client_class = Client
    client = app.test_client()
    resp = client.form("/login", {"login": name, "password": DEMO_PASSWORD})
    assert resp.status_code == 303
    assert client.form("/language", {"locale": "en"}).status_code == 303
    return client


def open_task(app, ws_id, instance_id):
    """(task id, assignee login, instance version) of the open approval, or None."""
    with app.app_context(), use_workspace(ws_id):
        task = db.session.scalar(
            sa.select(WorkflowTask).where(
                WorkflowTask.instance_id == instance_id,
                WorkflowTask.status == "open",
                WorkflowTask.kind == "approval",
            )
        )
        if task is None:
            return None
        login_name = db.session.get(Membership, task.assignee_id).user.login
        return task.id, login_name, db.session.get(ProcessInstance, instance_id).version


def test_s1_steps_1_to_4_on_postgresql(pg_app, pg_demo):
    staff, buyer, wh = (login(pg_app, n) for n in ("staff", "buyer", "warehouse"))
    with pg_app.app_context(), use_workspace(pg_demo):
        data = {"project": "", "reason": ""}
        for n, (code, sup, qty, price) in enumerate(
            ((BOX, "SUP-001", "500", "2.40"), (FERT, "SUP-002", "20", "180.00"))
        ):
            data |= {
                f"lines-{n}-item_id": str(item(code).id),
                f"lines-{n}-supplier_id": str(party(sup).id),
                f"lines-{n}-qty": qty,
                f"lines-{n}-unit_price": price,
            }
        a01 = location("A-01").id
    resp = staff.form("/purchasing/requests/new", data)
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    req_id = int(re.search(r"/purchasing/requests/(\d+)$", resp.headers["Location"]).group(1))
    assert (
        staff.form(f"/purchasing/requests/{req_id}/submit", {"key": uuid.uuid4().hex}).status_code
        == 303
    )
    with pg_app.app_context(), use_workspace(pg_demo):
        req = db.session.get(PurchaseRequest, req_id)
        assert (req.amount_total, req.status) == (Decimal("4800.00"), "submitted")
        instance_id = req.instance_id
    asked = []
    while (task := open_task(pg_app, pg_demo, instance_id)) is not None:
        task_id, who, version = task
        asked.append(who)
        resp = login(pg_app, who).form(
            f"/workflow/instances/{instance_id}/commands",
            {
                "command": "approve",
                "key": uuid.uuid4().hex,
                "expected_version": version,
                "workflow_task_id": task_id,
            },
        )
        assert resp.status_code == 303
    assert asked == ["dept_head"]
    with pg_app.app_context(), use_workspace(pg_demo):
        orders = db.session.scalars(
            sa.select(PurchaseOrder)
            .where(PurchaseOrder.request_id == req_id)
            .order_by(PurchaseOrder.id)
        ).all()
        assert [(o.supplier.code, o.amount_total, o.status) for o in orders] == [
            ("SUP-001", Decimal("1200.00"), "draft"),
            ("SUP-002", Decimal("3600.00"), "draft"),
        ]
        assert all(re.fullmatch(r"PO-\d{4}-\d{4}", o.number) for o in orders)
        order_id, line_id = orders[0].id, orders[0].lines[0].id
    assert buyer.form(f"/purchasing/orders/{order_id}/send").status_code == 303
    assert (
        buyer.form(
            f"/purchasing/orders/{order_id}/confirm", {"supplier_reference": "HS-1"}
        ).status_code
        == 303
    )
    resp = wh.form(
        f"/purchasing/orders/{order_id}/receipts/new",
        {f"qty-{line_id}": "480", "location_id": str(a01)},
    )
    assert resp.status_code == 303
    with pg_app.app_context(), use_workspace(pg_demo):
        bal = db.session.scalar(sa.select(StockBalance).where(StockBalance.item_id == item(BOX).id))
        assert (bal.qty, bal.value, average_cost(bal)) == (
            Decimal("480.000"),
            Decimal("1152.00"),
            Decimal("2.4000"),
        )
        assert db.session.get(PurchaseOrder, order_id).status == "partially_received"
    page = buyer.get(f"/purchasing/orders/{order_id}").get_data(as_text=True)
    assert f'id="purchase-order-line-{line_id}-open">20<' in page


def confirmed_box_order(app, ws_id, qty="500"):
    """An approved request's box order, confirmed (services and the engine, no shortcuts)."""
    with app.app_context(), use_workspace(ws_id):
        req = request_services.save_request(
            None,
            member("staff"),
            lines=[
                request_services.LineInput(
                    item(BOX).id, party("SUP-001").id, Decimal(qty), Decimal("2.40")
                )
            ],
        )
        request_services.submit_request(req, member("staff"), key=uuid.uuid4().hex)
        db.session.commit()
        task = db.session.scalar(
            sa.select(WorkflowTask).where(
                WorkflowTask.instance_id == req.instance_id, WorkflowTask.status == "open"
            )
        )
        engine.command(req.instance_id, "approve", task.assignee_id, task_id=task.id)
        db.session.commit()
        order = db.session.scalar(
            sa.select(PurchaseOrder).where(PurchaseOrder.request_id == req.id)
        )
        order_services.confirm_order(order, member("buyer"), "X")
        db.session.commit()
        return order.id, order.lines[0].id


def race(app, ws_id, order_id, line_id, qty, parties):
    """`parties` threads post a receipt of `qty` for the same line at the same moment."""
    barrier = threading.Barrier(parties, timeout=30)
    outcomes: list[str] = []

    def one() -> None:
        with app.app_context(), use_workspace(ws_id):
            order = db.session.get(PurchaseOrder, order_id)
            keeper = member("warehouse")
            a01 = location("A-01").id
            barrier.wait()
            try:
                receipt_services.post_receipt(
                    order, keeper, location_id=a01, quantities={line_id: Decimal(qty)}
                )
                db.session.commit()
                outcomes.append("posted")
            except DomainError:
                db.session.rollback()
                outcomes.append("refused")
            except Exception as exc:  # a deadlock or lock timeout would be a failure
                db.session.rollback()
                outcomes.append(f"error: {exc!r}"[:200])
            finally:
                db.session.remove()

    threads = [threading.Thread(target=one) for _ in range(parties)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return Counter(outcomes)


def ledger(app, ws_id, order_id):
    """(line received qty, on hand, sum of receipt moves, receipts) after a race."""
    with app.app_context(), use_workspace(ws_id):
        line = db.session.get(PurchaseOrder, order_id).lines[0]
        bal = db.session.scalar(sa.select(StockBalance).where(StockBalance.item_id == item(BOX).id))
        moves = sum(
            db.session.scalars(sa.select(StockMove.qty).where(StockMove.kind == "receipt")),
            Decimal(0),
        )
        receipts = db.session.scalar(sa.select(sa.func.count()).select_from(GoodsReceipt))
        return line.received_qty, bal.qty if bal else Decimal(0), moves, receipts


@pytest.mark.parametrize(
    ("parties", "qty", "posted"), [(4, "300", 1), (8, "100", 5), (2, "500", 1)]
)
def test_receipts_at_once_never_over_receive(pg_app, pg_demo, parties, qty, posted):
    order_id, line_id = confirmed_box_order(pg_app, pg_demo)
    outcomes = race(pg_app, pg_demo, order_id, line_id, qty, parties)
    assert outcomes == Counter({"posted": posted, "refused": parties - posted}), outcomes
    received = Decimal(qty) * posted
    assert ledger(pg_app, pg_demo, order_id) == (received, received, received, posted)
    with pg_app.app_context(), use_workspace(pg_demo):
        numbers = db.session.scalars(sa.select(GoodsReceipt.number)).all()
        assert len(set(numbers)) == posted
        expected = "received" if received == 500 else "partially_received"
        assert db.session.get(PurchaseOrder, order_id).status == expected


def test_two_orders_received_at_once_both_post(pg_app, pg_demo):
    """Different orders do not wait for each other's lines; both land in the ledger."""
    first = confirmed_box_order(pg_app, pg_demo, "100")
    second = confirmed_box_order(pg_app, pg_demo, "200")
    with pg_app.app_context(), use_workspace(pg_demo):  # the year's GRN counter exists already
        receipt_services.post_receipt(
            db.session.get(PurchaseOrder, first[0]),
            member("warehouse"),
            location_id=location("A-01").id,
            quantities={first[1]: Decimal(1)},
        )
        db.session.commit()
    barrier = threading.Barrier(2, timeout=30)
    results: list[str] = []

    def one(order_id: int, line_id: int, qty: str) -> None:
        with pg_app.app_context(), use_workspace(pg_demo):
            order = db.session.get(PurchaseOrder, order_id)
            keeper, a01 = member("warehouse"), location("A-01").id
            barrier.wait()
            try:
                receipt_services.post_receipt(
                    order, keeper, location_id=a01, quantities={line_id: Decimal(qty)}
                )
                db.session.commit()
                results.append("posted")
            except Exception as exc:
                db.session.rollback()
                results.append(repr(exc)[:200])
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=one, args=(*first, "99")),
        threading.Thread(target=one, args=(*second, "200")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == ["posted", "posted"]
    with pg_app.app_context(), use_workspace(pg_demo):
        bal = db.session.scalar(sa.select(StockBalance).where(StockBalance.item_id == item(BOX).id))
        assert bal.qty == Decimal("300.000")
        assert [db.session.get(PurchaseOrder, o).status for o in (first[0], second[0])] == [
            "received",
            "received",
        ]
