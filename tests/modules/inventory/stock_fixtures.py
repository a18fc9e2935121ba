"""Fixtures for the stock tests (S7) on the demo workspace: people by login, items and locations
by code, receipts straight into the ledger, clients logged in as a demo user.

Import the fixtures a test module uses from here (this directory's conftest belongs to the
master data tests).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from modules.inventory.models import StockBalance, StockMove
from modules.inventory.stock import Document, Move, post
from suite.db import db
from suite.tenancy import Workspace
from tests.helpers.demo import as_user, demo, in_workspace, item, location, member

__all__ = ["as_user", "demo", "inside", "item", "location", "member"]
_docs = itertools.count(1)


@pytest.fixture
def inside(app: Flask, demo: Workspace) -> Callable[[], Any]:
    """`with inside(): ...` reads and arranges rows in the demo workspace, in English."""
    return lambda: in_workspace(app, demo.id, "en")


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
