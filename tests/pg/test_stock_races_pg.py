"""Stock under concurrency on PostgreSQL (SQLite drops FOR UPDATE: races need a real server).

Threads, each with its own app context and session (so its own connection), start together at a
barrier and run 100 stock operations on one item: material issues, receipts and transfers in
both directions between two locations. What must hold afterwards:
- no balance ever went below zero: replaying each location's moves in id order (ids are taken
  while the balance row is locked, so id order is the order the moves were applied) gives the
  `balance_qty` recorded on every move, and it is never negative;
- refused issues wrote nothing, and every success wrote its moves;
- the ledger's sums equal the balances, quantity and value, per location;
- no deadlock between transfers A->B and B->A (locks are taken in one global order).
Also: twenty issues racing below the reorder point notify the buyer once; and the S7 scenario
(tests/scenarios/test_s7_stock.py) passes on PostgreSQL.

Run with throwaway servers:
`python3 scripts/with_services.py -- .venv/bin/python -m pytest tests/pg/test_stock_races_pg.py`
"""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_babel import force_locale

from modules.inventory.models import LowStockAlert, MaterialIssue, StockBalance, StockMove
from modules.inventory.services import issues, transfers
from modules.inventory.services.lines import LineInput
from suite.db import db
from suite.demo import seed_demo
from suite.errors import DomainError
from suite.notify.models import OutboxMessage
from suite.tenancy import use_workspace
from tests.modules.inventory.stock_fixtures import item, location, member, receive
from tests.scenarios.test_s7_stock import S7, _until

pytestmark = pytest.mark.pg

THREADS = 12
OPERATIONS = 100


def _run_all(app: Flask, ws_id: int, jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run the jobs on THREADS threads, all released together; each job in its own context."""
    barrier = threading.Barrier(min(THREADS, len(jobs)), timeout=60)
    started = threading.local()

    def run(job: Callable[[], Any]) -> Any:
        if not getattr(started, "yes", False):
            started.yes = True
            barrier.wait()
        with app.app_context(), use_workspace(ws_id), force_locale("en"):
            try:
                return job()
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(run, jobs))


def _issue(code: str, loc: str, qty: int) -> Callable[[], str]:
    def job() -> str:
        mi = issues.create(
            member("staff"), location(loc).id, "race", [LineInput(item(code).id, Decimal(qty))]
        )
        db.session.commit()
        try:
            issues.issue(mi, member("warehouse"))
        except DomainError:
            db.session.rollback()
            return "issue refused"
        db.session.commit()
        return "issued"

    return job


def _receipt(code: str, loc: str, qty: int, cost: str) -> Callable[[], str]:
    def job() -> str:
        receive(code, loc, str(qty), cost)
        return "received"

    return job


def _transfer(code: str, src: str, dst: str, qty: int) -> Callable[[], str]:
    def job() -> str:
        try:
            transfers.create(
                member("warehouse"),
                location(src).id,
                location(dst).id,
                "race",
                [LineInput(item(code).id, Decimal(qty))],
            )
        except DomainError:
            db.session.rollback()
            return "transfer refused"
        db.session.commit()
        return "transferred"

    return job


@pytest.fixture
def demo_pg(pg_app: Flask) -> int:
    """The demo workspace (the year's MI and TR counters are created by the racing documents
    themselves: tests/pg/test_documents_pg.py covers that race)."""
    with pg_app.app_context():
        ws, _ = seed_demo()
        ws_id = ws.id
        db.session.remove()
    return ws_id


def test_100_concurrent_issues_receipts_and_transfers_never_go_negative(pg_app, demo_pg):
    with pg_app.app_context(), use_workspace(demo_pg), force_locale("en"):
        receive("BOX-4030", "A-01", "60", "2.40")
        receive("BOX-4030", "B-01", "30", "2.50")
        db.session.remove()
    rng = random.Random(7)
    jobs: list[Callable[[], str]] = []
    for n in range(OPERATIONS):
        kind = n % 10
        loc = "A-01" if rng.random() < 0.5 else "B-01"
        if kind < 5:
            jobs.append(_issue("BOX-4030", loc, rng.randint(5, 25)))
        elif kind < 8:
            jobs.append(_receipt("BOX-4030", loc, rng.randint(5, 20), rng.choice(["2.40", "2.61"])))
        else:
            other = "B-01" if loc == "A-01" else "A-01"
            jobs.append(_transfer("BOX-4030", loc, other, rng.randint(5, 30)))
    outcomes = Counter(_run_all(pg_app, demo_pg, jobs))
    print(f"\n[stock races] {dict(outcomes)}")  # noqa: T201 - the mix that actually happened
    assert sum(outcomes.values()) == OPERATIONS
    assert outcomes["issue refused"] > 0 and outcomes["issued"] > 0  # the race was real
    with pg_app.app_context(), use_workspace(demo_pg):
        moves = db.session.scalars(sa.select(StockMove).order_by(StockMove.id)).all()
        running: dict[int, Decimal] = defaultdict(Decimal)
        for m in moves:
            running[m.location_id] += m.qty
            assert running[m.location_id] == m.balance_qty >= 0, m.id
        kinds = Counter(m.kind for m in moves)
        assert kinds["issue"] == outcomes["issued"]
        assert kinds["receipt"] == 2 + outcomes["received"]
        assert kinds["transfer"] == 2 * outcomes["transferred"]
        issued = db.session.scalar(
            sa.select(sa.func.count(MaterialIssue.id)).where(MaterialIssue.status == "issued")
        )
        assert issued == outcomes["issued"]
        value: dict[int, Decimal] = defaultdict(Decimal)
        for m in moves:
            value[m.location_id] += m.value
        balances = db.session.scalars(sa.select(StockBalance)).all()
        assert {b.location_id: (b.qty, b.value) for b in balances} == {
            loc: (running[loc], value[loc]) for loc in running
        }
        assert all(b.qty >= 0 and b.value >= 0 for b in balances)
        db.session.remove()


def test_racing_issues_below_the_reorder_point_tell_the_buyer_once(pg_app, demo_pg):
    with pg_app.app_context(), use_workspace(demo_pg):
        receive("BOX-4030", "A-01", "300", "2.40")
        receive("BOX-4030", "B-01", "300", "2.40")  # 600, reorder point 500
        db.session.remove()
    jobs = [_issue("BOX-4030", "A-01" if n % 2 else "B-01", 10) for n in range(20)]
    assert Counter(_run_all(pg_app, demo_pg, jobs)) == {"issued": 20}
    with pg_app.app_context(), use_workspace(demo_pg):
        told = db.session.scalars(
            sa.select(OutboxMessage).where(
                OutboxMessage.event == "inventory.low_stock", OutboxMessage.channel == "in_app"
            )
        ).all()
        assert [m.recipient_id for m in told] == [member("buyer").id]
        assert db.session.scalar(sa.select(sa.func.count(LowStockAlert.id))) == 1
        db.session.remove()


def test_the_s7_scenario_on_postgresql(pg_app):
    _until(S7(pg_app), "all")
