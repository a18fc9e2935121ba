"""PDF printing with WeasyPrint (ARCHITECTURE 7): `render_pdf(template, **ctx) -> bytes`.

Print templates extend `print/base.html` (CSS paged media, A4 / A5, Noto Sans CJK). WeasyPrint
fetches what a template links through `StaticOnlyFetcher`: the app's own static files and `data:`
URIs (the QR codes), nothing else, so a document can neither read the server's files (`file:`)
nor call out to the network. Without a CJK font WeasyPrint prints Chinese as empty boxes and says
nothing, hence the start-up check (`cjk_font_available`) and the admins' banner.
"""

from __future__ import annotations

import mimetypes
import shutil
import subprocess
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from flask import Flask, Response, current_app, g, render_template, request, url_for
from markupsafe import Markup
from werkzeug.security import safe_join

# Relative links in print templates (`url_for('static', ...)` gives `/static/...`) resolve
# against this made-up origin; the fetcher serves that origin's static paths from disk.
PRINT_ORIGIN = "https://print.shunliu.invalid"
CJK_FAMILY = '"Noto Sans CJK SC", "Noto Sans CJK", "Noto Sans SC", sans-serif'


def cjk_font_available() -> bool:
    """True when fontconfig knows a font covering Chinese (e.g. Noto Sans CJK)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    try:
        out = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [fc_list, ":lang=zh", "family"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(out.strip())


def font_warning_for(app: Flask) -> bool:
    """Admins see a banner when PDFs cannot show Chinese."""
    if app.config.get("SUITE_CJK_FONT"):
        return False
    from suite.auth.permissions import has_permission

    return g.get("membership") is not None and has_permission("suite.role.manage")


# --- fetching ------------------------------------------------------------------------------------


def _fetcher_class() -> type:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        """Serves `data:` URIs and the app's static files; refuses everything else."""

        def __init__(self, static_folder: str, static_path: str) -> None:
            super().__init__(allowed_protocols=("data", "https"), allow_redirects=False)
            self.static_folder = static_folder
            self.static_prefix = static_path.rstrip("/") + "/"

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            parts = urlsplit(url)
            origin = f"{parts.scheme}://{parts.netloc}"
            if origin != PRINT_ORIGIN or not parts.path.startswith(self.static_prefix):
                raise ValueError(f"printing fetches only the app's static files, not {url}")
            rel = unquote(parts.path[len(self.static_prefix) :])
            path = safe_join(self.static_folder, rel)
            if path is None or not Path(path).is_file():
                raise ValueError(f"no static file {rel!r}")
            mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
            return URLFetcherResponse(url, Path(path).read_bytes(), {"Content-Type": mime})

    return StaticOnlyFetcher


def static_fetcher(app: Flask | None = None) -> Any:
    """A WeasyPrint URL fetcher limited to `app`'s static folder and `data:` URIs."""
    app = app or current_app
    return _fetcher_class()(str(app.static_folder), app.static_url_path or "/static")


# --- rendering -----------------------------------------------------------------------------------


def html_to_pdf(html: str) -> bytes:
    """One PDF from HTML whose relative links point into the app's static folder."""
    from weasyprint import HTML

    return HTML(string=html, base_url=PRINT_ORIGIN + "/", url_fetcher=static_fetcher()).write_pdf()


def css_string(text: Any) -> Markup:
    """`text` as a quoted CSS string for `content:` inside `<style>` (raw text: no HTML escapes)."""
    out = []
    for ch in str(text or ""):
        if ch in '"\\<>&' or ord(ch) < 32:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return Markup('"' + "".join(out) + '"')  # noqa: S704 - every special character escaped


def render_pdf(template: str, /, **ctx: Any) -> bytes:
    """Render a print template (extending `print/base.html`) to PDF bytes."""
    ctx.setdefault("cjk_family", Markup(CJK_FAMILY))  # noqa: S704 - a constant
    ctx.setdefault("css_string", css_string)
    ctx.setdefault("printed_label", "")
    return html_to_pdf(render_template(template, **ctx))


def pdf_response(data: bytes, filename: str, *, download: bool = False) -> Response:
    """The PDF inline in the browser (or as a download), with an ASCII and a UTF-8 file name."""
    resp = Response(data, mimetype="application/pdf")
    ascii_name = filename.encode("ascii", "ignore").decode() or "document.pdf"
    disposition = "attachment" if download else "inline"
    resp.headers["Content-Disposition"] = (
        f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


# --- helpers for print templates -----------------------------------------------------------------


def absolute_url(endpoint: str, **values: Any) -> str:
    """A link for paper: `SUITE_BASE_URL` when configured, else the address of this request."""
    path = url_for(endpoint, **values)
    base = current_app.config.get("SUITE_BASE_URL") or request.url_root
    return base.rstrip("/") + path


def qr_data_uri(data: str, *, scale: int = 4, border: int = 2) -> str:
    """A QR code (segno, error level M) as an SVG `data:` URI for an `<img>` in a print."""
    import segno

    return segno.make(data, error="m").svg_data_uri(scale=scale, border=border)


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_BIG_UNITS = ("", "万", "亿", "兆")


def _four(n: int) -> str:
    """0 < n < 10000 in capital numerals, zeros between digits read once (一千零五)."""
    out, zero = "", False
    for i in range(3, -1, -1):
        d = n // 10**i % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[d] + _SMALL_UNITS[i]
    return out


def cny_capital(amount: Decimal) -> str:
    """An amount in the capital numerals of Chinese financial documents (人民币大写).

    `Decimal("1152.00")` -> 壹仟壹佰伍拾贰元整; `Decimal("1004.05")` -> 壹仟零肆元零伍分.
    """
    amount = Decimal(amount).quantize(Decimal("0.01"), ROUND_HALF_UP)
    sign = "负" if amount < 0 else ""
    fen_total = int(abs(amount) * 100)
    yuan, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    text = ""
    if yuan:
        groups = []
        n = yuan
        while n:
            groups.append(n % 10000)
            n //= 10000
        need_zero = False
        for idx in range(len(groups) - 1, -1, -1):
            group = groups[idx]
            if group == 0:
                need_zero = bool(text)
                continue
            if text and (need_zero or group < 1000):
                text += "零"
            text += _four(group) + _BIG_UNITS[idx]
            need_zero = False
        text += "元"
    if not jiao and not fen:
        return sign + (text or "零元") + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif yuan:
        text += "零"
    if fen:
        text += _DIGITS[fen] + "分"
    else:
        text += "整"
    return sign + text
