"""S1 purchase to pay in a real browser, on the Galaxy Tab S4, by six people in their own browsers.

Staff (Production) raises a purchase request of 500 boxes x 2.40 and 20 bags x 180.00 (4,800.00,
the department head only); the department head approves; the buyer sends the box order and
records the supplier's confirmation; the warehouse keeper receives 480 boxes (20 stay open); the
buyer enters the supplier's invoice for 500 boxes (refused, next to the line: 500 vs 480) and
corrects it to 480 (matched, a payment request of 1,152.00); finance approves and pays it by bank
transfer, and the payment page and its PDF carry 银行付讫. Every step is clicks and typing; the
pages are checked for sideways scrolling and screenshotted to tests/browser/artifacts/s1-*.png
(the request form and the receipt entry also on an iPhone 13).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_shell import assert_no_horizontal_scroll, check_layout, log_in

pytestmark = pytest.mark.browser

TABLET = "tablet-portrait"  # the Galaxy Tab S4 (conftest.device_options)
PHONE = "phone"  # the iPhone 13
BOX = "BOX-4030 Packaging box 40x30"
FERT = "FERT-25 Fertilizer 25kg"
PACKAGING = "华盛包装有限公司"  # SUP-001
FARM_SUPPLY = "丰收农资有限公司"  # SUP-002
LINES = (  # item, supplier, quantity, unit price (S1.1)
    (BOX, f"SUP-001 {PACKAGING}", "500", "2.40"),
    (FERT, f"SUP-002 {FARM_SUPPLY}", "20", "180.00"),
)
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the demo workspace's time zone


def fact_labels(page: Any) -> dict[str, float]:
    """The labels of the document's facts card and the lines each takes (1.0: one line)."""
    return dict(
        page.evaluate(
            """[...document.querySelectorAll('.doc-fields .facts dt')].map(dt => [
                dt.textContent.trim(),
                dt.getBoundingClientRect().height / parseFloat(getComputedStyle(dt).lineHeight),
            ])"""
        )
    )


def looked_at(page: Any, screenshot: Callable[[Any, str], Any], name: str, device: str) -> None:
    """The page in a screenshot (first, so a failure leaves one), then the layout checks:
    no sideways scrolling, and no label of a facts card wraps (审批通过时间, 供应商确认号)."""
    screenshot(page, f"s1-{device}-{name}")
    assert_no_horizontal_scroll(page)
    check_layout(page, device)
    wrapped = {label: lines for label, lines in fact_labels(page).items() if lines > 1.5}
    assert not wrapped, wrapped
    assert not page.js_errors, page.js_errors


def person(new_page: Callable[[str], Any], login: str, device: str = TABLET) -> Any:
    page = new_page(device)
    page.goto("/login")
    log_in(page, login)
    return page


def menu(page: Any, path: str) -> None:
    """A page of the side menu, by its link."""
    page.locator(f"nav.sidenav a[href='{path}']").click()
    page.wait_for_url(f"**{path}")


def text(locator: Any) -> str:
    """The element's text with white space collapsed."""
    return " ".join(locator.inner_text().split())


def fill_request(page: Any) -> Any:
    """Open the new request form and type S1's two lines; returns the form."""
    menu(page, "/purchasing/requests")
    page.locator("main a[href='/purchasing/requests/new']").click()
    page.wait_for_url("**/purchasing/requests/new")
    form = page.locator("#purchase-request-form")
    assert text(form.locator(".doc-meta")) == "部门: Production 生产部"
    for n, (item, supplier, qty, price) in enumerate(LINES):
        if n:
            form.locator(".pr-add button[value=add]").click()
            form = page.locator("#purchase-request-form")
            form.locator(f"#lines-{n}-item_id").wait_for()
        form.locator(f"#lines-{n}-item_id").select_option(label=item)
        form.locator(f"#lines-{n}-supplier_id").select_option(label=supplier)
        form.locator(f"#lines-{n}-qty").press_sequentially(qty)
        form.locator(f"#lines-{n}-unit_price").press_sequentially(price)
    form.locator("#reason").fill("包装箱和化肥快用完了")
    route = page.locator("#purchase-request-route")
    # The live preview: the total and who will be asked (4,800.00: the department head only).
    route.locator(".pr-total", has_text="¥4,800.00").wait_for()
    return form


