"""Fixtures for the stock tests (S7) on the demo workspace: people by login, items and locations
by code, receipts straight into the ledger, clients logged in as a demo user.

Import the fixtures a test module uses from here (this directory's conftest belongs to the
master data tests).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_babel import force_locale

from modules.inventory.models import Item, Location, StockBalance, StockMove
from modules.inventory.stock import Document, Move, post
from suite.auth.models import Membership, User
from suite.db import db
from suite.demo import DEMO_PASSWORD, seed_demo
from suite.tenancy import Workspace, use_workspace

_docs = itertools.count(1)


@pytest.fixture
def demo(app: Flask) -> Workspace:
    with app.app_context():
        ws, _ = seed_demo()
        db.session.refresh(ws)
        db.session.expunge(ws)
        db.session.remove()
    return ws


@pytest.fixture
def inside(app: Flask, demo: Workspace) -> Callable[[], Any]:
    """`with inside(): ...` reads and arranges rows in the demo workspace."""

    @contextlib.contextmanager
    def enter() -> Iterator[None]:
        with app.app_context(), use_workspace(demo.id), force_locale("en"):
            try:
                yield
            finally:
                db.session.remove()

    return enter


@pytest.fixture
def as_user(new_client: Callable[[], Any], login_as: Callable[..., Any], demo: Workspace) -> Any:
    """`as_user("warehouse")`: a client logged in as a demo user (one per login), in English."""
    made: dict[str, Any] = {}

    def make(login: str) -> Any:
        if login not in made:
            c = new_client()
            login_as(c, login, DEMO_PASSWORD)
            assert c.form("/language", {"locale": "en"}).status_code == 303
            made[login] = c
        return made[login]

    return make


def member(login: str) -> Membership:
    return db.session.scalar(sa.select(Membership).join(User).where(User.login == login))


def item(code: str) -> Item:
    return db.session.scalar(sa.select(Item).where(Item.code == code))


def location(code: str) -> Location:
    return db.session.scalar(sa.select(Location).where(Location.code == code))


def receive(code: str, loc: str, qty: str, cost: str, actor: str = "warehouse") -> None:
    """A receipt straight into the ledger (the purchasing module's receipts do this too)."""
    n = next(_docs)
    post(
        [Move(item(code).id, location(loc).id, Decimal(qty), "receipt", unit_cost=Decimal(cost))],
        Document("test.receipt", n, f"GRN-TEST-{n:04d}"),
        member(actor).id,
    )
    db.session.commit()


def balance(code: str, loc: str) -> tuple[Decimal, Decimal]:
    """(qty, value) at a location; (0, 0) when there has never been stock there."""
    row = db.session.scalar(
        sa.select(StockBalance).where(
            StockBalance.item_id == item(code).id, StockBalance.location_id == location(loc).id
        )
    )
    return (row.qty, row.value) if row else (Decimal(0), Decimal(0))


def move_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(StockMove.id)))


def ids(*pairs: str) -> dict[str, int]:
    """`ids("item:BOX-4030", "loc:A-01")` -> {"BOX-4030": id, "A-01": id}."""
    out = {}
    for pair in pairs:
        kind, code = pair.split(":", 1)
        out[code] = (item(code) if kind == "item" else location(code)).id
    return out
