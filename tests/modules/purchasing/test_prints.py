"""Printed purchasing documents (S1.3, S1.4, S1.6): each route answers a PDF with the CJK font
embedded, the texts people look for, and a PNG of every page in `artifacts/` to look at."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from modules.purchasing.models import GoodsReceipt, PurchaseOrder
from suite.db import db
from suite.printing import qr_data_uri
from tests.modules.purchasing.billing_helpers import paid

pytest_plugins = ["tests.modules.purchasing.billing_fixtures"]

ARTIFACTS = Path(__file__).parent / "artifacts"
POPPLER = all(shutil.which(t) for t in ("pdffonts", "pdftotext", "pdftoppm"))
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils is not installed")


def save(pdf: bytes, name: str) -> Path:
    """The PDF and one PNG per page (`pdftoppm -png -r 60`) under artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.pdf"
    path.write_bytes(pdf)
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(ARTIFACTS / name)], check=True)
    return path


def fonts(path: Path) -> list[tuple[str, str]]:
    """(font name, embedded yes/no) from `pdffonts`."""
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    rows = out.stdout.splitlines()[2:]
    return [(row.split()[0], row.split()[-5]) for row in rows if row.strip()]


def text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def page_text(path: Path, page: int) -> str:
    out = subprocess.run(
        ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


def pages(path: Path) -> int:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(re.search(r"Pages:\s+(\d+)", out.stdout).group(1))


def assert_cjk_embedded(path: Path) -> None:
    found = fonts(path)
    assert found, "no fonts in the PDF"
    # Every font is Noto Sans CJK and embedded: page numbers in the margin boxes included.
    assert all("Noto-Sans-CJK" in name and emb == "yes" for name, emb in found), found


@needs_poppler
def test_purchase_order_prints_with_company_supplier_lines_total_and_a_qr_code(
    inside, two_line_order, as_user, monkeypatch
):
    encoded = []

    def spy(data: str, **kw):
        encoded.append(data)
        return qr_data_uri(data, **kw)

    monkeypatch.setattr("modules.purchasing.views.prints.qr_data_uri", spy)
    resp = as_user("buyer").get(f"/purchasing/orders/{two_line_order}/print.pdf")
    assert resp.status_code == 200
    assert resp.mimetype == "application/pdf"
    with inside():
        number = db.session.get(PurchaseOrder, two_line_order).number
    assert f'filename="{number}.pdf"' in resp.headers["Content-Disposition"]
    path = save(resp.data, "purchase_order")
    assert_cjk_embedded(path)
    assert pages(path) == 1
    body = text(path)
    for expected in (
        "Demo Co. 演示公司",
        number,
        "华盛包装有限公司",  # the supplier
        "Packaging box 40x30",
        "Fertilizer 25kg",
        "4,800.00",  # the total in CNY
        "肆仟捌佰元整",  # and in words
    ):
        assert expected in body, expected
    # The QR code encodes the absolute address of the order's page.
    assert encoded == [f"http://localhost/purchasing/orders/{two_line_order}"]


def test_the_qr_code_uses_the_configured_public_address(app, box_order, as_user, monkeypatch):
    encoded = []
    monkeypatch.setattr(
        "modules.purchasing.views.prints.qr_data_uri", lambda data, **kw: encoded.append(data) or ""
    )
    monkeypatch.setitem(app.config, "SUITE_BASE_URL", "https://erp.example.com/")
    assert as_user("buyer").get(f"/purchasing/orders/{box_order}/print.pdf").status_code == 200
    assert encoded == [f"https://erp.example.com/purchasing/orders/{box_order}"]


@needs_poppler
def test_goods_receipt_prints_three_labelled_copies_one_per_page(inside, box_order, as_user):
    with inside():
        receipt = db.session.scalar(
            sa.select(GoodsReceipt).where(GoodsReceipt.order_id == box_order)
        )
        receipt_id, number = receipt.id, receipt.number
    resp = as_user("warehouse").get(f"/purchasing/receipts/{receipt_id}/print.pdf")
    assert resp.status_code == 200
    assert resp.mimetype == "application/pdf"
    path = save(resp.data, "goods_receipt")
    assert_cjk_embedded(path)
    assert pages(path) == 3
    for page, label in enumerate(("存根联", "财务联", "收货联"), start=1):
        body = page_text(path, page)
        assert label in body, (page, label)
        assert number in body
        assert "Packaging box 40x30" in body
        assert re.search(r"\b480\b", body)
        assert "1,152.00" in body  # 480 x 2.40 at cost
        assert "Fertilizer" not in body  # nothing of it was received


@needs_poppler
@pytest.mark.parametrize(
    ("method", "stamp"), [("cash", "现金付讫"), ("bank", "银行付讫"), ("on_account", "挂账")]
)
def test_paid_payment_request_prints_the_stamp_of_its_method(
    inside, box_order, as_user, method, stamp
):
    with inside():
        payment_id = paid(db.session.get(PurchaseOrder, box_order), method).id
        db.session.commit()
    resp = as_user("finance").get(f"/purchasing/payments/{payment_id}/print.pdf")
    assert resp.status_code == 200
    path = save(resp.data, f"payment_{method}")
    assert_cjk_embedded(path)
    body = text(path)
    assert stamp in body
    assert {"现金付讫", "银行付讫", "挂账"} - {stamp} & set(re.findall(r"\w+", body)) == set()
    assert "1,152.00" in body
    assert "壹仟壹佰伍拾贰元整" in body
    assert "3901 0012 0900 1234 567" in body  # finance prints the supplier's bank account


@needs_poppler
def test_an_unpaid_payment_request_prints_without_a_stamp_and_hides_the_account_from_buyers(
    inside, box_order, as_user
):
    with inside():
        payment_id = paid(db.session.get(PurchaseOrder, box_order), None).id  # approved
        db.session.commit()
    resp = as_user("buyer").get(f"/purchasing/payments/{payment_id}/print.pdf")
    assert resp.status_code == 200
    path = save(resp.data, "payment_unpaid")
    body = text(path)
    assert "1,152.00" in body
    for stamp in ("现金付讫", "银行付讫", "挂账"):
        assert stamp not in body
    assert "3901 0012 0900 1234 567" not in body


def test_prints_need_the_right_to_see_the_document(inside, box_order, as_user):
    with inside():
        receipt_id = db.session.scalar(
            sa.select(GoodsReceipt.id).where(GoodsReceipt.order_id == box_order)
        )
        payment_id = paid(db.session.get(PurchaseOrder, box_order), None).id
        db.session.commit()
    sales = as_user("sales")
    assert sales.get(f"/purchasing/orders/{box_order}/print.pdf").status_code == 403
    assert sales.get(f"/purchasing/receipts/{receipt_id}/print.pdf").status_code == 403
    assert sales.get(f"/purchasing/payments/{payment_id}/print.pdf").status_code == 404
