"""The stock reconciliation (库存对帐单): opening + in - out = closing per item (and location),
from the ledger, with period bounds in the workspace's time zone (Asia/Shanghai, UTC+8)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from openpyxl import load_workbook

from modules.inventory.models import StockBalance, StockMove
from modules.inventory.reports import period_bounds, reconciliation
from modules.inventory.services import issues, transfers
from modules.inventory.services.lines import LineInput
from suite.db import db
from tests.modules.inventory import stock_fixtures as fx
from tests.modules.inventory.stock_fixtures import item, location, member, receive

demo, inside, as_user = fx.demo, fx.inside, fx.as_user  # fixtures

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _at(local: str) -> None:
    """Date the last move(s) of the ledger at a local Shanghai time (arranging history)."""
    when = dt.datetime.fromisoformat(local).replace(tzinfo=SHANGHAI).astimezone(dt.UTC)
    last_doc = db.session.scalar(sa.select(StockMove).order_by(StockMove.id.desc()).limit(1))
    db.session.execute(
        sa.update(StockMove)
        .where(
            StockMove.document_type == last_doc.document_type,
            StockMove.document_id == last_doc.document_id,
        )
        .values(moved_at=when)
    )
    db.session.commit()


def _issue(code: str, loc: str, qty: str) -> None:
    mi = issues.create(
        member("staff"), location(loc).id, "", [LineInput(item(code).id, Decimal(qty))]
    )
    issues.issue(mi, member("warehouse"))
    db.session.commit()


def _history() -> None:
    receive("BOX-4030", "A-01", "100", "2.00")
    _at("2026-03-31 23:30")  # March, local time (15:30 UTC)
    receive("BOX-4030", "A-01", "50", "2.60")
    _at("2026-04-01 00:10")  # April, local time (still March 31 in UTC)
    _issue("BOX-4030", "A-01", "30")  # 150 @ 330.00: average 2.20 -> 66.00
    _at("2026-04-15 12:00")
    transfers.create(
        member("warehouse"),
        location("A-01").id,
        location("B-01").id,
        "",
        [LineInput(item("BOX-4030").id, Decimal("20"))],
    )
    db.session.commit()
    _at("2026-04-30 23:59")  # 44.00 moves to B-01
    _issue("BOX-4030", "A-01", "10")
    _at("2026-05-01 00:01")  # May


def _april(**kw):
    return reconciliation(
        *period_bounds(dt.date(2026, 4, 1), dt.date(2026, 4, 30), "Asia/Shanghai"), **kw
    )


def _nums(r) -> tuple:
    return (
        r.opening_qty,
        r.in_qty,
        r.out_qty,
        r.closing_qty,
        r.opening_value,
        r.in_value,
        r.out_value,
        r.closing_value,
    )


def test_period_bounds_are_local_midnights():
    start, end = period_bounds(dt.date(2026, 4, 1), dt.date(2026, 4, 30), "Asia/Shanghai")
    assert start == dt.datetime(2026, 3, 31, 16, 0, tzinfo=dt.UTC)
    assert end == dt.datetime(2026, 4, 30, 16, 0, tzinfo=dt.UTC)
    assert period_bounds(None, None, "Asia/Shanghai") == (None, None)


def test_per_item_april_with_local_day_boundaries(inside):
    with inside():
        _history()
        rows = _april()
        assert [(r.item.code, r.location) for r in rows] == [("BOX-4030", None)]
        D = Decimal  # noqa: N806
        assert _nums(rows[0]) == (
            D("100"), D("50"), D("30"), D("120"), D("200.00"), D("130.00"), D("66.00"), D("264.00")
        )  # fmt: skip
        assert rows[0].balanced


def test_per_location_counts_transfers_out_and_in(inside):
    with inside():
        _history()
        rows = _april(by_location=True)
        D = Decimal  # noqa: N806
        assert [(r.location.code, _nums(r)) for r in rows] == [
            ("A-01", tuple(map(D, ["100", "50", "50", "100", "200", "130", "110", "220"]))),
            ("B-01", tuple(map(D, ["0", "20", "0", "20", "0", "44", "0", "44"]))),
        ]  # fmt: skip


def test_a_period_ending_today_closes_at_the_balances_and_the_ledger(inside):
    with inside():
        _history()
        today = dt.datetime.now(SHANGHAI).date()
        rows = reconciliation(
            *period_bounds(dt.date(2026, 5, 1), today, "Asia/Shanghai"), by_location=True
        )
        balances = {
            (b.item_id, b.location_id): (b.qty, b.value)
            for b in db.session.scalars(sa.select(StockBalance))
        }
        assert {(r.item.id, r.location.id): (r.closing_qty, r.closing_value) for r in rows} == (
            balances
        )
        assert balances[(item("BOX-4030").id, location("A-01").id)] == (
            Decimal("90"),
            Decimal("198.00"),
        )
        # Every period chains: May opens where April closed.
        assert [r.opening_qty for r in rows] == [Decimal("100"), Decimal("20")]
        total = reconciliation(*period_bounds(dt.date(2026, 5, 1), today, "Asia/Shanghai"))
        ledger = db.session.scalars(sa.select(StockMove)).all()
        assert total[0].closing_qty == sum(m.qty for m in ledger) == Decimal("110")
        assert total[0].closing_value == sum(m.value for m in ledger) == Decimal("242.00")


def test_the_page_and_the_export_show_the_same_numbers(inside, as_user):
    with inside():
        _history()
        box = item("BOX-4030").id
    c = as_user("finance")
    url = "/inventory/stock/reconciliation?date_from=2026-04-01&date_to=2026-04-30"
    html = c.get(url).get_data(as_text=True)
    assert f'id="recon-{box}-row"' in html and "CN¥264.00" in html
    frag = c.htmx("GET", url + "&by=location", target="stock-recon")
    text = frag.get_data(as_text=True)
    assert "<html" not in text and text.count('id="recon-') == 2
    resp = c.get(
        "/inventory/stock/reconciliation/export.xlsx?date_from=2026-04-01&date_to=2026-04-30"
    )
    assert resp.status_code == 200
    assert "stock-reconciliation-20260401-20260430.xlsx" in resp.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[0][:4] == ["Item code", "Item", "Unit", "Opening quantity"]
    assert rows[1] == [
        "BOX-4030",
        "Packaging box 40x30",
        "pcs",
        100,
        50,
        30,
        120,
        200,
        130,
        66,
        264,
    ]
    # Swapped dates are put in order; a bad date falls back to this month.
    assert c.get(url.replace("2026-04-01", "2026-05-31")).status_code == 200
    assert c.get("/inventory/stock/reconciliation?date_from=nope").status_code == 200
