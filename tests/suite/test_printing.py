"""The kernel's PDF printing (suite/printing.py, ARCHITECTURE 7): WeasyPrint with an embedded
CJK font (margin boxes included), a URL fetcher limited to the app's static files, QR codes,
amounts in Chinese capital numerals."""

from __future__ import annotations

import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote

import pytest

from suite import printing

POPPLER = all(shutil.which(t) for t in ("pdffonts", "pdftotext"))
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils is not installed")


def pdffonts(path: Path) -> list[tuple[str, str]]:
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    return [(r.split()[0], r.split()[-5]) for r in out.stdout.splitlines()[2:] if r.strip()]


def pdftext(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


@needs_poppler
def test_a_print_embeds_noto_sans_cjk_everywhere_page_numbers_included(app, tmp_path):
    if not app.config["SUITE_CJK_FONT"]:
        pytest.skip("no CJK font on this machine (install fonts-noto-cjk)")
    with app.test_request_context("/"):
        pdf = printing.render_pdf(
            "print/base.html",
            workspace=SimpleNamespace(name="顺流测试公司"),
            printed_label="打印于 2026-03-05",
        )
    assert pdf.startswith(b"%PDF-")
    path = tmp_path / "base.pdf"
    path.write_bytes(pdf)
    fonts = pdffonts(path)
    assert fonts
    # The body and the @page margin boxes (which do not inherit the body's font) all use it.
    assert all("Noto-Sans-CJK" in name and emb == "yes" for name, emb in fonts), fonts
    text = pdftext(path)
    assert "顺流测试公司" in text
    assert "顺流测试公司 · 1 / 1" in text  # the footer's margin box
    assert "打印于 2026-03-05" in text


def test_the_fetcher_serves_static_files_and_data_uris_only(app):
    with app.app_context():
        fetcher = printing.static_fetcher()
        logo = fetcher.fetch(f"{printing.PRINT_ORIGIN}/static/img/logo.svg")
        assert logo.read().startswith(b"<svg")
        assert logo.content_type == "image/svg+xml"
        assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"
        for url in (
            "file:///etc/passwd",
            "https://example.com/style.css",
            "http://169.254.169.254/latest/meta-data/",
            f"{printing.PRINT_ORIGIN}/static/../suite/config.py",
            f"{printing.PRINT_ORIGIN}/static/%2e%2e/suite/config.py",
            f"{printing.PRINT_ORIGIN}/admin/users",
            f"{printing.PRINT_ORIGIN}/static/img/missing.png",
            "ftp://example.com/x",
        ):
            with pytest.raises(ValueError):  # noqa: PT011 - every refusal is a ValueError
                fetcher.fetch(url)


def test_a_document_linking_local_or_remote_files_renders_without_them(app, monkeypatch):
    asked: list[str] = []
    refused: list[str] = []
    original = printing.static_fetcher

    def spying(app_=None):
        fetcher = original(app_)
        fetch = fetcher.fetch

        def spy(url, headers=None):
            asked.append(url)
            try:
                return fetch(url, headers)
            except ValueError:
                refused.append(url)
                raise

        fetcher.fetch = spy
        return fetcher

    monkeypatch.setattr(printing, "static_fetcher", spying)
    html = (
        '<link rel="stylesheet" href="file:///etc/ssl/openssl.cnf">'
        '<img src="https://example.com/tracker.png">'
        '<img src="/static/img/logo.svg"><p>ok</p>'
    )
    with app.test_request_context("/"):
        pdf = printing.html_to_pdf(html)
    assert pdf.startswith(b"%PDF-")
    assert set(refused) == {"file:///etc/ssl/openssl.cnf", "https://example.com/tracker.png"}
    assert f"{printing.PRINT_ORIGIN}/static/img/logo.svg" in set(asked) - set(refused)


def test_qr_codes_are_svg_data_uris_of_the_data():
    uri = printing.qr_data_uri("https://erp.example.com/purchasing/orders/7")
    assert uri.startswith("data:image/svg+xml")
    svg = unquote(uri.split(",", 1)[1])
    assert svg.startswith("<svg") and "<path" in svg
    assert printing.qr_data_uri("a") != printing.qr_data_uri("b")


def test_absolute_urls_use_the_configured_public_address(app, monkeypatch):
    with app.test_request_context("/", base_url="http://10.0.0.5:5000"):
        assert printing.absolute_url("suite.home") == "http://10.0.0.5:5000/"
    monkeypatch.setitem(app.config, "SUITE_BASE_URL", "https://erp.example.com/")
    with app.test_request_context("/", base_url="http://10.0.0.5:5000"):
        assert printing.absolute_url("suite.home") == "https://erp.example.com/"


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("1152.00", "壹仟壹佰伍拾贰元整"),
        ("4800", "肆仟捌佰元整"),
        ("1004.05", "壹仟零肆元零伍分"),
        ("100500", "壹拾万零伍佰元整"),
        ("60000.10", "陆万元壹角整"),
        ("0.05", "伍分"),
        ("0", "零元整"),
        ("20000300", "贰仟万零叁佰元整"),
        ("101010101.01", "壹亿零壹佰零壹万零壹佰零壹元零壹分"),
    ],
)
def test_amounts_in_chinese_capital_numerals(amount, words):
    assert printing.cny_capital(Decimal(amount)) == words


def test_css_strings_cannot_break_out_of_the_stylesheet():
    out = str(printing.css_string('A "B" </style><script>x</script> \\'))
    assert out.startswith('"') and out.endswith('"')
    inner = out[1:-1]
    assert '"' not in inner and "<" not in inner and ">" not in inner
    assert re.fullmatch(r'(?:[^"\\<>]|\\[0-9a-f]+ )*', inner)


def test_pdf_responses_are_inline_with_a_utf8_file_name(app):
    with app.test_request_context("/"):
        resp = printing.pdf_response(b"%PDF-1.7", "采购订单 PO-2026-0001.pdf")
    assert resp.mimetype == "application/pdf"
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith('inline; filename=" PO-2026-0001.pdf"')
    assert "filename*=UTF-8''%E9%87%87" in disposition
    assert resp.headers["Cache-Control"] == "private, no-store"
