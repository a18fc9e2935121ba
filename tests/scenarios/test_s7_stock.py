"""S7 Stock (库存), through the web UI, with exact numbers.

The steps build on each other: a receipt of 480 boxes at 2.40 (the purchasing side posts it the
same way), a material issue of 100 (380 left), an issue of 500 refused naming the 380 on hand,
a stocktake counting 375 (variance -5, posted only after finance approves), the reconciliation
(opening + in - out = closing, equal to the ledger and the balances), low stock below the reorder
point of 500 (red on the dashboard, the buyer told once, one click to a draft purchase request).

`S7` holds the steps; tests/pg/test_stock_races_pg.py runs the same steps on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask

from modules.inventory.models import MaterialIssue, StockBalance, StockMove, Stocktake
from modules.purchasing.models import PurchaseRequest
from suite.db import db, utcnow
from suite.notify.models import OutboxMessage
from suite.workflow.models import ProcessInstance, WorkflowTask
from tests.helpers.demo import DemoScenario
from tests.modules.inventory.stock_fixtures import balance, item, location, member, receive


class S7(DemoScenario):
    """The scenario's steps on one app (SQLite or PostgreSQL); each returns what the next needs."""

    # --- steps ------------------------------------------------------------------------------------

    def receipt(self) -> None:
        """480 boxes at 2.40 arrive at A-01 (a goods receipt posts this move)."""
        with self.inside():
            receive("BOX-4030", "A-01", "480", "2.40")
            assert balance("BOX-4030", "A-01") == (Decimal("480"), Decimal("1152.00"))
        html = self.client("warehouse").get("/inventory/stock").get_data(as_text=True)
        assert "Packaging box 40x30" in html and "480" in html and "1,152.00" in html

    def request_issue(self, qty: str) -> int:
        """staff (Production) requests `qty` boxes from A-01 through the form."""
        with self.inside():
            box, a01 = item("BOX-4030").id, location("A-01").id
        c = self.client("staff")
        resp = c.form(
            "/inventory/issues/new",
            {
                "location_id": a01,
                "purpose": "Packing line 2",
                "lines-0-item_id": box,
                "lines-0-qty": qty,
            },
        )
        assert resp.status_code == 303, resp.get_data(as_text=True)[:3000]
        issue_id = int(resp.headers["Location"].rsplit("/", 1)[1])
        with self.inside():
            mi = db.session.get(MaterialIssue, issue_id)
            assert mi.number.startswith(f"MI-{utcnow().year}-")
            assert mi.status == "requested"
            assert mi.department.name.startswith("Production")
        return issue_id

    def issue(self, issue_id: int) -> Any:
        return self.client("warehouse").form(f"/inventory/issues/{issue_id}/issue", {})

    def issue_100(self) -> None:
        issue_id = self.request_issue("100")
        resp = self.issue(issue_id)
        assert resp.status_code == 303
        with self.inside():
            assert balance("BOX-4030", "A-01") == (Decimal("380"), Decimal("912.00"))
            mv = db.session.scalar(sa.select(StockMove).where(StockMove.kind == "issue"))
            assert (mv.qty, mv.value, mv.unit_cost) == (
                Decimal("-100"),
                Decimal("-240.00"),
                Decimal("2.4000"),
            )
            assert mv.document_number == db.session.get(MaterialIssue, issue_id).number
            assert db.session.get(MaterialIssue, issue_id).status == "issued"

    def issue_500_refused(self) -> None:
        issue_id = self.request_issue("500")
        with self.inside():
            moves = db.session.scalar(sa.select(sa.func.count(StockMove.id)))
            line_id = db.session.get(MaterialIssue, issue_id).lines[0].id
        resp = self.issue(issue_id)
        assert resp.status_code == 422
        html = resp.get_data(as_text=True)
        err = re.search(rf'<p class="error" id="err-qty-{line_id}">([^<]*)</p>', html)
        assert err, html[:3000]
        assert "380 on hand" in err.group(1) and "500 asked for" in err.group(1)
        with self.inside():
            assert db.session.scalar(sa.select(sa.func.count(StockMove.id))) == moves
            assert db.session.get(MaterialIssue, issue_id).status == "requested"
            assert db.session.get(MaterialIssue, issue_id).lines[0].issued_qty is None
            assert balance("BOX-4030", "A-01") == (Decimal("380"), Decimal("912.00"))

    def stocktake(self) -> int:
        """The keeper counts A-01: 375 boxes against 380 on the system."""
        with self.inside():
            a01 = location("A-01").id
        c = self.client("warehouse")
        resp = c.form("/inventory/stocktakes/new", {"location_id": a01})
        assert resp.status_code == 303
        st_id = int(resp.headers["Location"].rsplit("/", 1)[1])
        with self.inside():
            st = db.session.get(Stocktake, st_id)
            assert [(ln.item.code, ln.system_qty) for ln in st.lines] == [
                ("BOX-4030", Decimal("380"))
            ]
            line_id = st.lines[0].id
        resp = c.htmx(
            "POST",
            f"/inventory/stocktakes/{st_id}/lines/{line_id}",
            data={f"counted-{line_id}": "375"},
        )
        assert resp.status_code == 200
        assert f'id="stocktake-line-{line_id}"' in resp.get_data(as_text=True)
        assert "-5" in resp.get_data(as_text=True)
        page = c.get(f"/inventory/stocktakes/{st_id}").get_data(as_text=True)
        key = re.search(r'name="key" value="([^"]+)"', page).group(1)
        resp = c.form(f"/inventory/stocktakes/{st_id}/submit", {"key": key})
        assert resp.status_code == 303, resp.get_data(as_text=True)[:3000]
        with self.inside():
            st = db.session.get(Stocktake, st_id)
            assert st.status == "submitted"
            assert st.lines[0].variance == Decimal("-5")
            assert balance("BOX-4030", "A-01") == (Decimal("380"), Decimal("912.00"))
            assert not db.session.scalar(
                sa.select(StockMove.id).where(StockMove.kind == "adjustment")
            )
        return st_id

    def approve(self, st_id: int) -> None:
        """Finance approves: the variance posts as an adjustment at the average cost."""
        with self.inside():
            st = db.session.get(Stocktake, st_id)
            task = db.session.scalar(
                sa.select(WorkflowTask).where(
                    WorkflowTask.instance_id == st.instance_id, WorkflowTask.status == "open"
                )
            )
            assert task.assignee_id == member("finance").id
            instance_id = st.instance_id
            version = db.session.get(ProcessInstance, instance_id).version
        c = self.client("finance")
        page = c.get(f"/inventory/stocktakes/{st_id}").get_data(as_text=True)
        assert "-5" in page and "380" in page and "375" in page
        resp = c.form(
            f"/workflow/instances/{instance_id}/commands",
            {
                "command": "approve",
                "workflow_task_id": task.id,
                "expected_version": version,
                "key": "s7-approve",
            },
        )
        assert resp.status_code == 303, resp.get_data(as_text=True)[:3000]
        with self.inside():
            st = db.session.get(Stocktake, st_id)
            assert st.status == "posted" and st.posted_at is not None
            mv = db.session.scalar(sa.select(StockMove).where(StockMove.kind == "adjustment"))
            assert (mv.qty, mv.value, mv.actor_id) == (
                Decimal("-5"),
                Decimal("-12.00"),
                member("finance").id,
            )
            assert balance("BOX-4030", "A-01") == (Decimal("375"), Decimal("900.00"))

    def reconciliation(self) -> None:
        """This month: opening 0 + in 480 - out 105 = closing 375; values 1,152 - 252 = 900."""
        today = utcnow().astimezone(ZoneInfo(self.tz)).date()
        first = today.replace(day=1)
        c = self.client("finance")
        resp = c.get(
            f"/inventory/stock/reconciliation?date_from={first.isoformat()}"
            f"&date_to={today.isoformat()}"
        )
        assert resp.status_code == 200
        html = resp.get_data(as_text=True)
        with self.inside():
            box = item("BOX-4030").id
        row = re.search(rf'<tr id="recon-{box}-row">(.*?)</tr>', html, re.S).group(1)
        cells = re.findall(r'<td class="num[^"]*">(?:<strong>)?([^<]*)', row)
        assert cells == [
            "0",
            "480",
            "105",
            "375",
            "CN¥0.00",
            "CN¥1,152.00",
            "CN¥252.00",
            "CN¥900.00",
        ]
        from modules.inventory.reports import period_bounds, reconciliation

        with self.inside():
            rows = reconciliation(*period_bounds(first, today, self.tz))
            assert [(r.item.code, r.closing_qty, r.closing_value) for r in rows] == [
                ("BOX-4030", Decimal("375"), Decimal("900.00"))
            ]
            ledger = db.session.scalars(sa.select(StockMove)).all()
            assert sum(m.qty for m in ledger) == Decimal("375")
            assert sum(m.value for m in ledger) == Decimal("900.00")
            bal = db.session.scalars(sa.select(StockBalance)).all()
            assert sum(b.qty for b in bal) == rows[0].closing_qty
            # The next period starts where this one ends.
            later = reconciliation(*period_bounds(today + dt.timedelta(days=1), None, self.tz))
            assert (later[0].opening_qty, later[0].in_qty, later[0].out_qty) == (
                Decimal("375"),
                Decimal("0"),
                Decimal("0"),
            )
        export = c.get(
            f"/inventory/stock/reconciliation/export.xlsx?date_from={first.isoformat()}"
            f"&date_to={today.isoformat()}"
        )
        assert export.status_code == 200 and export.data[:2] == b"PK"

    def low_stock(self) -> None:
        """375 < 500: red on the buyer's dashboard; the buyer was told once (at the first issue)."""
        with self.inside():
            buyer = member("buyer").id
            told = db.session.scalars(
                sa.select(OutboxMessage).where(
                    OutboxMessage.event == "inventory.low_stock", OutboxMessage.channel == "in_app"
                )
            ).all()
            assert [m.recipient_id for m in told] == [buyer]
            assert "BOX-4030" in told[0].subject and "380" in told[0].body
            box = item("BOX-4030").id
        home = self.client("buyer").get("/").get_data(as_text=True)
        assert 'class="card st-alert"' in home
        row = re.search(rf'<tr id="low-{box}-row"[^>]*>(.*?)</tr>', home, re.S).group(1)
        assert 'class="num st-red">375' in row

    def one_click_request(self) -> None:
        with self.inside():
            box = item("BOX-4030").id
        c = self.client("buyer")
        home = c.get("/").get_data(as_text=True)
        assert "/purchasing/requests/from-low-stock" in home
        resp = c.form("/purchasing/requests/from-low-stock", {"item_id": box})
        assert resp.status_code == 303
        with self.inside():
            req = db.session.scalar(sa.select(PurchaseRequest))
            assert req.status == "draft" and req.requester_id == member("buyer").id
            assert [(ln.item_id, ln.qty) for ln in req.lines] == [(box, Decimal("125"))]


