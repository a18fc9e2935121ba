"""Inventory master data pages: items (list with on hand and average cost, search, filters,
keyset, export, the form's rules, the item's page), categories, warehouses and locations,
permissions and tenant isolation."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from modules.inventory import master
from modules.inventory.models import Item, ItemCategory, Location, Warehouse
from modules.inventory.stock import Document, Move, post
from suite.db import db
from suite.tenancy import system, use_workspace
from tests.modules.crm import conftest as master_fixtures
from tests.suite.test_tenancy import rows_of

# The master-data fixtures live with the crm tests (tests/modules/crm/conftest.py).
demo, demo_login, in_workspace = (
    master_fixtures.demo,
    master_fixtures.demo_login,
    master_fixtures.in_workspace,
)
xlsx_rows = master_fixtures.xlsx_rows

ITEM = {
    "code": "SEED-01",
    "name": "Tomato seeds 100g",
    "unit": "bag",
    "barcode": "6901234500035",
    "reorder_point": "50",
    "reorder_qty": "200",
    "standard_price": "35.50",
    "is_stock": "y",
    "active": "y",
}


def ids(app, ws_id: int) -> dict[str, int]:
    """Ids of the demo's rows by code: items, WH1, its locations A-01 / B-01, categories."""
    with app.app_context(), use_workspace(ws_id):
        out = dict(db.session.execute(sa.select(Item.code, Item.id)).all())
        out |= dict(db.session.execute(sa.select(Warehouse.code, Warehouse.id)).all())
        out |= dict(db.session.execute(sa.select(Location.code, Location.id)).all())
        out |= dict(db.session.execute(sa.select(ItemCategory.name, ItemCategory.id)).all())
        db.session.remove()
    return out


@pytest.fixture
def stocked(app, demo):
    """480 boxes at 2.40 on A-01 and 20 at 3.00 on B-01: 500 on hand worth 1,212.00."""
    known = ids(app, demo)
    with app.app_context(), use_workspace(demo):
        box, a01, b01 = known["BOX-4030"], known["A-01"], known["B-01"]
        post(
            [
                Move(box, a01, Decimal(480), "receipt", unit_cost=Decimal("2.40")),
                Move(box, b01, Decimal(20), "receipt", unit_cost=Decimal("3.00")),
            ],
            Document("test.receipt", 1, "GR-TEST-1"),
            None,
        )
        db.session.commit()
    return known


def codes_in(html: str) -> list[str]:
    return re.findall(r'<small class="doc-no">([A-Z0-9]+-[A-Z0-9]+)', html)


def row_of(html: str, item_id: int) -> str:
    match = re.search(rf'<tr id="item-{item_id}-row">(.*?)</tr>', html, re.S)
    assert match, f"no row for item {item_id}"
    return match.group(1)


# --- the item list --------------------------------------------------------------------------------


def test_the_list_shows_on_hand_and_the_moving_average_cost(stocked, demo_login):
    client = demo_login("buyer")
    html = client.get("/inventory/items").text
    assert codes_in(html) == ["BOX-4030", "FERT-25", "LAPTOP-14"]
    box = row_of(html, stocked["BOX-4030"])
    assert '<td class="num">500</td>' in box  # 480 + 20, summed in Python
    assert "¥2.42" in box  # 1,212.00 / 500 = 2.424
    assert "md-low" not in box  # 500 is not below the reorder point 500
    assert "Non-stock" in row_of(html, stocked["LAPTOP-14"])
    fert = row_of(html, stocked["FERT-25"])
    assert '<td class="num md-low">0' in fert  # 0 < 10: shown red


