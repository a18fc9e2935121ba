"""Purchase orders (采购订单): send (e-mail to the supplier through the outbox), the supplier's
confirmation, cancel, the lifecycle computed from the lines, the list and the order page, and
how many statements those two pages cost (they are benchmarked at a million orders)."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from openpyxl import load_workbook

from modules.purchasing.models import (
    GoodsReceipt,
    PaymentRequest,
    PurchaseOrder,
    SupplierInvoice,
    SupplierInvoiceLine,
)
from modules.purchasing.services import orders as services
from suite.db import db
from suite.errors import DomainError
from suite.notify.models import OutboxMessage
from tests.modules.purchasing.conftest import BOX, FERT, member, party


def order_of(inside, order_id):
    with inside():
        order = db.session.get(PurchaseOrder, order_id)
        return order.status, order.sent_at is not None, order.supplier_reference


def test_buyer_sends_the_order_and_the_supplier_gets_an_email_with_a_link(world, as_user, inside):
    order_id = world.order(confirmed=False)
    with inside():
        party("SUP-001").email = "sales@huasheng.example"
        db.session.commit()
    buyer = as_user("buyer")
    page = buyer.get(f"/purchasing/orders/{order_id}").get_data(as_text=True)
    assert "Send to supplier" in page and "Next: send it to the supplier." in page
    resp = buyer.form(f"/purchasing/orders/{order_id}/send")
    assert resp.status_code == 303
    assert order_of(inside, order_id) == ("draft", True, "")
    with inside():
        (mail,) = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.event == "purchasing.order_sent")
        ).all()
        order = db.session.get(PurchaseOrder, order_id)
        assert (mail.channel, mail.address, mail.recipient_id) == (
            "email",
            "sales@huasheng.example",
            None,
        )
        assert order.number in mail.subject
        assert mail.link in (
            f"/purchasing/orders/{order_id}/print.pdf",
            f"/purchasing/orders/{order_id}",
        )
        assert order.buyer_id == member("buyer").id
    page = buyer.get(f"/purchasing/orders/{order_id}").get_data(as_text=True)
    assert "Sent to sales@huasheng.example." in page
    assert "Record supplier confirmation" in page


def test_sending_to_a_supplier_without_email_only_records_it(world, inside):
    order_id = world.order(confirmed=False)
    with inside():
        services.send_order(db.session.get(PurchaseOrder, order_id), member("buyer"))
        db.session.commit()
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.event == "purchasing.order_sent")
            )
            == 0
        )
    assert order_of(inside, order_id) == ("draft", True, "")


def test_supplier_confirmation_is_recorded_with_their_reference(world, as_user, inside):
    order_id = world.order(confirmed=False)
    buyer = as_user("buyer")
    long = buyer.form(f"/purchasing/orders/{order_id}/confirm", {"supplier_reference": "X" * 81})
    assert long.status_code == 422
    assert 'id="err-supplier_reference"' in long.get_data(as_text=True)
    assert order_of(inside, order_id) == ("draft", False, "")
    resp = buyer.form(
        f"/purchasing/orders/{order_id}/confirm", {"supplier_reference": " HS-2026-118 "}
    )
    assert resp.status_code == 303
    assert order_of(inside, order_id) == ("confirmed", False, "HS-2026-118")
    again = buyer.form(f"/purchasing/orders/{order_id}/confirm", {"supplier_reference": "X"})
    assert again.status_code == 409
    assert "Only a draft order can be confirmed." in again.get_data(as_text=True)
    page = buyer.get(f"/purchasing/orders/{order_id}").get_data(as_text=True)
    assert "HS-2026-118" in page and "Waiting for the goods." in page


def test_cancel_before_anything_is_received_only(world, as_user, inside):
    first, second = world.order(), world.order()
    buyer = as_user("buyer")
    assert buyer.form(f"/purchasing/orders/{first}/cancel").status_code == 303
    assert order_of(inside, first)[0] == "cancelled"
    world.receive(second, {BOX: "10"})
    resp = buyer.form(f"/purchasing/orders/{second}/cancel")
    assert resp.status_code == 409
    assert "Only an order nothing has been received for can be cancelled." in resp.get_data(
        as_text=True
    )
    assert order_of(inside, second)[0] == "partially_received"


@pytest.mark.parametrize("action", ["send", "confirm", "cancel"])
def test_only_the_buyer_may_act_on_an_order(world, as_user, inside, action):
    order_id = world.order(confirmed=False)
    for login in ("staff", "warehouse", "finance"):
        resp = as_user(login).form(f"/purchasing/orders/{order_id}/{action}")
        assert resp.status_code == 403, login
    assert order_of(inside, order_id) == ("draft", False, "")


def test_status_follows_receipts_invoices_and_payments(world, inside):
    order_id = world.order(
        lines=[(BOX, "SUP-001", "500", "2.40"), (FERT, "SUP-001", "20", "180.00")]
    )
    assert order_of(inside, order_id)[0] == "confirmed"
    world.receive(order_id, {BOX: "480"})
    assert order_of(inside, order_id)[0] == "partially_received"
    world.receive(order_id, {BOX: "20", FERT: "20"})
    assert order_of(inside, order_id)[0] == "received"
    with inside():
        order = db.session.get(PurchaseOrder, order_id)
        invoice = SupplierInvoice(
            number="SI-T-1",
            invoice_no="INV-1",
            order_id=order.id,
            supplier_id=order.supplier_id,
            status="matched",
            amount_total=order.amount_total,
            entered_by_id=member("buyer").id,
        )
        for line in order.lines:
            invoice.lines.append(
                SupplierInvoiceLine(
                    order_line_id=line.id,
                    qty=line.qty,
                    unit_price=line.unit_price,
                    amount=line.amount,
                )
            )
            line.invoiced_qty = line.qty
        db.session.add(invoice)
        db.session.flush()
        assert services.refresh_status(order) == "billed"
        payment = PaymentRequest(
            number="PAY-T-1",
            invoice_id=invoice.id,
            supplier_id=order.supplier_id,
            amount=order.amount_total,
            requester_id=member("buyer").id,
        )
        db.session.add(payment)
        db.session.flush()
        assert services.refresh_status(order) == "billed"  # submitted, not paid yet
        payment.status = "paid"
        db.session.flush()
        assert services.refresh_status(order) == "closed"
        db.session.rollback()


def test_service_refusals_say_why(world, inside):
    order_id = world.order()
    with inside(), force_locale("en"):
        order = db.session.get(PurchaseOrder, order_id)
        with pytest.raises(DomainError, match="Only a draft order can be confirmed."):
            services.confirm_order(order, member("buyer"), "again")
        services.cancel_order(order, member("buyer"))
        with pytest.raises(DomainError, match="Only a draft or confirmed order can be sent."):
            services.send_order(order, member("buyer"))


# --- the order page -------------------------------------------------------------------------------


def test_order_page_shows_ordered_received_open_and_invoiced(world, as_user, inside):
    order_id = world.order()
    receipt_id = world.receive(order_id, {BOX: "480"})
    with inside():
        line_id = db.session.get(PurchaseOrder, order_id).lines[0].id
    page = as_user("buyer").get(f"/purchasing/orders/{order_id}").get_data(as_text=True)
    row = re.search(rf'<tr id="purchase-order-line-{line_id}">(.*?)</tr>', page, re.S).group(1)
    cells = re.findall(r'<td class="num[^"]*"[^>]*>([^<]*)</td>', row)
    assert cells[:4] == ["500", "480", "20", "0"]
    assert "Partially received" in page and f"/purchasing/receipts/{receipt_id}" in page
    assert "Receive goods" not in page  # the buyer does not receive
    assert "confirmed" in page.lower()  # the timeline tells the confirmation
    wh = as_user("warehouse").get(f"/purchasing/orders/{order_id}").get_data(as_text=True)
    assert f"/purchasing/orders/{order_id}/receipts/new" in wh
    assert "Send to supplier" not in wh and "Cancel order" not in wh


def test_order_list_search_filters_keyset_and_export(world, as_user, inside):
    box = world.order()
    fert = world.order(lines=[(FERT, "SUP-002", "20", "180.00")], confirmed=False)
    buyer = as_user("buyer")
    html = buyer.get("/purchasing/orders").get_data(as_text=True)
    assert re.findall(r'id="purchase-order-(\d+)-row"', html) == [str(fert), str(box)]
    with inside():
        number = db.session.get(PurchaseOrder, fert).number
        sup2 = party("SUP-002").id
    for query, expected in (
        (f"q={number}", [fert]),
        (f"q={int(number[-4:])}", [fert]),
        ("q=丰收", [fert]),
        ("q=sup-001", [box]),
        ("status=confirmed", [box]),
        (f"supplier_id={sup2}", [fert]),
        ("q=nothing-like-it", []),
    ):
        rows = buyer.htmx("GET", f"/purchasing/orders?{query}", target="purchase-order-rows")
        body = rows.get_data(as_text=True)
        assert body.lstrip().startswith('<tbody id="purchase-order-rows">'), query
        assert [int(i) for i in re.findall(r'id="purchase-order-(\d+)-row"', body)] == expected, (
            query
        )
    resp = buyer.get("/purchasing/orders/export.xlsx?status=confirmed")
    rows = list(load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("Number", "Supplier", "Status", "Total")
    assert len(rows) == 2 and rows[1][1] == "华盛包装有限公司" and rows[1][3] == 1200


def test_order_list_pages_by_keyset(app, world, as_user, inside):
    three = [
        (BOX, "SUP-001", "1", "1.00"),
        (FERT, "SUP-002", "1", "1.00"),
        (BOX, "SUP-003", "1", "1.00"),
    ]
    ids = []
    for _ in range(10):
        ids += world.orders(world.approved(lines=three))
    assert len(ids) == 30
    buyer = as_user("buyer")
    first = buyer.get("/purchasing/orders").get_data(as_text=True)
    assert [int(i) for i in re.findall(r'id="purchase-order-(\d+)-row"', first)] == sorted(
        ids, reverse=True
    )[:25]
    more = re.search(r'href="(/purchasing/orders\?[^"]*before=\d+)"', first)
    assert more, re.findall(r"before=[^\"]*", first)
    more = more.group(1).replace("&amp;", "&")
    rest = buyer.get(more).get_data(as_text=True)
    assert [int(i) for i in re.findall(r'id="purchase-order-(\d+)-row"', rest)] == sorted(
        ids, reverse=True
    )[25:]


def statements(app, client, url):
    """How many SQL statements one page costs."""
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine
    seen = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seen


def test_list_and_order_page_cost_the_same_few_statements_however_many_rows(
    app, world, as_user, inside
):
    small = world.order()
    buyer = as_user("buyer")
    buyer.get("/purchasing/orders")  # warm-up (process definitions, translations)
    list_one = len(statements(app, buyer, "/purchasing/orders"))
    page_one = len(statements(app, buyer, f"/purchasing/orders/{small}"))
    big = world.order(lines=[(BOX, "SUP-001", "5", "2.40"), (FERT, "SUP-001", "2", "180.00")] * 4)
    world.receive(big, {BOX: "1"})
    for _ in range(4):
        world.order()
    assert len(statements(app, buyer, "/purchasing/orders")) == list_one
    page_big = statements(app, buyer, f"/purchasing/orders/{big}")
    assert len(page_big) <= page_one + 1  # the receipt's users/names at most
    assert list_one <= 8 and page_one <= 14
    assert not any("count(" in s.lower() and "purchase_order" in s.lower() for s in page_big)


def test_order_page_loads_its_receipts_with_the_order_in_one_scoped_statement(
    app, world, as_user, inside
):
    order_id = world.order(lines=[(BOX, "SUP-001", "5", "2.40"), (FERT, "SUP-001", "2", "180.00")])
    first = world.receive(order_id, {BOX: "1"})
    second = world.receive(order_id, {BOX: "2", FERT: "1"})
    with inside():
        numbers = [db.session.get(GoodsReceipt, i).number for i in (first, second)]
    buyer = as_user("buyer")
    seen = statements(app, buyer, f"/purchasing/orders/{order_id}")
    receipt_sql = [s for s in seen if "goods_receipt" in s]
    assert len(receipt_sql) == 1 and "purchase_order_line" in receipt_sql[0]
    assert re.search(r"goods_receipt\w*\.workspace_id = ", receipt_sql[0])  # scoped
    page = buyer.get(f"/purchasing/orders/{order_id}").get_data(as_text=True)
    section = page[page.index(f'id="purchase-order-{order_id}-receipts"') :]
    # every receipt once, oldest first, and each line once although lines x receipts rows came back
    assert section.index(numbers[0]) < section.index(numbers[1])
    assert all(section.count(f">{n}</a>") == 1 for n in numbers)
    assert len(re.findall(r'id="purchase-order-line-\d+"', page)) == 2


def test_order_page_shows_the_unit_in_the_pages_language(world, as_user, inside):
    order_id = world.order(
        lines=((BOX, "SUP-001", "500", "2.40"), (FERT, "SUP-001", "20", "180.00"))
    )
    buyer = as_user("buyer")
    page = buyer.get(f"/purchasing/orders/{order_id}").get_data(as_text=True)
    assert "BOX-4030 · Piece</small>" in page and "FERT-25 · Bag</small>" in page
    assert buyer.form("/language", {"locale": "zh_CN"}).status_code == 303
    page = buyer.get(f"/purchasing/orders/{order_id}").get_data(as_text=True)
    assert "BOX-4030 · 个</small>" in page and "FERT-25 · 袋</small>" in page
    assert " · pcs<" not in page and " · bag<" not in page
