"""Purchase requests (请购单): the form with lines, routing by amount, approval into orders, the
fixed-asset stop, locking, visibility, lists, the low-stock shortcut. Exact numbers (S1.1-S1.3)."""

from __future__ import annotations

import io
import re
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from openpyxl import load_workbook

from modules.inventory.models import Item
from modules.purchasing.models import PurchaseOrder, PurchaseRequest, PurchaseRequestLine
from modules.purchasing.services import requests as services
from suite.db import db
from suite.errors import DomainError
from suite.notify.models import OutboxMessage
from suite.workflow import definitions, engine
from suite.workflow.models import ProcessInstance
from tests.modules.purchasing.conftest import (
    BOX,
    FERT,
    LAPTOP,
    approvers,
    item,
    location,
    member,
    open_tasks,
    party,
)


def form_data(inside, lines, **extra):
    """The request form's fields for (item code, supplier code, qty, price) lines."""
    data = {"project": "", "reason": "", **extra}
    with inside():
        for n, (code, sup, qty, price) in enumerate(lines):
            data[f"lines-{n}-item_id"] = str(item(code).id) if code else ""
            data[f"lines-{n}-supplier_id"] = str(party(sup).id) if sup else ""
            data[f"lines-{n}-qty"] = qty
            data[f"lines-{n}-unit_price"] = price
            data[f"lines-{n}-description"] = ""
    return data


S1 = [(BOX, "SUP-001", "500", "2.40"), (FERT, "SUP-002", "20", "180.00")]


def create(client, inside, lines=S1, **extra):
    resp = client.form("/purchasing/requests/new", form_data(inside, lines, **extra))
    assert resp.status_code == 303, resp.get_data(as_text=True)[:3000]
    return int(re.search(r"/purchasing/requests/(\d+)$", resp.headers["Location"]).group(1))


def count(inside, model):
    with inside():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- the form -------------------------------------------------------------------------------------


def test_staff_raises_the_s1_request_with_amounts_computed_by_the_server(as_user, inside):
    staff = as_user("staff")
    page = staff.get("/purchasing/requests/new").get_data(as_text=True)
    assert 'id="purchase-request-form"' in page and "Packaging box 40x30" in page
    assert "华盛包装有限公司" in page  # suppliers to choose from
    req_id = create(staff, inside, project="P-2026-001", reason="Spring packing")
    with inside():
        req = db.session.get(PurchaseRequest, req_id)
        assert re.fullmatch(r"PR-\d{4}-0001", req.number)
        assert (req.status, req.amount_total, req.project) == (
            "draft",
            Decimal("4800.00"),
            "P-2026-001",
        )
        assert req.department.name.startswith("Production")
        assert [(ln.qty, ln.unit_price, ln.amount) for ln in req.lines] == [
            (Decimal("500.000"), Decimal("2.40"), Decimal("1200.00")),
            (Decimal("20.000"), Decimal("180.00"), Decimal("3600.00")),
        ]
    detail = staff.get(f"/purchasing/requests/{req_id}").get_data(as_text=True)
    assert "CN¥1,200.00" in detail and "CN¥3,600.00" in detail
    assert f'id="purchase-request-{req_id}-total">CN¥4,800.00<' in detail
    assert f"/purchasing/requests/{req_id}/submit" in detail
    assert "Department head" in detail  # the route preview before submitting