def test_an_item_below_its_reorder_point_is_flagged(app, demo, stocked, demo_login):
    with app.app_context(), use_workspace(demo):
        post(
            [Move(stocked["BOX-4030"], stocked["B-01"], Decimal(-1), "issue")],
            Document("test.issue", 1, "MI-TEST-1"),
            None,
        )
        db.session.commit()
    html = demo_login("warehouse").get("/inventory/items").text
    box = row_of(html, stocked["BOX-4030"])
    assert '<td class="num md-low">499' in box and "Below the reorder point" in box


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=box", ["BOX-4030"]),
        ("q=6901234500028", ["FERT-25"]),  # barcode
        ("q=fert", ["FERT-25"]),
        ("kind=non_stock", ["LAPTOP-14"]),
        ("kind=stock", ["BOX-4030", "FERT-25"]),
        ("status=inactive", []),
        ("q=_", []),  # a literal underscore, not a wildcard
    ],
)
def test_search_and_filters(demo, demo_login, query, expected):
    assert codes_in(demo_login("buyer").get(f"/inventory/items?{query}").text) == expected


def test_the_category_filter(app, demo, demo_login):
    known = ids(app, demo)
    html = demo_login("buyer").get(f"/inventory/items?category_id={known['Equipment']}").text
    assert codes_in(html) == ["LAPTOP-14"]


def test_search_answers_the_results_fragment(demo, demo_login):
    resp = demo_login("buyer").htmx("GET", "/inventory/items?q=box", target="item-results")
    assert resp.status_code == 200 and "<html" not in resp.text
    assert resp.text.lstrip().startswith('<div id="item-results">')
    assert 'href="/inventory/items/export.xlsx?q=box"' in resp.text


def test_keyset_pages_by_code(app, make_workspace, make_member, login_as, client):
    ws = make_workspace("many")
    make_member(ws, "boss", roles=("suite.admin",))
    with app.app_context(), use_workspace(ws.id):
        for n in range(27, 0, -1):
            master.save_item(None, master.ItemInput(code=f"I-{n:03d}", name=f"Item {n}"))
        db.session.commit()
    login_as(client, "boss")
    first = client.get("/inventory/items").text
    assert codes_in(first) == [f"I-{n:03d}" for n in range(1, 26)]
    more = re.search(r'href="(/inventory/items\?after=I-025)"', first)
    assert more
    assert codes_in(client.get(more.group(1)).text) == ["I-026", "I-027"]


def test_export_has_on_hand_and_cost_of_the_filtered_items(stocked, demo_login):
    rows = xlsx_rows(demo_login("finance").get("/inventory/items/export.xlsx?kind=stock"))
    assert rows[0] == [
        "Code",
        "Name",
        "Category",
        "Unit",
        "Barcode",
        "Kept in stock",
        "On hand",
        "Average cost",
        "Stock value",
        "Reorder point",
        "Standard price",
        "Active",
    ]
    assert [r[0] for r in rows[1:]] == ["BOX-4030", "FERT-25"]
    box = rows[1]
    assert box[1:6] == ["Packaging box 40x30", "Packaging", "Piece", "6901234500011", "Yes"]
    assert [Decimal(str(v)) for v in box[6:11]] == [
        Decimal(500),
        Decimal("2.424"),
        Decimal(1212),
        Decimal(500),
        Decimal("2.4"),
    ]
    assert rows[2][6] == 0 and rows[2][7] is None  # nothing on hand: no average cost


# --- the item form --------------------------------------------------------------------------------