def command(page: Any, label: str, comment: str, wait_for: str) -> None:
    """Open a command in the action bar, write the comment, send it, wait for the status."""
    act = page.locator("details.wf-act", has=page.locator("summary", has_text=label)).first
    act.locator("summary").click()
    form = act.locator("form.wf-form")
    form.wait_for()
    form.locator("textarea[name=comment]").fill(comment)
    with page.expect_response(lambda r: "/commands" in r.url) as sent:
        form.locator(".actions button[type=submit]").click()
    assert sent.value.status == 200, sent.value.status
    page.locator("section.wf-status", has_text=wait_for).wait_for()


def open_from_inbox(page: Any, title: str) -> str:
    """待办 in the menu, then the document's row; returns the row's text."""
    menu(page, "/inbox")
    row = page.locator("#inbox-rows li.inbox-row", has_text=title)
    row.wait_for()
    assert row.count() == 1
    row_text = text(row)
    row.locator("a.inbox-main").click()
    page.wait_for_url(re.compile(r"/purchasing/\w+/\d+$"))
    return row_text


def pdf_text(pdf: bytes, name: str) -> str:
    """The PDF saved under artifacts/ with a PNG of each page; its text (pdftotext)."""
    path = ARTIFACTS / f"{name}.pdf"
    path.write_bytes(pdf)
    if not shutil.which("pdftotext"):
        return ""
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", str(path), str(ARTIFACTS / name)], check=True
        )
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return out.stdout