@pytest.fixture
def s7(app: Flask) -> S7:
    return S7(app)


def _until(s7: S7, last: str) -> Any:
    """Run the steps up to `last` (each test is one step; earlier steps arrange its state)."""
    s7.receipt()
    if last == "receipt":
        return None
    s7.issue_100()
    if last == "issue":
        return None
    s7.issue_500_refused()
    if last == "refused":
        return None
    st_id = s7.stocktake()
    if last == "stocktake":
        return st_id
    s7.approve(st_id)
    if last == "approve":
        return st_id
    s7.reconciliation()
    if last == "reconciliation":
        return None
    s7.low_stock()
    if last == "low_stock":
        return None
    s7.one_click_request()
    return None


def test_s7_1_receipt_of_480_at_2_40_is_on_hand(s7):
    _until(s7, "receipt")


def test_s7_1_issuing_100_leaves_380_on_hand(s7):
    _until(s7, "issue")


def test_s7_1_issuing_500_with_380_on_hand_is_refused_naming_380(s7):
    _until(s7, "refused")


def test_s7_2_stocktake_variance_waits_for_approval(s7):
    _until(s7, "stocktake")


def test_s7_2_approved_variance_posts_minus_5(s7):
    _until(s7, "approve")


def test_s7_2_reconciliation_opening_plus_in_minus_out_is_closing(s7):
    _until(s7, "reconciliation")


def test_s7_3_low_stock_is_red_and_the_buyer_is_told_once(s7):
    _until(s7, "low_stock")


def test_s7_3_one_click_makes_a_draft_purchase_request(s7):
    _until(s7, "all")