def test_a_new_item_is_saved_and_shown(app, demo, demo_login):
    client = demo_login("warehouse")
    known = ids(app, demo)
    resp = client.form("/inventory/items/new", {**ITEM, "category_id": known["Fertilizer"]})
    assert resp.status_code == 303
    with app.app_context(), use_workspace(demo):
        item = db.session.scalar(sa.select(Item).where(Item.code == "SEED-01"))
        assert resp.headers["Location"] == f"/inventory/items/{item.id}"
        assert (item.unit, item.category_id, item.barcode, item.is_stock) == (
            "bag",
            known["Fertilizer"],
            "6901234500035",
            True,
        )
        assert (item.reorder_point, item.reorder_qty, item.standard_price) == (
            Decimal("50.000"),
            Decimal("200.000"),
            Decimal("35.50"),
        )
        item_id = item.id
    page = client.get(f"/inventory/items/{item_id}").text
    assert "Tomato seeds 100g" in page and "¥35.50" in page and "History" in page


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"code": "box-4030"}, "code", "The code BOX-4030 is already used by Packaging box 40x30."),
        ({"code": "SEED 01"}, "code", "A code has no spaces."),
        (
            {"barcode": "6901234500011"},
            "barcode",
            "The barcode 6901234500011 is already used by Packaging box 40x30.",
        ),
        ({"barcode": "690 123"}, "barcode", "A barcode has letters, digits, - and . only"),
        ({"unit": "dozen"}, "unit", "Not a valid choice"),
        ({"reorder_point": "-1"}, "reorder_point", "Must be zero or more."),
        ({"reorder_qty": "1.0005"}, "reorder_qty", "At most 3 decimal places."),
        ({"standard_price": "2.405"}, "standard_price", "At most 2 decimal places."),
        ({"standard_price": "abc"}, "standard_price", ""),
        ({"category_id": "999999"}, "category_id", "Not a valid choice"),
        ({"name": ""}, "name", "This field is required."),
    ],
)
def test_bad_input_is_422_next_to_the_field_and_writes_nothing(
    app, demo, demo_login, change, field, message
):
    client = demo_login("warehouse")
    before = rows_of(app, demo)
    resp = client.form("/inventory/items/new", {**ITEM, **change})
    assert resp.status_code == 422
    error = re.search(rf'<p class="error" id="err-{field}">([^<]*)</p>', resp.text)
    assert error and message in error.group(1), resp.text[:3000]
    assert rows_of(app, demo) == before


def test_an_item_with_stock_cannot_become_non_stock(app, stocked, demo_login):
    client = demo_login("warehouse")
    data = {**ITEM, "code": "BOX-4030", "name": "Packaging box 40x30", "barcode": "", "unit": "pcs"}
    data.pop("is_stock")
    resp = client.form(f"/inventory/items/{stocked['BOX-4030']}/edit", data)
    assert resp.status_code == 422
    assert (
        "Packaging box 40x30 has 500 on hand: issue or count it out before making it a "
        "non-stock item."
    ) in resp.text
    fert = {**data, "code": "FERT-25", "name": "Fertilizer 25kg"}  # nothing on hand: allowed
    assert client.form(f"/inventory/items/{stocked['FERT-25']}/edit", fert).status_code == 303
    with app.app_context(), system():
        assert db.session.get(Item, stocked["FERT-25"]).is_stock is False
        assert db.session.get(Item, stocked["BOX-4030"]).is_stock is True


def test_the_item_page_shows_stock_per_location(stocked, demo_login):
    html = demo_login("buyer").get(f"/inventory/items/{stocked['BOX-4030']}").text
    assert re.search(r"WH1 / A-01</span>.*?<td class=\"num\">480</td>", html, re.S)
    assert re.search(r"WH1 / B-01</span>.*?<td class=\"num\">20</td>", html, re.S)
    assert "¥1,212.00" in html and "¥2.42" in html
    assert "/edit" not in html  # the buyer reads only


# --- categories -----------------------------------------------------------------------------------


def test_categories_are_added_and_renamed_in_place(app, demo, demo_login):
    client = demo_login("warehouse")
    page = client.get("/inventory/categories").text
    assert re.findall(r'name="name" value="([^"]+)"', page) == [
        "Equipment",
        "Fertilizer",
        "Packaging",
    ]
    assert client.form("/inventory/categories/new", {"name": "Seeds"}).status_code == 303
    dup = client.form("/inventory/categories/new", {"name": "packaging"})
    assert dup.status_code == 422 and "There is a category named packaging already." in dup.text
    cat = ids(app, demo)["Seeds"]
    target = f"category-{cat}-row"
    resp = client.htmx("POST", f"/inventory/categories/{cat}", target=target, data={"name": "种子"})
    assert resp.status_code == 200 and resp.text.lstrip().startswith(f'<tr id="{target}">')
    assert 'value="种子"' in resp.text and "<html" not in resp.text
    bad = client.htmx(
        "POST", f"/inventory/categories/{cat}", target=target, data={"name": "Packaging"}
    )
    assert bad.status_code == 422 and f'id="err-category-{cat}"' in bad.text
    with app.app_context(), system():
        assert db.session.get(ItemCategory, cat).name == "种子"


