"""Goods receipts (入库单): stock in at the order price, received and open quantities, the order's
status, refusals (zero, negative, four decimals, over-receipt beyond the setting, a draft order,
a foreign location), fixed assets by the acceptance group, returns to the supplier, the phone
entry page with its scan box, the list and its export."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from openpyxl import load_workbook

from modules.inventory.models import Location, StockBalance, StockMove, Warehouse
from modules.inventory.stock import Document, Move, average_cost, post
from modules.purchasing import settings
from modules.purchasing.models import GoodsReceipt, PurchaseOrder
from modules.purchasing.services import receipts as services
from suite.db import db
from suite.errors import DomainError
from suite.tenancy import Workspace, use_workspace
from tests.modules.purchasing.conftest import BOX, FERT, LAPTOP, item, location, member


def stock(inside, code=BOX, loc="A-01"):
    """(on hand, average cost) of an item at a location."""
    with inside():
        bal = db.session.scalar(
            sa.select(StockBalance).where(
                StockBalance.item_id == item(code).id, StockBalance.location_id == location(loc).id
            )
        )
        return (bal.qty, average_cost(bal)) if bal else (Decimal(0), Decimal(0))


def lines_of(inside, order_id):
    """[(item code, received, open)] and the order's status."""
    with inside():
        order = db.session.get(PurchaseOrder, order_id)
        return [(ln.item.code, ln.received_qty, ln.open_qty) for ln in order.lines], order.status


def receipts_count(inside):
    with inside():
        return db.session.scalar(sa.select(sa.func.count()).select_from(GoodsReceipt))


def post_as(inside, order_id, quantities, login="warehouse", loc="A-01"):
    """post_receipt in English; returns the DomainError (message, field) or the receipt number."""
    with inside(), force_locale("en"):
        order = db.session.get(PurchaseOrder, order_id)
        by_code = {ln.item.code: ln.id for ln in order.lines}
        try:
            receipt = services.post_receipt(
                order,
                member(login),
                location_id=location(loc).id if loc else None,
                quantities={by_code[c]: Decimal(q) for c, q in quantities.items()},
            )
        except DomainError as exc:
            db.session.rollback()
            return exc.message, exc.field and re.sub(r"\d+", "N", exc.field)
        db.session.commit()
        return receipt.number


# --- the service ----------------------------------------------------------------------------------


def test_480_of_500_boxes_raise_stock_by_480_at_the_order_price(world, inside):
    order_id = world.order()  # 500 x 2.40
    number = post_as(inside, order_id, {BOX: "480"})
    assert re.fullmatch(r"GRN-\d{4}-0001", number)
    assert stock(inside) == (Decimal("480.000"), Decimal("2.4000"))
    assert lines_of(inside, order_id) == (
        [(BOX, Decimal("480.000"), Decimal("20.000"))],
        "partially_received",
    )
    with inside():
        (move,) = db.session.scalars(sa.select(StockMove)).all()
        receipt = db.session.scalar(sa.select(GoodsReceipt))
        assert (move.kind, move.qty, move.value, move.document_type, move.document_number) == (
            "receipt",
            Decimal("480.000"),
            Decimal("1152.00"),
            "purchasing.goods_receipt",
            number,
        )
        assert (receipt.status, receipt.received_by_id) == ("posted", member("warehouse").id)
    assert post_as(inside, order_id, {BOX: "20"}).endswith("0002")
    assert lines_of(inside, order_id)[1] == "received"
    assert stock(inside)[0] == Decimal("500.000")


def test_moving_average_cost_after_a_second_price(world, inside):
    first = world.order()
    second = world.order(lines=[(BOX, "SUP-003", "100", "3.00")])
    post_as(inside, first, {BOX: "300"})  # 300 x 2.40 = 720.00
    post_as(inside, second, {BOX: "100"})  # 100 x 3.00 = 300.00
    assert stock(inside) == (Decimal("400.000"), Decimal("2.5500"))  # 1,020.00 / 400


@pytest.mark.parametrize(
    ("qty", "message", "field"),
    [
        ("0", "Enter the quantity received for at least one line.", "qty-N"),
        ("-1", "The quantity cannot be negative.", "qty-N"),
        ("1.0005", "At most three decimal places.", "qty-N"),
        ("501", "Line 1 (Packaging box 40x30): 500 open, 501 asked for.", "qty-N"),
    ],
)
def test_bad_quantities_are_refused_and_nothing_is_written(world, inside, qty, message, field):
    order_id = world.order()
    assert post_as(inside, order_id, {BOX: qty}) == (message, field)
    assert receipts_count(inside) == 0
    assert stock(inside)[0] == 0 and lines_of(inside, order_id)[1] == "confirmed"


