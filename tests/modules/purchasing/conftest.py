"""Shared fixtures for the purchasing tests (requests, orders, receipts; invoices and payments too).

The demo workspace (users staff, dept_head, finance, gm, buyer, warehouse, acceptance, ...;
suppliers SUP-001..003; warehouse WH1 with A-01 / B-01; items BOX-4030, FERT-25, LAPTOP-14) and
a `world` that makes documents the way the module does: requests through `save_request` and
`submit_request`, approvals through the workflow engine by the assigned demo users, orders
from the approval, receipts through `post_receipt`. No state is set by hand.

    def test_x(world, inside, as_user):
        order_id = world.order()                      # S1's box order, sent and confirmed
        world.receive(order_id, {"BOX-4030": "480"})  # by the warehouse keeper into A-01
        with inside():
            ...                                       # read rows in the demo workspace
        page = as_user("buyer").get(f"/purchasing/orders/{order_id}")
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from modules.purchasing.models import PurchaseOrder, PurchaseRequest
from modules.purchasing.services import orders as order_services
from modules.purchasing.services import receipts as receipt_services
from modules.purchasing.services import requests as request_services
from suite.auth.models import Membership
from suite.db import db
from suite.workflow import engine
from suite.workflow.models import ProcessInstance
from tests.helpers.demo import (
    as_user,
    demo,
    in_workspace,
    item,
    location,
    member,
    open_tasks,
    party,
)

__all__ = ["as_user", "demo", "item", "location", "member", "open_tasks", "party"]

BOX, FERT, LAPTOP = "BOX-4030", "FERT-25", "LAPTOP-14"
# S1.1: 500 boxes x 2.40 from the packaging supplier, 20 bags x 180.00 from the fertilizer one.
S1_LINES = ((BOX, "SUP-001", "500", "2.40"), (FERT, "SUP-002", "20", "180.00"))
_keys = itertools.count(1)


@pytest.fixture
def inside(app, demo) -> Callable[[], Any]:
    """`with inside(): ...` reads and arranges rows in the demo workspace (app context)."""
    return lambda: in_workspace(app, demo.id)


# --- lookups inside the demo workspace (call them within `inside()`) -----------------------------


def approvers(instance_id: int) -> list[str]:
    """Logins of the open approval tasks of an instance."""
    return [db.session.get(Membership, t.assignee_id).user.login for t in open_tasks(instance_id)]


class World:
    """Documents made through the services, each call in its own committed transaction."""

    def __init__(self, inside: Callable[[], Any]) -> None:
        self.inside = inside

    def request(
        self,
        login: str = "staff",
        lines: Sequence[tuple[str, str | None, str, str]] = S1_LINES,
        *,
        is_asset: bool = False,
        submit: bool = True,
        project: str = "",
    ) -> int:
        """A purchase request of (item code, supplier code, qty, price) lines; its id."""
        with self.inside():
            req = request_services.save_request(
                None,
                member(login),
                lines=[
                    request_services.LineInput(
                        item(code).id,
                        party(sup).id if sup else None,
                        Decimal(qty),
                        Decimal(price),
                    )
                    for code, sup, qty, price in lines
                ],
                is_asset=is_asset,
                project=project,
            )
            if submit:
                request_services.submit_request(req, member(login), key=f"t-{next(_keys)}")
            db.session.commit()
            return req.id

    def route(self, request_id: int) -> list[list[str]]:
        """Approve every open task with its assignee until the process ends; who was asked."""
        asked = []
        with self.inside():
            instance_id = db.session.get(PurchaseRequest, request_id).instance_id
            while True:
                tasks = open_tasks(instance_id)
                if not tasks:
                    break
                asked.append(approvers(instance_id))
                for task in tasks:
                    engine.command(
                        instance_id,
                        "approve",
                        task.assignee_id,
                        task_id=task.id,
                        key=f"t-{next(_keys)}",
                    )
                db.session.commit()
            assert db.session.get(ProcessInstance, instance_id).status == "approved"
        return asked

    def approved(self, *args: Any, **kwargs: Any) -> int:
        request_id = self.request(*args, **kwargs)
        self.route(request_id)
        return request_id

    def orders(self, request_id: int) -> list[int]:
        with self.inside():
            return list(
                db.session.scalars(
                    sa.select(PurchaseOrder.id)
                    .where(PurchaseOrder.request_id == request_id)
                    .order_by(PurchaseOrder.id)
                )
            )

    def confirm(self, order_id: int, reference: str = "SO-88", send: bool = True) -> None:
        with self.inside():
            order = db.session.get(PurchaseOrder, order_id)
            if send:
                order_services.send_order(order, member("buyer"))
            order_services.confirm_order(order, member("buyer"), reference)
            db.session.commit()

    def order(
        self,
        lines: Sequence[tuple[str, str | None, str, str]] = S1_LINES[:1],
        *,
        is_asset: bool = False,
        confirmed: bool = True,
        asset_number: str = "FA-2026-001",
    ) -> int:
        """The first order of an approved request (S1's box line by default), confirmed."""
        request_id = self.approved(lines=lines, is_asset=is_asset)
        if is_asset:
            with self.inside():
                req = db.session.get(PurchaseRequest, request_id)
                request_services.set_asset_number(req, member("finance"), asset_number)
                db.session.commit()
        order_id = self.orders(request_id)[0]
        if confirmed:
            self.confirm(order_id)
        return order_id

    def receive(
        self,
        order_id: int,
        quantities: dict[str, str],
        login: str = "warehouse",
        location_code: str | None = "A-01",
    ) -> int:
        """Receive `{item code: qty}` on the order; the receipt's id."""
        with self.inside():
            order = db.session.get(PurchaseOrder, order_id)
            by_code = {line.item.code: line.id for line in order.lines}
            receipt = receipt_services.post_receipt(
                order,
                member(login),
                location_id=location(location_code).id if location_code else None,
                quantities={by_code[c]: Decimal(q) for c, q in quantities.items()},
            )
            db.session.commit()
            return receipt.id


@pytest.fixture
def world(inside) -> World:
    return World(inside)