# --- warehouses and locations ---------------------------------------------------------------------


def test_a_new_warehouse_gets_a_default_location(app, demo, demo_login):
    client = demo_login("warehouse")
    resp = client.form("/inventory/warehouses/new", {"code": "WH2", "name": "果园仓库"})
    assert resp.status_code == 303
    with app.app_context(), use_workspace(demo):
        wh = db.session.scalar(sa.select(Warehouse).where(Warehouse.code == "WH2"))
        assert resp.headers["Location"] == f"/inventory/warehouses/{wh.id}"
        assert wh.active is True
        assert [(loc.code, loc.active) for loc in wh.locations] == [("MAIN", True)]
    dup = client.form("/inventory/warehouses/new", {"code": "wh1", "name": "X"})
    assert dup.status_code == 422 and "The code WH1 is already used by 主仓库." in dup.text
    listing = client.get("/inventory/warehouses").text
    assert re.findall(r'<small class="doc-no">(WH\d)</small>', listing) == ["WH1", "WH2"]


def test_locations_are_added_in_place_and_their_codes_are_unique_per_warehouse(
    app, demo, demo_login
):
    client = demo_login("warehouse")
    wh1 = ids(app, demo)["WH1"]
    target = f"warehouse-{wh1}-locations"
    url = f"/inventory/warehouses/{wh1}/locations"
    resp = client.htmx(
        "POST", url, target=target, data={"location-code": "C-01", "location-name": "C区"}
    )
    assert resp.status_code == 200 and resp.headers["HX-Trigger"] == "inventory:warehouse-changed"
    assert resp.text.lstrip().startswith(f'<section id="{target}"')
    assert re.findall(r'<td class="md-mono">([^<]+)</td>', resp.text) == ["A-01", "B-01", "C-01"]
    dup = client.htmx(
        "POST", url, target=target, data={"location-code": "a-01", "location-name": "x"}
    )
    assert dup.status_code == 422 and "This warehouse has a location a-01 already." in dup.text
    client.form("/inventory/warehouses/new", {"code": "WH2", "name": "果园仓库"})
    wh2 = ids(app, demo)["WH2"]
    other = client.form(
        f"/inventory/warehouses/{wh2}/locations", {"location-code": "A-01", "location-name": "A"}
    )
    assert other.status_code == 303  # the same code in another warehouse is fine


def test_a_location_with_stock_or_the_last_one_cannot_be_closed(app, stocked, demo_login):
    client = demo_login("warehouse")
    a01 = stocked["A-01"]
    resp = client.form(f"/inventory/locations/{a01}/edit", {"code": "A-01", "name": "A区"})
    assert resp.status_code == 422
    assert "Stock is still kept here: move it out before closing the location." in resp.text
    client.form("/inventory/warehouses/new", {"code": "WH2", "name": "果园仓库"})
    with app.app_context(), system():
        main = db.session.scalar(sa.select(Location.id).where(Location.code == "MAIN"))
    last = client.form(f"/inventory/locations/{main}/edit", {"code": "MAIN", "name": "Main"})
    assert (
        last.status_code == 422 and "A warehouse needs at least one active location." in last.text
    )
    renamed = client.form(
        f"/inventory/locations/{main}/edit", {"code": "M-01", "name": "门口", "active": "y"}
    )
    assert renamed.status_code == 303
    with app.app_context(), system():
        loc = db.session.get(Location, main)
        assert (loc.code, loc.name, loc.active) == ("M-01", "门口", True)