def test_over_receipt_names_the_line_the_open_and_the_asked_qty(world, inside):
    order_id = world.order(
        lines=[(FERT, "SUP-001", "20", "180.00"), (BOX, "SUP-001", "500", "2.40")]
    )
    post_as(inside, order_id, {BOX: "480"})
    assert post_as(inside, order_id, {BOX: "25"}) == (
        "Line 2 (Packaging box 40x30): 20 open, 25 asked for.",
        "qty-N",
    )
    assert lines_of(inside, order_id)[0][1] == (BOX, Decimal("480.000"), Decimal("20.000"))


def test_over_receipt_allowance_is_a_setting(world, inside, demo):
    order_id = world.order()
    with inside():
        settings.put(db.session.get(Workspace, demo.id), over_receipt_percent=Decimal("10"))
        db.session.commit()
    assert post_as(inside, order_id, {BOX: "551"}) == (
        "Line 1 (Packaging box 40x30): 500 open, at most 550 with the over-receipt allowance; "
        "551 asked for.",
        "qty-N",
    )
    assert post_as(inside, order_id, {BOX: "550"}).startswith("GRN-")
    assert lines_of(inside, order_id) == ([(BOX, Decimal("550.000"), Decimal("0"))], "received")


def test_a_draft_order_cannot_receive(world, inside):
    order_id = world.order(confirmed=False)
    assert post_as(inside, order_id, {BOX: "1"}) == (
        "The supplier has not confirmed this order yet.",
        None,
    )


def test_asset_orders_are_accepted_by_the_acceptance_group_without_stock(world, inside):
    order_id = world.order(lines=[(LAPTOP, "SUP-003", "2", "6000.00")], is_asset=True)
    assert post_as(inside, order_id, {LAPTOP: "2"}, login="warehouse") == (
        "Fixed assets are received by the asset acceptance group.",
        None,
    )
    number = post_as(inside, order_id, {LAPTOP: "2"}, login="acceptance", loc=None)
    assert number.startswith("GRN-")
    with inside():
        receipt = db.session.scalar(sa.select(GoodsReceipt))
        assert (receipt.status, receipt.location_id) == ("accepted", None)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StockMove)) == 0
    assert lines_of(inside, order_id)[1] == "received"


def test_the_acceptance_group_does_not_receive_stock_orders(world, inside):
    order_id = world.order()
    assert post_as(inside, order_id, {BOX: "1"}, login="acceptance") == (
        "You may not receive goods.",
        None,
    )


def test_a_stock_receipt_needs_a_location_of_this_workspace(app, world, inside, make_workspace):
    order_id = world.order()
    assert post_as(inside, order_id, {BOX: "1"}, loc=None) == (
        "Choose the location the goods go to.",
        "location_id",
    )
    other = make_workspace("beta")
    with app.app_context(), use_workspace(other.id):
        wh = Warehouse(code="W9", name="Foreign")
        db.session.add(wh)
        db.session.flush()
        foreign = Location(warehouse_id=wh.id, code="Z-9", name="Foreign shelf")
        db.session.add(foreign)
        db.session.commit()
        foreign_id = foreign.id
    with inside(), force_locale("en"):
        order = db.session.get(PurchaseOrder, order_id)
        with pytest.raises(DomainError, match="Choose a location."):
            services.post_receipt(
                order,
                member("warehouse"),
                location_id=foreign_id,
                quantities={order.lines[0].id: Decimal(1)},
            )
    assert receipts_count(inside) == 0


# --- returns to the supplier ----------------------------------------------------------------------


def test_return_to_supplier_takes_stock_out_and_reopens_the_line(world, inside):
    order_id = world.order()
    receipt_id = world.receive(order_id, {BOX: "500"})
    with inside(), force_locale("en"):
        receipt = db.session.get(GoodsReceipt, receipt_id)
        ret = services.return_to_supplier(
            receipt, member("warehouse"), {receipt.lines[0].id: Decimal(80)}, note="Crushed"
        )
        db.session.commit()
        assert re.fullmatch(r"GRT-\d{4}-0001", ret.number)
        assert (ret.status, ret.return_of_id, ret.lines[0].qty) == (
            "returned",
            receipt_id,
            Decimal("-80.000"),
        )
        move = db.session.scalar(sa.select(StockMove).where(StockMove.kind == "return"))
        assert (move.qty, move.value) == (Decimal("-80.000"), Decimal("-192.00"))
        receipt = db.session.get(GoodsReceipt, receipt_id)
        with pytest.raises(
            DomainError,
            match=r"Line 1 \(Packaging box 40x30\): 420 can be returned, 421 asked for.",
        ):
            services.return_to_supplier(
                receipt, member("warehouse"), {receipt.lines[0].id: Decimal(421)}
            )
        db.session.rollback()
    assert stock(inside) == (Decimal("420.000"), Decimal("2.4000"))
    assert lines_of(inside, order_id) == (
        [(BOX, Decimal("420.000"), Decimal("80.000"))],
        "partially_received",
    )


