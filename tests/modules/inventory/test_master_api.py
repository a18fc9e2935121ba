"""Items and stock balances in the JSON API: on hand and average cost as strings, filters and
keyset, create and change with 422 for bad input, 403 without permission, 404 across workspaces."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from modules.inventory import master
from modules.inventory.models import Item, StockBalance
from modules.inventory.stock import Document, Move, post
from suite.db import db
from suite.tenancy import system, use_workspace
from tests.helpers.api import assert_invalid, spec_checker
from tests.modules.crm import conftest as master_fixtures
from tests.modules.inventory.test_master import ids
from tests.suite.test_tenancy import rows_of

demo, api, token_for = master_fixtures.demo, master_fixtures.api, master_fixtures.token_for

NEW = {
    "code": "SEED-01",
    "name": "Tomato seeds 100g",
    "unit": "bag",
    "barcode": "6901234500035",
    "reorder_point": "50",
    "standard_price": "35.50",
}


@pytest.fixture
def stocked(app, demo):
    """480 boxes at 2.40 on A-01, 20 at 3.00 on B-01; 10 bags of fertilizer in and out of B-01."""
    known = ids(app, demo)
    with app.app_context(), use_workspace(demo):
        box, fert, a01, b01 = known["BOX-4030"], known["FERT-25"], known["A-01"], known["B-01"]
        post(
            [
                Move(box, a01, Decimal(480), "receipt", unit_cost=Decimal("2.40")),
                Move(box, b01, Decimal(20), "receipt", unit_cost=Decimal("3.00")),
                Move(fert, b01, Decimal(10), "receipt", unit_cost=Decimal("180")),
            ],
            Document("test.receipt", 1, "GR-TEST-1"),
            None,
        )
        post([Move(fert, b01, Decimal(-10), "issue")], Document("test.issue", 1, "MI-1"), None)
        db.session.commit()
    return known


def test_items_carry_on_hand_and_average_cost_as_strings(stocked, api, token_for):
    buyer = token_for("buyer")
    check = spec_checker(api)
    body = check(api(buyer, "GET", "/api/v1/items"), 200, "/api/v1/items")
    by_code = {i["code"]: i for i in body["items"]}
    assert list(by_code) == ["LAPTOP-14", "FERT-25", "BOX-4030"]  # newest first
    box = by_code["BOX-4030"]
    assert (box["on_hand"], box["stock_value"], box["avg_cost"]) == ("500.000", "1212.00", "2.4240")
    assert (box["reorder_point"], box["standard_price"], box["unit"]) == ("500.000", "2.40", "pcs")
    assert (box["category"], box["barcode"], box["is_stock"]) == (
        "Packaging",
        "6901234500011",
        True,
    )
    fert = by_code["FERT-25"]
    assert (fert["on_hand"], fert["stock_value"], fert["avg_cost"]) == ("0.000", "0.00", None)
    assert by_code["LAPTOP-14"]["barcode"] is None

    one = check(
        api(buyer, "GET", f"/api/v1/items/{stocked['BOX-4030']}"), 200, "/api/v1/items/{item_id}"
    )
    assert one == box


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=690123450002", ["FERT-25"]),
        ("kind=non_stock", ["LAPTOP-14"]),
        ("kind=stock&limit=1", ["FERT-25"]),
        ("status=inactive", []),
    ],
)
def test_item_filters(stocked, api, token_for, query, expected):
    body = api(token_for("buyer"), "GET", f"/api/v1/items?{query}").get_json()
    assert [i["code"] for i in body["items"]] == expected


def test_item_pages_follow_next_after(stocked, api, token_for):
    buyer = token_for("buyer")
    page1 = api(buyer, "GET", "/api/v1/items?limit=2").get_json()
    assert [i["code"] for i in page1["items"]] == ["LAPTOP-14", "FERT-25"]
    page2 = api(buyer, "GET", f"/api/v1/items?limit=2&after={page1['next_after']}").get_json()
    assert [i["code"] for i in page2["items"]] == ["BOX-4030"] and page2["next_after"] is None
    cat = api(buyer, "GET", f"/api/v1/items?category_id={stocked['Fertilizer']}").get_json()
    assert [i["code"] for i in cat["items"]] == ["FERT-25"]


def test_create_and_change_an_item(app, demo, api, token_for):
    keeper = token_for("warehouse")
    check = spec_checker(api)
    body = {**NEW, "category_id": ids(app, demo)["Fertilizer"]}
    created = check(api(keeper, "POST", "/api/v1/items", json=body), 201, "/api/v1/items", "post")
    assert (created["reorder_point"], created["standard_price"], created["reorder_qty"]) == (
        "50.000",
        "35.50",
        "0.000",
    )
    assert created["category"] == "Fertilizer" and created["on_hand"] == "0.000"
    url = f"/api/v1/items/{created['id']}"
    changed = check(
        api(
            keeper, "PATCH", url, json={"standard_price": "36", "barcode": None, "is_stock": False}
        ),
        200,
        "/api/v1/items/{item_id}",
        "patch",
    )
    assert (changed["standard_price"], changed["barcode"], changed["is_stock"]) == (
        "36.00",
        None,
        False,
    )
    assert changed["name"] == "Tomato seeds 100g"
    with app.app_context(), system():
        item = db.session.get(Item, created["id"])
        assert (item.standard_price, item.barcode, item.is_stock) == (Decimal("36.00"), None, False)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {**NEW, "code": "box-4030", "barcode": "6901234500011", "unit": "dozen"},
            {
                "code": "The code BOX-4030 is already used by Packaging box 40x30.",
                "barcode": "The barcode 6901234500011 is already used by Packaging box 40x30.",
                "unit": "Not a valid choice.",
            },
        ),
        ({**NEW, "standard_price": 35.5}, {"standard_price": None}),  # a float: never
        ({**NEW, "standard_price": "35.555"}, {"standard_price": "At most 2 decimal places."}),
        ({**NEW, "reorder_point": "-1"}, {"reorder_point": None}),
        ({**NEW, "reorder_qty": "1.0005"}, {"reorder_qty": None}),
        ({**NEW, "category_id": 999999}, {"category_id": "Not a valid choice."}),
        ({**NEW, "category_id": "1"}, {"category_id": "Give a whole number."}),
        ({**NEW, "is_stock": 1}, {"is_stock": "Give true or false."}),
        ({**NEW, "weight": "1"}, {"weight": "Unknown field."}),
        ({"name": "no code"}, {"code": "This field is required."}),
    ],
)
def test_bad_item_input_is_422_and_writes_nothing(app, demo, api, token_for, body, errors):
    keeper = token_for("warehouse")
    api(keeper, "GET", "/api/v1/me")  # the token's first use stamps last_used_at
    before = rows_of(app, demo)
    assert_invalid(api(keeper, "POST", "/api/v1/items", json=body), errors)
    assert rows_of(app, demo) == before


def test_an_item_with_stock_cannot_become_non_stock_over_the_api(stocked, api, token_for):
    resp = api(
        token_for("warehouse"),
        "PATCH",
        f"/api/v1/items/{stocked['BOX-4030']}",
        json={"is_stock": False},
    )
    assert resp.status_code == 422
    assert resp.get_json()["errors"]["is_stock"] == [
        "Packaging box 40x30 has 500 on hand: issue or count it out before making it a "
        "non-stock item."
    ]


def test_stock_balances_by_item_location_and_warehouse(stocked, api, token_for):
    buyer = token_for("buyer")
    check = spec_checker(api)
    body = check(api(buyer, "GET", "/api/v1/stock-balances"), 200, "/api/v1/stock-balances")
    rows = [(b["item"]["code"], b["location"]["code"], b["qty"], b["value"]) for b in body["items"]]
    assert rows == [  # fertilizer went to zero on B-01: not listed
        ("BOX-4030", "B-01", "20.000", "60.00"),
        ("BOX-4030", "A-01", "480.000", "1152.00"),
    ]
    assert body["items"][1]["avg_cost"] == "2.4000"
    assert body["items"][1]["location"]["warehouse_id"] == stocked["WH1"]
    by_location = api(buyer, "GET", f"/api/v1/stock-balances?location_id={stocked['A-01']}")
    assert [b["qty"] for b in by_location.get_json()["items"]] == ["480.000"]
    by_item = api(buyer, "GET", f"/api/v1/stock-balances?item_id={stocked['FERT-25']}")
    assert by_item.get_json()["items"] == []
    by_wh = api(buyer, "GET", f"/api/v1/stock-balances?warehouse_id={stocked['WH1']}&limit=1")
    first = by_wh.get_json()
    assert len(first["items"]) == 1 and first["next_after"] == first["items"][0]["id"]
    bad = api(buyer, "GET", "/api/v1/stock-balances?item_id=abc")
    assert bad.status_code == 422 and list(bad.get_json()["errors"]) == ["item_id"]


def test_reading_needs_item_read_and_writing_item_manage(stocked, api, token_for):
    staff, buyer = token_for("staff"), token_for("buyer")
    for url in ("/api/v1/items", f"/api/v1/items/{stocked['BOX-4030']}", "/api/v1/stock-balances"):
        assert api(staff, "GET", url).status_code == 403, url
        assert api(buyer, "GET", url).status_code == 200, url
    assert api(buyer, "POST", "/api/v1/items", json=NEW).status_code == 403
    resp = api(buyer, "PATCH", f"/api/v1/items/{stocked['BOX-4030']}", json={"name": "x"})
    assert resp.status_code == 403 and resp.get_json()["error"] == "forbidden"


def test_another_workspaces_items_and_balances_stay_invisible(
    app, stocked, api, token_for, make_workspace, make_member
):
    beta = make_workspace("beta", "BETA-SECRET Co")
    make_member(beta, "beta_boss", roles=("suite.admin",))
    with app.app_context(), use_workspace(beta.id):
        item = master.save_item(None, master.ItemInput(code="B-1", name="BETA-SECRET item"))
        wh = master.save_warehouse(None, code="WH1", name="BETA-SECRET wh", active=True)
        post(
            [Move(item.id, wh.locations[0].id, Decimal(5), "receipt", unit_cost=Decimal(1))],
            Document("test.receipt", 1, "GR-B"),
            None,
        )
        db.session.commit()
        beta_item, beta_location = item.id, wh.locations[0].id
    admin = token_for("admin")
    api(admin, "GET", "/api/v1/me")
    before = rows_of(app, beta.id)
    assert api(admin, "GET", f"/api/v1/items/{beta_item}").status_code == 404
    resp = api(admin, "PATCH", f"/api/v1/items/{beta_item}", json={"name": "mine"})
    assert resp.status_code == 404 and resp.get_json()["error"] == "not_found"
    for url in (
        "/api/v1/items?q=BETA",
        f"/api/v1/stock-balances?item_id={beta_item}",
        f"/api/v1/stock-balances?location_id={beta_location}",
    ):
        body = api(admin, "GET", url).get_json()
        assert body["items"] == [], url
    with app.app_context(), system():
        assert db.session.scalar(
            sa.select(sa.func.count(StockBalance.id)).where(StockBalance.workspace_id == beta.id)
        )
    assert rows_of(app, beta.id) == before