def test_s1_request_to_paid_on_a_tablet(demo, inside, new_page, screenshot):
    from modules.inventory.models import Item
    from modules.inventory.stock import on_hand
    from modules.purchasing.models import (
        PaymentRequest,
        PurchaseOrder,
        PurchaseRequest,
        SupplierInvoice,
    )
    from suite.db import db

    year = dt.datetime.now(SHANGHAI).year

    # 1. Staff (Production) writes the request: two lines, the total and the route live.
    phone = person(new_page, "staff", PHONE)
    fill_request(phone)
    looked_at(phone, screenshot, "1a-request-form", PHONE)
    phone.context.close()  # only looked at on the phone; written on the tablet

    staff = person(new_page, "staff")
    form = fill_request(staff)
    route = staff.locator("#purchase-request-route")
    amounts = [text(li) for li in route.locator(".pr-amounts li").all()]
    assert amounts == ["第1行 ¥1,200.00", "第2行 ¥3,600.00"], amounts
    # Each line's own amount is redrawn with the total (server-computed), with its unit.
    lines = [text(p) for p in form.locator(".pr-amount").all()]
    assert lines == ["金额 ¥1,200.00 500 个 × ¥2.40", "金额 ¥3,600.00 20 袋 × ¥180.00"], lines
    steps = [text(li) for li in route.locator("ol.wf-route li").all()]
    # 4,800.00 is not over 5,000: the department head only, no finance, no general manager.
    assert steps == ["请购人 staff", "部门负责人审批 dept_head", "抄送采购员 buyer", "结束"], steps
    looked_at(staff, screenshot, "1b-request-form", TABLET)
    form.locator(".actions button[value=save]").click()
    staff.wait_for_url(re.compile(r"/purchasing/requests/\d+$"))
    req_id = int(staff.url.rsplit("/", 1)[1])
    assert text(staff.locator(f"#purchase-request-{req_id}-total")) == "¥4,800.00"
    rows = [
        [text(td) for td in tr.locator("td").all()]
        for tr in staff.locator("table.lines tbody tr").all()
    ]
    # item, supplier, quantity (and unit), unit price, amount
    assert [(r[1], r[2].split()[0], r[3], r[4]) for r in rows] == [
        (PACKAGING, "500", "¥2.40", "¥1,200.00"),
        (FARM_SUPPLY, "20", "¥180.00", "¥3,600.00"),
    ], rows
    staff.locator(
        f"#purchase-request-{req_id}-actions button[type=submit]", has_text="提交"
    ).click()
    staff.locator("#flash", has_text="已提交。").wait_for()
    status = staff.locator(f"#purchase-request-{req_id}-status")
    status.locator(".chip-submitted").wait_for()
    assert "dept_head" in text(status), text(status)
    number = text(staff.locator(".doc-head .doc-no"))
    assert re.fullmatch(rf"PR-{year}-\d{{4}}", number), number
    looked_at(staff, screenshot, "1c-request-submitted", TABLET)
    with inside():
        req = db.session.get(PurchaseRequest, req_id)
        assert (req.status, req.amount_total) == ("submitted", Decimal("4800.00"))

    # 2. The department head approves from 待办; the request becomes two draft orders.
    head = person(new_page, "dept_head")
    row = open_from_inbox(head, number)
    assert "部门负责人审批" in row, row
    looked_at(head, screenshot, "2a-head-opens-request", TABLET)
    command(head, "同意", "同意采购", wait_for="已下单")
    head.reload()
    orders = [text(li) for li in head.locator(".pu-links li.pu-link-row").all()]
    assert orders == [
        f"PO-{year}-0001 {PACKAGING} ¥1,200.00 草稿",
        f"PO-{year}-0002 {FARM_SUPPLY} ¥3,600.00 草稿",
    ], orders
    looked_at(head, screenshot, "2b-head-approved", TABLET)
    assert "审批通过时间" in fact_labels(head)  # on one line (looked_at)
    with inside():
        placed = db.session.scalars(sa.select(PurchaseOrder).order_by(PurchaseOrder.id)).all()
        assert [(o.supplier.code, o.status, o.amount_total) for o in placed] == [
            ("SUP-001", "draft", Decimal("1200.00")),
            ("SUP-002", "draft", Decimal("3600.00")),
        ]
        box_order_id, box_order_no = placed[0].id, placed[0].number
        box_line_id = placed[0].lines[0].id

    # 3. The buyer sends the box order and records the supplier's confirmation.
    buyer = person(new_page, "buyer")
    menu(buyer, "/purchasing/orders")
    listed = [text(tr) for tr in buyer.locator("#purchase-order-rows tr").all()]
    assert len(listed) == 2 and all("草稿" in r for r in listed), listed
    assert text(buyer.locator("main table thead th").first) == "订单"  # not 加签方式 any more
    looked_at(buyer, screenshot, "3a-buyer-orders", TABLET)
    buyer.locator("#purchase-order-rows a", has_text=PACKAGING).click()
    buyer.wait_for_url(f"**/purchasing/orders/{box_order_id}")
    assert box_order_no in text(buyer.locator("main h1"))
    summary = buyer.locator(f"#purchase-order-{box_order_id}-summary")
    summary.locator("button", has_text="发送给供应商").click()
    buyer.locator("#flash").wait_for()
    summary.locator("summary", has_text="记录供应商确认").wait_for()
    pdf = buyer.request.get(summary.locator("a", has_text="打印").get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    looked_at(buyer, screenshot, "3b-order-sent", TABLET)
    summary.locator("summary", has_text="记录供应商确认").click()
    summary.locator("#supplier_reference").fill("HS-2026-118")
    summary.locator("button[type=submit]", has_text="确认订单").click()
    summary = buyer.locator(f"#purchase-order-{box_order_id}-summary")
    summary.locator(".chip-confirmed").wait_for()
    assert "HS-2026-118" in text(buyer.locator(".doc-fields"))
    looked_at(buyer, screenshot, "3c-order-confirmed", TABLET)
    assert "供应商确认号" in fact_labels(buyer)  # on one line (looked_at)

    # 4. The warehouse keeper receives 480 of the 500 boxes (the receipt page is phone-first).
    phone = person(new_page, "warehouse", PHONE)
    phone.goto(f"/purchasing/orders/{box_order_id}/receipts/new")
    assert phone.locator(f"#qty-{box_line_id}").input_value() == "500"
    phone.locator(f"#qty-{box_line_id}").fill("480")
    looked_at(phone, screenshot, "4a-receipt-entry", PHONE)
    phone.context.close()

    keeper = person(new_page, "warehouse")
    menu(keeper, "/purchasing/receipts")
    keeper.locator("main a[href='/purchasing/receipts/new']").first.click()
    keeper.wait_for_url("**/purchasing/receipts/new")
    waiting = [text(li) for li in keeper.locator("#receipt-waiting li.inbox-row").all()]
    assert len(waiting) == 1 and box_order_no in waiting[0], waiting
    keeper.locator("#grn-number").fill(box_order_no)
    keeper.locator("form.grn-pick button[type=submit]").click()
    keeper.wait_for_url(f"**/purchasing/orders/{box_order_id}/receipts/new")
    line = keeper.locator(f"#field-qty-{box_line_id}")
    assert text(line.locator(".grn-line-qty")) == "订购 500，已收 0，未收 500"
    keeper.locator("#location_id").select_option(label="WH1 A-01 A区 01 货架")
    keeper.locator(f"#qty-{box_line_id}").fill("480")
    looked_at(keeper, screenshot, "4b-receipt-entry", TABLET)
    keeper.locator(".grn-submit button[type=submit]").click()
    keeper.wait_for_url(re.compile(r"/purchasing/receipts/\d+$"))
    keeper.locator("#flash").wait_for()
    received = [
        [text(td) for td in tr.locator("td").all()]
        for tr in keeper.locator("table.lines tbody tr").all()
    ]
    # item, quantity (and unit), unit cost, amount: 480 x 2.40
    assert [(r[1].split()[0], r[2], r[3]) for r in received] == [("480", "¥2.40", "¥1,152.00")], (
        received
    )
    pdf = keeper.request.get(keeper.locator(".doc-fields a", has_text="PDF").get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    printed = pdf_text(pdf.body(), "s1-goods-receipt")
    if printed:  # three copies on one PDF (S1.4)
        assert re.search("存根联.*财务联.*收货联", printed, re.S), printed
    looked_at(keeper, screenshot, "4c-receipt-posted", TABLET)
    keeper.locator(".doc-fields a", has_text=box_order_no).click()
    keeper.wait_for_url(f"**/purchasing/orders/{box_order_id}")
    order_line = keeper.locator(f"#purchase-order-line-{box_line_id}")
    cells = [text(td) for td in order_line.locator("td.num").all()]
    assert cells[:3] == ["500", "480", "20"], cells  # ordered, received, open
    assert text(keeper.locator(f"#purchase-order-line-{box_line_id}-open")) == "20"
    keeper.locator(f"#purchase-order-{box_order_id}-summary .chip-partially_received").wait_for()
    looked_at(keeper, screenshot, "4d-order-20-open", TABLET)
    with inside():
        box = db.session.scalar(sa.select(Item).where(Item.code == "BOX-4030"))
        assert on_hand(box.id) == Decimal("480")

    # 5. The buyer enters the supplier's invoice: 500 boxes are refused, 480 match.
    buyer.goto(f"/purchasing/orders/{box_order_id}")
    buyer.locator(f"#order-{box_order_id}-billing a", has_text="录入供应商发票").click()
    buyer.wait_for_url(f"**/purchasing/orders/{box_order_id}/invoices/new")
    form = buyer.locator("#invoice-form")
    form.locator("#invoice_no").fill("FP-33000118")
    qty = form.locator(f"#qty_{box_line_id}")
    assert qty.input_value() == "480"  # what was received and not invoiced yet
    assert form.locator(f"#price_{box_line_id}").input_value() == "2.40"
    qty.fill("500")
    with buyer.expect_response(lambda r: r.request.method == "POST") as posted:
        form.locator(".actions button[type=submit]").click()
    assert posted.value.status == 422
    error = buyer.locator(f"#invoice-form #err-qty_{box_line_id}")
    error.wait_for()
    assert text(error) == "第1行 Packaging box 40x30：开票 500，已收货 480", text(error)
    assert buyer.locator(f"#qty_{box_line_id}").get_attribute("aria-invalid") == "true"
    assert buyer.locator("#invoice-form .error").count() == 1
    blocked = buyer.locator("#invoice-form .bill-blocked")
    assert f"BILL-{year}-0001（已冻结）" in text(blocked), text(blocked)
    error.scroll_into_view_if_needed()
    looked_at(buyer, screenshot, "5a-invoice-500-refused", TABLET)
    with inside():
        (invoice,) = db.session.scalars(sa.select(SupplierInvoice)).all()
        assert (invoice.status, invoice.amount_total) == ("blocked", Decimal("1200.00"))
        assert db.session.scalar(sa.select(sa.func.count(PaymentRequest.id))) == 0
        invoice_id = invoice.id
    # Kept as blocked: no second save of the same number, the way on is its correction.
    actions = buyer.locator("#invoice-form .actions")
    assert actions.locator("button").count() == 0
    correct = actions.locator("a", has_text="更正并重新匹配")
    assert correct.get_attribute("href") == f"/purchasing/invoices/{invoice_id}/correct"

    blocked.locator("a", has_text="打开已冻结的发票").click()
    buyer.wait_for_url(f"**/purchasing/invoices/{invoice_id}")
    buyer.locator(f"#invoice-{invoice_id}-status .chip-blocked").wait_for()
    exception = text(buyer.locator(f"#invoice-{invoice_id}-status .wf-steps"))
    assert exception == "采购员处理 B buyer 待办", exception  # the buyer's exception task
    mismatch = text(buyer.locator(".bill-mismatch p"))
    assert mismatch == "第1行 Packaging box 40x30：开票 500，已收货 480", mismatch
    looked_at(buyer, screenshot, "5b-invoice-blocked", TABLET)
    buyer.locator(f"#invoice-{invoice_id}-actions a", has_text="更正并重新匹配").click()
    buyer.wait_for_url(f"**/purchasing/invoices/{invoice_id}/correct")
    form = buyer.locator("#invoice-form")
    form.locator(f"#qty_{box_line_id}").fill("480")
    form.locator(".actions button[type=submit]", has_text="重新匹配").click()
    buyer.wait_for_url(f"**/purchasing/invoices/{invoice_id}")
    buyer.locator(f"#invoice-{invoice_id}-status .chip-matched").wait_for()
    card = text(buyer.locator(f"#invoice-{invoice_id}-status"))
    assert "发票异常" not in card, card  # said only while it was blocked
    assert "¥1,152.00" in text(buyer.locator(".doc-fields"))
    payment_row = text(buyer.locator("main a[href^='/purchasing/payments/']").locator(".."))
    assert "¥1,152.00" in payment_row and "审批中" in payment_row, payment_row
    pay_number = text(buyer.locator("main a[href^='/purchasing/payments/']"))
    assert re.fullmatch(rf"PAY-{year}-\d{{4}}", pay_number), pay_number
    looked_at(buyer, screenshot, "5c-invoice-matched", TABLET)

    # 6. Finance approves the payment request and marks it paid by bank transfer.
    finance = person(new_page, "finance")
    open_from_inbox(finance, pay_number)
    payment_id = int(finance.url.rsplit("/", 1)[1])
    assert text(finance.locator(".doc-head .money")) == "¥1,152.00"
    looked_at(finance, screenshot, "6a-payment-to-approve", TABLET)
    command(finance, "同意", "已核对发票和入库单", wait_for="已通过")
    finance.reload()
    pay = finance.locator(f"#payment-{payment_id}-pay")
    pay.locator("input[value=bank]").check()
    looked_at(finance, screenshot, "6b-payment-approved", TABLET)
    pay.locator("button[type=submit]").click()
    finance.locator("#flash", has_text="银行转账").wait_for()
    finance.locator(f"#payment-{payment_id}-status .chip-paid").wait_for()
    assert text(finance.locator(".bill-stamp")) == "银行付讫"
    facts = text(finance.locator(".doc-fields"))
    assert "¥1,152.00" in facts and "银行转账" in facts, facts
    looked_at(finance, screenshot, "6c-payment-paid", TABLET)
    href = finance.locator(".doc-head a", has_text="PDF").get_attribute("href")
    pdf = finance.request.get(href)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    printed = pdf_text(pdf.body(), "s1-payment-paid")
    if printed:
        assert "银行付讫" in printed and "1,152.00" in printed, printed

    # The order, seen by the buyer at the end: 480 received and invoiced, 20 still open.
    buyer.goto(f"/purchasing/orders/{box_order_id}")
    cells = [text(td) for td in buyer.locator(f"#purchase-order-line-{box_line_id} td.num").all()]
    assert cells[:4] == ["500", "480", "20", "480"], cells
    assert "已付款" in text(buyer.locator(f"#order-{box_order_id}-billing"))
    looked_at(buyer, screenshot, "6d-order-paid", TABLET)
    with inside():
        payment = db.session.get(PaymentRequest, payment_id)
        assert (payment.status, payment.method, payment.amount) == (
            "paid",
            "bank",
            Decimal("1152.00"),
        )
        order = db.session.get(PurchaseOrder, box_order_id)
        assert [(ln.qty, ln.received_qty, ln.invoiced_qty) for ln in order.lines] == [
            (Decimal("500"), Decimal("480"), Decimal("480"))
        ]
    # The same documents on the 1024 px landscape tablet (two columns).
    wide = person(new_page, "buyer", "tablet")
    for name, path in (
        ("7a-request", f"/purchasing/requests/{req_id}"),
        ("7b-order", f"/purchasing/orders/{box_order_id}"),
        ("7c-payment", f"/purchasing/payments/{payment_id}"),
    ):
        wide.goto(path)
        looked_at(wide, screenshot, name, "tablet")
    assert text(wide.locator(".bill-stamp")) == "银行付讫"
    for page in (staff, head, buyer, keeper, finance, wide):
        assert not page.js_errors, page.js_errors