def test_a_return_is_refused_when_the_stock_is_gone(world, inside):
    order_id = world.order()
    receipt_id = world.receive(order_id, {BOX: "480"})
    with inside():
        post(
            [Move(item(BOX).id, location().id, Decimal(-400), "issue")],
            Document("test", 1, "MI-1"),
            None,
        )
        db.session.commit()
    with inside(), force_locale("en"):
        receipt = db.session.get(GoodsReceipt, receipt_id)
        with pytest.raises(DomainError, match="80 on hand, 100 asked for"):
            services.return_to_supplier(
                receipt, member("warehouse"), {receipt.lines[0].id: Decimal(100)}
            )
        db.session.rollback()
    assert lines_of(inside, order_id)[0] == [(BOX, Decimal("480.000"), Decimal("20.000"))]
    assert stock(inside)[0] == Decimal("80.000")


# --- the pages ------------------------------------------------------------------------------------


def test_entry_page_prefills_the_open_qty_and_posts_over_http(world, as_user, inside):
    order_id = world.order()
    world.receive(order_id, {BOX: "100"})
    with inside():
        line_id = db.session.get(PurchaseOrder, order_id).lines[0].id
        a01, b01 = location("A-01").id, location("B-01").id
    wh = as_user("warehouse")
    page = wh.get(f"/purchasing/orders/{order_id}/receipts/new").get_data(as_text=True)
    assert (
        f'name="qty-{line_id}" class="grn-qty" inputmode="decimal" autocomplete="off" value="400"'
        in page
    )
    assert f'<option value="{a01}" selected>' in page  # the first location by default
    over = wh.form(
        f"/purchasing/orders/{order_id}/receipts/new",
        {f"qty-{line_id}": "401", "location_id": str(b01)},
    )
    html = over.get_data(as_text=True)
    assert over.status_code == 422
    assert (
        f'id="err-qty-{line_id}">Line 1 (Packaging box 40x30): 400 open, 401 asked for.</p>' in html
    )
    assert 'value="401"' in html and f'<option value="{b01}" selected>' in html
    bad = wh.form(
        f"/purchasing/orders/{order_id}/receipts/new",
        {f"qty-{line_id}": "abc", "location_id": str(a01)},
    )
    assert bad.status_code == 422 and "Not a valid number." in bad.get_data(as_text=True)
    assert receipts_count(inside) == 1
    ok = wh.form(
        f"/purchasing/orders/{order_id}/receipts/new",
        {f"qty-{line_id}": "1,00", "location_id": str(b01), "note": "Pallet 2"},
    )
    assert ok.status_code == 303
    receipt_id = int(re.search(r"/purchasing/receipts/(\d+)$", ok.headers["Location"]).group(1))
    assert stock(inside, loc="B-01")[0] == Decimal("100.000")
    detail = wh.get(f"/purchasing/receipts/{receipt_id}").get_data(as_text=True)
    assert "Pallet 2" in detail and "B区 01 货架" in detail and "Return to supplier" in detail


def test_scanning_an_item_code_or_barcode_focuses_its_line(world, as_user, inside):
    order_id = world.order(
        lines=[(BOX, "SUP-001", "500", "2.40"), (FERT, "SUP-001", "20", "180.00")]
    )
    with inside():
        box_line, fert_line = (ln.id for ln in db.session.get(PurchaseOrder, order_id).lines)
    wh = as_user("warehouse")
    url = f"/purchasing/orders/{order_id}/receipts/new"
    target = f"purchase-order-{order_id}-receipt-lines"
    resp = wh.htmx(
        "GET", f"{url}?scan=6901234500028&qty-{box_line}=480&qty-{fert_line}=20", target=target
    )
    html = resp.get_data(as_text=True)
    assert html.lstrip().startswith(f'<div id="{target}"') and "<html" not in html
    focused = re.search(r'<input id="(qty-\d+)"[^>]*autofocus', html).group(1)
    assert focused == f"qty-{fert_line}"
    assert 'value="480"' in html  # what was typed stays
    html = wh.get(f"{url}?scan=box-4030").get_data(as_text=True)
    assert re.search(r'<input id="(qty-\d+)"[^>]*autofocus', html).group(1) == f"qty-{box_line}"
    html = wh.get(f"{url}?scan=NOPE").get_data(as_text=True)
    assert (
        "No line of this order has the code NOPE." in html
        and "autofocus" not in html.split("grn-lines", 1)[1]
    )


