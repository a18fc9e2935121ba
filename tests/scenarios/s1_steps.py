"""S1 Purchase to pay, step by step (tests/scenarios/test_s1_purchase_to_pay.py runs them):
each step clicks through the UI as the demo users (s1_ui.py) and checks SCENARIOS.md's numbers."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from modules.inventory.models import StockBalance, StockMove
from modules.inventory.stock import average_cost
from modules.purchasing.models import (
    GoodsReceipt,
    PaymentRequest,
    PurchaseOrder,
    PurchaseRequest,
    SupplierInvoice,
)
from suite.db import db
from tests.modules.purchasing.conftest import BOX, FERT, LAPTOP, S1_LINES, item, location, member
from tests.scenarios.s1_prints import ZBAR, Pdf, spy_qr
from tests.scenarios.s1_ui import S1UI

YEAR_NO = r"\d{4}-\d{4}"
OVER = "Line 1 Packaging box 40x30: invoiced 500, received 480"
STAMPS = ("现金付讫", "银行付讫", "挂账")


class S1(S1UI):
    """The scenario's steps on one app (SQLite or PostgreSQL); each returns what the next needs."""

    # --- 1. the request ------------------------------------------------------------------------

    def request(self) -> int:
        req_id = self.raise_request(S1_LINES)
        page = self.page("staff", f"/purchasing/requests/{req_id}")
        assert f'id="purchase-request-{req_id}-total">CN¥4,800.00<' in page
        assert "CN¥1,200.00" in page and "CN¥3,600.00" in page
        with self.inside():
            req = db.session.get(PurchaseRequest, req_id)
            assert (req.amount_total, req.status) == (Decimal("4800.00"), "submitted")
            assert [(ln.item.code, ln.qty, ln.unit_price, ln.amount) for ln in req.lines] == [
                (BOX, Decimal("500"), Decimal("2.40"), Decimal("1200.00")),
                (FERT, Decimal("20"), Decimal("180.00"), Decimal("3600.00")),
            ]
            assert req.requester_id == member("staff").id
            assert req.department.name.startswith("Production")
            assert re.fullmatch(rf"PR-{YEAR_NO}", req.number)
        return req_id

    # --- 2. the routing --------------------------------------------------------------------------

    def route(self, req_id: int) -> None:
        assert self.approve_all(req_id) == [["dept_head"]]
        assert self.status_of(PurchaseRequest, req_id) == "ordered"

    def route_of(self, lines: Any, total: str) -> list[list[str]]:
        req_id = self.raise_request(lines)
        with self.inside():
            assert db.session.get(PurchaseRequest, req_id).amount_total == Decimal(total)
        return self.approve_all(req_id)

    def route_6000(self) -> None:
        assert self.route_of([(BOX, "SUP-001", "2500", "2.40")], "6000.00") == [
            ["dept_head"],
            ["finance"],
        ]

    def route_over_50000(self) -> None:
        assert self.route_of([(FERT, "SUP-002", "300", "180.00")], "54000.00") == [
            ["dept_head"],
            ["finance"],
            ["gm"],
        ]

    def route_thresholds_exactly(self) -> None:
        """'Above' means above: exactly 5,000.00 and exactly 50,000.00 stay below."""
        assert self.route_of([(FERT, "SUP-002", "25", "200.00")], "5000.00") == [["dept_head"]]
        assert self.route_of([(FERT, "SUP-002", "250", "200.00")], "50000.00") == [
            ["dept_head"],
            ["finance"],
        ]

    # --- 3. the orders ---------------------------------------------------------------------------

    def orders(self, req_id: int) -> tuple[int, int]:
        with self.inside():
            orders = db.session.scalars(
                sa.select(PurchaseOrder)
                .where(PurchaseOrder.request_id == req_id)
                .order_by(PurchaseOrder.id)
            ).all()
            assert [(o.number, o.supplier.code, o.status, o.amount_total) for o in orders] == [
                (f"PO-{self.year}-0001", "SUP-001", "draft", Decimal("1200.00")),
                (f"PO-{self.year}-0002", "SUP-002", "draft", Decimal("3600.00")),
            ]
            assert [[(ln.item.code, ln.qty) for ln in o.lines] for o in orders] == [
                [(BOX, Decimal("500"))],
                [(FERT, Decimal("20"))],
            ]
            box, fert = (o.id for o in orders)
        page = self.page("staff", f"/purchasing/requests/{req_id}")
        assert f"PO-{self.year}-0001" in page and f"PO-{self.year}-0002" in page
        return box, fert

    def send(self, box: int) -> None:
        buyer = self.client("buyer")
        page = self.page("buyer", f"/purchasing/orders/{box}")
        assert "Send to supplier" in page and "Next: send it to the supplier." in page
        assert f'href="/purchasing/orders/{box}/print.pdf"' in page
        assert buyer.form(f"/purchasing/orders/{box}/send").status_code == 303
        page = self.page("buyer", f"/purchasing/orders/{box}")
        # The demo supplier has no e-mail address: the buyer sends the PDF.
        assert "Marked as sent. The supplier has no e-mail address: send the PDF yourself." in page
        assert "Sent. Next: record the supplier's confirmation." in page
        with self.inside():
            order = db.session.get(PurchaseOrder, box)
            assert (order.status, order.buyer_id) == ("draft", member("buyer").id)
            assert order.sent_at is not None and order.confirmed_at is None

    def order_print(self, box: int) -> None:
        """The PO's PDF: its number, lines, 1,200.00; its QR code opens the order's page (read
        from the printed page when zbarimg is installed, else only what was asked to encode)."""
        url = f"http://localhost/purchasing/orders/{box}"
        with spy_qr() as encoded:
            resp = self.client("buyer").get(f"/purchasing/orders/{box}/print.pdf")
        assert (resp.status_code, resp.mimetype) == (200, "application/pdf")
        assert encoded == [url]
        with self.inside():
            number = db.session.get(PurchaseOrder, box).number
        assert f'filename="{number}.pdf"' in resp.headers["Content-Disposition"]
        with Pdf(resp.data) as pdf:
            pdf.assert_cjk_embedded()
            (text,) = pdf.pages()
            for expected in (number, "华盛包装有限公司", "Packaging box 40x30", "1,200.00", url):
                assert expected in text, expected
            assert "壹仟贰佰元整" in text  # 1,200.00 in words
            assert "Fertilizer" not in text  # the other supplier's order
            if ZBAR:
                assert pdf.qr_codes() == [url]

    def confirm(self, box: int, fert: int) -> None:
        self.send_and_confirm(fert, "FS-7")  # the fertilizer supplier's order too
        buyer = self.client("buyer")
        url = f"/purchasing/orders/{box}/confirm"
        assert buyer.form(url, {"supplier_reference": "HS-118"}).status_code == 303
        with self.inside():
            order = db.session.get(PurchaseOrder, box)
            assert (order.status, order.supplier_reference) == ("confirmed", "HS-118")
            assert order.sent_at is not None and order.confirmed_at is not None
            assert db.session.get(PurchaseOrder, fert).status == "confirmed"
        page = self.page("buyer", f"/purchasing/orders/{box}")
        assert "HS-118" in page and "Waiting for the goods." in page

    # --- 4. the receipt --------------------------------------------------------------------------

    def receipt(self, box: int) -> int:
        with self.inside():
            box_item = item(BOX).id
            before = db.session.scalar(
                sa.select(sa.func.count(StockMove.id)).where(StockMove.item_id == box_item)
            )
            assert before == 0
            assert not db.session.scalar(
                sa.select(StockBalance.id).where(StockBalance.item_id == box_item)
            )
        form = self.page("warehouse", f"/purchasing/orders/{box}/receipts/new")
        assert "Ordered 500, received 0, open 500" in form
        receipt_id = self.receive(box, {BOX: "480"})
        with self.inside():
            bal = db.session.scalar(sa.select(StockBalance).where(StockBalance.item_id == box_item))
            assert (bal.qty, bal.value, average_cost(bal)) == (
                Decimal("480.000"),
                Decimal("1152.00"),
                Decimal("2.4000"),
            )
            assert bal.location_id == location("A-01").id
            receipt = db.session.get(GoodsReceipt, receipt_id)
            assert receipt.number == f"GRN-{self.year}-0001"
            assert receipt.received_by_id == member("warehouse").id
            (move,) = db.session.scalars(sa.select(StockMove).where(StockMove.item_id == box_item))
            assert (move.kind, move.qty, move.value, move.unit_cost, move.document_number) == (
                "receipt",
                Decimal("480"),
                Decimal("1152.00"),
                Decimal("2.4000"),
                receipt.number,
            )
        stock = self.page("warehouse", "/inventory/stock")
        row = re.search(rf'<tr id="stock-{bal.id}-row">(.*?)</tr>', stock, re.S).group(1)
        assert "Packaging box 40x30" in row and "480" in row and "CN¥1,152.00" in row
        assert re.search(r'<td class="num hide-phone">2\.4(000)?</td>', row), row
        return receipt_id

    def open_20(self, box: int) -> None:
        with self.inside():
            order = db.session.get(PurchaseOrder, box)
            assert order.status == "partially_received"
            line = order.lines[0]
            assert (line.qty, line.received_qty) == (Decimal("500"), Decimal("480"))
        page = self.page("buyer", f"/purchasing/orders/{box}")
        assert f'id="purchase-order-line-{line.id}-open">20<' in page
        assert "Partially received" in page
        form = self.page("warehouse", f"/purchasing/orders/{box}/receipts/new")
        assert "Ordered 500, received 480, open 20" in form

    def receipt_print(self, receipt_id: int) -> None:
        """One PDF, three pages: 存根联 / 财务联 / 收货联, each with the 480 boxes at 1,152.00."""
        resp = self.client("warehouse").get(f"/purchasing/receipts/{receipt_id}/print.pdf")
        assert (resp.status_code, resp.mimetype) == (200, "application/pdf")
        with self.inside():
            number = db.session.get(GoodsReceipt, receipt_id).number
        with Pdf(resp.data) as pdf:
            pdf.assert_cjk_embedded()
            pages = pdf.pages()
            assert len(pages) == 3
            for text, label in zip(pages, ("存根联", "财务联", "收货联"), strict=True):
                assert label in text, label
                others = {"存根联", "财务联", "收货联"} - {label}
                assert not any(o in text for o in others), (label, others)
                assert number in text and "Packaging box 40x30" in text
                assert re.search(r"\b480\b", text)
                assert "1,152.00" in text  # 480 x 2.40 at cost
                assert "Fertilizer" not in text

    # --- 5. the invoice and its three-way match --------------------------------------------------

    def refused_500(self, box: int) -> int:
        resp, box_line = self.invoice(box, "HS-20260305-01", "500")
        assert resp.status_code == 422
        html = resp.get_data(as_text=True)
        assert re.search(rf'<p class="error" id="err-qty_{box_line}"[^>]*>{OVER}</p>', html)
        with self.inside():
            blocked = db.session.scalar(sa.select(SupplierInvoice))
            assert (blocked.status, blocked.mismatch) == ("blocked", OVER)
            assert db.session.get(PurchaseOrder, box).lines[0].invoiced_qty == 0
            assert db.session.scalar(sa.select(sa.func.count(PaymentRequest.id))) == 0
            return blocked.id

    def exception(self, blocked_id: int) -> None:
        """The buyer's exception task: in the inbox, on the page; cancelled for a new invoice."""
        with self.inside():
            instance_id = db.session.get(SupplierInvoice, blocked_id).instance_id
        task = self.open_task(instance_id)
        assert task[1] == "buyer"
        assert f"/purchasing/invoices/{blocked_id}" in self.page("buyer", "/inbox")
        page = self.page("buyer", f"/purchasing/invoices/{blocked_id}")
        assert OVER in page and "Correct and match again" in page
        comment = "Supplier sends a corrected invoice"
        self.command("buyer", instance_id, task[0], task[2], "approve", comment)
        assert self.status_of(SupplierInvoice, blocked_id) == "cancelled"

    def matched_480(self, box: int) -> int:
        resp, _ = self.invoice(box, "HS-20260305-02", "480")
        assert resp.status_code == 303, resp.get_data(as_text=True)[:3000]
        with self.inside():
            matched = db.session.get(SupplierInvoice, self.invoice_id("HS-20260305-02"))
            assert (matched.status, matched.amount_total) == ("matched", Decimal("1152.00"))
            order = db.session.get(PurchaseOrder, box)
            assert (order.lines[0].received_qty, order.lines[0].invoiced_qty) == (480, 480)
            assert order.status == "partially_received"
            payment = db.session.scalar(
                sa.select(PaymentRequest).where(PaymentRequest.invoice_id == matched.id)
            )
            # A payment request (资金给付单) of 480 x 2.40 = 1,152.00, waiting for finance.
            assert payment.number == f"PAY-{self.year}-0001"
            assert (payment.amount, payment.status) == (Decimal("1152.00"), "submitted")
            matched_id, number = matched.id, payment.number
        page = self.page("buyer", f"/purchasing/invoices/{matched_id}")
        assert number in page and "CN¥1,152.00" in page
        return matched_id

    # --- 6. payment ------------------------------------------------------------------------------

    def bank(self, matched_id: int) -> int:
        return self.pay(matched_id, "bank")

    def payment_print(self, payment_id: int, stamp: str, amount: str, words: str) -> None:
        """The printed 资金给付单 carries the stamp of its method and no other."""
        resp = self.client("finance").get(f"/purchasing/payments/{payment_id}/print.pdf")
        assert (resp.status_code, resp.mimetype) == (200, "application/pdf")
        assert resp.data.startswith(b"%PDF-")
        with Pdf(resp.data) as pdf:
            pdf.assert_cjk_embedded()
            text = "\n".join(pdf.pages())
        with self.inside():
            number = db.session.get(PaymentRequest, payment_id).number
        assert number in text and stamp in text and amount in text and words in text
        assert [other for other in STAMPS if other != stamp and other in text] == []

    def cash(self, box: int) -> int:
        """The last 20 boxes arrive, are invoiced (48.00) and paid in cash; the order closes."""
        self.receive(box, {BOX: "20"})
        assert self.status_of(PurchaseOrder, box) == "received"
        assert self.invoice(box, "HS-20260310-01", "20")[0].status_code == 303
        second = self.invoice_id("HS-20260310-01")
        with self.inside():
            assert db.session.get(SupplierInvoice, second).amount_total == Decimal("48.00")
            assert db.session.get(PurchaseOrder, box).status == "billed"
        payment_id = self.pay(second, "cash")
        assert self.status_of(PurchaseOrder, box) == "closed"
        return payment_id

    def on_account(self, fert: int) -> int:
        """The fertilizer: 20 bags x 180.00 received, invoiced and paid on account (月末挂账)."""
        self.receive(fert, {FERT: "20"})
        assert self.invoice(fert, "FS-88", "20")[0].status_code == 303
        fert_invoice = self.invoice_id("FS-88")
        with self.inside():
            assert db.session.get(SupplierInvoice, fert_invoice).amount_total == Decimal("3600.00")
        payment_id = self.pay(fert_invoice, "on_account")
        with self.inside():
            assert db.session.get(PurchaseOrder, fert).status == "closed"
            rows = db.session.execute(
                sa.select(PaymentRequest.method, PaymentRequest.amount).order_by(PaymentRequest.id)
            )
            assert [tuple(r) for r in rows] == [
                ("bank", Decimal("1152.00")),
                ("cash", Decimal("48.00")),
                ("on_account", Decimal("3600.00")),
            ]
        return payment_id

    # --- 7. a fixed asset ------------------------------------------------------------------------

    def asset_waits(self) -> int:
        req_id = self.raise_request([(LAPTOP, "SUP-003", "1", "6000.00")], is_asset="y")
        assert self.approve_all(req_id) == [["dept_head"], ["finance"]]
        # approved, but no order until finance enters the asset number
        assert self.status_of(PurchaseRequest, req_id) == "approved"
        assert self.orders_of(req_id) == []
        assert "waiting for the asset number" in self.page(
            "staff", f"/purchasing/requests/{req_id}"
        )
        return req_id

    def asset_number(self, req_id: int) -> int:
        url = f"/purchasing/requests/{req_id}/asset-number"
        assert self.client("staff").form(url, {"asset_number": "FA-1"}).status_code == 403
        assert self.orders_of(req_id) == []
        resp = self.client("finance").form(url, {"asset_number": "FA-2026-001"})
        assert resp.status_code == 303
        (order_id,) = self.orders_of(req_id)
        assert self.status_of(PurchaseRequest, req_id) == "ordered"
        self.send_and_confirm(order_id, "LX-9")
        with self.inside():
            order = db.session.get(PurchaseOrder, order_id)
            assert (order.status, order.asset_number, order.is_asset) == (
                "confirmed",
                "FA-2026-001",
                True,
            )
            assert re.fullmatch(rf"PO-{YEAR_NO}", order.number)
            assert order.amount_total == Decimal("6000.00")
            assert db.session.get(PurchaseRequest, req_id).asset_number == "FA-2026-001"
        return order_id

    def asset_accepted(self, order_id: int) -> None:
        """The warehouse may not receive it; the acceptance group accepts it, no stock moves."""
        with self.inside():
            line_id = db.session.get(PurchaseOrder, order_id).lines[0].id
            moves = db.session.scalar(sa.select(sa.func.count(StockMove.id)))
        entry = f"/purchasing/orders/{order_id}/receipts/new"
        wh = self.client("warehouse")
        assert wh.get(entry).status_code == 403
        assert wh.form(entry, {f"qty-{line_id}": "1"}).status_code == 403
        assert self.status_of(PurchaseOrder, order_id) == "confirmed"
        form = self.page("acceptance", entry)
        assert "Accept fixed asset" in form and "does not go into stock" in form
        receipt_id = self.receive(order_id, {LAPTOP: "1"}, login="acceptance")
        with self.inside():
            assert db.session.get(PurchaseOrder, order_id).status == "received"
            receipt = db.session.get(GoodsReceipt, receipt_id)
            assert (receipt.status, receipt.received_by_id) == ("accepted", member("acceptance").id)
            assert receipt.order_id == order_id
            assert db.session.scalar(sa.select(sa.func.count(StockMove.id))) == moves
            assert not db.session.scalar(
                sa.select(StockBalance.id).where(StockBalance.item_id == item(LAPTOP).id)
            )
