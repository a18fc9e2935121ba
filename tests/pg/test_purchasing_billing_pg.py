"""Supplier invoices and payment requests on PostgreSQL: the row locks that keep concurrent
invoices and payments honest (SQLite serialises writes and cannot show this; S1's steps 5-6 run
in tests/pg/test_s1_pg.py).

- two invoices for the same 480 received boxes at once: one matches, the other is blocked with
  the reason, the order line is invoiced 480, one payment request;
- the same supplier invoice number entered twice at once: one is kept, the other refused;
- two finance clicks on "paid" at once: paid once.

Run with throwaway servers: `python3 scripts/with_services.py -- .venv/bin/python -m pytest
tests/pg/test_purchasing_billing_pg.py`
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from modules.purchasing.models import PaymentRequest, PurchaseOrder, SupplierInvoice
from modules.purchasing.services import invoices as invoice_services
from modules.purchasing.services import orders as order_services
from modules.purchasing.services import payments as payment_services
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
def pg_demo(pg_app) -> int:
    with pg_app.app_context():
        ws, _created = seed_demo()
        ws_id = ws.id
        db.session.remove()
    return ws_id


@pytest.fixture
def within(pg_app, pg_demo) -> Callable[[Callable[[], Any]], Any]:
    """`within(fn)`: run `fn` in its own app context (session) in the demo workspace, with
    messages in English."""

    def run(fn: Callable[[], Any]) -> Any:
        with pg_app.app_context(), use_workspace(pg_demo), force_locale("en"):
            try:
                return fn()
            finally:
                db.session.remove()

    return run


def open_task(instance_id: int) -> WorkflowTask | None:
    return db.session.scalar(
        sa.select(WorkflowTask).where(
            WorkflowTask.instance_id == instance_id,
            WorkflowTask.status == "open",
            WorkflowTask.kind == "approval",
        )
    )


def box_order(received: str = "480") -> int:
    """S1's box order (500 x 2.40 from SUP-001) approved by the dept head, confirmed, received."""
    req = request_services.save_request(
        None,
        member("staff"),
        lines=[
            request_services.LineInput(
                item(BOX).id, party("SUP-001").id, Decimal(500), Decimal("2.40")
            )
        ],
    )
    request_services.submit_request(req, member("staff"), key=uuid.uuid4().hex)
    while (task := open_task(req.instance_id)) is not None:
        engine.command(
            req.instance_id, "approve", task.assignee_id, task_id=task.id, key=uuid.uuid4().hex
        )
    (order,) = request_services.orders_of(req)
    order_services.confirm_order(order, member("buyer"), "HS-1")
    receipt_services.post_receipt(
        order,
        member("warehouse"),
        location_id=location("A-01").id,
        quantities={order.lines[0].id: Decimal(received)},
    )
    db.session.commit()
    return order.id


def at_once(*jobs: Callable[[], Any]) -> list[Any]:
    """Run the jobs in threads released together; each result or the exception it raised."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(n: int, job: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[n] = job()
        except Exception as exc:  # the refusals are what we compare
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n, job)) for n, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def enter(order_id: int, invoice_no: str, qty: str) -> Any:
    def job() -> Any:
        order = db.session.get(PurchaseOrder, order_id)
        result = invoice_services.enter_invoice(
            order,
            member("buyer"),
            invoice_no=invoice_no,
            invoice_date=None,
            lines=[
                invoice_services.InvoiceLineInput(order.lines[0].id, Decimal(qty), Decimal("2.40"))
            ],
        )
        db.session.commit()
        return result.invoice.status, dict(result.problems)

    return job


def test_two_invoices_for_the_same_received_goods_at_once_bill_them_once(within):
    order_id = within(box_order)
    results = at_once(
        lambda: within(enter(order_id, "HS-A", "480")),
        lambda: within(enter(order_id, "HS-B", "480")),
    )
    statuses = sorted(r[0] for r in results)
    assert statuses == ["blocked", "matched"], results
    problem = next(r[1] for r in results if r[0] == "blocked")
    assert list(problem.values()) == [
        "Line 1 Packaging box 40x30: invoiced 480 + 480 before, received 480"
    ]

    def check() -> tuple:
        line = db.session.get(PurchaseOrder, order_id).lines[0]
        payments = db.session.scalars(sa.select(PaymentRequest.amount)).all()
        return line.invoiced_qty, payments

    assert within(check) == (Decimal("480.000"), [Decimal("1152.00")])


def test_the_same_supplier_invoice_number_at_once_is_kept_once(within):
    order_id = within(box_order)
    results = at_once(
        lambda: within(enter(order_id, "HS-SAME", "100")),
        lambda: within(enter(order_id, "HS-SAME", "100")),
    )
    kept = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(kept) == 1 and len(refused) == 1, results
    assert kept[0][0] == "matched"
    assert refused[0].field == "invoice_no"
    assert "HS-SAME" in refused[0].message

    def check() -> tuple:
        line = db.session.get(PurchaseOrder, order_id).lines[0]
        return (
            db.session.scalar(sa.select(sa.func.count(SupplierInvoice.id))),
            db.session.scalar(sa.select(sa.func.count(PaymentRequest.id))),
            line.invoiced_qty,
        )

    assert within(check) == (1, 1, Decimal("100.000"))


def test_two_finance_clicks_on_paid_at_once_pay_once(within):
    order_id = within(box_order)
    within(enter(order_id, "HS-1", "480"))

    def approve() -> int:
        pay = db.session.scalar(sa.select(PaymentRequest))
        task = open_task(pay.instance_id)
        engine.command(
            pay.instance_id, "approve", task.assignee_id, task_id=task.id, key=uuid.uuid4().hex
        )
        db.session.commit()
        return pay.id

    payment_id = within(approve)

    def pay(method: str) -> Callable[[], Any]:
        def job() -> str:
            payment = db.session.get(PaymentRequest, payment_id)
            payment_services.pay(payment, member("finance"), method)
            db.session.commit()
            return method

        return job

    results = at_once(lambda: within(pay("cash")), lambda: within(pay("bank")))
    done = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(done) == 1 and len(refused) == 1, results
    assert refused[0].message == "This payment request has been paid already."
    assert within(lambda: db.session.get(PaymentRequest, payment_id).method) == done[0]