def test_pick_the_order_by_number(world, as_user, inside):
    order_id = world.order()
    with inside():
        number = db.session.get(PurchaseOrder, order_id).number
    wh = as_user("warehouse")
    page = wh.get("/purchasing/receipts/new").get_data(as_text=True)
    assert f"/purchasing/orders/{order_id}/receipts/new" in page
    resp = wh.get(f"/purchasing/receipts/new?number={number.lower()}")
    assert (
        resp.status_code == 303
        and resp.headers["Location"] == f"/purchasing/orders/{order_id}/receipts/new"
    )
    assert "No order has the number PO-1999-0001." in wh.get(
        "/purchasing/receipts/new?number=PO-1999-0001"
    ).get_data(as_text=True)
    # the acceptance group sees asset orders only
    assert f"/purchasing/orders/{order_id}/receipts/new" not in as_user("acceptance").get(
        "/purchasing/receipts/new"
    ).get_data(as_text=True)


def test_asset_receipt_page_is_for_the_acceptance_group(world, as_user):
    order_id = world.order(lines=[(LAPTOP, "SUP-003", "1", "6000.00")], is_asset=True)
    url = f"/purchasing/orders/{order_id}/receipts/new"
    assert as_user("warehouse").get(url).status_code == 403
    page = as_user("acceptance").get(url).get_data(as_text=True)
    assert "Accept fixed asset" in page and 'name="location_id"' not in page


def test_return_over_http_with_errors_next_to_the_line(world, as_user, inside):
    order_id = world.order()
    receipt_id = world.receive(order_id, {BOX: "480"})
    with inside():
        rl = db.session.get(GoodsReceipt, receipt_id).lines[0].id
    wh = as_user("warehouse")
    url = f"/purchasing/receipts/{receipt_id}/return"
    too_many = wh.form(url, {f"qty-{rl}": "481"})
    assert too_many.status_code == 422
    assert (
        f'id="err-qty-{rl}">Line 1 (Packaging box 40x30): 480 can be returned, 481 asked for.'
        in too_many.get_data(as_text=True)
    )
    assert as_user("buyer").form(url, {f"qty-{rl}": "1"}).status_code == 403
    ok = wh.form(url, {f"qty-{rl}": "30", "note": "Wrong size"})
    assert ok.status_code == 303
    assert stock(inside)[0] == Decimal("450.000")


def test_receipt_list_search_and_export(world, as_user, inside):
    first = world.order()
    second = world.order(lines=[(FERT, "SUP-002", "20", "180.00")])
    a = world.receive(first, {BOX: "480"})
    b = world.receive(second, {FERT: "20"})
    with inside():
        number = db.session.get(PurchaseOrder, second).number
    buyer = as_user("buyer")
    html = buyer.get("/purchasing/receipts").get_data(as_text=True)
    assert re.findall(r'id="goods-receipt-(\d+)-row"', html) == [str(b), str(a)]
    html = buyer.get(f"/purchasing/receipts?q={number}").get_data(as_text=True)
    assert re.findall(r'id="goods-receipt-(\d+)-row"', html) == [str(b)]
    html = buyer.get("/purchasing/receipts?q=华盛").get_data(as_text=True)
    assert re.findall(r'id="goods-receipt-(\d+)-row"', html) == [str(a)]
    rows = list(
        load_workbook(
            io.BytesIO(buyer.get("/purchasing/receipts/export.xlsx").data)
        ).active.iter_rows(values_only=True)
    )
    assert rows[0][:3] == ("Number", "Status", "Order")
    assert [(r[5], r[7], r[8]) for r in rows[1:]] == [(FERT, 20, 180), (BOX, 480, 2.4)]


def test_receipt_entry_and_page_show_the_unit_in_the_pages_language(world, as_user, inside):
    order_id = world.order()
    receipt_id = world.receive(order_id, {BOX: "480"})
    wh = as_user("warehouse")
    assert wh.form("/language", {"locale": "zh_CN"}).status_code == 303
    entry = wh.get(f"/purchasing/orders/{order_id}/receipts/new").get_data(as_text=True)
    assert '<span class="grn-unit">个</span>' in entry and ">pcs<" not in entry
    detail = wh.get(f"/purchasing/receipts/{receipt_id}").get_data(as_text=True)
    assert '<td class="num">480 个</td>' in detail and "480 pcs" not in detail
