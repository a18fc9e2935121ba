"""Stock pages: on hand, the ledger, low stock on the dashboard, transfers; who may open what;
another workspace's rows answer 404 and nothing is written."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from modules.inventory.models import (
    Item,
    Location,
    MaterialIssue,
    MaterialIssueLine,
    StockMove,
    Stocktake,
    StocktakeLine,
    StockTransfer,
    Warehouse,
)
from modules.inventory.services import stocktakes, transfers
from modules.inventory.services.lines import LineInput
from modules.inventory.stock import Document, Move, post
from suite.auth.models import Membership
from suite.db import db
from suite.tenancy import use_workspace
from tests.modules.inventory import stock_fixtures as fx
from tests.modules.inventory.stock_fixtures import balance, ids, item, location, member, receive

demo, inside, as_user = fx.demo, fx.inside, fx.as_user  # fixtures


def _xlsx(resp) -> list[list]:
    assert resp.status_code == 200 and resp.data[:2] == b"PK"
    ws = load_workbook(io.BytesIO(resp.data)).active
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_on_hand_shows_quantity_average_cost_and_value_with_filters(inside, as_user):
    with inside():
        receive("BOX-4030", "A-01", "480", "2.40")
        receive("BOX-4030", "B-01", "20", "3.00")
        receive("FERT-25", "A-01", "10", "180.00")
    c = as_user("warehouse")
    html = c.get("/inventory/stock").get_data(as_text=True)
    assert html.count('id="stock-') >= 3 and "CN¥1,152.00" in html and "CN¥1,800.00" in html
    frag = c.htmx("GET", "/inventory/stock?q=fert", target="stock-results")
    text = frag.get_data(as_text=True)
    assert frag.status_code == 200 and "<html" not in text
    assert "Fertilizer 25kg" in text and "Packaging box" not in text
    assert "Packaging box" in c.get("/inventory/stock?q=6901234500011").get_data(as_text=True)
    rows = _xlsx(c.get("/inventory/stock/export.xlsx?q=box"))
    assert rows == [
        ["Item code", "Item", "Unit", "Warehouse", "Location", "On hand", "Average cost", "Amount"],
        ["BOX-4030", "Packaging box 40x30", "pcs", "WH1", "A-01", 480, 2.4, 1152],
        ["BOX-4030", "Packaging box 40x30", "pcs", "WH1", "B-01", 20, 3, 60],
    ]


def test_empty_balances_are_hidden_unless_asked_and_pages_go_by_keyset(app, inside, as_user):
    with inside():
        receive("BOX-4030", "A-01", "5", "2.40")
        receive("FERT-25", "A-01", "1", "180.00")
        receive("FERT-25", "B-01", "1", "180.00")
        transfers.create(
            member("warehouse"),
            location("A-01").id,
            location("B-01").id,
            "",
            [LineInput(item("FERT-25").id, Decimal("1"))],
        )
        db.session.commit()
    c = as_user("warehouse")
    assert len(re.findall(r'<tr id="stock-\d+-row"', c.get("/inventory/stock").text)) == 2
    assert len(re.findall(r'<tr id="stock-\d+-row"', c.get("/inventory/stock?zero=1").text)) == 3
    app.config["SUITE_PAGE_SIZE"] = 2
    try:
        first = c.get("/inventory/stock?zero=1").get_data(as_text=True)
        assert len(re.findall(r'<tr id="stock-\d+-row"', first)) == 2
        nxt = re.search(r'href="(/inventory/stock\?[^"]*after=\d+[^"]*)"', first).group(1)
        second = c.get(nxt.replace("&amp;", "&")).get_data(as_text=True)
        assert len(re.findall(r'<tr id="stock-\d+-row"', second)) == 1
    finally:
        app.config["SUITE_PAGE_SIZE"] = 25


def test_the_ledger_filters_by_item_location_kind_and_local_dates(inside, as_user):
    with inside():
        receive("BOX-4030", "A-01", "10", "2.40")
        receive("FERT-25", "B-01", "2", "180.00")
        moves = db.session.scalars(sa.select(StockMove).order_by(StockMove.id)).all()
        # The box arrived on May 1st at 00:30 Shanghai time (April 30th in UTC).
        moves[0].moved_at = dt.datetime(2026, 4, 30, 16, 30, tzinfo=dt.UTC)
        db.session.commit()
        r = ids("item:BOX-4030", "loc:B-01")
    c = as_user("warehouse")
    page = c.get("/inventory/stock/moves").get_data(as_text=True)
    assert page.count('id="move-') == 2 and "GRN-TEST-" in page
    may1 = c.get("/inventory/stock/moves?from=2026-05-01&to=2026-05-01").get_data(as_text=True)
    assert may1.count('id="move-') == 1 and "Packaging box" in may1
    april = c.get("/inventory/stock/moves?from=2026-04-01&to=2026-04-30").get_data(as_text=True)
    assert 'id="move-' not in april
    assert c.get(f"/inventory/stock/moves?item={r['BOX-4030']}").text.count('id="move-') == 1
    assert c.get(f"/inventory/stock/moves?location={r['B-01']}").text.count('id="move-') == 1
    assert c.get("/inventory/stock/moves?kind=issue").text.count('id="move-') == 0
    frag = c.htmx("GET", "/inventory/stock/moves?kind=receipt", target="stock-moves")
    assert "<html" not in frag.text and frag.text.count('id="move-') == 2
    rows = _xlsx(c.get(f"/inventory/stock/moves/export.xlsx?item={r['BOX-4030']}"))
    assert rows[0][:3] == ["Time", "Document", "Kind"]
    assert rows[1][0].isoformat() == "2026-05-01T00:30:00"  # workspace time in the sheet
    assert rows[1][2:] == ["Receipt", "BOX-4030", "Packaging box 40x30", "WH1", "A-01"] + [
        10,
        2.4,
        24,
        10,
    ]


def test_low_stock_is_red_on_the_dashboard_of_those_who_read_stock(inside, as_user):
    with inside():
        receive("BOX-4030", "A-01", "600", "2.40")
        receive("FERT-25", "A-01", "20", "180.00")
        box = item("BOX-4030").id
    home = as_user("warehouse").get("/").get_data(as_text=True)
    assert "st-alert" not in home  # nothing is low
    with inside():
        post(
            [Move(box, location("A-01").id, Decimal("-101"), "issue")],
            Document("test.issue", 1, "MI-T"),
            member("warehouse").id,
        )
        db.session.commit()
    for login in ("warehouse", "buyer", "finance", "admin"):
        home = as_user(login).get("/").get_data(as_text=True)
        assert 'class="card st-alert"' in home, login
        row = re.search(rf'<tr id="low-{box}-row"[^>]*>(.*?)</tr>', home, re.S).group(1)
        assert 'class="num st-red">499' in row and ">1</td>" in row  # 1 short of 500
    assert "st-alert" not in as_user("sales").get("/").get_data(as_text=True)
    page = as_user("buyer").get("/inventory/low-stock").get_data(as_text=True)
    assert f'id="low-{box}-row"' in page and "Create purchase request" in page
    assert f'name="item_id" value="{box}"' in page


def test_a_transfer_through_the_form(inside, as_user):
    with inside():
        receive("BOX-4030", "A-01", "10", "2.40")
        r = ids("item:BOX-4030", "loc:A-01", "loc:B-01")
    c = as_user("warehouse")
    data = {
        "from_location_id": r["A-01"],
        "to_location_id": r["B-01"],
        "lines-0-item_id": r["BOX-4030"],
        "lines-0-qty": "11",
    }
    resp = c.htmx("POST", "/inventory/transfers/new", target="transfer-form", data=data)
    assert resp.status_code == 422
    assert "10 on hand, 11 asked for" in re.search(
        r'id="err-lines-0-qty">([^<]*)<', resp.text
    ).group(1)
    same = c.htmx("POST", "/inventory/transfers/new", data={**data, "to_location_id": r["A-01"]})
    assert same.status_code == 422 and "Choose two different locations." in same.text
    with inside():
        assert fx.move_count() == 1
        assert db.session.scalar(sa.select(sa.func.count(StockTransfer.id))) == 0
    ok = c.form("/inventory/transfers/new", {**data, "lines-0-qty": "4"})
    assert ok.status_code == 303
    page = c.get(ok.headers["Location"]).get_data(as_text=True)
    assert "-4" in page and "+4" in page and "CN¥9.60" in page
    with inside():
        assert balance("BOX-4030", "B-01") == (Decimal("4"), Decimal("9.60"))
    assert "TR-" in c.get("/inventory/transfers").get_data(as_text=True)
    rows = _xlsx(c.get("/inventory/transfers/export.xlsx"))
    assert rows[1][5:] == ["BOX-4030", "Packaging box 40x30", 4, "pcs"]


# --- permissions ----------------------------------------------------------------------------------

PAGES = [
    "/inventory/stock",
    "/inventory/stock/moves",
    "/inventory/low-stock",
    "/inventory/stock/reconciliation",
    "/inventory/issues",
    "/inventory/issues/new",
    "/inventory/transfers",
    "/inventory/transfers/new",
    "/inventory/stocktakes",
    "/inventory/stocktakes/new",
]
ALLOWED = {
    "staff": {"/inventory/issues", "/inventory/issues/new"},
    "sales": {"/inventory/issues", "/inventory/issues/new"},
    "buyer": {
        "/inventory/issues",
        "/inventory/issues/new",
        "/inventory/stock",
        "/inventory/stock/moves",
        "/inventory/low-stock",
        "/inventory/stock/reconciliation",
    },
    "warehouse": set(PAGES),
    "admin": set(PAGES),
}
ALLOWED["finance"] = ALLOWED["gm"] = ALLOWED["buyer"]


@pytest.mark.parametrize("login", sorted(ALLOWED))
def test_who_may_open_the_stock_pages(inside, as_user, login):
    c = as_user(login)
    got = {url: c.get(url).status_code for url in PAGES}
    assert got == {url: 200 if url in ALLOWED[login] else 403 for url in PAGES}


def test_only_the_warehouse_issues_and_only_counters_count(inside, as_user):
    with inside():
        receive("BOX-4030", "A-01", "5", "2.40")
        r = ids("item:BOX-4030", "loc:A-01")
        st = stocktakes.create(member("warehouse"), r["A-01"])
        db.session.commit()
        st_id, line_id = st.id, st.lines[0].id
    staff = as_user("staff")
    staff.form(
        "/inventory/issues/new",
        {"location_id": r["A-01"], "lines-0-item_id": r["BOX-4030"], "lines-0-qty": "1"},
    )
    with inside():
        mi_id = db.session.scalar(sa.select(MaterialIssue.id))
    assert staff.form(f"/inventory/issues/{mi_id}/issue", {}).status_code == 403
    assert as_user("buyer").form(f"/inventory/issues/{mi_id}/issue", {}).status_code == 403
    assert as_user("finance").form(f"/inventory/stocktakes/{st_id}/counts", {}).status_code == 403
    assert staff.form(f"/inventory/stocktakes/{st_id}/submit", {}).status_code == 403
    assert staff.form(f"/inventory/stocktakes/{st_id}/lines/{line_id}", {}).status_code == 403
    with inside():
        assert fx.move_count() == 1


# --- tenancy --------------------------------------------------------------------------------------


def test_another_workspaces_stock_documents_answer_404_and_stay_untouched(
    app, inside, as_user, make_workspace, make_member
):
    other = make_workspace("other")
    make_member(other, "their_keeper", roles=("inventory.warehouse",))
    with app.app_context(), use_workspace(other.id):
        wh = Warehouse(code="X", name="Theirs")
        db.session.add(wh)
        db.session.flush()
        db.session.add_all([Location(warehouse_id=wh.id, code=c, name=c) for c in ("X1", "X2")])
        db.session.add(Item(code="SECRET", name="Their item", unit="pcs"))
        db.session.flush()
        it = db.session.scalar(sa.select(Item))
        x1, x2 = db.session.scalars(sa.select(Location).order_by(Location.code)).all()
        keeper = db.session.scalar(sa.select(Membership))
        receipt = Move(it.id, x1.id, Decimal(9), "receipt", unit_cost=Decimal(1))
        post([receipt], Document("t", 1, "T"), None)
        mi = MaterialIssue(number="MI-X", requester_id=keeper.id, location_id=x1.id)
        mi.lines = [MaterialIssueLine(item_id=it.id, qty=Decimal(1))]
        db.session.add(mi)
        t = transfers.create(keeper, x1.id, x2.id, "", [LineInput(it.id, Decimal(1))])
        st = Stocktake(number="ST-X", location_id=x1.id, created_by_id=keeper.id)
        st.lines = [StocktakeLine(item_id=it.id, system_qty=Decimal(8))]
        db.session.add(st)
        db.session.commit()
        theirs = {
            "material_issue_id": mi.id,
            "stock_transfer_id": t.id,
            "stocktake_id": st.id,
            "stocktake_line_id": st.lines[0].id,
            "moves": db.session.scalar(sa.select(sa.func.count(StockMove.id))),
        }
    urls = [
        ("GET", f"/inventory/issues/{theirs['material_issue_id']}"),
        ("POST", f"/inventory/issues/{theirs['material_issue_id']}/issue"),
        ("POST", f"/inventory/issues/{theirs['material_issue_id']}/cancel"),
        ("GET", f"/inventory/transfers/{theirs['stock_transfer_id']}"),
        ("GET", f"/inventory/stocktakes/{theirs['stocktake_id']}"),
        ("POST", f"/inventory/stocktakes/{theirs['stocktake_id']}/counts"),
        ("POST", f"/inventory/stocktakes/{theirs['stocktake_id']}/submit"),
        ("POST", f"/inventory/stocktakes/{theirs['stocktake_id']}/lines"),
        (
            "POST",
            f"/inventory/stocktakes/{theirs['stocktake_id']}/lines/{theirs['stocktake_line_id']}",
        ),
    ]
    c = as_user("admin")
    for method, url in urls:
        resp = c.get(url) if method == "GET" else c.form(url, {"counted-1": "1", "item_id": 1})
        assert resp.status_code == 404, url
    # Their line under one of our stocktakes is 404 too.
    with inside():
        receive("BOX-4030", "A-01", "1", "1.00")
        ours = stocktakes.create(member("warehouse"), location("A-01").id)
        db.session.commit()
        ours_id = ours.id
    url = f"/inventory/stocktakes/{ours_id}/lines/{theirs['stocktake_line_id']}"
    assert c.form(url, {}).status_code == 404
    for page in ("/inventory/stock", "/inventory/stock/moves", "/inventory/low-stock"):
        assert "SECRET" not in c.get(page).get_data(as_text=True), page
    with app.app_context(), use_workspace(other.id):
        assert db.session.get(MaterialIssue, theirs["material_issue_id"]).status == "requested"
        assert db.session.get(Stocktake, theirs["stocktake_id"]).lines[0].counted_qty is None
        assert db.session.scalar(sa.select(sa.func.count(StockMove.id))) == theirs["moves"]
        db.session.remove()


def test_units_are_shown_in_the_pages_language_on_stock_pages_and_the_home_panel(inside, as_user):
    """个 / 袋 on zh-CN pages (UNIT_LABELS through the `unit_label` filter), never `pcs` / `bag`."""
    with inside():
        receive("BOX-4030", "A-01", "600", "2.40")  # reorder point 500
        receive("FERT-25", "A-01", "20", "180.00")
        box = item("BOX-4030").id
        post(
            [Move(box, location("A-01").id, Decimal("-120"), "issue")],
            Document("test.issue", 1, "MI-T"),
            member("warehouse").id,
        )
        db.session.commit()  # 480 boxes: below 500, on the home page's low-stock panel
    c = as_user("warehouse")
    assert c.form("/language", {"locale": "zh_CN"}).status_code == 303
    stock = c.get("/inventory/stock").get_data(as_text=True)
    assert '480 <small class="muted">个</small>' in stock
    assert '20 <small class="muted">袋</small>' in stock
    home = c.get("/").get_data(as_text=True)
    row = re.search(rf'<tr id="low-{box}-row"[^>]*>(.*?)</tr>', home, re.S).group(1)
    assert '480 <small class="muted">个</small>' in row
    recon = c.get("/inventory/stock/reconciliation").get_data(as_text=True)
    assert "BOX-4030 · 个" in recon and "FERT-25 · 袋" in recon
    for page in (stock, home, recon):
        assert not re.search(r">\s*(pcs|bag)\s*<| · (pcs|bag)<", page)
    # The same rows in English: the label, not the code.
    english = as_user("buyer").get("/").get_data(as_text=True)
    row = re.search(rf'<tr id="low-{box}-row"[^>]*>(.*?)</tr>', english, re.S).group(1)
    assert '480 <small class="muted">Piece</small>' in row
