"""Material issues (领料单) over HTTP: the request form with lines added and removed in place,
bad input answered 422 next to the field with nothing written, issuing, cancelling, the list."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from modules.inventory.models import Location, MaterialIssue, Warehouse
from suite.db import db
from suite.documents import DocumentCounter
from suite.tenancy import use_workspace
from tests.modules.inventory import stock_fixtures as fx
from tests.modules.inventory.stock_fixtures import balance, ids, member, move_count, receive

demo, inside, as_user = fx.demo, fx.inside, fx.as_user  # fixtures


def _counts():
    return (
        db.session.scalar(sa.select(sa.func.count(MaterialIssue.id))),
        move_count(),
        db.session.scalar(sa.select(sa.func.count(DocumentCounter.id))),
    )


def _request(client, location_id, lines, purpose="Line 2", htmx=False, **extra):
    data = {"location_id": location_id, "purpose": purpose, **extra}
    for n, (item_id, qty) in enumerate(lines):
        data[f"lines-{n}-item_id"] = item_id
        data[f"lines-{n}-qty"] = qty
    if htmx:
        return client.htmx("POST", "/inventory/issues/new", target="issue-form", data=data)
    return client.form("/inventory/issues/new", data)


def test_the_form_adds_and_removes_lines_in_place_without_saving(inside, as_user):
    with inside():
        r = ids("item:BOX-4030", "item:FERT-25", "loc:A-01")
    c = as_user("staff")
    page = c.get("/inventory/issues/new")
    assert page.status_code == 200
    assert page.get_data(as_text=True).count('class="st-line"') == 1
    resp = _request(c, r["A-01"], [(r["BOX-4030"], "10")], htmx=True, add_line="1")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in html
    assert html.startswith('<form id="issue-form"') or 'id="issue-form"' in html[:200]
    assert 'name="lines-1-item_id"' in html and 'class="error"' not in html
    assert 'value="10"' in html  # what was typed stays
    resp = _request(
        c,
        r["A-01"],
        [(r["BOX-4030"], "10"), (r["FERT-25"], "2")],
        htmx=True,
        remove_line="lines-0",
    )
    html = resp.get_data(as_text=True)
    assert 'name="lines-0-item_id"' not in html and 'name="lines-1-item_id"' in html
    # Without JS the same buttons work as plain posts (the whole page comes back).
    full = _request(c, r["A-01"], [(r["BOX-4030"], "10")], add_line="1")
    assert full.status_code == 200 and "<html" in full.get_data(as_text=True)
    with inside():
        assert db.session.scalar(sa.select(sa.func.count(MaterialIssue.id))) == 0


def test_a_request_with_two_lines_gets_the_next_number(inside, as_user):
    with inside():
        r = ids("item:BOX-4030", "item:FERT-25", "loc:A-01")
    c = as_user("staff")
    resp = _request(c, r["A-01"], [(r["BOX-4030"], "1,200"), (r["FERT-25"], "2.5")], htmx=True)
    assert resp.status_code == 204 and resp.headers["HX-Location"].startswith("/inventory/issues/")
    with inside():
        mi = db.session.scalar(sa.select(MaterialIssue))
        assert re.fullmatch(r"MI-\d{4}-0001", mi.number)
        assert [(ln.item.code, ln.qty) for ln in mi.lines] == [
            ("BOX-4030", Decimal("1200")),
            ("FERT-25", Decimal("2.5")),
        ]
        assert mi.requester_id == member("staff").id and mi.status == "requested"
        assert move_count() == 0  # a request moves no stock


@pytest.mark.parametrize(
    ("qty", "message"),
    [
        ("0", "The quantity must be more than zero."),
        ("-3", "The quantity must be more than zero."),
        ("1.0005", "At most three decimal places."),
        ("abc", "Not a valid decimal value."),
        ("", "Enter a quantity."),
        ("1e20", "The quantity is too large."),
    ],
)
def test_bad_quantities_are_refused_next_to_the_field(inside, as_user, qty, message):
    with inside():
        r = ids("item:BOX-4030", "loc:A-01")
        before = _counts()
    resp = _request(as_user("staff"), r["A-01"], [(r["BOX-4030"], qty)], htmx=True)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    err = re.search(r'<p class="error" id="err-lines-0-qty">([^<]*)</p>', html)
    assert err and err.group(1) == message
    with inside():
        assert _counts() == before


def test_unknown_item_non_stock_item_and_other_workspaces_location_are_refused(
    app, inside, as_user, make_workspace
):
    other = make_workspace("other")
    with app.app_context(), use_workspace(other.id):
        wh = Warehouse(code="X", name="Theirs")
        db.session.add(wh)
        db.session.flush()
        theirs = Location(warehouse_id=wh.id, code="X-01", name="Theirs")
        db.session.add(theirs)
        db.session.commit()
        theirs_id = theirs.id
    with inside():
        r = ids("item:BOX-4030", "item:LAPTOP-14", "loc:A-01")
        before = _counts()
    c = as_user("staff")
    for location_id, item_id, field in [
        (r["A-01"], 999999, "lines-0-item_id"),
        (r["A-01"], r["LAPTOP-14"], "lines-0-item_id"),  # not kept in stock
        (theirs_id, r["BOX-4030"], "location_id"),
        ("x", r["BOX-4030"], "location_id"),
    ]:
        resp = _request(c, location_id, [(item_id, "5")], htmx=True)
        assert resp.status_code == 422, field
        assert f'id="err-{field}"' in resp.get_data(as_text=True), field
    resp = _request(c, "", [("", "5")], htmx=True)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and html.count("Please choose one.") == 2
    resp = _request(c, r["A-01"], [(r["BOX-4030"], "5"), (r["BOX-4030"], "6")], htmx=True)
    assert resp.status_code == 422
    assert "This item is on another line already." in resp.get_data(as_text=True)
    with inside():
        assert _counts() == before


def test_issue_posts_the_lines_and_refuses_short_stock_next_to_the_line(inside, as_user):
    with inside():
        receive("BOX-4030", "A-01", "480", "2.40")
        receive("FERT-25", "A-01", "10", "180.00")
        r = ids("item:BOX-4030", "item:FERT-25", "loc:A-01")
    _request(as_user("staff"), r["A-01"], [(r["BOX-4030"], "100"), (r["FERT-25"], "12")])
    with inside():
        mi = db.session.scalar(sa.select(MaterialIssue))
        box_line, fert_line = (ln.id for ln in mi.lines)
        moves = move_count()
    keeper = as_user("warehouse")
    page = keeper.get(f"/inventory/issues/{mi.id}").get_data(as_text=True)
    assert f'name="qty-{box_line}"' in page and ">480<" in page  # on hand shown to the keeper
    resp = keeper.htmx("POST", f"/inventory/issues/{mi.id}/issue", target=f"issue-{mi.id}-lines")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "<html" not in html
    err = re.search(rf'id="err-qty-{fert_line}">([^<]*)<', html).group(1)
    assert err == "Not enough stock of Fertilizer 25kg at A区 01 货架: 10 on hand, 12 asked for."
    with inside():
        assert move_count() == moves and balance("BOX-4030", "A-01")[0] == Decimal("480")
    # The keeper gives the 10 there are, and more than requested is refused.
    resp = keeper.form(
        f"/inventory/issues/{mi.id}/issue", {f"qty-{box_line}": "101", f"qty-{fert_line}": "10"}
    )
    assert resp.status_code == 422
    assert "At most the requested 100." in resp.get_data(as_text=True)
    resp = keeper.form(
        f"/inventory/issues/{mi.id}/issue", {f"qty-{box_line}": "100", f"qty-{fert_line}": "10"}
    )
    assert resp.status_code == 303
    with inside():
        mi = db.session.get(MaterialIssue, mi.id)
        assert mi.status == "issued" and mi.issued_by_id == member("warehouse").id
        assert [ln.issued_qty for ln in mi.lines] == [Decimal("100"), Decimal("10")]
        assert balance("BOX-4030", "A-01") == (Decimal("380"), Decimal("912.00"))
        assert balance("FERT-25", "A-01") == (Decimal("0"), Decimal("0.00"))
    # Issuing again is refused and writes nothing.
    again = keeper.form(f"/inventory/issues/{mi.id}/issue", {})
    assert again.status_code == 422 and "issued already" in again.get_data(as_text=True)
    with inside():
        assert move_count() == moves + 2


def test_the_requester_cancels_a_request_not_yet_issued(inside, as_user):
    with inside():
        r = ids("item:BOX-4030", "loc:A-01")
    _request(as_user("staff"), r["A-01"], [(r["BOX-4030"], "5")])
    with inside():
        mi_id = db.session.scalar(sa.select(MaterialIssue.id))
    assert as_user("sales").form(f"/inventory/issues/{mi_id}/cancel").status_code == 404
    assert as_user("staff").form(f"/inventory/issues/{mi_id}/cancel").status_code == 303
    with inside():
        assert db.session.get(MaterialIssue, mi_id).status == "cancelled"
    resp = as_user("warehouse").form(f"/inventory/issues/{mi_id}/issue", {})
    assert resp.status_code == 422 and "cancelled already" in resp.get_data(as_text=True)


def test_the_list_shows_requesters_their_own_and_the_warehouse_what_to_issue(inside, as_user):
    with inside():
        r = ids("item:BOX-4030", "loc:A-01")
    _request(as_user("staff"), r["A-01"], [(r["BOX-4030"], "5")], purpose="Staff's")
    _request(as_user("dept_head"), r["A-01"], [(r["BOX-4030"], "6")], purpose="Head's")
    staff = as_user("staff").get("/inventory/issues").get_data(as_text=True)
    assert "Staff&#39;s" in staff and "Head&#39;s" not in staff
    keeper = as_user("warehouse").get("/inventory/issues")
    html = keeper.get_data(as_text=True)
    assert "Staff&#39;s" in html and "Head&#39;s" in html and "Export to Excel" in html
    frag = as_user("warehouse").htmx("GET", "/inventory/issues?q=0002", target="issue-results")
    text = frag.get_data(as_text=True)
    assert "<html" not in text and "Head&#39;s" in text and "Staff&#39;s" not in text
    export = as_user("warehouse").get("/inventory/issues/export.xlsx?status=")
    assert export.status_code == 200 and export.data[:2] == b"PK"
    # Another department cannot open the staff member's request.
    with inside():
        mi_id = db.session.scalar(
            sa.select(MaterialIssue.id).where(MaterialIssue.purpose == "Staff's")
        )
    assert as_user("sales").get(f"/inventory/issues/{mi_id}").status_code == 404
    assert as_user("dept_head").get(f"/inventory/issues/{mi_id}").status_code == 200


def test_the_list_pages_by_keyset(app, inside, as_user):
    with inside():
        r = ids("item:BOX-4030", "loc:A-01")
    c = as_user("staff")
    app.config["SUITE_PAGE_SIZE"] = 2
    try:
        # markers in Chinese: a random CSRF token on the page never contains them
        for n in range(3):
            _request(c, r["A-01"], [(r["BOX-4030"], str(n + 1))], purpose=f"用途{n}号")
        first = c.get("/inventory/issues").get_data(as_text=True)
        assert "用途2号" in first and "用途1号" in first and "用途0号" not in first
        more = re.search(r'href="(/inventory/issues\?[^"]*before=\d+[^"]*)"', first).group(1)
        second = c.get(more.replace("&amp;", "&")).get_data(as_text=True)
        assert "用途0号" in second and "用途1号" not in second
    finally:
        app.config["SUITE_PAGE_SIZE"] = 25


def test_the_issue_page_shows_units_in_the_pages_language(inside, as_user):
    with inside():
        receive("BOX-4030", "A-01", "480", "2.40")
        receive("FERT-25", "A-01", "10", "180.00")
        r = ids("item:BOX-4030", "item:FERT-25", "loc:A-01")
    _request(as_user("staff"), r["A-01"], [(r["BOX-4030"], "100"), (r["FERT-25"], "2")])
    with inside():
        mi = db.session.scalar(sa.select(MaterialIssue))
    keeper = as_user("warehouse")
    assert keeper.form("/language", {"locale": "zh_CN"}).status_code == 303
    page = keeper.get(f"/inventory/issues/{mi.id}").get_data(as_text=True)
    assert '100 <small class="muted">个</small>' in page
    assert '2 <small class="muted">袋</small>' in page
    assert ">pcs<" not in page and ">bag<" not in page