def test_warehouse_export_lists_every_location(stocked, demo_login):
    rows = xlsx_rows(demo_login("buyer").get("/inventory/warehouses/export.xlsx"))
    assert rows == [
        ["Warehouse code", "Warehouse", "Location code", "Location", "Active"],
        ["WH1", "主仓库", "A-01", "A区 01 货架", "Yes"],
        ["WH1", "主仓库", "B-01", "B区 01 货架", "Yes"],
    ]


# --- permissions, tenancy -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("login", "read", "items", "warehouses"),
    [
        ("admin", True, True, True),
        ("warehouse", True, True, True),
        ("buyer", True, False, False),
        ("finance", True, False, False),
        ("staff", False, False, False),
        ("sales", False, False, False),
    ],
)
def test_who_may_see_and_change_master_data(app, demo, demo_login, login, read, items, warehouses):
    client = demo_login(login)
    known = ids(app, demo)
    home = client.get("/").text
    assert ('href="/inventory/items"' in home) is read
    assert ('href="/inventory/warehouses"' in home) is read
    for url in (
        "/inventory/items",
        "/inventory/items/export.xlsx",
        f"/inventory/items/{known['BOX-4030']}",
        "/inventory/categories",
        "/inventory/warehouses",
        f"/inventory/warehouses/{known['WH1']}",
    ):
        assert client.get(url).status_code == (200 if read else 403), url
    for url in ("/inventory/items/new", f"/inventory/items/{known['BOX-4030']}/edit"):
        assert client.get(url).status_code == (200 if items else 403), url
    assert client.form("/inventory/categories/new", {"name": "New"}).status_code == (
        303 if items else 403
    )
    for url in ("/inventory/warehouses/new", f"/inventory/locations/{known['A-01']}/edit"):
        assert client.get(url).status_code == (200 if warehouses else 403), url


MINE = ("item_", "category_", "warehouse_", "location_")


def test_another_workspaces_rows_answer_404(
    app, demo, make_workspace, make_member, client, login_as
):
    beta = make_workspace("beta", "BETA-SECRET Co")
    make_member(beta, "beta_boss", roles=("suite.admin",))
    with app.app_context(), use_workspace(beta.id):
        cat = master.save_category(None, "BETA-SECRET category")
        item = master.save_item(None, master.ItemInput(code="BOX-4030", name="BETA-SECRET box"))
        wh = master.save_warehouse(None, code="WH1", name="BETA-SECRET wh", active=True)
        db.session.commit()
        beta_ids = {
            "item_id": item.id,
            "item_category_id": cat.id,
            "warehouse_id": wh.id,
            "location_id": wh.locations[0].id,
        }
    with app.app_context(), system():
        from suite.tenancy import Workspace

        demo_ws = db.session.get(Workspace, demo)
        db.session.expunge(demo_ws)
    make_member(demo_ws, "inv_admin", roles=("suite.admin",))
    login_as(client, "inv_admin")
    before = rows_of(app, beta.id)
    checked = 0
    for rule in app.url_map.iter_rules():
        name = rule.endpoint.removeprefix("inventory.")
        if not rule.endpoint.startswith("inventory.") or not name.startswith(MINE):
            continue
        if not rule.arguments:
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<int:{arg}>", str(beta_ids[arg]))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            data = {**ITEM, "name": "x", "location-code": "X", "location-name": "x"}
            resp = client.get(url) if method == "GET" else client.form(url, data)
            assert resp.status_code == 404, (method, url, resp.status_code)
            checked += 1
    assert checked >= 7
    for url in (
        "/inventory/items?status=all",
        "/inventory/warehouses?status=all",
        "/inventory/categories",
    ):
        assert "BETA-SECRET" not in client.get(url).text
    assert rows_of(app, beta.id) == before