def test_add_and_remove_a_line_over_htmx_saves_nothing(as_user, inside):
    staff = as_user("staff")
    data = form_data(inside, S1[:1]) | {"op": "add"}
    resp = staff.htmx("POST", "/purchasing/requests/new", target="purchase-request-form", data=data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<form id="purchase-request-form"')
    assert 'name="lines-1-item_id"' in html and 'name="lines-2-item_id"' not in html
    assert 'value="500"' in html  # what was typed stays
    two = form_data(inside, S1) | {"op": "remove-0"}
    html = staff.htmx(
        "POST", "/purchasing/requests/new", target="purchase-request-form", data=two
    ).get_data(as_text=True)
    assert (
        'name="lines-1-item_id"' not in html and 'value="20"' in html and 'value="500"' not in html
    )
    assert count(inside, PurchaseRequest) == 0


def test_live_preview_shows_the_total_and_finance_above_5000(as_user, inside):
    staff = as_user("staff")
    data = form_data(inside, [(BOX, "SUP-001", "2500", "2.40")])
    resp = staff.htmx(
        "GET",
        "/purchasing/requests/route-preview",
        target="purchase-request-route",
        query_string=data,
    )
    html = resp.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="purchase-request-route"')
    assert "CN¥6,000.00" in html and "Finance budget review" in html
    assert "General manager" not in html
    small = form_data(inside, [(BOX, "SUP-001", "500", "2.40")])
    html = staff.get("/purchasing/requests/route-preview", query_string=small).get_data(
        as_text=True
    )
    assert "CN¥1,200.00" in html and "Finance budget review" not in html


@pytest.mark.parametrize(
    ("lines", "field", "message"),
    [
        ([(BOX, "SUP-001", "0", "2.40")], "lines-0-qty", "The quantity must be more than zero."),
        ([(BOX, "SUP-001", "-5", "2.40")], "lines-0-qty", "The quantity must be more than zero."),
        ([(BOX, "SUP-001", "1.0005", "2.40")], "lines-0-qty", "At most three decimal places."),
        ([(BOX, "SUP-001", "500", "2.405")], "lines-0-unit_price", "At most two decimal places."),
        ([(BOX, "SUP-001", "500", "-1")], "lines-0-unit_price", "The price cannot be negative."),
        ([(BOX, "SUP-001", "lots", "2.40")], "lines-0-qty", "Not a valid decimal value."),
        ([(None, "SUP-001", "5", "2.40")], "lines-0-item_id", "Choose an item."),
    ],
)
def test_bad_lines_answer_422_next_to_the_field_and_write_nothing(
    as_user, inside, lines, field, message
):
    staff = as_user("staff")
    resp = staff.form("/purchasing/requests/new", form_data(inside, lines))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert f'<p class="error" id="err-{field}">{message}</p>' in html
    assert count(inside, PurchaseRequest) == 0 and count(inside, PurchaseRequestLine) == 0


def test_another_workspaces_item_or_supplier_is_refused(app, as_user, inside, make_workspace):
    other = make_workspace("beta")
    from modules.crm.models import Party
    from suite.tenancy import use_workspace

    with app.app_context(), use_workspace(other.id):
        foreign_item = Item(code="X-1", name="Foreign", unit="pcs")
        foreign_party = Party(code="SUP-X", name="Foreign supplier", is_supplier=True)
        db.session.add_all([foreign_item, foreign_party])
        db.session.commit()
        ids = foreign_item.id, foreign_party.id
    staff = as_user("staff")
    for key, value in (("lines-0-item_id", ids[0]), ("lines-0-supplier_id", ids[1])):
        data = form_data(inside, S1[:1]) | {key: str(value)}
        resp = staff.form("/purchasing/requests/new", data)
        assert resp.status_code == 422
        assert f'id="err-{key}">Not a valid choice' in resp.get_data(as_text=True)
    with inside(), pytest.raises(DomainError) as refused:
        services.save_request(
            None,
            member("staff"),
            lines=[services.LineInput(ids[0], None, Decimal(1), Decimal(1))],
        )
    assert refused.value.field == "lines-0-item_id"
    assert count(inside, PurchaseRequest) == 0


# --- routing and approval -------------------------------------------------------------------------


def test_routing_follows_the_amount(world, inside):
    small = world.request()  # 4,800.00
    middle = world.request(lines=[(BOX, "SUP-001", "2500", "2.40")])  # 6,000.00
    big = world.request(lines=[(LAPTOP, "SUP-003", "10", "6000.00")])  # 60,000.00
    with inside():
        amounts = [db.session.get(PurchaseRequest, r).amount_total for r in (small, middle, big)]
    assert amounts == [Decimal("4800.00"), Decimal("6000.00"), Decimal("60000.00")]
    assert world.route(small) == [["dept_head"]]
    assert world.route(middle) == [["dept_head"], ["finance"]]
    assert world.route(big) == [["dept_head"], ["finance"], ["gm"]]


def test_final_approval_creates_one_draft_order_per_supplier_with_the_prices(world, inside):
    req_id = world.approved()
    with inside():
        req = db.session.get(PurchaseRequest, req_id)
        assert req.status == "ordered" and req.approved_at is not None
        orders = db.session.scalars(
            sa.select(PurchaseOrder)
            .where(PurchaseOrder.request_id == req_id)
            .order_by(PurchaseOrder.id)
        ).all()
        assert [o.supplier.code for o in orders] == ["SUP-001", "SUP-002"]
        assert all(re.fullmatch(r"PO-\d{4}-000[12]", o.number) for o in orders)
        assert [o.number[-4:] for o in orders] == ["0001", "0002"]
        assert [(o.status, o.amount_total) for o in orders] == [
            ("draft", Decimal("1200.00")),
            ("draft", Decimal("3600.00")),
        ]
        line = orders[0].lines[0]
        assert (line.item.code, line.qty, line.unit_price, line.received_qty) == (
            BOX,
            Decimal("500.000"),
            Decimal("2.40"),
            Decimal("0.000"),
        )
        # approving again (a replayed outcome) never makes a second set of orders
        assert services.create_orders(req) == orders


def test_dept_head_approves_from_the_page_and_the_orders_appear(world, as_user, inside):
    req_id = world.request()
    head = as_user("dept_head")
    page = head.get(f"/purchasing/requests/{req_id}").get_data(as_text=True)
    assert 'name="command" value="approve"' in page
    with inside():
        req = db.session.get(PurchaseRequest, req_id)
        instance = db.session.get(ProcessInstance, req.instance_id)
        data = {
            "command": "approve",
            "key": uuid.uuid4().hex,
            "expected_version": instance.version,
            "workflow_task_id": open_tasks(req.instance_id)[0].id,
        }
        url = f"/workflow/instances/{req.instance_id}/commands"
    resp = head.htmx("POST", url, target=f"purchase-request-{req_id}-status", data=data)
    assert resp.status_code == 200 and resp.headers["HX-Trigger"] == "workflow:instance-changed"
    body = resp.get_data(as_text=True)
    assert f'id="purchase-request-{req_id}-status"' in body and "Ordered" in body
    assert len(world.orders(req_id)) == 2
    page = as_user("staff").get(f"/purchasing/requests/{req_id}").get_data(as_text=True)
    assert "Purchase orders" in page and "华盛包装有限公司" in page


def test_a_submitted_request_is_locked(world, as_user, inside):
    req_id = world.request()
    staff = as_user("staff")
    resp = staff.get(f"/purchasing/requests/{req_id}/edit")
    assert resp.status_code == 303 and resp.headers["Location"] == f"/purchasing/requests/{req_id}"
    resp = staff.form(
        f"/purchasing/requests/{req_id}/edit", form_data(inside, [(BOX, "SUP-001", "1", "1.00")])
    )
    assert resp.status_code == 303
    with inside():
        assert db.session.get(PurchaseRequest, req_id).amount_total == Decimal("4800.00")
        with force_locale("en"), pytest.raises(DomainError, match="Only a draft can be changed"):
            services.save_request(
                db.session.get(PurchaseRequest, req_id),
                member("staff"),
                lines=[services.LineInput(item(BOX).id, None, Decimal(1), Decimal(1))],
            )


def test_submitting_needs_a_supplier_on_every_line(world, as_user, inside):
    req_id = world.request(lines=[(BOX, None, "500", "2.40")], submit=False)
    resp = as_user("staff").form(f"/purchasing/requests/{req_id}/submit", {"key": "k1"})
    assert resp.status_code == 409
    assert "Choose a supplier for every line before submitting." in resp.get_data(as_text=True)
    with inside():
        req = db.session.get(PurchaseRequest, req_id)
        assert (req.status, req.instance_id) == ("draft", None)


def test_rejected_goes_back_to_the_requester_who_may_change_it(world, inside):
    req_id = world.request()
    with inside():
        req = db.session.get(PurchaseRequest, req_id)
        task = open_tasks(req.instance_id)[0]
        engine.command(
            req.instance_id, "reject", task.assignee_id, task_id=task.id, comment="Too much"
        )
        db.session.commit()
        req = db.session.get(PurchaseRequest, req_id)
        assert req.status == "rejected"
        services.save_request(
            req,
            member("staff"),
            lines=[
                services.LineInput(item(BOX).id, party("SUP-001").id, Decimal(100), Decimal("2.40"))
            ],
        )
        db.session.commit()
        assert db.session.get(PurchaseRequest, req_id).amount_total == Decimal("240.00")
    assert world.orders(req_id) == []


# --- fixed assets (S1.7) --------------------------------------------------------------------------


def test_an_asset_request_waits_for_finances_asset_number(world, as_user, inside):
    req_id = world.approved(lines=[(LAPTOP, "SUP-003", "1", "6000.00")], is_asset=True)
    assert world.orders(req_id) == []
    with inside():
        req = db.session.get(PurchaseRequest, req_id)
        assert (req.status, req.asset_number) == ("approved", None)
        told = db.session.scalars(
            sa.select(OutboxMessage.recipient_id).where(
                OutboxMessage.event == "purchasing.asset_number_needed"
            )
        ).all()
        assert told == [member("finance").id]
    page = as_user("staff").get(f"/purchasing/requests/{req_id}").get_data(as_text=True)
    assert "waiting for the asset number" in page and 'name="asset_number"' not in page
    url = f"/purchasing/requests/{req_id}/asset-number"
    assert as_user("staff").form(url, {"asset_number": "FA-1"}).status_code == 403
    assert as_user("buyer").form(url, {"asset_number": "FA-1"}).status_code == 403
    finance = as_user("finance")
    assert 'name="asset_number"' in finance.get(f"/purchasing/requests/{req_id}").get_data(
        as_text=True
    )
    blank = finance.form(url, {"asset_number": "  "})
    assert (
        blank.status_code == 422
        and 'id="err-asset_number">Enter the asset number.' in blank.get_data(as_text=True)
    )
    assert world.orders(req_id) == []
    resp = finance.form(url, {"asset_number": "FA-2026-007"})
    assert resp.status_code == 303
    (order_id,) = world.orders(req_id)
    with inside():
        order = db.session.get(PurchaseOrder, order_id)
        assert (order.is_asset, order.asset_number, order.status) == (True, "FA-2026-007", "draft")
        assert db.session.get(PurchaseRequest, req_id).status == "ordered"
    again = finance.form(url, {"asset_number": "FA-2"})
    assert again.status_code == 409
    assert "There is no asset number to enter on this request." in again.get_data(as_text=True)
    assert len(world.orders(req_id)) == 1


# --- visibility, lists, export --------------------------------------------------------------------


def test_who_sees_a_request(world, as_user):
    req_id = world.request()
    url = f"/purchasing/requests/{req_id}"
    assert as_user("staff").get(url).status_code == 200
    assert as_user("dept_head").get(url).status_code == 200  # has the task
    assert as_user("buyer").get(url).status_code == 200  # sees all requests
    assert as_user("finance").get(url).status_code == 200
    assert as_user("sales").get(url).status_code == 404  # another department, no task


def test_my_list_all_list_search_and_keyset(app, world, as_user, inside):
    ids = [world.request(submit=False, project=f"P-{n:02d}") for n in range(27)]
    other = world.request("buyer", submit=False, project="BUYER-ONLY")
    staff = as_user("staff")
    first = staff.get("/purchasing/requests").get_data(as_text=True)
    shown = [int(i) for i in re.findall(r'id="purchase-request-(\d+)-row"', first)]
    assert shown == ids[::-1][:25]
    more = (
        re.search(r'href="(/purchasing/requests\?[^"]*before=\d+)"', first)
        .group(1)
        .replace("&amp;", "&")
    )
    rest = staff.htmx("GET", more, target="purchase-request-rows").get_data(as_text=True)
    assert [int(i) for i in re.findall(r'id="purchase-request-(\d+)-row"', rest)] == ids[1::-1]
    assert other not in shown
    # staff cannot widen the scope; the buyer can, and search by project
    assert f"purchase-request-{other}-row" not in staff.get(
        "/purchasing/requests?scope=all"
    ).get_data(as_text=True)
    html = (
        as_user("buyer").get("/purchasing/requests?scope=all&q=buyer-only").get_data(as_text=True)
    )
    assert re.findall(r'id="purchase-request-(\d+)-row"', html) == [str(other)]
    resp = as_user("buyer").get("/purchasing/requests/export.xlsx?scope=all&q=P-0")
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(resp.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("Number", "Status") and len(rows) == 1 + 10
    assert rows[1][7] == 4800 and rows[1][1] == "Draft"


# --- low stock in one click (S7.3) ----------------------------------------------------------------


def test_low_stock_makes_a_draft_for_the_shortfall_from_the_last_supplier(world, as_user, inside):
    # the box was last bought from SUP-003; nothing is on hand; reorder point 500, no reorder qty
    world.approved(lines=[(BOX, "SUP-003", "10", "2.50")])
    with inside():
        box = item(BOX)
        box_id = box.id
    buyer = as_user("buyer")
    resp = buyer.form("/purchasing/requests/from-low-stock", {"item_id": str(box_id)})
    assert resp.status_code == 303
    req_id = int(re.search(r"/purchasing/requests/(\d+)/edit$", resp.headers["Location"]).group(1))
    with inside():
        req = db.session.get(PurchaseRequest, req_id)
        assert (req.status, req.requester_id) == ("draft", member("buyer").id)
        (line,) = req.lines
        assert (line.item_id, line.supplier.code, line.qty, line.unit_price, line.amount) == (
            box_id,
            "SUP-003",
            Decimal("500.000"),
            Decimal("2.40"),
            Decimal("1200.00"),
        )
        # with a reorder qty set, that is what is asked for
        db.session.get(Item, box_id).reorder_qty = Decimal("800")
        db.session.commit()
    resp = buyer.form("/purchasing/requests/from-low-stock", {"item_id": str(box_id)})
    req_id = int(re.search(r"/purchasing/requests/(\d+)/edit$", resp.headers["Location"]).group(1))
    with inside():
        assert db.session.get(PurchaseRequest, req_id).lines[0].qty == Decimal("800.000")
    edit = buyer.get(f"/purchasing/requests/{req_id}/edit").get_data(as_text=True)
    assert 'value="800"' in edit


def test_low_stock_refuses_an_item_that_is_not_low_and_unknown_ids(world, as_user, inside):
    with inside():
        fert = item(FERT)  # reorder point 10
        from modules.inventory.stock import Document, Move, post

        post(
            [Move(fert.id, location().id, Decimal(50), "adjustment", unit_cost=Decimal(180))],
            Document("test", 1, "T-1"),
            None,
        )
        db.session.commit()
        fert_id = fert.id
    buyer = as_user("buyer")
    resp = buyer.form("/purchasing/requests/from-low-stock", {"item_id": str(fert_id)})
    assert resp.status_code == 303 and resp.headers["Location"] == "/purchasing/requests"
    assert "Fertilizer 25kg is not below its reorder point." in buyer.get(
        "/purchasing/requests"
    ).get_data(as_text=True)
    assert (
        buyer.form("/purchasing/requests/from-low-stock", {"item_id": "999999"}).status_code == 404
    )
    assert count(inside, PurchaseRequest) == 0


# --- the threshold is a process setting (S10.1) --------------------------------------------------


def test_an_admin_lowers_the_finance_threshold_and_only_new_requests_follow(
    app, world, as_user, inside
):
    before = world.request()  # 4,800.00 under the 5,000 threshold
    with inside():
        pid = definitions.definition_for("purchasing.purchase_request").id
        db.session.commit()
    admin = as_user("admin")
    url = f"/admin/processes/{pid}"
    resp = admin.form(
        f"{url}/params", {"param-finance_threshold": "3,000", "param-gm_threshold": "50000"}
    )
    assert resp.status_code in (200, 303), resp.get_data(as_text=True)[:2000]
    assert admin.form(f"{url}/publish", {}).status_code == 303
    after = world.request()
    assert world.route(before) == [["dept_head"]]
    assert world.route(after) == [["dept_head"], ["finance"]]
    with inside():
        assert approvers(db.session.get(PurchaseRequest, after).instance_id) == []


def test_the_dept_heads_inbox_lists_the_request_and_links_to_it(world, as_user, inside):
    req_id = world.request()
    with inside():
        number = db.session.get(PurchaseRequest, req_id).number
    html = as_user("dept_head").get("/inbox").get_data(as_text=True)
    assert f'href="/purchasing/requests/{req_id}"' in html
    assert number in html and "Purchase request" in html


# --- the form's line amounts, units and line numbers (S1 browser walk) ----------------------------


def amounts_shown(html: str, oob: bool) -> list[tuple[str, str]]:
    """(line index, text) of each line's amount paragraph; `oob`: the out-of-band ones only."""
    swap = ' hx-swap-oob="true"' if oob else ""
    found = re.findall(
        rf'<p class="pr-amount" id="purchase-request-line-(\d+)-amount"{swap}>(.*?)</p>', html, re.S
    )
    return [(n, " ".join(re.sub(r"<[^>]+>", " ", body).split())) for n, body in found]


def test_the_live_preview_redraws_every_lines_amount_not_only_the_total(as_user, inside):
    staff = as_user("staff")
    page = staff.get("/purchasing/requests/new").get_data(as_text=True)
    assert amounts_shown(page, oob=False) == [("0", "Amount —")]
    data = form_data(inside, S1)
    data["lines-1-qty"] = "25"  # the second line's quantity was changed
    resp = staff.htmx(
        "GET",
        "/purchasing/requests/route-preview",
        target="purchase-request-route",
        query_string=data,
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<section id="purchase-request-route"')
    assert "CN¥5,700.00" in html  # the total: 1,200.00 + 25 x 180.00
    assert amounts_shown(html, oob=True) == [
        ("0", "Amount CN¥1,200.00 500 Piece × CN¥2.40"),
        ("1", "Amount CN¥4,500.00 25 Bag × CN¥180.00"),
    ]
    # A quantity that is not a number yet: that line shows no amount, the other keeps its own.
    data["lines-1-qty"] = "2x"
    html = staff.htmx(
        "GET",
        "/purchasing/requests/route-preview",
        target="purchase-request-route",
        query_string=data,
    ).get_data(as_text=True)
    assert amounts_shown(html, oob=True) == [
        ("0", "Amount CN¥1,200.00 500 Piece × CN¥2.40"),
        ("1", "Amount —"),
    ]
    # Posted with a mistake (422): the form's lines keep their amounts, not out of band.
    resp = staff.form("/purchasing/requests/new", form_data(inside, S1, reason="x" * 5001))
    assert resp.status_code == 422
    assert amounts_shown(resp.get_data(as_text=True), oob=False) == [
        ("0", "Amount CN¥1,200.00 500 Piece × CN¥2.40"),
        ("1", "Amount CN¥3,600.00 20 Bag × CN¥180.00"),
    ]


def test_request_pages_show_units_in_the_pages_language(as_user, inside):
    staff = as_user("staff")
    assert staff.form("/language", {"locale": "zh_CN"}).status_code == 303
    req_id = create(staff, inside)
    detail = staff.get(f"/purchasing/requests/{req_id}").get_data(as_text=True)
    assert '<td class="num">500 个</td>' in detail and '<td class="num">20 袋</td>' in detail
    html = staff.htmx(
        "GET",
        "/purchasing/requests/route-preview",
        target="purchase-request-route",
        query_string=form_data(inside, S1),
    ).get_data(as_text=True)
    assert [text for _n, text in amounts_shown(html, oob=True)] == [
        "金额 ¥1,200.00 500 个 × ¥2.40",
        "金额 ¥3,600.00 20 袋 × ¥180.00",
    ]
    assert (
        " pcs" not in detail + html and ">pcs<" not in detail + html and " bag" not in detail + html
    )


def test_line_numbers_are_written_without_spaces_in_chinese_like_the_invoice_messages(
    as_user, inside
):
    """第1行 on the request form (its lines and the total card), as in the invoice's "第1行
    Packaging box 40x30：..." (the zh_CN catalog's translation of "Line %(n)s")."""
    staff = as_user("staff")
    assert staff.form("/language", {"locale": "zh_CN"}).status_code == 303
    page = staff.get(
        "/purchasing/requests/route-preview", query_string=form_data(inside, S1)
    ).get_data(as_text=True)
    assert "<legend>第1行</legend>" in page and "<legend>第2行</legend>" in page
    assert "<span>第1行</span>" in page and "<span>第2行</span>" in page  # the total card
    assert "第 1 行" not in page
