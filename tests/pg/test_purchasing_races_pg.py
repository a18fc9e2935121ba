"""Purchasing on PostgreSQL: receipts posted at once (S1 itself runs in tests/pg/test_s1_pg.py).

Receipts lock the order's lines (SELECT ... FOR UPDATE) before reading what is open, so goods
received concurrently for one order line never exceed the ordered quantity, and the stock
ledger agrees with the lines afterwards (SQLite serialises writes and cannot show this).

Run with throwaway servers: `python3 scripts/with_services.py -- .venv/bin/python -m pytest
tests/pg/test_purchasing_races_pg.py`
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from decimal import Decimal

import pytest
import sqlalchemy as sa

from modules.inventory.models import StockBalance, StockMove
from modules.purchasing.models import GoodsReceipt, PurchaseOrder
from modules.purchasing.services import orders as order_services
from modules.purchasing.services import receipts as receipt_services
from modules.purchasing.services import requests as request_services
from suite.db import db
from suite.demo import seed_demo
from suite.errors import DomainError
from suite.tenancy import use_workspace
from suite.workflow import engine
from suite.workflow.models import WorkflowTask
from tests.modules.purchasing.conftest import BOX, item, location, member, party

pytestmark = pytest.mark.pg


@pytest.fixture
def pg_demo(pg_app):
    with pg_app.app_context():
        ws, _created = seed_demo()
        ws_id = ws.id
        db.session.remove()
    return ws_id


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
