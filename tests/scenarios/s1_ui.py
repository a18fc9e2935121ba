"""The S1 scenario's building blocks: the demo users clicking through the purchasing pages
(tests/scenarios/test_s1_purchase_to_pay.py; the steps are in s1_steps.py)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import sqlalchemy as sa
from flask import Flask

from modules.purchasing.models import (
    PaymentRequest,
    PurchaseOrder,
    PurchaseRequest,
    SupplierInvoice,
)
from suite.auth.models import Membership
from suite.db import db, utcnow
from suite.workflow.models import ProcessInstance
from tests.helpers.demo import DemoScenario, item, location, open_tasks, party


class S1UI(DemoScenario):
    """The demo workspace on one app (SQLite or PostgreSQL) and its users' clicks."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.year = utcnow().year

    def page(self, login: str, url: str) -> str:
        resp = self.client(login).get(url)
        assert resp.status_code == 200, (url, resp.status_code)
        return resp.get_data(as_text=True)

    # --- building blocks (the UI, as the demo users click it) ------------------------------------

    def raise_request(self, lines: Any, login: str = "staff", **extra: str) -> int:
        """Fill in the request form with (item, supplier, qty, price) lines, save, submit."""
        data = {"project": "", "reason": "", **extra}
        with self.inside():
            for n, (code, sup, qty, price) in enumerate(lines):
                data |= {
                    f"lines-{n}-item_id": str(item(code).id),
                    f"lines-{n}-supplier_id": str(party(sup).id),
                    f"lines-{n}-qty": qty,
                    f"lines-{n}-unit_price": price,
                }
        c = self.client(login)
        resp = c.form("/purchasing/requests/new", data)
        assert resp.status_code == 303, resp.get_data(as_text=True)[:3000]
        req_id = int(re.search(r"/purchasing/requests/(\d+)$", resp.headers["Location"]).group(1))
        resp = c.form(f"/purchasing/requests/{req_id}/submit", {"key": uuid.uuid4().hex})
        assert resp.status_code == 303
        return req_id

    def approve_all(self, req_id: int) -> list[list[str]]:
        """Each assignee approves from the document page; who was asked, step by step."""
        asked = []
        while True:
            with self.inside():
                req = db.session.get(PurchaseRequest, req_id)
                instance_id = req.instance_id
                tasks = [
                    (t.id, db.session.get(Membership, t.assignee_id).user.login)
                    for t in open_tasks(instance_id)
                ]
                version = db.session.get(ProcessInstance, instance_id).version
            if not tasks:
                return asked
            asked.append([login for _, login in tasks])
            task_id, login = tasks[0]
            page = self.page(login, f"/purchasing/requests/{req_id}")
            assert 'name="command" value="approve"' in page
            resp = self.command(login, instance_id, task_id, version, "approve", "OK")
            assert resp.headers["Location"] == f"/purchasing/requests/{req_id}"

    def command(
        self, login: str, instance_id: int, task_id: int, version: int, name: str, comment: str
    ) -> Any:
        resp = self.client(login).form(
            f"/workflow/instances/{instance_id}/commands",
            {
                "command": name,
                "key": uuid.uuid4().hex,
                "expected_version": version,
                "workflow_task_id": task_id,
                "comment": comment,
            },
        )
        assert resp.status_code == 303, resp.get_data(as_text=True)[:3000]
        return resp

    def open_task(self, instance_id: int) -> tuple[int, str, int] | None:
        """(task id, assignee login, instance version) of the open approval task, or None."""
        with self.inside():
            tasks = open_tasks(instance_id)
            if not tasks:
                return None
            login = db.session.get(Membership, tasks[0].assignee_id).user.login
            return tasks[0].id, login, db.session.get(ProcessInstance, instance_id).version

    def orders_of(self, req_id: int) -> list[int]:
        with self.inside():
            return list(
                db.session.scalars(
                    sa.select(PurchaseOrder.id)
                    .where(PurchaseOrder.request_id == req_id)
                    .order_by(PurchaseOrder.id)
                )
            )

    def status_of(self, model: type, row_id: int) -> str:
        with self.inside():
            return db.session.get(model, row_id).status

    def send_and_confirm(self, order_id: int, reference: str) -> None:
        """The buyer sends the order from its page, then records the supplier's reference."""
        buyer = self.client("buyer")
        assert "Send to supplier" in self.page("buyer", f"/purchasing/orders/{order_id}")
        assert buyer.form(f"/purchasing/orders/{order_id}/send").status_code == 303
        page = self.page("buyer", f"/purchasing/orders/{order_id}")
        assert "Record supplier confirmation" in page
        url = f"/purchasing/orders/{order_id}/confirm"
        assert buyer.form(url, {"supplier_reference": reference}).status_code == 303
        assert "Supplier confirmation recorded." in self.page(
            "buyer", f"/purchasing/orders/{order_id}"
        )

    def receive(self, order_id: int, quantities: dict[str, str], login: str = "warehouse") -> int:
        """`login` opens the receipt form and posts {item code: qty} (into A-01 for stock)."""
        url = f"/purchasing/orders/{order_id}/receipts/new"
        self.page(login, url)
        with self.inside():
            order = db.session.get(PurchaseOrder, order_id)
            data = {f"qty-{ln.id}": quantities.get(ln.item.code, "0") for ln in order.lines}
            if not order.is_asset:
                data["location_id"] = str(location("A-01").id)
        resp = self.client(login).form(url, data)
        assert resp.status_code == 303, resp.get_data(as_text=True)[:3000]
        return int(re.search(r"/purchasing/receipts/(\d+)$", resp.headers["Location"]).group(1))

    def invoice(self, order_id: int, invoice_no: str, qty: str) -> tuple[Any, int]:
        """The buyer opens the invoice form (prefilled), sets line 1's quantity and saves."""
        url = f"/purchasing/orders/{order_id}/invoices/new"
        page = self.page("buyer", url)
        data = {"invoice_no": invoice_no, "invoice_date": "2026-03-05", "key": uuid.uuid4().hex}
        with self.inside():
            lines = db.session.get(PurchaseOrder, order_id).lines
            first = lines[0].id
            for line in lines:
                for name in (f"qty_{line.id}", f"price_{line.id}"):
                    data[name] = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page).group(1)
        data[f"qty_{first}"] = qty
        return self.client("buyer").form(url, data), first

    def invoice_id(self, invoice_no: str) -> int:
        with self.inside():
            return db.session.scalar(
                sa.select(SupplierInvoice.id).where(SupplierInvoice.invoice_no == invoice_no)
            )

    def pay(self, invoice_id: int, method: str) -> int:
        """Finance approves the invoice's payment request from its inbox, then pays it."""
        with self.inside():
            payment = db.session.scalar(
                sa.select(PaymentRequest).where(PaymentRequest.invoice_id == invoice_id)
            )
            payment_id, instance_id = payment.id, payment.instance_id
        assert f"/purchasing/payments/{payment_id}" in self.page("finance", "/inbox")
        task = self.open_task(instance_id)
        assert task[1] == "finance"
        page = self.page("finance", f"/purchasing/payments/{payment_id}")
        assert 'name="command" value="approve"' in page
        self.command("finance", instance_id, task[0], task[2], "approve", "OK")
        url = f"/purchasing/payments/{payment_id}/pay"
        assert self.client("finance").form(url, {"method": method}).status_code == 303
        with self.inside():
            paid = db.session.get(PaymentRequest, payment_id)
            paid_by = db.session.get(Membership, paid.paid_by_id).user.login
            assert (paid.status, paid.method, paid_by) == ("paid", method, "finance")
        return payment_id
